"""Encoders run off the caller's thread, so that an interrupt never lands inside C code.

Python runs signal handlers (Ctrl-C's KeyboardInterrupt, Jupyter's "Interrupt kernel") in the
main thread only, between bytecodes, and that includes callbacks that C code makes into
Python. pandas' C JSON encoder (``to_json``) does not check every such callback: an interrupt
landing there crashes the process (SIGSEGV): no traceback, a dead kernel, the upload left.

So an encoder called from the main thread runs on a worker thread, where no signal lands,
while the main thread does everything else: it pulls the producer's chunks, writes the
encoded bytes to the file (the upload), and waits, interruptibly, in between. On an
interrupt, or any other exception on the caller's side (the producer's, the upload's), the
worker is stopped: its next request (a chunk, or a batch of writes: small writes are gathered
up to :data:`BATCH`) raises, so it unwinds soon after the C call it is in returns. It is joined for at most :data:`JOIN_WITHIN` seconds, then the
exception propagates (and the upload's owner aborts it). Its bytes reach the file only
through the caller, so nothing it encodes afterwards is ever written.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from ..errors import add_note
from .frameupload import Valve

log = logging.getLogger(__name__)

__all__ = ["encode_off_thread", "off_main_thread", "JOIN_WITHIN"]

R = TypeVar("R")
T = TypeVar("T")
JOIN_WITHIN = 10.0  #: seconds a stopped encoder is waited for (it ends at its next request)
#: small writes (Parquet's page headers ...) are gathered up to this size before the caller
#: is asked to write them: one hand-over between the threads per MiB, not per write
BATCH = 1 << 20
_POLL = 0.5
_END = object()   # the producer has no more chunks
_STOP = object()  # the caller stopped the work


class _Stopped(BaseException):
    """Raised in the worker: the caller stopped waiting for it (never reaches the caller)."""


class _Relay:
    """The worker's requests to the caller's thread, and the caller's replies."""

    def __init__(self) -> None:
        self.requests: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.replies: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.stopped = threading.Event()
        self.ended = threading.Event()  # the worker has returned or raised
        self._gathered = bytearray()

    def ask(self, kind: str, payload: Any = None) -> Any:
        """On the worker: have the caller do ``kind``; its answer."""
        if self.stopped.is_set():
            raise _Stopped
        self.requests.put((kind, payload))
        reply = self.replies.get()
        if reply is _STOP:
            raise _Stopped
        return reply

    def write(self, data: Any) -> None:
        if self.stopped.is_set():
            raise _Stopped
        view = memoryview(data).cast("B")
        if len(self._gathered) + len(view) < BATCH:
            self._gathered += view
            return
        self.flush()
        if len(view) >= BATCH:
            self.ask("write", view)  # the caller writes it before answering: no copy
        else:
            self._gathered += view

    def flush(self) -> None:
        """Have the caller write what was gathered."""
        if self._gathered:
            gathered, self._gathered = self._gathered, bytearray()
            self.ask("write", gathered)

    def chunks(self) -> Iterator[Any]:
        while (item := self.ask("next")) is not _END:
            yield item

    def stop(self) -> None:
        self.stopped.set()
        self.replies.put(_STOP)  # wakes a worker waiting for a reply


def encode_off_thread(work: Callable[[Iterator[T], Any], R], source: Iterable[T],
                      file: Any) -> R:
    """``work(chunks, out)`` run on a worker thread when called from the main thread.

    ``chunks`` yields ``source``'s items, each pulled on the caller's thread; ``out.write``
    has the caller's thread write to ``file`` (small writes gathered up to :data:`BATCH`). Off the main thread (where no signal lands),
    ``work(iter(source), file)`` is simply called.
    """
    if threading.current_thread() is not threading.main_thread():
        return work(iter(source), file)
    relay = _Relay()
    out = Valve(relay)
    thread = threading.Thread(target=_worker, args=(relay, work, out), daemon=True,
                              name="mpu_toolkit encoder")
    try:
        thread.start()  # inside: an interrupt may land while it waits for the thread
        return _serve(relay, iter(source), file)
    except BaseException as error:
        relay.stop()
        _wait_for_end(relay, error)
        raise


def off_main_thread(function: Callable[..., R], *args: Any) -> R:
    """``function(*args)`` on a worker thread when called from the main thread (see the
    module's docstring): for an encoder that returns its bytes instead of writing them."""
    return encode_off_thread(lambda chunks, out: function(*args), (), None)


def _worker(relay: _Relay, work: Callable[[Iterator[Any], Any], Any], out: Valve) -> None:
    try:
        result = work(relay.chunks(), out)
        relay.flush()
        outcome: tuple[str, Any] = ("done", result)
    except BaseException as error:  # _Stopped included: the caller is not listening then
        outcome = ("error", error)
    finally:
        out.shut()  # an encoder's footer written at garbage collection goes nowhere
    relay.requests.put(outcome)
    relay.ended.set()


def _serve(relay: _Relay, source: Iterator[Any], file: Any) -> Any:
    while True:
        try:
            kind, payload = relay.requests.get(timeout=_POLL)
        except queue.Empty:
            continue
        if kind == "next":
            relay.replies.put(next(source, _END))
        elif kind == "write":
            file.write(payload)
            relay.replies.put(None)
        elif kind == "error":
            raise payload
        else:
            return payload


def _wait_for_end(relay: _Relay, error: BaseException) -> None:
    try:
        ended = relay.ended.wait(JOIN_WITHIN)
    except BaseException:
        add_note(error, "interrupted again: stopped waiting for the encoder thread; it "
                        "stops at its next write, and nothing more reaches the upload")
        return
    if not ended:
        log.warning("the encoder thread is still busy %gs after %r; it stops at its next "
                    "write, and nothing more reaches the upload", JOIN_WITHIN, error)
