"""MultipartWriter against an instrumented fake upload: progress events."""

from __future__ import annotations

import threading
import time

import pytest
from writer_fakes import LIMITS, URL, FakeSink, make_writer, payload, wait_until

from mpu_toolkit._plan.sizing import FixedPartSizer
from mpu_toolkit.errors import TransientS3Error
from mpu_toolkit.model import PartInfo
from mpu_toolkit.progress import ProgressEvent


def check_monotonic(events: list[ProgressEvent]) -> None:
    for before, after in zip(events, events[1:]):
        assert after.bytes_written >= before.bytes_written
        assert after.bytes_uploaded >= before.bytes_uploaded
        assert after.parts_done >= before.parts_done
        assert after.elapsed >= before.elapsed
    assert all(e.parts_in_flight >= 0 for e in events)


def test_progress_events(sink: FakeSink) -> None:
    events: list[ProgressEvent] = []
    data = payload(37)
    w = make_writer(sink, progress=events.append, size=37)
    for i in range(0, 37, 4):
        w.write(data[i:i + 4])
    w.close()
    assert len(events) >= 5  # the first write, each part done, the end
    check_monotonic(events)
    assert {e.state for e in events[:-1]} <= {"writing", "completing"}
    final = events[-1]
    assert final.state == "completed"
    assert final.bytes_written == final.bytes_uploaded == 37
    assert final.parts_done == 4 and final.parts_in_flight == 0
    assert final.total == 37 and final.url == URL and final.upload_id == "fake-upload-1"
    assert w.result is not None and final.etag == w.result.etag
    assert final.error is None


def test_progress_events_from_tiny_writes_are_throttled(sink: FakeSink) -> None:
    events: list[ProgressEvent] = []
    w = make_writer(sink, FixedPartSizer(1000, LIMITS), progress=events.append)
    for _ in range(20_000):  # like an encoder's page headers
        w.write(b"x")
    w.close()
    assert 2 <= len(events) < 200
    assert events[-1].state == "completed" and events[-1].bytes_written == 20_000


def test_progress_of_a_single_put(sink: FakeSink) -> None:
    events: list[ProgressEvent] = []
    w = make_writer(sink, progress=events.append)
    w.write(b"hello")
    w.close()
    check_monotonic(events)
    final = events[-1]
    assert final.state == "completed" and final.bytes_written == 5
    assert final.bytes_uploaded == 5, "the completed event must count the bytes PUT"


def test_progress_on_failure() -> None:
    sink = FakeSink(fail={2: TransientS3Error("part 2 exploded")})
    events: list[ProgressEvent] = []
    w = make_writer(sink, progress=events.append)
    with pytest.raises(TransientS3Error):
        w.write(payload(35))
    check_monotonic(events)
    final = events[-1]
    assert final.state == "failed"
    assert final.error is not None and "part 2 exploded" in final.error
    assert final.parts_in_flight == 0


def test_parts_in_flight_count_only_the_parts_this_writer_sent(tsink: FakeSink) -> None:
    prefix = [PartInfo(1, 10, '"a"'), PartInfo(2, 10, '"b"')]  # an append's copied head
    events: list[ProgressEvent] = []
    w = make_writer(tsink, prefix=prefix, progress=events.append)
    w.write(payload(25))  # parts 3 and 4 sent, 5 bytes filling
    wait_until(lambda: len(tsink.submitted) == 2)
    assert tsink.submitted == [3, 4] and w.parts_in_flight == 2
    assert [(p.number, p.etag) for p in w.parts] == [(1, '"a"'), (2, '"b"'), (3, ""), (4, "")]
    tsink.gate.set()
    wait_until(lambda: w.parts_in_flight == 0)
    w.abort()
    check_monotonic(events)
    assert max(e.parts_in_flight for e in events) == 2


def test_parts_finishing_on_many_threads_call_back_one_at_a_time_in_order() -> None:
    sink = FakeSink(threaded=True, workers=8, gate_open=False)
    events: list[ProgressEvent] = []
    inside = threading.Lock()

    def slow_display(event: ProgressEvent) -> None:  # a display that is not thread-safe
        assert inside.acquire(blocking=False), "progress callback entered twice at once"
        try:
            time.sleep(0.01)
            events.append(event)
        finally:
            inside.release()

    w = make_writer(sink, progress=slow_display, concurrency=8)
    w.write(payload(80))  # eight parts in flight, held by the gate
    sink.gate.set()       # ... and released together
    w.close()
    sink.close()
    check_monotonic(events)
    assert events[-1].state == "completed" and events[-1].parts_done == 8


def test_broken_progress_callback_does_not_break_the_upload(sink: FakeSink) -> None:
    calls: list[ProgressEvent] = []

    def broken(event: ProgressEvent) -> None:
        calls.append(event)
        raise ZeroDivisionError("display is broken")

    data = payload(25)
    w = make_writer(sink, progress=broken)
    w.write(data)
    w.close()
    assert len(calls) >= 2 and calls[-1].state == "completed"
    assert w.state == "completed"
    assert b"".join(sink.received[n] for n in (1, 2, 3)) == data
    assert sink.aborts == []


# -- declared size ---------------------------------------------------------------------------

