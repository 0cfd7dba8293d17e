"""PartPump against an instrumented fake upload: at most ``limit`` parts in flight, results in
number order, the first failure raised and the rest cancelled by abort(), abort() waiting for
parts that cannot be cancelled, and the memory budget of a BufferPool."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Callable

import pytest

from mpu_toolkit._engine.buffers import BufferPool
from mpu_toolkit._engine.part_pump import Data, PartPump
from mpu_toolkit.model import PartInfo

TIMEOUT = 10.0


class Parts:
    """An instrumented submit(): each part is a future the test settles by hand (or at once,
    with ``instant``); records what was submitted, how many are in flight, and the peak."""

    def __init__(self, instant: bool = False) -> None:
        self.instant = instant
        self.lock = threading.Lock()
        self.futures: dict[int, Future[PartInfo]] = {}
        self.data: dict[int, bytes] = {}
        self.submitted: list[int] = []
        self.in_flight = 0
        self.peak = 0
        self.submitted_event = threading.Condition(self.lock)

    def __call__(self, number: int, data: Data) -> Future[PartInfo]:
        future: Future[PartInfo] = Future()
        with self.lock:
            self.futures[number] = future
            self.data[number] = bytes(data)
            self.submitted.append(number)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.submitted_event.notify_all()
        future.add_done_callback(self._settled)
        if self.instant:
            self.finish(number)
        return future

    def _settled(self, future: Future[PartInfo]) -> None:
        with self.lock:
            self.in_flight -= 1
        if future.cancelled():  # the part stops, as a task cancelled on the loop would
            future.set_running_or_notify_cancel()

    def finish(self, number: int) -> None:
        self.futures[number].set_result(PartInfo(number, len(self.data[number]), f'"{number}"'))

    def fail(self, number: int, error: BaseException) -> None:
        self.futures[number].set_exception(error)

    def wait_submitted(self, count: int) -> None:
        with self.lock:
            assert self.submitted_event.wait_for(lambda: len(self.submitted) >= count,
                                                 TIMEOUT), "parts were not submitted"


def in_thread(target: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def still_blocked(thread: threading.Thread) -> bool:
    thread.join(0.1)  # every chance to run ahead
    return thread.is_alive()


def test_at_most_limit_in_flight_and_results_in_number_order() -> None:
    parts = Parts()
    pump = PartPump(parts, limit=3)
    numbers = [5, 2, 7, 1, 3, 6, 4]
    producer, errors = in_thread(lambda: pump.put_parts((n, bytes([n]) * n) for n in numbers))
    parts.wait_submitted(3)
    assert still_blocked(producer), "put_part must wait while `limit` parts are in flight"
    assert parts.submitted == [5, 2, 7] and len(pump.in_flight) == 3
    for count in range(3, len(numbers) + 1):  # out of order: the newest part finishes first
        parts.wait_submitted(count)
        parts.finish(parts.submitted[-1])
    producer.join(TIMEOUT)
    for number in reversed(parts.submitted[:-1]):
        if not parts.futures[number].done():
            parts.finish(number)
    assert not producer.is_alive() and errors == []
    results = pump.finish()
    assert [p.number for p in results] == [1, 2, 3, 4, 5, 6, 7]
    assert [p.size for p in results] == [1, 2, 3, 4, 5, 6, 7]
    assert parts.peak == 3 and parts.in_flight == 0 and pump.sent == 7
    assert pump.in_flight == {}


def test_given_parts_come_first_in_the_results() -> None:
    parts = Parts(instant=True)
    pump = PartPump(parts, limit=2, done=[PartInfo(1, 4, '"p"')])
    pump.put_part(2, b"xy")
    assert [(p.number, p.size) for p in pump.finish()] == [(1, 4), (2, 2)]
    assert pump.sent == 1  # the given part was not sent


def test_the_first_failure_surfaces_and_abort_cancels_the_rest() -> None:
    parts = Parts()
    pump = PartPump(parts, limit=4)
    for number in (1, 2, 3, 4):
        pump.put_part(number, b"data")
    parts.finish(1)
    parts.fail(2, ConnectionError("part 2 lost"))
    with pytest.raises(ConnectionError, match="part 2 lost"):
        pump.put_part(5, b"data")  # raised before part 5 is sent
    assert parts.submitted == [1, 2, 3, 4]
    pump.abort()
    assert parts.futures[3].cancelled() and parts.futures[4].cancelled()
    assert pump.in_flight == {} and parts.in_flight == 0


def test_a_failure_surfaces_from_finish() -> None:
    parts = Parts()
    pump = PartPump(parts, limit=2)
    pump.put_part(1, b"a")
    pump.put_part(2, b"b")
    finisher, errors = in_thread(pump.finish)
    assert still_blocked(finisher), "finish() waits for every part"
    parts.fail(2, TimeoutError("part 2 timed out"))
    finisher.join(TIMEOUT)
    assert [type(e) for e in errors] == [TimeoutError]
    pump.abort()
    assert parts.futures[1].cancelled()


def test_abort_waits_for_a_part_that_cannot_be_cancelled() -> None:
    parts = Parts()
    pump = PartPump(parts, limit=2)
    pump.put_part(1, b"a")
    pump.put_part(2, b"b")
    assert parts.futures[1].set_running_or_notify_cancel()  # on the wire: cannot be cancelled
    aborter, errors = in_thread(pump.abort)
    assert still_blocked(aborter), "abort() must wait for the running part"
    assert parts.futures[2].cancelled()
    parts.finish(1)
    aborter.join(TIMEOUT)
    assert not aborter.is_alive() and errors == []
    assert pump.in_flight == {} and parts.in_flight == 0


def test_forget_lets_the_parts_run_on() -> None:
    parts = Parts()
    pump = PartPump(parts, limit=2)
    pump.put_part(1, b"a")
    pump.forget()
    assert pump.in_flight == {} and not parts.futures[1].cancelled()
    parts.finish(1)  # the upload's own abort decides what becomes of it
    assert pump.finish() == []


def test_on_settled_runs_once_per_part_after_it_is_counted_as_sent() -> None:
    parts = Parts(instant=True)  # done before put_part returns: the callback runs at once
    seen: list[tuple[int, int]] = []
    pump: PartPump

    def on_settled(future: Future[PartInfo]) -> None:
        seen.append((future.result().number, pump.sent))

    pump = PartPump(parts, limit=2, on_settled=on_settled)
    for number in (1, 2, 3):
        pump.put_part(number, b"z")
    pump.finish()
    assert seen == [(1, 1), (2, 2), (3, 3)]  # never more settled than sent


def test_snapshot_lists_parts_in_flight_without_an_etag() -> None:
    parts = Parts()
    pump = PartPump(parts, limit=3)
    pump.put_part(2, b"bb")
    pump.put_part(1, b"a")
    parts.finish(1)
    assert pump.snapshot() == [PartInfo(1, 1, '"1"'), PartInfo(2, 2, "")]
    parts.finish(2)
    assert pump.finish() == pump.snapshot() == [PartInfo(1, 1, '"1"'), PartInfo(2, 2, '"2"')]


def test_buffers_wait_for_the_budget_and_are_reused() -> None:
    parts, pool = Parts(), BufferPool(max_memory=20)
    pump = PartPump(parts, limit=8, buffers=pool)
    first = pump.take_buffer(10)
    pump.put_part(1, first, first)
    second = pump.take_buffer(10)
    pump.put_part(2, memoryview(second)[:5], second)  # a short last part, in its buffer
    taken: list[bytearray] = []
    producer, errors = in_thread(lambda: taken.append(pump.take_buffer(10)))
    assert still_blocked(producer), "a third buffer does not fit in 20 bytes"
    assert pool.held == 20
    parts.finish(2)
    producer.join(TIMEOUT)
    assert errors == [] and taken[0] is second  # given back, then reused
    assert pool.held == 20 and parts.data[2] == bytes(5)
    parts.finish(1)
    assert [p.size for p in pump.finish()] == [10, 5]


def test_a_buffer_larger_than_the_budget_waits_until_nothing_is_in_flight() -> None:
    parts, pool = Parts(), BufferPool(max_memory=8)
    pump = PartPump(parts, limit=8, buffers=pool)
    small = pump.take_buffer(4)
    pump.put_part(1, small, small)
    producer, errors = in_thread(lambda: pump.take_buffer(16))
    assert still_blocked(producer)
    parts.finish(1)
    producer.join(TIMEOUT)
    assert errors == [] and pool.held == 16  # the spare of the old size was dropped


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit=0"):
        PartPump(Parts(), limit=0)


def test_many_parts_on_threads_never_exceed_the_limit() -> None:
    parts = Parts()
    pump = PartPump(parts, limit=4)
    stop = threading.Event()

    def settle_randomly() -> None:  # another thread finishes parts as they come, any order
        while not stop.is_set():
            with parts.lock:
                open_ = [n for n, f in parts.futures.items() if not f.done()]
            for number in reversed(open_):
                parts.finish(number)
            time.sleep(0.001)

    settler, _ = in_thread(settle_randomly)
    for number in range(1, 201):
        pump.put_part(number, b"x" * (number % 7))
        assert len(pump.in_flight) <= 4
    results = pump.finish()
    stop.set()
    settler.join(TIMEOUT)
    assert [p.number for p in results] == list(range(1, 201))
    assert parts.peak <= 4
