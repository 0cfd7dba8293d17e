"""The interface between the streaming writer and where its parts go.

:class:`~mpu_toolkit.MultipartWriter` only buffers, numbers and throttles parts; an
``UploadSink`` stores them. :class:`.upload.S3Upload` is the S3 one; the tests
use an instrumented fake to check the writer's chunking exactly (as Rust object_store tests
its ``WriteMultipart``).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol, Sequence

from ..model import ObjectInfo, PartInfo

__all__ = ["UploadSink"]


class UploadSink(Protocol):
    """Where parts go. Implementations upload in the background and must be thread-safe."""

    @property
    def upload_id(self) -> str | None: ...

    #: the object, once it exists (also when an interrupt came after it was published)
    published: ObjectInfo | None

    def submit_part(self, number: int, data: bytearray | memoryview) -> "Future[PartInfo]":
        """Start uploading part ``number``; must not block on the upload itself. The writer
        reuses ``data``'s memory once the returned future is done."""
        ...

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo: ...

    def put_object(self, data: bytearray) -> ObjectInfo:
        """Store the whole object in one request (it is smaller than one part)."""
        ...

    def abort(self, keep_parts: bool = False) -> str:
        """Stop every part in flight; then delete the upload unless ``keep_parts``. Returns
        what happened, for the error's notes ("upload X aborted, nothing published")."""
        ...
