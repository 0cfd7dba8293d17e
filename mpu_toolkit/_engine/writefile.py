"""The streaming writer as an fsspec file: what s3fs users read and call on a file opened
for writing (``version_id``, ``etag``, ``blocksize``, ``setxattr``, ``fs``), and ``checksum``.

The engine's :class:`~mpu_toolkit.MultipartWriter` knows parts, not filesystems; this thin
subclass is what ``fs.open(path, "wb"/"xb"/"ab")`` returns, so code written against
``s3fs.S3File`` keeps working on ``mpu://``. :meth:`MPUWriteFile.open` builds it from an
:class:`~.upload.S3Upload` and the options resolved into it: part sizes, concurrency, memory,
progress, exclusive and append all come from there, nothing is passed around them.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from .._plan.integrity import ChecksumMode
from ..model import ObjectInfo, ObjectRef, PartInfo
from ..options import COPY_PART_SIZE
from ..progress import make_progress
from .blocking import run_blocking
from .conditions import warn_exclusive_race
from .upload import S3Upload
from .writer import MultipartWriter

__all__ = ["MPUWriteFile"]


class MPUWriteFile(MultipartWriter):
    """A :class:`MultipartWriter` with s3fs's write-mode file attributes."""

    def __init__(self, upload: S3Upload, *, autocommit: bool = True,
                 on_commit: Callable[[ObjectInfo], None] | None = None,
                 prefix: Sequence[PartInfo] = (), fs: Any = None) -> None:
        opts = upload.options
        super().__init__(upload, opts.sizer(), url=upload.url, concurrency=opts.concurrency,
                         max_memory=opts.memory_limit,
                         keep_parts_on_error=opts.keep_parts_on_error, autocommit=autocommit,
                         size=opts.size, progress=make_progress(opts.progress, upload.url,
                                                                opts.size),
                         on_commit=on_commit, prefix=prefix)
        self._upload = upload
        self.fs = fs

    @classmethod
    def open(cls, upload: S3Upload, *, append_to: ObjectInfo | None = None,
             autocommit: bool = True, on_commit: Callable[[ObjectInfo], None] | None = None,
             fs: Any = None) -> "MPUWriteFile":
        """A writer into ``upload``. Exclusive: the key is checked free first (before a byte
        is taken). ``append_to`` (the object being appended to): its bytes come first, as
        parts copied on the server, or, under the 5 MiB a part needs, written first."""
        opts, loop = upload.options, upload.loop
        if opts.exclusive:
            warn_exclusive_race(upload.provider)
            run_blocking(loop, upload.check_key_free())
        prefix, head = run_blocking(loop, upload.copy_prefix(
            append_to, COPY_PART_SIZE, opts.concurrency)) if append_to else ([], b"")
        writer = cls(upload, autocommit=autocommit, on_commit=on_commit, prefix=prefix, fs=fs)
        if head:
            writer.write(head)
        return writer

    @property
    def bucket(self) -> str:
        return ObjectRef.from_url(self.url).bucket

    @property
    def key(self) -> str:
        return ObjectRef.from_url(self.url).key

    @property
    def version_id(self) -> str | None:
        """The new object's version (versioned buckets), once published."""
        return self.result.version_id if self.result else None

    @property
    def etag(self) -> str | None:
        """The new object's ETag, once published."""
        return self.result.etag if self.result else None

    @property
    def checksum(self) -> ChecksumMode:
        """The integrity mode the parts are sent with (``auto`` resolved for the store)."""
        return self._upload.checksum

    @property
    def blocksize(self) -> int:
        """s3fs's name for the (first) part size."""
        return self._sizer.part_size(1)

    def setxattr(self, copy_kwargs: Mapping[str, Any] | None = None,
                 **metadata: str | None) -> None:
        """Set user metadata of the object being written (``None`` removes a key). It travels
        with CreateMultipartUpload (or the single PUT), so it must come before the first
        part leaves; later, pass ``metadata=`` to ``open`` or ``fs.setxattr`` after close."""
        self._check_writing()
        self._upload.set_metadata(metadata)
