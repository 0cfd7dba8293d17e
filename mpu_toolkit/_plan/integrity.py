"""Per-part integrity: digests to send, ETags to expect.

The portable check is Content-MD5 on every part (AWS, Yandex, Ceph RGW, MinIO and moto all
verify it) plus comparing the returned ETag with the MD5; after Complete, the multipart ETag
``md5(concatenated part md5s)-N`` is checked where the server uses that form. The flexible
checksums (CRC32, CRC32C, SHA256) are offered for stores that support them and are off by
default, because many S3-compatible stores ignore or reject them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Sequence

from ..errors import ConfigurationError

__all__ = ["ChecksumMode", "PartDigest", "digest_part", "multipart_etag", "etag_matches",
           "etag_problem", "md5_of_etag"]

_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART_ETAG = re.compile(r"^[0-9a-f]{32}-\d+$")


class ChecksumMode(str, Enum):
    """How each part is protected in transit."""

    MD5 = "md5"          #: Content-MD5 header, ETag compared (default; works everywhere)
    NONE = "none"        #: nothing beyond TCP (fastest, no verification)
    CRC32 = "crc32"      #: x-amz-checksum-crc32 (AWS, recent MinIO)
    CRC32C = "crc32c"    #: x-amz-checksum-crc32c
    SHA256 = "sha256"    #: x-amz-checksum-sha256

    @classmethod
    def parse(cls, value: "ChecksumMode | str | bool | None") -> "ChecksumMode":
        if value is None or value is False:
            return cls.NONE
        try:
            return cls(str(getattr(value, "value", value)).lower())
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise ConfigurationError(f"checksum={value!r} is not supported: use one of {choices}"
                                     ) from None

    def check_available(self) -> "ChecksumMode":
        """botocore computes CRC32C only with the AWS CRT installed; say so up front."""
        if self is ChecksumMode.CRC32C:
            try:
                import awscrt  # noqa: F401
            except ImportError:
                raise ConfigurationError("checksum='crc32c' needs the AWS CRT: pip install "
                                         "'botocore[crt]', or use checksum='crc32'") from None
        return self

    @property
    def algorithm(self) -> str | None:
        """The S3 ``ChecksumAlgorithm`` name for the flexible modes."""
        return None if self in (ChecksumMode.MD5, ChecksumMode.NONE) else self.value.upper()


@dataclass(frozen=True)
class PartDigest:
    """What to send with one part, and what to expect back."""

    md5: bytes | None = None  #: binary MD5 of the part (md5 mode only)

    @property
    def content_md5(self) -> str | None:
        """The ``Content-MD5`` header value (base64), or None."""
        return base64.b64encode(self.md5).decode("ascii") if self.md5 is not None else None


def digest_part(data: bytes | bytearray | memoryview, mode: ChecksumMode) -> PartDigest:
    """Hash one part. ``hashlib`` releases the GIL, so this can run beside the producer."""
    if mode is ChecksumMode.MD5:
        return PartDigest(md5=hashlib.md5(data, usedforsecurity=False).digest())
    return PartDigest()


def multipart_etag(part_md5s: Sequence[bytes]) -> str:
    """The ETag S3 gives a multipart object: ``md5(md5_1 + ... + md5_n)-n``."""
    joined = hashlib.md5(b"".join(part_md5s), usedforsecurity=False).hexdigest()
    return f"{joined}-{len(part_md5s)}"


def etag_matches(etag: str | None, expected: str) -> bool | None:
    """Compare an ETag to the expected form; ``None`` when the server's ETag is not in
    the MD5 form (SSE-KMS, some compatibles), so nothing can be concluded."""
    value = (etag or "").strip().strip('"').lower()
    if not (_MD5_ETAG.match(value) or _MULTIPART_ETAG.match(value)):
        return None
    return value == expected.lower()


def md5_of_etag(etag: str | None) -> bytes | None:
    """The binary MD5 a single part's ETag names, or ``None`` if it is not an MD5."""
    value = (etag or "").strip().strip('"').lower()
    return bytes.fromhex(value) if _MD5_ETAG.match(value) else None


def etag_problem(etag: str, content_md5: str) -> str | None:
    """Why the ETag of an answer to a request sent with ``Content-MD5`` (base64) does not
    confirm the bytes arrived whole; ``None`` when it does (or cannot tell: not an MD5)."""
    if not etag.strip().strip('"'):
        return "the answer has no ETag"
    expected = base64.b64decode(content_md5).hex()
    if etag_matches(etag, expected) is False:
        return f"ETag {etag} is not the MD5 of the bytes sent ({expected})"
    return None
