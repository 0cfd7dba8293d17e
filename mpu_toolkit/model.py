"""The records every layer shares: parts, uploads and objects as S3 describes them.

Small frozen dataclasses, no I/O: the wire layer (:mod:`mpu_toolkit._s3`) fills them from
S3's answers; the planners, the engine and the front ends read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

__all__ = ["ObjectRef", "ObjectAttributes", "PartInfo", "UploadParts", "UploadInfo", "ObjectInfo",
           "location"]


SCHEMES = ("mpu", "s3", "s3a")  #: the URL schemes of mpu_toolkit's filesystem


def location(bucket: str, key: str = "", scheme: str = "mpu") -> str:
    """How messages and results name a bucket or an object: ``mpu://bucket/key`` (in the
    scheme the user wrote, where it is known)."""
    if bucket and key:
        return f"{scheme}://{bucket}/{key}"
    return f"{scheme}://{bucket}" if bucket else "S3"


@dataclass(frozen=True)
class ObjectRef:
    """Where an object is: bucket, key and, for reads, a version id; ``scheme`` is the one the
    user wrote (``mpu``, ``s3`` or ``s3a``), so that messages and results echo it."""

    bucket: str
    key: str
    version_id: str | None = None
    scheme: str = "mpu"

    @property
    def url(self) -> str:
        """The object's URL, as messages and results show it."""
        return location(self.bucket, self.key, self.scheme)

    @classmethod
    def from_url(cls, url: str) -> "ObjectRef":
        """``scheme://bucket/key`` (or ``bucket/key``) as a reference."""
        scheme, sep, rest = url.partition("://")
        bucket, _, key = (rest if sep else url).partition("/")
        return cls(bucket, key, scheme=scheme.lower() if sep else "mpu")

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class ObjectAttributes:
    """What a new object is given besides its bytes: user metadata, Content-Type, storage
    class, and other request parameters (``CacheControl``, ``ServerSideEncryption`` ...)."""

    metadata: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    storage_class: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def request_args(self) -> dict[str, Any]:
        """As CreateMultipartUpload / PutObject / CopyObject parameters."""
        args: dict[str, Any] = dict(self.extra)
        if self.metadata:
            args["Metadata"] = {str(k): str(v) for k, v in self.metadata.items()}
        if self.content_type:
            args["ContentType"] = self.content_type
        if self.storage_class:
            args["StorageClass"] = self.storage_class
        return args


@dataclass(frozen=True)
class PartInfo:
    """One uploaded part, as sent or as listed."""

    number: int
    size: int
    etag: str
    last_modified: datetime | None = None
    checksums: Mapping[str, str] = field(default_factory=dict)  #: e.g. {"ChecksumCRC32": ...}

    def completion_entry(self) -> dict[str, Any]:
        return {"PartNumber": self.number, "ETag": self.etag, **self.checksums}


@dataclass(frozen=True)
class UploadParts:
    """What ListParts says about one upload: its parts and the lifecycle abort date."""

    parts: list[PartInfo]
    abort_date: datetime | None = None


@dataclass(frozen=True)
class UploadInfo:
    """One incomplete multipart upload from ListMultipartUploads."""

    bucket: str
    key: str
    upload_id: str
    initiated: datetime | None
    storage_class: str | None = None
    owner: str | None = None
    initiator: str | None = None


@dataclass(frozen=True)
class ObjectInfo:
    """A published object: what HEAD (or PutObject/Complete) said about it."""

    bucket: str
    key: str
    etag: str
    size: int | None = None
    version_id: str | None = None
    last_modified: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  #: user metadata (HEAD only)
    content_type: str | None = None
    #: the other headers a copy keeps: ContentEncoding, CacheControl, ContentDisposition ...
    headers: Mapping[str, Any] = field(default_factory=dict)
    #: the server shares the source's data on CopyObject instead of copying bytes (Ceph RGW)
    copies_by_reference: bool = False

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.bucket, self.key, self.version_id)

    @property
    def url(self) -> str:
        return self.ref.url

    def kept_attributes(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """What an append keeps of this object: its metadata, content type and headers,
        those not ``given``."""
        kept: dict[str, Any] = {"metadata": dict(self.metadata),
                                "content_type": self.content_type, **self.headers}
        return {k: v for k, v in kept.items() if k not in given and v}
