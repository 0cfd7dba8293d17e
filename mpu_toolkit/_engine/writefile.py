"""The streaming writer as an fsspec file: what s3fs users read and call on a file opened
for writing (``version_id``, ``etag``, ``blocksize``, ``setxattr``, ``fs``).

The engine's :class:`~mpu_toolkit.MultipartWriter` knows parts, not filesystems; this thin
subclass is what ``fs.open(path, "wb"/"xb"/"ab")`` returns, so code written against
``s3fs.S3File`` keeps working on ``mpu://``.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..model import ObjectRef
from .upload import S3Upload
from .writer import MultipartWriter

__all__ = ["MPUWriteFile"]


class MPUWriteFile(MultipartWriter):
    """A :class:`MultipartWriter` with s3fs's write-mode file attributes."""

    def __init__(self, upload: S3Upload, *args: Any, fs: Any = None, **kwargs: Any) -> None:
        super().__init__(upload, *args, **kwargs)
        self._upload = upload
        self.fs = fs

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
