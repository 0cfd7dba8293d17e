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


def location(bucket: str, key: str = "") -> str:
    """How messages and results name a bucket or an object: ``s3://bucket/key``."""
    if bucket and key:
        return f"s3://{bucket}/{key}"
    return f"s3://{bucket}" if bucket else "S3"


@dataclass(frozen=True)
class ObjectRef:
    """Where an object is: bucket, key and, for reads, a version id."""

    bucket: str
    key: str
    version_id: str | None = None

    @property
    def url(self) -> str:
        """The object's URL, as messages and results show it."""
        return location(self.bucket, self.key)

    @classmethod
    def from_url(cls, url: str) -> "ObjectRef":
        """``scheme://bucket/key`` (or ``bucket/key``) as a reference."""
        bucket, _, key = url.split("://", 1)[-1].partition("/")
        return cls(bucket, key)

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
