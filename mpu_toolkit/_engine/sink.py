"""The interface between the streaming writer and where its parts go.

:class:`~mpu_toolkit.MultipartWriter` only buffers, numbers and throttles parts; an
``UploadSink`` stores them. :class:`.upload.S3Upload` is the S3 one; the tests
use an instrumented fake to check the writer's chunking exactly (as Rust object_store tests
its ``WriteMultipart``).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Callable, Protocol, Sequence

from .._plan.integrity import PartDigest, RunningDigest
from ..model import ObjectInfo, PartInfo

__all__ = ["UploadSink", "submitter"]


class UploadSink(Protocol):
    """Where parts go. Implementations upload in the background and must be thread-safe."""

    @property
    def upload_id(self) -> str | None: ...

    #: the object, once it exists (also when an interrupt came after it was published)
    published: ObjectInfo | None

    def running_digest(self) -> RunningDigest | None:
        """A digest for the writer to compute as a part fills, while its bytes are in the
        CPU's cache (the CRC modes); None: the sink hashes each part when it sends it."""
        ...

    def submit_part(self, number: int, data: bytearray | memoryview,
                    digest: PartDigest | None = None) -> "Future[PartInfo]":
        """Start uploading part ``number`` (with ``digest``, the result of a
        :meth:`running_digest` fed exactly ``data``); must not block on the upload itself.
        The writer reuses ``data``'s memory once the returned future is done."""
        ...

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo: ...

    def put_object(self, data: bytearray) -> ObjectInfo:
        """Store the whole object in one request (it is smaller than one part)."""
        ...

    def abort(self, keep_parts: bool = False) -> str:
        """Stop every part in flight; then delete the upload unless ``keep_parts``. Returns
        what happened, for the error's notes ("upload X aborted, nothing published")."""
        ...


def submitter(sink: UploadSink, digests: dict[int, PartDigest]
              ) -> Callable[[int, bytearray | memoryview], "Future[PartInfo]"]:
    """``sink.submit_part`` with each part's digest taken from ``digests`` (computed as the
    part filled). A closure, not a writer method: the pump must not keep the writer alive."""
    def submit(number: int, data: bytearray | memoryview) -> "Future[PartInfo]":
        return sink.submit_part(number, data, digests.pop(number, None))

    return submit
