"""Run the parts of a planned transfer (copy, compose, file upload) with bounded concurrency.

The streaming writer gets its bound from backpressure on the producer; a planned transfer
knows all its parts up front, so a semaphore bounds how many run (and hold a buffer) at
once. The first failure cancels the rest, so the caller can abort (or keep) the upload
with nothing still in flight. Progress events are throttled like the writer's.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Sequence

from ..progress import Clock, ProgressCallback, ProgressEvent, State, deliver
from ..model import PartInfo

__all__ = ["run_parts", "TransferProgress"]

PartJob = Callable[[], Awaitable[PartInfo]]


async def run_parts(jobs: Sequence[PartJob], concurrency: int,
                    progress: "TransferProgress | None" = None) -> list[PartInfo]:
    """Run every job, at most ``concurrency`` at a time; results in job order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: PartJob) -> PartInfo:
        async with gate:
            if progress is not None:
                progress.started()
            part = await job()
            if progress is not None:
                progress.part_done(part.size)
            return part

    tasks = [asyncio.ensure_future(one(job)) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class TransferProgress:
    """Progress events of a planned transfer, in the writer's :class:`ProgressEvent` form
    (so tqdm bars and notebook widgets show copies and file uploads the same way)."""

    def __init__(self, callback: ProgressCallback | None, url: str, total: int,
                 done_bytes: int = 0, done_parts: int = 0, interval: float = 0.1) -> None:
        self._callback, self.url, self.total = callback, url, total
        self.bytes_done, self.parts_done, self.in_flight = done_bytes, done_parts, 0
        self.upload_id: str | None = None
        self._interval, self._clock, self._last = interval, Clock(), float("-inf")

    def started(self) -> None:
        self.in_flight += 1

    def part_done(self, size: int) -> None:
        self.in_flight -= 1
        self.bytes_done += size
        self.parts_done += 1
        if self._clock() - self._last >= self._interval:
            self.emit("writing")

    def emit(self, state: State, etag: str | None = None, error: str | None = None) -> None:
        if self._callback is None:
            return
        self._last = self._clock()
        deliver(self._callback, ProgressEvent(
            url=self.url, state=state, bytes_written=self.bytes_done,
            bytes_uploaded=self.bytes_done, parts_done=self.parts_done,
            parts_in_flight=self.in_flight, elapsed=self._clock(), total=self.total,
            upload_id=self.upload_id, etag=etag, error=error))
