"""A multipart upload that travels: start it here, upload parts anywhere, complete it here.

:class:`UploadHandle` is a small frozen, picklable record (URL, upload id, storage options,
writer options). Dask or multiprocessing workers receive it with their task and upload
their own numbered parts (:meth:`UploadHandle.upload_part`, with the upload's digest (``checksum``), its check and
retries, as the writer does); the process that started it completes it with the parts the
workers return, or aborts it if any of them failed. Re-sending a number replaces that part,
so a retried task that sends the same numbers again is harmless.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Coroutine, Mapping, Sequence, TypeVar

from ._engine.blocking import run_blocking
from ._engine.gather import bounded_gather
from ._engine.part_pump import Data, PartPump
from ._engine.upload import S3Upload
from ._plan.integrity import md5_of_etag
from .errors import add_note
from .fs import MPUFileSystem, filesystem
from .model import ObjectInfo, ObjectRef, PartInfo

__all__ = ["UploadHandle", "PartsInFlight"]

T = TypeVar("T")
_BUILDING = threading.Lock()  #: one build of a handle's upload per process


@dataclass(frozen=True)
class UploadHandle:
    """A started multipart upload, usable from any process that unpickles it."""

    url: str                                   #: s3://bucket/key
    upload_id: str
    storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)  #: WriteOptions keywords

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef.from_url(self.url)

    @property
    def bucket(self) -> str:
        return self.ref.bucket

    @property
    def key(self) -> str:
        return self.ref.key

    def _upload(self) -> tuple[MPUFileSystem, S3Upload]:
        """This process's filesystem and upload of the handle, built once and kept for every
        later part: one client, the options resolved once over the writer options of
        ``storage_options``. Kept beside the fields (not compared, not pickled), so a process
        that unpickles the handle (or a forked child) builds its own."""
        with _BUILDING:
            kept = self.__dict__.get("_kept")
            if kept is None or kept[0] != os.getpid():
                fs = filesystem(self.storage_options)  # one per process (fsspec's cache)
                upload = fs.multipart_upload(self.ref, **self.options)
                upload.attach(self.upload_id)
                kept = (os.getpid(), fs, upload)
                object.__setattr__(self, "_kept", kept)
        return kept[1], kept[2]

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_kept"}

    def _run(self, fs: MPUFileSystem, coro: Coroutine[Any, Any, T]) -> T:
        return run_blocking(fs.loop, coro)

    def upload_part(self, number: int, data: bytes | bytearray | memoryview) -> PartInfo:
        """Upload part ``number`` (1..10,000; every part but the last at least 5 MiB)."""
        return self.upload_parts([(number, data)])[0]

    def upload_parts(self, items: Sequence[tuple[int, bytes | bytearray | memoryview]],
                     concurrency: int = 4) -> list[PartInfo]:
        """Upload several ``(number, data)`` parts at once (at most ``concurrency``)."""
        fs, upload = self._upload()
        jobs = [partial(upload.send_part, n, d) for n, d in items]
        try:
            return self._run(fs, bounded_gather(jobs, concurrency))
        except BaseException as error:
            add_note(error, f"{self.url}: parts sent before the failure stay in upload "
                            f"{self.upload_id} until the process that started it completes "
                            "or aborts it (UploadHandle.abort)")
            raise

    def submit_part(self, number: int, data: bytes | bytearray | memoryview
                    ) -> "Future[PartInfo]":
        """Start uploading part ``number`` in the background and return at once: a future of
        its :class:`PartInfo`. ``data`` must stay unchanged until the future is done."""
        fs, upload = self._upload()
        return asyncio.run_coroutine_threadsafe(upload.send_part(number, data), fs.loop)

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo:
        """Complete with exactly ``parts`` and confirm the object by HEAD (size, and the
        multipart ETag where the part ETags are MD5s)."""
        fs, upload = self._upload()
        md5s = {p.number: md5 for p in parts if (md5 := md5_of_etag(p.etag)) is not None}
        upload.attach(self.upload_id, md5s)
        info = self._run(fs, upload.finish(list(parts)))
        fs.invalidate_cache(f"{self.bucket}/{self.key}")
        return info

    def abort(self) -> str:
        """Abort, repeating until no part is left (parts in flight may land late); returns
        what happened."""
        fs, upload = self._upload()
        return self._run(fs, upload.cancel())

    def parts(self) -> list[PartInfo]:
        """The parts stored so far (ListParts)."""
        fs, upload = self._upload()
        return self._run(fs, upload.stored_parts())


class PartsInFlight(PartPump[Data]):
    """Parts of one upload sent in the background from this process, at most ``limit`` at a
    time, so that the producer keeps encoding while they travel: the engine's
    :class:`~mpu_toolkit._engine.part_pump.PartPump` (``put_part`` / ``finish`` / ``abort``)
    over :meth:`UploadHandle.submit_part`. Memory: ``limit`` parts."""

    def __init__(self, handle: UploadHandle, limit: int = 4) -> None:
        super().__init__(handle.submit_part, limit)
        self.handle = handle
