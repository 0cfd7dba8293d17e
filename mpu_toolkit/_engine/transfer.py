"""The skeleton of a planned transfer: copy, compose, file upload, resume.

A planned transfer knows all its parts up front (unlike the streaming writer). Every one of
them ends the same way, so it is written once, here: run the parts (at most ``concurrency``
at once, the first failure cancels the rest), check that the sources did not change, report
"completing", complete (HEAD-confirmed); and on any failure or interrupt report it, stop
what is in flight, abort the upload (or keep it for resuming) and note on the exception
what happened. Progress events are the writer's :class:`~mpu_toolkit.ProgressEvent`, so
tqdm bars and notebook widgets show copies and file uploads the same way.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Sequence

from ..errors import add_note
from ..model import ObjectInfo, PartInfo
from ..options import WriteOptions
from ..progress import Clock, ProgressCallback, ProgressEvent, State, deliver, make_progress
from .gather import bounded_gather
from .upload import S3Upload

__all__ = ["PlannedTransfer", "TransferProgress", "PartJob"]

PartJob = Callable[[], Awaitable[PartInfo]]


class PlannedTransfer:
    """One multipart upload whose parts are planned: ``await transfer.run(jobs)``.

    ``keep_on_error``: a failure keeps the upload (and its parts) for resuming instead of
    aborting it; ``source``: the local file, named in the resume hint. ``done_bytes`` /
    ``done_parts``: what a resumed upload already holds.
    """

    def __init__(self, upload: S3Upload, options: WriteOptions, total: int, *,
                 keep_on_error: bool = False, source: str | None = None,
                 done_bytes: int = 0, done_parts: int = 0) -> None:
        self.upload = upload
        self._concurrency = options.concurrency
        self._keep = keep_on_error
        self._source = source
        self.progress = TransferProgress(make_progress(options.progress, upload.ref.url, total),
                                         upload.url, total, done_bytes, done_parts)

    async def run(self, jobs: Sequence[PartJob], *, kept: Sequence[PartInfo] = (),
                  check: Callable[[], Awaitable[None]] | None = None
                  ) -> tuple[ObjectInfo, list[PartInfo]]:
        """Send ``jobs``' parts, run ``check`` (the sources are unchanged), complete with
        ``kept`` + the parts sent. Returns the object and the parts sent."""
        progress = self.progress
        try:
            sent = await bounded_gather([progress.counted(job) for job in jobs],
                                        self._concurrency)
            progress.upload_id = self.upload.upload_id
            if check is not None:
                await check()
            progress.emit("completing")
            info = await self.upload.finish([*kept, *sent])
        except BaseException as error:
            await self._end(error)
            raise
        progress.emit("completed", etag=info.etag)
        return info, sent

    async def _end(self, error: BaseException) -> None:
        keep = self._keep and self.upload.upload_id is not None
        interrupted = isinstance(error, (asyncio.CancelledError, KeyboardInterrupt))
        self.progress.upload_id = self.upload.upload_id
        self.progress.emit("kept" if keep else "aborted" if interrupted else "failed",
                           error=str(error) or type(error).__name__)
        add_note(error, await self.upload.cancel(keep_parts=self._keep, source=self._source))


class TransferProgress:
    """Progress events of a planned transfer, in the writer's :class:`ProgressEvent` form."""

    def __init__(self, callback: ProgressCallback | None, url: str, total: int,
                 done_bytes: int = 0, done_parts: int = 0, interval: float = 0.1) -> None:
        self._callback, self.url, self.total = callback, url, total
        self.bytes_done, self.parts_done, self.in_flight = done_bytes, done_parts, 0
        self.upload_id: str | None = None
        self._interval, self._clock, self._last = interval, Clock(), float("-inf")

    def counted(self, job: PartJob) -> PartJob:
        """``job`` reporting its start and end (throttled events)."""
        async def run() -> PartInfo:
            self.in_flight += 1
            try:
                part = await job()
            finally:
                self.in_flight -= 1
            self.bytes_done += part.size
            self.parts_done += 1
            if self._clock() - self._last >= self._interval:
                self.emit("writing")
            return part

        return run

    def emit(self, state: State, etag: str | None = None, error: str | None = None) -> None:
        if self._callback is None:
            return
        self._last = self._clock()
        deliver(self._callback, ProgressEvent(
            url=self.url, state=state, bytes_written=self.bytes_done,
            bytes_uploaded=self.bytes_done, parts_done=self.parts_done,
            parts_in_flight=self.in_flight, elapsed=self._clock(), total=self.total,
            upload_id=self.upload_id, etag=etag, error=error))
