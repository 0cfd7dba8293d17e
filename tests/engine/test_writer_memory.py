"""MultipartWriter against an instrumented fake upload: the memory budget (``max_memory``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from writer_fakes import LIMITS, PART, FakeSink, make_writer, payload

from mpu_toolkit._plan.sizing import FixedPartSizer, PartLimits
from mpu_toolkit.model import PartInfo
from mpu_toolkit.progress import ProgressEvent


@dataclass(frozen=True)
class SteppedSizer:
    """Parts of 10 bytes, then 20, then 40: a growing policy in miniature."""

    limits: PartLimits = LIMITS

    def part_size(self, number: int) -> int:
        return 10 if number <= 6 else 20 if number <= 12 else 40


class Watched:
    """A slow threaded fake sink that records, at each part handed over, how many parts
    were already in flight and how much memory the writer held."""

    def __init__(self) -> None:
        self.sink = FakeSink(threaded=True, workers=8)
        self.in_flight_at: dict[int, int] = {}
        self.held_at: dict[int, int] = {}
        self.writer: Any = None
        submit, run = self.sink.submit_part, self.sink._run_part

        def watched_submit(number: int, data: bytearray, digest: Any = None) -> Any:
            self.in_flight_at[number] = self.sink.in_flight
            self.held_at[number] = self.writer.memory_in_use
            return submit(number, data, digest)

        def slow(number: int, data: bytearray) -> PartInfo:
            time.sleep(0.03)  # slower than the producer, even on a loaded machine
            return run(number, data)

        self.sink.submit_part = watched_submit  # type: ignore[method-assign]
        self.sink._run_part = slow  # type: ignore[method-assign]

    def write(self, data: bytes, **kw: Any) -> list[ProgressEvent]:
        events: list[ProgressEvent] = []
        self.writer = make_writer(self.sink, progress=events.append, **kw)
        try:
            for i in range(0, len(data), 7):
                self.writer.write(data[i:i + 7])
            self.writer.close()
        finally:
            self.sink.close()
        return events

    def received(self) -> bytes:
        return b"".join(self.sink.received[n] for n in sorted(self.sink.received))


def test_parts_in_flight_fit_the_budget_not_just_the_concurrency() -> None:
    watched, data = Watched(), payload(30 * PART, seed=1)
    events = watched.write(data, concurrency=8, max_memory=3 * PART)
    assert watched.received() == data
    # three buffers, in flight or filling: the budget decides, not concurrency=8
    assert watched.sink.max_in_flight == 3
    assert max(watched.held_at.values()) <= 3 * PART
    assert max(e.memory_in_use for e in events) <= 3 * PART
    assert any(e.memory_in_use > 0 for e in events) and events[-1].memory_in_use == 0


def test_as_parts_grow_fewer_fly_at_once_within_the_same_budget() -> None:
    watched, budget = Watched(), 45
    data = payload(6 * 10 + 6 * 20 + 5 * 40 + 3, seed=2)
    watched.write(data, sizer=SteppedSizer(), concurrency=8, max_memory=budget)
    assert watched.received() == data
    assert max(watched.held_at.values()) <= budget
    # the writer's own account when it hands part n over (the part included); the fake
    # sink's in-flight counter can lag a finished part on a loaded machine, this cannot
    held = watched.held_at
    assert max(held[n] for n in range(1, 7)) == 40  # 10-byte parts: 3 in flight + this one
    assert max(held[n] for n in range(8, 13)) <= 40  # 20-byte parts: 1 in flight + this one
    assert all(held[n] == 40 for n in range(14, 18))  # 40-byte parts: this one alone


def test_a_part_larger_than_the_budget_is_the_only_buffer_held() -> None:
    watched, data = Watched(), payload(5 * 50 + 1, seed=3)
    watched.write(data, sizer=FixedPartSizer(50, LIMITS), concurrency=8, max_memory=30)
    assert watched.received() == data
    assert max(watched.in_flight_at.values()) == 0
    assert max(watched.held_at.values()) == 50


def test_without_a_budget_concurrency_alone_bounds_the_parts_in_flight() -> None:
    watched, data = Watched(), payload(30 * PART, seed=4)
    watched.write(data, concurrency=4)
    assert watched.received() == data
    assert watched.sink.max_in_flight == 4
