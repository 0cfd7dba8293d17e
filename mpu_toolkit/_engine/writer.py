"""The streaming writer: bytes in, numbered parts out, bounded memory, never a partial object.

``write()`` copies into the current part buffer (and feeds a CRC mode's digest the bytes just
copied, still in the CPU's cache); a full buffer becomes a numbered part handed to the
:class:`UploadSink` (which uploads it in the background) through a :mod:`.part_pump`.
Two waits are the backpressure: a part is handed over once fewer than ``concurrency`` are in
flight, and a new buffer is taken once it fits in ``max_memory`` (:mod:`.buffers`): the same
bound for 1 GiB and 5 TiB. ``close()`` sends the last part, waits for all, then completes; any
failure on the way (producer, part, complete) aborts instead, so a truncated object is never
published.

The writer knows nothing of S3: the sink interface (submit a part / complete / put the whole
object / abort) is implemented by :class:`.upload.S3Upload` and, in the tests, by
an instrumented fake that checks the chunking exactly.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import weakref
from concurrent.futures import Future
from typing import Any, Callable, Literal, Sequence

from .. import hints
from ..errors import IntegrityError, MPUError, UploadAborted, WriterClosedError, add_note
from ..progress import Clock, ProgressCallback, ProgressEvent, deliver
from ..model import ObjectInfo, PartInfo
from . import shutdown
from .buffers import BufferPool, copy_into
from .part_pump import PartPump
from .sink import UploadSink, submitter
from .._plan.integrity import PartDigest, RunningDigest
from .._plan.sizing import PartSizer, counted

log = logging.getLogger(__name__)

_DIGEST_SPAN = 256 * 1024  #: a part's CRC is fed every 256 KiB copied, the bytes still in L2

__all__ = ["MultipartWriter"]

State = Literal["writing", "closed", "completed", "aborted", "failed", "kept"]


class MultipartWriter(io.BufferedIOBase):
    """A write-only binary file whose bytes stream into a multipart upload.

    Not thread-safe: one producer thread writes (as with any file object).
    """

    mode = "wb"

    def __init__(self, sink: UploadSink, sizer: PartSizer, *, url: str, concurrency: int = 8,
                 max_memory: int | None = None, keep_parts_on_error: bool = False,
                 autocommit: bool = True, size: int | None = None,
                 progress: ProgressCallback | None = None,
                 on_commit: Callable[[ObjectInfo], None] | None = None,
                 prefix: Sequence[PartInfo] = ()) -> None:
        super().__init__()
        self._sink = sink
        self._sizer = sizer
        self._buffers = BufferPool(max_memory)
        self._keep_parts = keep_parts_on_error
        self.autocommit = autocommit
        self._declared_size = size
        self._progress = progress
        self._last_emit = float("-inf")
        self._on_commit = on_commit
        self.url = self.path = url
        self._clock = Clock()
        # ``prefix``: parts already in the upload (an append's copy of the object): 1..n
        self._digests: dict[int, PartDigest] = {}  # CRCs of filled parts, until submitted
        self._pump = PartPump(submitter(sink, self._digests), concurrency, buffers=self._buffers,
                              on_settled=_on_part_done(weakref.ref(self)), done=prefix)
        self._next_number = len(prefix) + 1
        self._buffer = bytearray()  # allocated when the part's first byte arrives
        self._fill = 0
        self._digest: RunningDigest | None = None  # the filling part's, up to _digested
        self._digested = 0
        self._written = sum(p.size for p in prefix)
        # updated by part done-callbacks on the I/O thread:
        self._counter_lock = threading.Lock()
        self._emit_lock = threading.RLock()  # one event at a time, in order, on any thread
        self._uploaded = self._written
        self._parts_settled = 0
        self._parts_uploaded = 0
        self._state: State = "writing"
        self._error: BaseException | None = None
        self.result: ObjectInfo | None = None  #: the published object, once completed
        # An exception already being handled when the writer was opened is not a failure
        # of this writer (e.g. writing a fallback file inside an ``except`` block).
        self._exc_at_open = sys.exc_info()[1]
        shutdown.track(self)  # aborted at interpreter exit if still unfinished

    # -- the file interface --------------------------------------------------------------
    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._state != "writing"

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        """Nothing to do: S3 parts cannot be smaller than 5 MiB, so bytes wait for a full
        part (or for ``close()``)."""

    def write(self, data: Any) -> int:
        """Accept bytes-like data; blocks only while ``concurrency`` parts are in flight."""
        self._check_writing()
        try:
            view = memoryview(data).cast("B")
        except TypeError:
            raise TypeError(f"write() takes bytes, bytearray or memoryview, not "
                            f"{type(data).__name__} (encode text first, or open in 'w' mode)"
                            ) from None
        size = len(view)
        if self._declared_size is not None and self._written + size > self._declared_size:
            self._fail(MPUError(f"{self.url}: more bytes than the declared size="
                                f"{self._declared_size:,}; drop size= or declare the real size"))
        position = 0
        try:
            while position < size:
                if not self._buffer:
                    self._buffer = self._new_buffer()
                room = len(self._buffer) - self._fill
                take = min(room, size - position)
                copy_into(self._buffer, self._fill, view[position:position + take])
                self._fill += take
                if self._fill - self._digested >= _DIGEST_SPAN:
                    self._digest_filled()
                position += take
                if self._fill == len(self._buffer):
                    self._send_buffer()
        except BaseException as exc:
            self._fail(exc)
        self._written += size
        self.report()  # throttled: encoders make many tiny writes (Parquet page headers)
        return size

    def report(self) -> None:
        """A progress event now, unless one went out within the last 0.1 s (as after a write):
        for a caller whose progress moved without a write, e.g. a frame writer's rows taken."""
        if self._progress is not None and self._clock() - self._last_emit >= _EMIT_INTERVAL:
            self._emit()

    def close(self) -> None:
        """Finish and (with autocommit) publish — unless an exception is propagating, in
        which case the upload is aborted: a failed producer never publishes a partial object."""
        if self._state != "writing":
            return
        propagating = sys.exc_info()[1]
        if propagating is not None and propagating is not self._exc_at_open:
            log.warning("%s closed while %r propagates: aborting, nothing is published",
                        self.url, propagating)
            self._fail(propagating, raise_error=False)
            return
        self._close_cleanly()

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self._fail(exc, raise_error=False)
        elif self._state == "writing":  # a close() inside the block may have ended it
            self._close_cleanly()

    def __del__(self) -> None:
        if getattr(self, "_state", None) in ("writing", "closed"):
            self._abandon("garbage-collected without close()")

    # -- explicit outcomes -----------------------------------------------------------------
    def commit(self) -> ObjectInfo:
        """Publish the object (after ``close()`` when ``autocommit=False``, or instead of it)."""
        if self._state == "completed":
            assert self.result is not None
            return self.result
        if self._state == "writing":
            self._finish_parts()
        elif self._state != "closed":
            raise self._closed_error()
        try:
            if self._next_number == 1:  # never filled one part: a single PUT
                del self._buffer[self._fill:]
                self.result = self._sink.put_object(self._buffer)
                with self._counter_lock:
                    self._uploaded = len(self._buffer)
            else:
                parts = self._pump.finish()
                sent = sum(p.size for p in parts)
                if sent != self._written:
                    raise IntegrityError(f"{self.url}: parts hold {sent:,} bytes but "
                                         f"{self._written:,} were written; not completing")
                self.result = self._sink.complete(parts)
        except BaseException as exc:
            self._fail(exc)
        result = self.result
        assert result is not None
        self._release_buffers()
        self._state = "completed"
        if self._on_commit is not None:
            self._on_commit(result)
        self._emit()
        log.info("%s completed: %s in %s, ETag %s", self.url, counted(self._written, "byte"),
                 counted(max(len(self._pump.done), 1), "part"), result.etag)
        return result

    def abort(self, reason: str = "aborted by the caller") -> None:
        """Stop and delete the upload; nothing is published. Idempotent."""
        if self._state == "completed":
            raise WriterClosedError(f"{self.url} is already completed; delete the object instead")
        if self._state in ("aborted", "failed", "kept"):
            return
        self._fail(UploadAborted(f"{self.url}: {reason}"), raise_error=False)

    discard = abort  # fsspec's name for it (transactions)

    # -- what is visible for progress and resume --------------------------------------------
    @property
    def upload_id(self) -> str | None:
        return self._sink.upload_id

    @property
    def parts(self) -> list[PartInfo]:
        """Parts handed to the upload so far, in number order; those still uploading have
        no ETag yet (``""``)."""
        return self._pump.snapshot()

    @property
    def bytes_written(self) -> int:
        return self._written

    @property
    def bytes_uploaded(self) -> int:
        return self._uploaded

    @property
    def memory_in_use(self) -> int:
        """Bytes of part buffers held now: the one filling, parts in flight, spares."""
        return self._buffers.held

    @property
    def parts_in_flight(self) -> int:
        return 0 if self.closed and self._state != "closed" else (
            self._pump.sent - self._parts_settled)

    @property
    def state(self) -> State:
        return self._state

    @property
    def error(self) -> BaseException | None:
        return self._error

    def __repr__(self) -> str:
        pump = self._pump
        return (f"<MultipartWriter {self.url} {self._state} written={self._written} "
                f"parts={len(pump.done)}+{len(pump.in_flight)} upload_id={self.upload_id}>")

    def __reduce__(self) -> Any:
        raise TypeError(f"a MultipartWriter ({self.url}) cannot be pickled: it holds an open "
                        "upload; open the writer inside the worker instead, or share one "
                        "upload between workers with mpu_toolkit.start_upload()")

    # -- internals ---------------------------------------------------------------------------
    def _check_writing(self) -> None:
        if self._state != "writing":
            raise self._closed_error()

    def _closed_error(self) -> WriterClosedError:
        why = f" ({self._error})" if self._error else ""
        return WriterClosedError(f"{self.url} is {self._state}{why}; open a new writer")

    def _send_buffer(self) -> None:
        buffer = self._buffer
        data = buffer if self._fill == len(buffer) else memoryview(buffer)[:self._fill]
        if self._digest is not None:
            self._digest_filled()
            self._digests[self._next_number] = self._digest.result()
        self._pump.put_part(self._next_number, data, buffer)
        self._next_number += 1
        self._buffer, self._fill = bytearray(), 0

    def _new_buffer(self) -> bytearray:
        """The next part's buffer, once ``max_memory`` has room for it (and its digest)."""
        self._digest, self._digested = self._sink.running_digest(), 0
        return self._pump.take_buffer(self._sizer.part_size(self._next_number))

    def _digest_filled(self) -> None:
        """Feed the part's digest the bytes copied since the last call (still in cache)."""
        if self._digest is not None:
            self._digest.update(memoryview(self._buffer)[self._digested:self._fill])
        self._digested = self._fill

    def _release_buffers(self) -> None:
        self._buffer = bytearray()
        self._buffers.release_all()

    def _finish_parts(self) -> None:
        try:
            if self._fill and self._next_number > 1:
                self._send_buffer()
            self._pump.finish()
        except BaseException as exc:
            self._fail(exc)
        self._state = "closed"

    def _close_cleanly(self) -> None:
        self._finish_parts()
        if self.autocommit:
            self.commit()
        else:
            self._emit()

    def _fail(self, error: BaseException, raise_error: bool = True) -> None:
        """Abort (or keep for resume), note on ``error`` what happened, and re-raise it."""
        if self._state in ("writing", "closed"):
            self._error = error
            ended: State = "aborted" if isinstance(error, UploadAborted) else "failed"
            # decided before the abort, so events from parts settling meanwhile say the same
            self._state = "kept" if self._keep_parts else ended
            self._pump.forget()
            self._release_buffers()
            try:
                outcome = self._sink.abort(keep_parts=self._keep_parts)
            except BaseException as abort_error:  # the first error is the one to report
                self._tell(error, logging.ERROR, (
                    f"{self.url}: abort after {error!r} failed too ({abort_error!r}): "
                    f"incomplete upload {self.upload_id} is left; abort it later with "
                    f"`{hints.abort(self.url, self.upload_id, young=True)}`, or let a "
                    "lifecycle rule"))
            else:
                kept = self._keep_parts and self.upload_id is not None
                self._tell(error, logging.WARNING if kept else logging.INFO, outcome)
            if self._keep_parts and self.upload_id is None:
                self._state = ended  # nothing was started, so nothing is kept
            if self._sink.published is not None:  # it completed before an interrupt hit
                self._state, self.result = "completed", self._sink.published
            self._emit()
        if raise_error:
            raise error

    def _tell(self, error: BaseException, level: int, note: str) -> None:
        """Log ``note`` and attach it to ``error`` (``__notes__``, shown in tracebacks)."""
        log.log(level, "%s", note)
        add_note(error, note)

    def _abandon(self, why: str) -> None:
        log.warning("%s %s: aborting upload %s, nothing is published", self.url, why,
                    self.upload_id or "(not started yet)")
        self._fail(UploadAborted(f"{self.url}: {why}"), raise_error=False)

    def _part_finished(self, future: Future[PartInfo]) -> None:
        ok = not future.cancelled() and future.exception() is None
        with self._counter_lock:
            self._parts_settled += 1
            if ok:
                self._parts_uploaded += 1
                self._uploaded += future.result().size
        if ok:
            self._emit()

    def _emit(self) -> None:
        if self._progress is None:
            return
        with self._emit_lock:
            self._last_emit = self._clock()
            state = {"closed": "completing"}.get(self._state, self._state)
            event = ProgressEvent(
                url=self.url, state=state, bytes_written=self._written,  # type: ignore[arg-type]
                bytes_uploaded=self._uploaded, parts_done=self._parts_uploaded,
                parts_in_flight=self.parts_in_flight, memory_in_use=self._buffers.held,
                elapsed=self._clock(), total=self._declared_size, upload_id=self.upload_id,
                etag=self.result.etag if self.result else None,
                error=str(self._error) if self._error else None)
            deliver(self._progress, event)


def _on_part_done(ref: "weakref.ref[MultipartWriter]") -> Any:
    """A done-callback that does not keep the writer alive (so GC-without-close aborts)."""

    def callback(future: Future[PartInfo]) -> None:
        writer = ref()
        if writer is not None:
            writer._part_finished(future)

    return callback


_EMIT_INTERVAL = 0.1  # seconds between progress events caused by write()
