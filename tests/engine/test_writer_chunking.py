"""MultipartWriter against an instrumented fake upload: chunking exactly as the part-size
policy says, each part's running digest exactly its bytes', bounded in-flight parts
(backpressure), part-count limits, declared sizes."""

from __future__ import annotations

import hashlib
import threading
import time
from array import array
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from writer_fakes import (GATE_TIMEOUT, LIMITS, PART, URL, FakeSink, expected_parts,
                          make_writer, payload, wait_until)

from unittest import mock

from mpu_toolkit._engine import writer as writer_module
from mpu_toolkit._plan.integrity import ChecksumMode, digest_part, multipart_etag
from mpu_toolkit._plan.sizing import FixedPartSizer, GrowingPartSizer, PartLimits, capacity
from mpu_toolkit.errors import MPUError, TooManyPartsError
from mpu_toolkit.model import PartInfo


def sizers() -> st.SearchStrategy[Any]:
    fixed = st.integers(1, 40).map(lambda n: FixedPartSizer(n, LIMITS))
    growing = st.builds(
        lambda initial, max_object: GrowingPartSizer(
            initial, PartLimits(min_part=1, max_part=64, max_parts=12, max_object=max_object)),
        st.integers(1, 16), st.integers(1, 12 * 64))
    return st.one_of(fixed, growing)


@settings(max_examples=100, deadline=None)
@given(sizer=sizers(), chunk_sizes=st.lists(st.integers(0, 90), max_size=25),
       span=st.integers(1, 40), mode=st.sampled_from(["crc32c", "crc64nvme", "crc32"]),
       seed=st.integers(0, 2**32))
def test_running_digests_are_the_parts_digests(sizer: Any, chunk_sizes: list[int], span: int,
                                               mode: str, seed: int) -> None:
    """The digest fed every ``span`` bytes as a part fills is the digest of what was sent,
    whatever the writes' sizes against the parts' and the span's."""
    room, sizes = capacity(sizer), []
    for size in chunk_sizes:
        sizes.append(min(size, room - sum(sizes)))
    data = payload(sum(sizes), seed)
    sink = FakeSink(checksum=ChecksumMode(mode))
    with mock.patch.object(writer_module, "_DIGEST_SPAN", span):
        writer, pos = make_writer(sink, sizer), 0
        for size in sizes:
            writer.write(data[pos:pos + size])
            pos += size
        writer.close()
    assert set(sink.digests) == set(sink.received)
    for number, sent in sink.received.items():
        assert sink.digests[number] == digest_part(sent, ChecksumMode(mode)), number


def test_modes_hashed_when_sent_get_no_running_digest(sink: FakeSink) -> None:
    sink.checksum = ChecksumMode.SHA256_PAYLOAD
    writer = make_writer(sink)
    writer.write(payload(3 * PART))
    writer.close()
    assert sink.digests == {1: None, 2: None, 3: None}


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

