"""MultipartWriter against an instrumented fake upload (no S3): chunking, backpressure,
failure, commit/abort rules, progress.

Modelled on Rust object_store's ``WriteMultipart`` tests: the fake records every call and
copies every byte it is given, can hold parts in flight behind a gate, can fail a chosen
part, and tracks how many parts were in flight at once.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import random
import threading
import time
from array import array
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpu_toolkit.errors import (MPUError, TooManyPartsError, TransientS3Error, UploadAborted,
                                WriterClosedError)
from mpu_toolkit._plan.integrity import multipart_etag
from mpu_toolkit.progress import ProgressEvent
from mpu_toolkit.model import ObjectInfo, PartInfo
from mpu_toolkit._plan.sizing import FixedPartSizer, GrowingPartSizer, PartLimits, capacity
from mpu_toolkit._engine.writer import MultipartWriter

URL = "s3://bucket/key.bin"
LIMITS = PartLimits(min_part=1, max_part=1 << 20, max_parts=50, max_object=50 << 20)
PART = 10
GATE_TIMEOUT = 10.0


class FakeSink:
    """An instrumented UploadSink.

    * ``threaded`` — parts run on a thread pool (else they finish inside ``submit_part``);
    * ``gate`` — a threading.Event each part waits for (set = open);
    * ``fail`` — part number → exception that part raises;
    * records: ``calls`` (every call in order), ``received`` (bytes of each part, copied when
      the part runs), ``submitted`` (numbers in submission order), ``completed``, ``puts``,
      ``aborts``; ``max_in_flight`` counts from submit_part until the part's result is set.
    """

    def __init__(self, *, threaded: bool = False, workers: int = 16,
                 fail: dict[int, BaseException] | None = None, gate_open: bool = True,
                 upload_id: str | None = "fake-upload-1",
                 complete_error: BaseException | None = None,
                 put_error: BaseException | None = None,
                 abort_error: BaseException | None = None) -> None:
        self._lock = threading.Lock()
        self._upload_id = upload_id
        self.fail = dict(fail or {})
        self.complete_error, self.put_error, self.abort_error = (complete_error, put_error,
                                                                 abort_error)
        self.gate = threading.Event()
        if gate_open:
            self.gate.set()
        self.executor = ThreadPoolExecutor(workers) if threaded else None
        self.calls: list[tuple[Any, ...]] = []
        self.submitted: list[int] = []
        self.received: dict[int, bytes] = {}
        self.submit_types: list[type] = []
        self.completed: list[list[PartInfo]] = []
        self.puts: list[bytes] = []
        self.aborts: list[bool] = []
        self.in_flight = 0
        self.max_in_flight = 0

    # -- the UploadSink interface --------------------------------------------------------
    @property
    def upload_id(self) -> str | None:
        return self._upload_id

    def submit_part(self, number: int, data: bytearray) -> "Future[PartInfo]":
        with self._lock:
            self.calls.append(("submit_part", number, len(data)))
            self.submitted.append(number)
            self.submit_types.append(type(data))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.executor is not None:
            return self.executor.submit(self._run_part, number, data)
        future: Future[PartInfo] = Future()
        try:
            future.set_result(self._run_part(number, data))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo:
        with self._lock:
            self.calls.append(("complete", [p.number for p in parts]))
            self.completed.append(list(parts))
        if self.complete_error is not None:
            raise self.complete_error
        md5s = [hashlib.md5(self.received[p.number]).digest() for p in parts]
        return ObjectInfo("bucket", "key.bin", multipart_etag(md5s), sum(p.size for p in parts))

    def put_object(self, data: bytearray) -> ObjectInfo:
        payload = bytes(data)
        with self._lock:
            self.calls.append(("put_object", len(payload)))
            self.puts.append(payload)
        if self.put_error is not None:
            raise self.put_error
        return ObjectInfo("bucket", "key.bin", hashlib.md5(payload).hexdigest(), len(payload))

    def abort(self, keep_parts: bool = False) -> None:
        with self._lock:
            self.calls.append(("abort", keep_parts))
            self.aborts.append(keep_parts)
        if self.abort_error is not None:
            raise self.abort_error

    # -- internals -------------------------------------------------------------------------
    def _run_part(self, number: int, data: bytearray) -> PartInfo:
        try:
            if not self.gate.wait(GATE_TIMEOUT):
                raise RuntimeError("test gate never opened")
            payload = bytes(data)  # copied when "uploaded": catches a reused buffer
            with self._lock:
                self.received[number] = payload
            if number in self.fail:
                raise self.fail[number]
            return PartInfo(number, len(payload), f'"{hashlib.md5(payload).hexdigest()}"')
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.gate.set()
        if self.executor is not None:
            self.executor.shutdown(wait=True)

    # -- helpers for assertions ------------------------------------------------------------
    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture
def sink() -> Iterator[FakeSink]:
    s = FakeSink()
    yield s
    s.close()


@pytest.fixture
def tsink() -> Iterator[FakeSink]:
    """A threaded sink with the gate closed: parts stay in flight until ``gate.set()``."""
    s = FakeSink(threaded=True, gate_open=False)
    yield s
    s.close()


def make_writer(sink: FakeSink, sizer: Any = None, **kw: Any) -> MultipartWriter:
    return MultipartWriter(sink, sizer or FixedPartSizer(PART, LIMITS), url=URL, **kw)


def payload(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def expected_parts(data: bytes, sizer: Any) -> list[bytes]:
    """Independent model of the chunking: part n holds sizer.part_size(n) bytes."""
    parts, pos, number = [], 0, 1
    while pos < len(data):
        size = sizer.part_size(number)
        parts.append(data[pos:pos + size])
        pos += size
        number += 1
    return parts


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


# -- chunking ------------------------------------------------------------------------------

def sizers() -> st.SearchStrategy[Any]:
    fixed = st.integers(1, 40).map(lambda n: FixedPartSizer(n, LIMITS))
    growing = st.builds(
        lambda initial, max_object: GrowingPartSizer(
            initial, PartLimits(min_part=1, max_part=64, max_parts=12, max_object=max_object)),
        st.integers(1, 16), st.integers(1, 12 * 64))
    return st.one_of(fixed, growing)


@settings(max_examples=150, deadline=None)
@given(sizer=sizers(),
       chunks=st.lists(st.tuples(st.integers(0, 90), st.sampled_from(["bytes", "bytearray",
                                                                      "memoryview"])),
                       max_size=25),
       threaded=st.booleans(), concurrency=st.integers(1, 4), seed=st.integers(0, 2**32))
def test_chunking(sizer: Any, chunks: list[tuple[int, str]], threaded: bool, concurrency: int,
                  seed: int) -> None:
    room = capacity(sizer)
    lengths, total = [], 0
    for length, kind in chunks:  # stay within what the sizer can hold
        length = min(length, room - total)
        lengths.append((length, kind))
        total += length
    data = payload(total, seed)
    sink = FakeSink(threaded=threaded)
    try:
        writer = make_writer(sink, sizer, concurrency=concurrency)
        pos = 0
        for length, kind in lengths:
            piece = data[pos:pos + length]
            wrapped = {"bytes": piece, "bytearray": bytearray(piece),
                       "memoryview": memoryview(piece)}[kind]
            assert writer.write(wrapped) == length
            pos += length
            assert writer.tell() == pos
        writer.close()
    finally:
        sink.close()

    assert writer.state == "completed"
    assert writer.bytes_written == total
    assert sink.aborts == []
    if total < sizer.part_size(1):  # smaller than one part: one PUT
        assert sink.puts == [data]
        assert sink.submitted == [] and sink.completed == []
        return
    parts = expected_parts(data, sizer)
    assert sink.puts == []
    assert sink.submitted == list(range(1, len(parts) + 1))  # consecutive, in order
    assert [sink.received[n] for n in sink.submitted] == parts
    for number, part in enumerate(parts[:-1], start=1):
        assert len(part) == sizer.part_size(number)  # every part but the last is full
    assert 0 < len(parts[-1]) <= sizer.part_size(len(parts))
    assert b"".join(sink.received[n] for n in sorted(sink.received)) == data
    assert len(sink.completed) == 1
    listed = sink.completed[0]
    assert [p.number for p in listed] == list(range(1, len(parts) + 1))
    assert [p.size for p in listed] == [len(p) for p in parts]
    assert [p.etag for p in listed] == [f'"{hashlib.md5(p).hexdigest()}"' for p in parts]
    assert sink.names()[-1] == "complete"
    assert writer.result is not None
    assert writer.result.etag == multipart_etag([hashlib.md5(p).digest() for p in parts])
    assert sink.max_in_flight <= concurrency


def test_part_buffers_are_not_reused_while_in_flight(tsink: FakeSink) -> None:
    data = payload(45, seed=7)
    w = make_writer(tsink, concurrency=8)
    for i in range(0, 45, 3):
        w.write(data[i:i + 3])
    wait_until(lambda: len(tsink.submitted) == 4)  # parts still held by the gate
    tsink.gate.set()
    w.close()
    assert tsink.submit_types[:-1] == [bytearray] * 4  # full parts: the buffer itself
    assert tsink.submit_types[-1] is memoryview  # the short last part: a view, no copy
    assert [tsink.received[n] for n in (1, 2, 3, 4, 5)] == [data[i:i + 10]
                                                            for i in range(0, 45, 10)]


def test_write_accepts_buffers_of_any_format(sink: FakeSink) -> None:
    ints = array("i", range(-20, 20))
    doubles = array("d", [0.5, -1.25, 3e100])
    grid = memoryview(bytes(range(24))).cast("B", (4, 6))  # 2-D
    w = make_writer(sink)
    assert w.write(ints) == len(ints.tobytes())
    assert w.write(memoryview(doubles)) == 24
    assert w.write(grid) == 24
    w.close()
    expected = ints.tobytes() + doubles.tobytes() + bytes(range(24))
    assert b"".join(sink.received[n] for n in sorted(sink.received)) == expected
    assert w.tell() == len(expected)


@pytest.mark.parametrize("bad, name", [("text", "str"), (5, "int"), (None, "NoneType"),
                                       ([1, 2], "list")])
def test_write_rejects_non_buffers(sink: FakeSink, bad: Any, name: str) -> None:
    w = make_writer(sink)
    w.write(b"ab")
    with pytest.raises(TypeError) as info:
        w.write(bad)
    message = str(info.value)
    assert name in message and "bytes" in message
    if name == "str":
        assert "encode" in message
    # a bad argument is not a failed upload: the writer goes on
    assert w.state == "writing" and w.tell() == 2
    w.write(b"cd")
    w.close()
    assert sink.puts == [b"abcd"] and sink.aborts == []


def test_empty_writes_are_no_ops(sink: FakeSink) -> None:
    w = make_writer(sink)
    assert w.write(b"") == 0
    assert w.write(b"x" * PART) == PART
    assert w.write(bytearray()) == 0
    w.close()
    assert sink.submitted == [1] and sink.received == {1: b"x" * PART}
    assert [p.number for p in sink.completed[0]] == [1]


# -- small objects ---------------------------------------------------------------------------

@pytest.mark.parametrize("total", [1, 5, PART - 1])
def test_small_object_is_one_put(sink: FakeSink, total: int) -> None:
    data = payload(total, seed=total)
    w = make_writer(sink)
    for i in range(total):
        w.write(data[i:i + 1])
    w.close()
    assert sink.names() == ["put_object"]
    assert sink.puts == [data]
    assert w.state == "completed"
    assert w.result is not None and w.result.size == total
    assert w.result.etag == hashlib.md5(data).hexdigest()


def test_empty_object_is_an_empty_put(sink: FakeSink) -> None:
    with make_writer(sink) as w:
        pass
    assert sink.names() == ["put_object"]
    assert sink.puts == [b""]
    assert w.state == "completed" and w.bytes_written == 0


def test_exactly_one_part_is_multipart(sink: FakeSink) -> None:
    with make_writer(sink) as w:
        w.write(b"z" * PART)
    assert sink.names() == ["submit_part", "complete"]
    assert sink.received == {1: b"z" * PART}


# -- backpressure ----------------------------------------------------------------------------

@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_backpressure(tsink: FakeSink, concurrency: int) -> None:
    total_parts = concurrency + 3
    data = payload(total_parts * PART, seed=concurrency)
    w = make_writer(tsink, concurrency=concurrency)
    done = threading.Event()
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            for i in range(0, len(data), 7):
                w.write(data[i:i + 7])
            w.close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        wait_until(lambda: len(tsink.submitted) == concurrency)
        time.sleep(0.1)  # give a non-blocking writer every chance to run ahead
        assert producer.is_alive() and not done.is_set(), "write() must block"
        assert len(tsink.submitted) == concurrency
        assert w.parts_in_flight == concurrency
        assert w.bytes_written < len(data)
    finally:
        tsink.gate.set()
    assert done.wait(GATE_TIMEOUT)
    producer.join()
    assert errors == []
    assert w.state == "completed"
    assert tsink.max_in_flight <= concurrency
    assert tsink.max_in_flight == concurrency  # and the allowed concurrency is used
    assert b"".join(tsink.received[n] for n in range(1, total_parts + 1)) == data


def test_memory_stays_bounded_with_slow_parts() -> None:
    """Many parts through a slow sink: in flight never exceeds concurrency."""
    sink = FakeSink(threaded=True, workers=8)
    original = sink._run_part

    def slow(number: int, data: bytearray) -> PartInfo:
        time.sleep(0.002)
        return original(number, data)

    sink._run_part = slow  # type: ignore[method-assign]
    try:
        w = make_writer(sink, concurrency=3)
        data = payload(40 * PART + 3, seed=3)
        for i in range(0, len(data), 13):
            w.write(data[i:i + 13])
        w.close()
    finally:
        sink.close()
    assert sink.max_in_flight <= 3
    assert sink.submitted == list(range(1, 42))
    assert b"".join(sink.received[n] for n in range(1, 42)) == data


# -- failure ---------------------------------------------------------------------------------

def test_failed_part_raises_on_next_write_and_aborts() -> None:
    boom = TransientS3Error("part 2 exploded")
    sink = FakeSink(fail={2: boom})
    w = make_writer(sink, concurrency=4)
    w.write(b"a" * PART)         # part 1
    w.write(b"b" * PART)         # part 2 is sent (and fails in the background)
    with pytest.raises(TransientS3Error) as info:
        w.write(b"c" * PART)     # part 3 would be sent: the failure surfaces here
    assert info.value is boom
    assert sink.aborts == [False]
    assert sink.completed == [] and sink.puts == []
    assert w.state == "failed" and w.closed and w.error is boom
    with pytest.raises(WriterClosedError, match="failed"):
        w.write(b"more")
    w.close()  # closing a failed writer neither raises nor publishes
    assert sink.completed == [] and sink.aborts == [False]
    with pytest.raises(WriterClosedError):
        w.commit()


def test_failed_part_raises_on_close(tsink: FakeSink) -> None:
    boom = OSError("connection reset on part 3")
    tsink.fail[3] = boom
    w = make_writer(tsink, concurrency=8)
    w.write(payload(25))
    tsink.gate.set()
    with pytest.raises(OSError) as info:
        w.close()
    assert info.value is boom
    assert tsink.aborts == [False]
    assert "complete" not in tsink.names() and "put_object" not in tsink.names()
    assert w.state == "failed"


def test_keep_parts_on_error() -> None:
    boom = TransientS3Error("part 1 exploded")
    sink = FakeSink(fail={1: boom})
    w = make_writer(sink, keep_parts_on_error=True)
    w.write(b"a" * PART)
    with pytest.raises(TransientS3Error) as info:
        w.close()
    assert info.value is boom
    assert sink.aborts == [True]
    assert sink.completed == []
    assert w.state == "kept"
    assert any("fake-upload-1" in note for note in getattr(boom, "__notes__", []))


@pytest.mark.parametrize("where", ["complete", "put"])
def test_failed_completion_aborts(where: str) -> None:
    boom = TransientS3Error(f"{where} failed")
    sink = FakeSink(**{f"{where}_error": boom})
    w = make_writer(sink)
    w.write(b"q" * (25 if where == "complete" else 5))
    with pytest.raises(TransientS3Error) as info:
        w.close()
    assert info.value is boom
    assert sink.aborts == [False]
    assert w.state == "failed" and w.result is None


def test_abort_failure_does_not_hide_the_first_error() -> None:
    boom = TransientS3Error("part 1")
    sink = FakeSink(fail={1: boom}, abort_error=RuntimeError("abort failed too"))
    w = make_writer(sink)
    w.write(b"a" * PART)
    with pytest.raises(TransientS3Error) as info:
        w.close()
    assert info.value is boom
    assert sink.aborts == [False] and w.state == "failed"


# -- exceptions and the with statement -------------------------------------------------------

@pytest.mark.parametrize("size", [3, 25])
def test_exception_in_with_aborts(sink: FakeSink, size: int) -> None:
    with pytest.raises(RuntimeError, match="producer died"):
        with make_writer(sink) as w:
            w.write(payload(size))
            raise RuntimeError("producer died")
    assert sink.aborts == [False]
    assert sink.completed == [] and sink.puts == []
    assert w.state == "failed" and isinstance(w.error, RuntimeError)


def test_close_while_exception_propagates_aborts(sink: FakeSink) -> None:
    w = make_writer(sink)
    w.write(payload(25))
    try:
        raise RuntimeError("producer failed after opening")
    except RuntimeError:
        w.close()
    assert sink.aborts == [False]
    assert sink.completed == [] and sink.puts == []
    assert w.state == "failed"


def test_writer_opened_in_except_block_commits(sink: FakeSink) -> None:
    try:
        raise KeyError("primary source failed")
    except KeyError:
        w = make_writer(sink)  # e.g. writing a fallback file
        w.write(b"fallback")
        w.close()
    assert sink.puts == [b"fallback"]
    assert sink.aborts == []
    assert w.state == "completed"


def test_with_block_inside_except_block_commits(sink: FakeSink) -> None:
    try:
        raise KeyError("primary")
    except KeyError:
        with make_writer(sink) as w:
            w.write(payload(25))
    assert [p.number for p in sink.completed[0]] == [1, 2, 3]
    assert sink.aborts == [] and w.state == "completed"


def test_new_exception_inside_the_opening_except_block_aborts(sink: FakeSink) -> None:
    try:
        raise KeyError("primary")
    except KeyError:
        w = make_writer(sink)
        w.write(b"partial")
        try:
            raise ValueError("the fallback failed too")
        except ValueError:
            w.close()
    assert sink.aborts == [False] and sink.puts == []
    assert w.state == "failed"


# -- garbage collection ----------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 5, 25])
def test_garbage_collected_writer_aborts(sink: FakeSink, size: int) -> None:
    w = make_writer(sink)
    w.write(payload(size))
    del w
    gc.collect()
    assert sink.aborts == [False]
    assert sink.completed == [] and sink.puts == []


def test_garbage_collected_closed_uncommitted_writer_aborts(sink: FakeSink) -> None:
    w = make_writer(sink, autocommit=False)
    w.write(payload(25))
    w.close()
    del w
    gc.collect()
    assert sink.aborts == [False] and sink.completed == []


def test_garbage_collected_completed_writer_does_nothing(sink: FakeSink) -> None:
    w = make_writer(sink)
    w.write(payload(25))
    w.close()
    del w
    gc.collect()
    assert sink.aborts == [] and len(sink.completed) == 1


# -- autocommit=False ------------------------------------------------------------------------

def test_no_autocommit_then_commit(sink: FakeSink) -> None:
    data = payload(25)
    w = make_writer(sink, autocommit=False)
    w.write(data)
    w.close()
    assert sink.submitted == [1, 2, 3]  # every part sent ...
    assert sink.completed == [] and sink.aborts == []  # ... nothing published
    assert w.state == "closed" and w.closed
    with pytest.raises(WriterClosedError):
        w.write(b"late")
    result = w.commit()
    assert [p.number for p in sink.completed[0]] == [1, 2, 3]
    assert w.state == "completed" and w.result is result
    assert w.commit() is result  # idempotent
    assert len(sink.completed) == 1
    with pytest.raises(WriterClosedError, match="completed"):
        w.abort()


def test_no_autocommit_small_object(sink: FakeSink) -> None:
    w = make_writer(sink, autocommit=False)
    w.write(b"tiny")
    w.close()
    assert sink.calls == []
    w.commit()
    assert sink.puts == [b"tiny"]


def test_no_autocommit_then_discard(sink: FakeSink) -> None:
    w = make_writer(sink, autocommit=False)
    w.write(payload(25))
    w.close()
    w.discard()
    assert sink.aborts == [False] and sink.completed == []
    assert w.state == "aborted" and isinstance(w.error, UploadAborted)
    w.discard()  # idempotent
    assert sink.aborts == [False]
    with pytest.raises(WriterClosedError, match="aborted"):
        w.commit()
    with pytest.raises(WriterClosedError):
        w.write(b"x")


def test_commit_without_close(sink: FakeSink) -> None:
    w = make_writer(sink)
    w.write(payload(15))
    w.commit()
    assert [p.size for p in sink.completed[0]] == [10, 5]
    assert w.state == "completed"


def test_write_after_close(sink: FakeSink) -> None:
    w = make_writer(sink)
    w.write(b"abc")
    w.close()
    w.close()  # idempotent
    with pytest.raises(WriterClosedError) as info:
        w.write(b"def")
    assert URL in str(info.value) and "completed" in str(info.value)
    assert sink.puts == [b"abc"]


# -- part limit ------------------------------------------------------------------------------

SMALL_LIMITS = PartLimits(min_part=1, max_part=1 << 20, max_parts=5, max_object=50 << 20)


def test_too_many_parts_aborts(sink: FakeSink) -> None:
    w = make_writer(sink, FixedPartSizer(PART, SMALL_LIMITS))
    w.write(b"x" * 5 * PART)  # exactly the part limit: fine so far
    with pytest.raises(TooManyPartsError) as info:
        w.write(b"y")         # needs part 6
    assert "6" in str(info.value) and "at most 5" in str(info.value)
    assert sink.submitted == [1, 2, 3, 4, 5]
    assert sink.aborts == [False] and sink.completed == []
    assert w.state == "failed"


def test_too_many_parts_in_one_big_write(sink: FakeSink) -> None:
    w = make_writer(sink, FixedPartSizer(PART, SMALL_LIMITS))
    with pytest.raises(TooManyPartsError):
        w.write(b"x" * (5 * PART + 1))
    assert sink.aborts == [False] and sink.completed == []


def test_exactly_max_parts_full_parts_is_fine(sink: FakeSink) -> None:
    data = payload(5 * PART)
    with make_writer(sink, FixedPartSizer(PART, SMALL_LIMITS)) as w:
        w.write(data)
    assert [p.number for p in sink.completed[0]] == [1, 2, 3, 4, 5]
    assert b"".join(sink.received[n] for n in range(1, 6)) == data
    assert sink.aborts == []


# -- introspection ---------------------------------------------------------------------------

def test_tell_parts_state_repr(tsink: FakeSink) -> None:
    w = make_writer(tsink, concurrency=8)
    assert w.writable() and not w.readable() and not w.seekable()
    assert w.state == "writing" and not w.closed and w.tell() == 0
    w.write(payload(23))
    assert w.tell() == w.bytes_written == 23
    wait_until(lambda: len(tsink.submitted) == 2)
    assert w.parts_in_flight == 2
    text = repr(w)
    assert URL in text and "writing" in text and "written=23" in text
    assert "fake-upload-1" in text
    tsink.gate.set()
    w.close()
    assert w.parts_in_flight == 0
    assert [(p.number, p.size) for p in w.parts] == [(1, 10), (2, 10), (3, 3)]
    assert w.bytes_uploaded == 23
    assert w.upload_id == "fake-upload-1"
    assert "completed" in repr(w)


def test_pickling_is_refused(sink: FakeSink) -> None:
    w = make_writer(sink)
    w.write(b"abc")
    with pytest.raises(TypeError) as info:
        pickle.dumps(w)
    assert "cannot be pickled" in str(info.value) and URL in str(info.value)
    assert w.state == "writing"
    w.close()
    assert sink.puts == [b"abc"]


# -- progress --------------------------------------------------------------------------------

def check_monotonic(events: list[ProgressEvent]) -> None:
    for before, after in zip(events, events[1:]):
        assert after.bytes_written >= before.bytes_written
        assert after.bytes_uploaded >= before.bytes_uploaded
        assert after.parts_done >= before.parts_done
        assert after.elapsed >= before.elapsed


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

def test_declared_size_exceeded(sink: FakeSink) -> None:
    w = make_writer(sink, size=20)
    w.write(b"a" * 15)
    with pytest.raises(MPUError) as info:
        w.write(b"b" * 6)
    assert "size=20" in str(info.value) and URL in str(info.value)
    assert sink.aborts == [False] and sink.completed == []
    assert w.state == "failed" and w.tell() == 15


def test_declared_size_met_exactly(sink: FakeSink) -> None:
    with make_writer(sink, size=20) as w:
        w.write(b"a" * 15)
        w.write(b"b" * 5)
    assert [p.size for p in sink.completed[0]] == [10, 10]
    assert sink.aborts == []

