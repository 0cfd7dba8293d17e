"""MultipartWriter against an instrumented fake upload: what a failure, an exception inside
`with`, garbage collection, close/commit/discard and pickling do to the upload."""

from __future__ import annotations

import gc
import pickle

import pytest
from writer_fakes import PART, URL, FakeSink, make_writer, payload, wait_until

from mpu_toolkit.errors import TransientS3Error, UploadAborted, WriterClosedError


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


@pytest.mark.parametrize("where", ["complete", "put"])
def test_a_failed_close_inside_with_is_not_retried_on_exit(where: str) -> None:
    """``close()`` failed (e.g. the key was taken, exclusive mode); leaving the ``with``
    block afterwards must not send Complete / the PUT a second time."""
    sink = FakeSink(**{f"{where}_error": TransientS3Error("refused")})
    with make_writer(sink) as w:
        w.write(b"q" * (25 if where == "complete" else 5))
        with pytest.raises(TransientS3Error):
            w.close()
    assert sink.names().count("complete" if where == "complete" else "put_object") == 1
    assert w.state == "failed" and sink.aborts == [False]


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

