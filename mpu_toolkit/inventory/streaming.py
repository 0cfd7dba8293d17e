"""The listing as it happens: uploads batch by batch, then their sizes as ListParts answers.

:func:`~mpu_toolkit.inventory.listing.collect` returns when everything is listed and sized; a
large account then stays blank for minutes. :func:`stream` hands each batch of listed
uploads (sizes ``<NA>``) to the caller as soon as it has it, starts sizing them at once
(``concurrency`` ListParts at a time), hands sizes over in batches as they come, and reports
progress. Setting ``stop`` ends it within ~0.1 s: requests in flight are cancelled and what
was seen so far stays with the caller. Callbacks run on the filesystem's event loop thread:
they must be quick (update a widget, append to a list).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import pandas as pd

from .._s3.client import S3Client
from ..errors import AccessDenied, NoSuchBucket, NoSuchUpload
from ..model import ObjectRef, UploadInfo
from .exact_keys import Coverage, iter_uploads
from .listing import Target, UploadRecord, to_frame

__all__ = ["ListingProgress", "ListingCallbacks", "stream"]

_STOP_POLL = 0.1  # seconds between looks at the stop event


@dataclass(frozen=True)
class ListingProgress:
    """How far a streamed listing has got."""

    listed: int        #: uploads listed so far
    sized: int         #: of those, sized (or found gone)
    seconds: float     #: since the start
    done: bool = False
    stopped: bool = False
    #: what the store did not let the listing see (exact-key stores), in words; else None
    notice: str | None = None

    def __str__(self) -> str:
        state = "stopped" if self.stopped else "done" if self.done else "listing"
        return (f"{state}: {self.listed:,} uploads listed, {self.sized:,} sized, "
                f"{self.seconds:.1f} s")


@dataclass
class ListingCallbacks:
    """Where a streamed listing reports: new rows (the uploads frame's columns, sizes
    ``<NA>``), sizes (``upload_id``, ``parts``, ``bytes``, ``abort_date``, ``gone``) and
    progress. Each is optional."""

    rows: Callable[[pd.DataFrame], None] | None = None
    sizes: Callable[[pd.DataFrame], None] | None = None
    progress: Callable[[ListingProgress], None] | None = None

    def report(self, progress: ListingProgress) -> None:
        if self.progress is not None:
            self.progress(progress)


@dataclass
class _State:
    callbacks: ListingCallbacks
    batch: int
    coverage: Coverage
    started: float = field(default_factory=time.monotonic)
    listed: int = 0
    sized: int = 0
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    pending_rows: list[UploadRecord] = field(default_factory=list)
    pending_sizes: list[dict[str, object]] = field(default_factory=list)

    def progress(self, **flags: bool) -> ListingProgress:
        return ListingProgress(self.listed, self.sized, time.monotonic() - self.started,
                               **flags, notice=self.coverage.notice())

    def flush_rows(self) -> None:
        if self.pending_rows:
            rows, self.pending_rows = self.pending_rows, []
            if self.callbacks.rows is not None:
                self.callbacks.rows(to_frame(rows))
            self.callbacks.report(self.progress())

    def flush_sizes(self) -> None:
        if self.pending_sizes:
            sizes, self.pending_sizes = self.pending_sizes, []
            frame = pd.DataFrame(sizes, columns=["upload_id", "parts", "bytes", "abort_date",
                                                 "gone"])
            frame = frame.astype({"upload_id": "string", "parts": "Int64", "bytes": "Int64",
                                  "gone": "bool"})
            frame["abort_date"] = pd.to_datetime(frame["abort_date"], utc=True)
            if self.callbacks.sizes is not None:
                self.callbacks.sizes(frame)
            self.callbacks.report(self.progress())


async def stream(client: S3Client, targets: Sequence[Target], callbacks: ListingCallbacks, *,
                 stop: threading.Event | None = None, sizes: bool = True,
                 page_size: int = 1000, concurrency: int = 16,
                 batch: int = 200) -> ListingProgress:
    """List ``targets``, reporting through ``callbacks`` as it goes; returns the final
    progress (``stopped=True`` if ``stop`` was set first)."""
    state = _State(callbacks, batch, Coverage(client.provider))
    stop = stop or threading.Event()
    work = asyncio.ensure_future(_list_and_size(client, targets, state, sizes, page_size,
                                                concurrency))
    while not work.done():
        await asyncio.wait([work], timeout=_STOP_POLL)
        state.flush_rows()  # what arrived meanwhile: a view fills in as the pages come
        state.flush_sizes()
        if stop.is_set() and not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            state.flush_rows()
            state.flush_sizes()
            final = state.progress(stopped=True)
            callbacks.report(final)
            return final
    work.result()  # a listing error is raised to the caller
    final = state.progress(done=True)
    callbacks.report(final)
    return final


async def _list_and_size(client: S3Client, targets: Sequence[Target], state: _State,
                         sizes: bool, page_size: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    sizing: set[asyncio.Task[None]] = set()
    failed: list[asyncio.Task[None]] = []  # a ListParts that failed for good fails the listing

    def finished(task: asyncio.Task[None]) -> None:
        sizing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            failed.append(task)
    try:
        for bucket, prefix in await _buckets(client, targets):
            try:
                async for upload in iter_uploads(client, bucket, prefix, page_size,
                                                 state.coverage):
                    ident = (upload.bucket, upload.key, upload.upload_id)
                    if ident in state.seen:
                        continue
                    state.seen.add(ident)
                    state.listed += 1
                    state.pending_rows.append(UploadRecord(upload))
                    if len(state.pending_rows) >= state.batch:
                        state.flush_rows()
                    if sizes:
                        task = asyncio.ensure_future(_size(client, upload, state, gate))
                        sizing.add(task)
                        task.add_done_callback(finished)
                    if failed:
                        failed[0].result()
            except NoSuchBucket:
                continue  # deleted since ListBuckets
            except AccessDenied:
                if len(targets) == 1 and targets[0].bucket == bucket:
                    raise
                continue  # an every-bucket listing leaves out what it may not read
            state.flush_rows()
        while sizing and not failed:
            await asyncio.wait(set(sizing), return_when=asyncio.FIRST_EXCEPTION)
            state.flush_sizes()
        if failed:
            failed[0].result()  # raises it, naming the request
        state.flush_sizes()
    finally:
        for task in sizing:
            task.cancel()


async def _buckets(client: S3Client, targets: Sequence[Target]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for target in targets:
        if target.bucket is None:
            found += [(b, target.prefix) for b in await client.list_buckets()]
        else:
            found.append((target.bucket, target.prefix))
    return found


async def _size(client: S3Client, upload: UploadInfo, state: _State,
                gate: asyncio.Semaphore) -> None:
    async with gate:
        try:
            described = await client.describe_upload(ObjectRef(upload.bucket, upload.key),
                                                     upload.upload_id)
            row = {"upload_id": upload.upload_id, "parts": len(described.parts),
                   "bytes": sum(p.size for p in described.parts),
                   "abort_date": described.abort_date, "gone": False}
        except (NoSuchUpload, NoSuchBucket):  # completed or aborted since it was listed
            row = {"upload_id": upload.upload_id, "parts": None, "bytes": None,
                   "abort_date": None, "gone": True}
    state.sized += 1
    state.pending_sizes.append(row)
    if len(state.pending_sizes) >= state.batch:
        state.flush_sizes()
