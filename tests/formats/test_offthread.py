"""Encoders off the caller's thread: where each piece runs, and what an interrupt does.

The interrupt is a real SIGINT sent to the main thread (``pthread_kill``) while the encoder
is busy, as Ctrl-C or Jupyter's "Interrupt kernel" would land.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ctrl_c_pressed

from mpu_toolkit.formats import offthread
from mpu_toolkit.formats.offthread import encode_off_thread, off_main_thread

ENCODER = "mpu_toolkit encoder"


@pytest.fixture(autouse=True)
def on_the_main_thread() -> Iterator[None]:
    assert threading.current_thread() is threading.main_thread(), "these tests need it"
    yield
    for thread in threading.enumerate():  # its work has ended: the thread exits at once
        if thread.name == ENCODER:
            thread.join(1)
            assert not thread.is_alive(), "an encoder thread lives on"


class Recorder(io.RawIOBase):
    """A file that records what it got, and on which thread."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.threads: set[str] = set()
        self.writes = 0

    def write(self, data: Any) -> int:
        self.threads.add(threading.current_thread().name)
        self.data += bytes(data)
        self.writes += 1
        return len(data)


def test_chunks_are_pulled_and_bytes_written_here_the_encoding_runs_elsewhere():
    pulled, encoded, file = [], [], Recorder()

    def producer() -> Iterator[int]:
        for n in range(3):
            pulled.append(threading.current_thread().name)
            yield n

    def work(chunks: Iterator[int], out: Any) -> str:
        for n in chunks:
            encoded.append(threading.current_thread().name)
            out.write(b"%d;" % n)
        return "result"

    assert encode_off_thread(work, producer(), file) == "result"
    assert file.data == b"0;1;2;"
    assert set(pulled) == file.threads == {"MainThread"} and set(encoded) == {ENCODER}


def test_off_the_main_thread_the_encoder_is_simply_called():
    seen: list[str] = []

    def elsewhere() -> None:
        seen.append(off_main_thread(lambda: threading.current_thread().name))

    thread = threading.Thread(target=elsewhere, name="a worker")
    thread.start()
    thread.join()
    assert seen == ["a worker"] and off_main_thread(lambda: 6 * 7) == 42


@pytest.mark.parametrize("where", ["encoder", "producer", "file"])
def test_an_error_anywhere_reaches_the_caller_and_the_encoder_ends(where):
    error = RuntimeError(where)

    def producer() -> Iterator[int]:
        yield 1
        if where == "producer":
            raise error
        yield 2

    class Failing(Recorder):
        def write(self, data: Any) -> int:
            if where == "file" and self.data:
                raise error
            return super().write(data)

    def work(chunks: Iterator[int], out: Any) -> None:
        for n in chunks:
            out.write(b"x" * offthread.BATCH)  # a whole batch: handed to the file at once
            if where == "encoder":
                raise error

    with pytest.raises(RuntimeError) as raised:
        encode_off_thread(work, producer(), Failing())
    assert raised.value is error  # the same exception, not a wrapper


def test_ctrl_c_stops_the_encoder_and_nothing_it_writes_afterwards_arrives():
    file, started, released, went_on = Recorder(), threading.Event(), threading.Event(), []
    before = b"b" * offthread.BATCH

    def work(chunks: Iterator[int], out: Any) -> None:
        out.write(before)  # a whole batch: handed to the file at once
        started.set()
        released.wait(10)  # busy "inside C code" while the interrupt lands
        out.write(b"a" * offthread.BATCH)  # a hand-over: raises, the caller stopped
        went_on.append(True)

    began = time.monotonic()
    with ctrl_c_pressed(started, released), pytest.raises(KeyboardInterrupt):
        encode_off_thread(work, iter(()), file)
    assert released.is_set()  # it waited for the encoder to end before re-raising
    assert time.monotonic() - began < offthread.JOIN_WITHIN
    assert file.data == before and went_on == []


def test_an_encoder_writing_after_its_end_writes_nowhere():
    """A footer written at garbage collection (pyarrow's writers) after a failure."""
    file, kept = Recorder(), []

    def work(chunks: Iterator[int], out: Any) -> None:
        kept.append(out)
        raise ValueError("encoder failed")

    with pytest.raises(ValueError):
        encode_off_thread(work, iter(()), file)
    kept[0].write(b"footer")  # from this thread, after the end: dropped, no deadlock
    assert file.data == b""


def test_an_encoder_busy_past_the_bound_is_left_behind_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(offthread, "JOIN_WITHIN", 0.2)
    started, released = threading.Event(), threading.Event()
    done = threading.Event()

    def work(chunks: Iterator[int], out: Any) -> None:
        started.set()
        released.wait(10)
        time.sleep(1.0)  # still busy when the caller gives up waiting
        done.set()

    with (ctrl_c_pressed(started, released), caplog.at_level(logging.WARNING),
          pytest.raises(KeyboardInterrupt)):
        encode_off_thread(work, iter(()), Recorder())
    assert not done.is_set() and "still busy" in caplog.text
    assert done.wait(10)  # it ends on its own (its output goes nowhere)


def test_small_writes_reach_the_file_gathered_in_order_and_whole():
    """Encoders make many tiny writes (Parquet page headers): they cross to the caller's
    thread a batch at a time, in order, the rest when the encoder ends."""
    file = Recorder()
    pieces = [bytes([n % 251]) * (n % 977 + 1) for n in range(5_000)]

    def work(chunks: Iterator[int], out: Any) -> None:
        for piece in pieces:
            out.write(piece)
        out.write(b"L" * (offthread.BATCH + 3))  # a large write passes whole, after the rest

    encode_off_thread(work, iter(()), file)
    assert file.data == b"".join(pieces) + b"L" * (offthread.BATCH + 3)
    assert file.writes < 10  # not one hand-over per write
