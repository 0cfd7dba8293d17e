"""A multipart upload that travels: start it here, upload parts anywhere, complete it here.

:class:`UploadHandle` is a small frozen, picklable record (URL, upload id, storage options,
writer options). Dask or multiprocessing workers receive it with their task and upload
their own numbered parts (:meth:`UploadHandle.upload_part`, with Content-MD5, ETag check and
retries, as the writer does); the process that started it completes it with the parts the
workers return, or aborts it if any of them failed. Re-sending a number replaces that part,
so a retried task that sends the same numbers again is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from fsspec.asyn import sync

from .fs import MPUFileSystem
from ._plan.integrity import md5_of_etag
from .options import WriteOptions
from ._engine.transfer import run_parts
from .model import ObjectInfo, PartInfo
from ._engine.upload import S3Upload

__all__ = ["UploadHandle", "start_upload"]


@dataclass(frozen=True)
class UploadHandle:
    """A started multipart upload, usable from any process that unpickles it."""

    url: str                                   #: s3://bucket/key
    upload_id: str
    storage_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)  #: WriteOptions keywords

    @property
    def bucket(self) -> str:
        return self.url[len("s3://"):].split("/", 1)[0]

    @property
    def key(self) -> str:
        return self.url[len("s3://"):].split("/", 1)[1]

    def _upload(self) -> tuple[MPUFileSystem, S3Upload]:
        fs = MPUFileSystem(**dict(self.storage_options))  # one per process (fsspec's cache)
        upload = S3Upload(fs.multipart, fs.loop, self.bucket, self.key,
                          WriteOptions.from_kwargs(**dict(self.options)))
        return fs, upload

    def upload_part(self, number: int, data: bytes | bytearray | memoryview) -> PartInfo:
        """Upload part ``number`` (1..10,000; every part but the last at least 5 MiB)."""
        return self.upload_parts([(number, data)])[0]

    def upload_parts(self, items: Sequence[tuple[int, bytes | bytearray | memoryview]],
                     concurrency: int = 4) -> list[PartInfo]:
        """Upload several ``(number, data)`` parts at once (at most ``concurrency``)."""
        fs, upload = self._upload()
        upload.attach(self.upload_id)
        jobs = [lambda n=n, d=d: upload.send_part(n, d) for n, d in items]
        return sync(fs.loop, run_parts, jobs, concurrency)

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo:
        """Complete with exactly ``parts`` and confirm the object by HEAD (size, and the
        multipart ETag where the part ETags are MD5s)."""
        fs, upload = self._upload()
        md5s = {p.number: md5 for p in parts if (md5 := md5_of_etag(p.etag)) is not None}
        upload.attach(self.upload_id, md5s)
        info = sync(fs.loop, upload.finish, list(parts))
        fs.invalidate_cache(f"{self.bucket}/{self.key}")
        return info

    def abort(self) -> None:
        """Abort, repeating until no part is left (parts in flight may land late)."""
        fs, upload = self._upload()
        upload.attach(self.upload_id)
        sync(fs.loop, upload.cancel)

    def parts(self) -> list[PartInfo]:
        """The parts stored so far (ListParts)."""
        fs, _ = self._upload()
        return sync(fs.loop, fs.multipart.list_parts, self.bucket, self.key, self.upload_id)


def start_upload(url: str, *, storage_options: Mapping[str, Any] | None = None,
                 **options: Any) -> UploadHandle:
    """CreateMultipartUpload for ``url`` now; ``options`` are writer options (metadata,
    content_type, checksum, max_attempts ...), validated here and used by every process."""
    fs = MPUFileSystem(**dict(storage_options or {}))
    bucket, key, _ = fs._location(url, write=True)
    opts = WriteOptions.from_kwargs(**options)  # refuse bad options before any request
    upload_id = sync(fs.loop, fs.multipart.create, bucket, key, metadata=opts.metadata,
                     content_type=opts.content_type, storage_class=opts.storage_class,
                     checksum_algorithm=opts.checksum.algorithm, extra=opts.extra)
    return UploadHandle(f"s3://{bucket}/{key}", upload_id, dict(storage_options or {}),
                        dict(options))
