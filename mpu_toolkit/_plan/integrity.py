"""Per-part integrity: digests to send, ETags and echoed checksums to expect.

Modes, by client CPU per GiB on a 2-core x86-64 (docs/integrity.md has the table):

* ``crc32c`` / ``crc64nvme``: ``x-amz-checksum-*`` headers computed in hardware (awscrt, tens
  of GB/s); the store verifies each part and echoes the value, which is compared too. Only
  where the store is known to verify them (AWS; ``mpu doctor`` measures others).
* ``sha256-payload``: the SigV4 signed payload hash (``x-amz-content-sha256``), which every
  store that checks signatures verifies (AWS, Ceph RGW, MinIO, Yandex ...). ~2x the CPU of
  MD5's speed on SHA-NI machines, no ETag check.
* ``md5``: ``Content-MD5`` on every part plus the returned ETag compared with the MD5, and the
  multipart ETag after Complete: the one mode the client itself checks, so it stays safe on a
  store that ignores every header. The generic default; MD5 is the slowest digest (~0.7 GB/s).
* ``crc32`` / ``sha256``: the other flexible checksums; ``none``: TCP only.

``auto`` (the default) is the store's ``checksum`` fact (a provider preset or a saved
``mpu doctor`` report) when known, else ``md5``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Literal, Mapping, Sequence

from ..errors import ConfigurationError

__all__ = ["ChecksumMode", "ChecksumName", "PartDigest", "digest_part", "RunningDigest",
           "running_digest", "multipart_etag", "etag_matches",
           "etag_problem", "md5_of_etag", "checksum_problem", "answer_problem",
           "GENERIC_DEFAULT"]

_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART_ETAG = re.compile(r"^[0-9a-f]{32}-\d+$")


#: the modes by name, as ``checksum=`` takes them (typed, so a misspelled mode is caught)
ChecksumName = Literal["auto", "md5", "sha256-payload", "crc32c", "crc64nvme", "crc32",
                       "sha256", "none"]


class ChecksumMode(str, Enum):
    """How each part is protected in transit."""

    AUTO = "auto"        #: the store's fastest verified mode when known, else md5 (default)
    MD5 = "md5"          #: Content-MD5 header, ETag compared (the generic default)
    SHA256_PAYLOAD = "sha256-payload"  #: SigV4 signed payload hash (every SigV4 store checks)
    CRC32C = "crc32c"    #: x-amz-checksum-crc32c, in hardware (AWS, stores doctor measured)
    CRC64NVME = "crc64nvme"  #: x-amz-checksum-crc64nvme, in hardware (AWS)
    CRC32 = "crc32"      #: x-amz-checksum-crc32 (AWS, recent MinIO)
    SHA256 = "sha256"    #: x-amz-checksum-sha256
    NONE = "none"        #: nothing beyond TCP (fastest, no verification)

    @classmethod
    def parse(cls, value: "ChecksumMode | str | bool | None") -> "ChecksumMode":
        if value is None or value is False:
            return cls.NONE
        if value is True:
            return cls.AUTO
        try:
            return cls(str(getattr(value, "value", value)).lower().replace("_", "-"))
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise ConfigurationError(f"checksum={value!r} is not supported: use one of {choices}"
                                     ) from None

    def for_store(self, verified: str | None) -> "ChecksumMode":
        """``auto`` made concrete for a store whose fastest verified mode is ``verified`` (its
        provider preset's or saved ``mpu doctor`` report's ``checksum``; None: unknown, so
        :data:`GENERIC_DEFAULT`); any other mode is kept."""
        if self is not ChecksumMode.AUTO:
            return self
        return ChecksumMode.parse(verified) if verified else GENERIC_DEFAULT

    @property
    def algorithm(self) -> str | None:
        """The S3 ``ChecksumAlgorithm`` name for the flexible modes."""
        return _HEADER_OF[self][0].removeprefix("Checksum").upper() if self in _HEADER_OF \
            else None


#: what ``auto`` means where nothing is known of the store: the one mode checked client-side
GENERIC_DEFAULT = ChecksumMode.MD5


def _crc(name: str) -> Callable[[memoryview, int], int]:
    """A CRC function ``(data, running value) -> value``."""
    if name == "crc32":
        return zlib.crc32
    from awscrt import checksums  # C, with the CPU's CRC instructions

    return getattr(checksums, name)


#: the CRC modes: the botocore parameter, the CRC's function name and width in bytes; a CRC
#: can be computed piece by piece (:class:`RunningDigest`)
_CRCS: dict[ChecksumMode, tuple[str, str, int]] = {
    ChecksumMode.CRC32C: ("ChecksumCRC32C", "crc32c", 4),
    ChecksumMode.CRC64NVME: ("ChecksumCRC64NVME", "crc64nvme", 8),
    ChecksumMode.CRC32: ("ChecksumCRC32", "crc32", 4),
}


def _b64(value: int, width: int) -> str:
    return base64.b64encode(value.to_bytes(width, "big")).decode("ascii")


def _whole_crc(mode: ChecksumMode) -> tuple[str, Callable[[memoryview], str]]:
    name, function, width = _CRCS[mode]
    return name, lambda d: _b64(_crc(function)(d, 0), width)


#: flexible modes: the botocore parameter (and answer key) and how to compute its value
_HEADER_OF: dict[ChecksumMode, tuple[str, Callable[[memoryview], str]]] = {
    **{mode: _whole_crc(mode) for mode in _CRCS},
    ChecksumMode.SHA256: ("ChecksumSHA256", lambda d: base64.b64encode(
        hashlib.sha256(d).digest()).decode("ascii")),
}


@dataclass(frozen=True)
class PartDigest:
    """What to send with one part, and what to expect back."""

    md5: bytes | None = None  #: binary MD5 of the part (md5 mode)
    #: a flexible checksum: (botocore parameter, e.g. ``ChecksumCRC32C``, base64 value)
    checksum: tuple[str, str] | None = None
    payload_sha256: str | None = None  #: hex SHA-256 of the part (sha256-payload mode)

    @property
    def content_md5(self) -> str | None:
        """The ``Content-MD5`` header value (base64), or None."""
        return base64.b64encode(self.md5).decode("ascii") if self.md5 is not None else None


def digest_part(data: bytes | bytearray | memoryview, mode: ChecksumMode) -> PartDigest:
    """Hash one part (``auto`` must be resolved first). hashlib and awscrt release the GIL,
    so this runs on a worker thread beside the producer, not on the event loop."""
    view = memoryview(data).cast("B")
    if mode is ChecksumMode.MD5:
        return PartDigest(md5=hashlib.md5(view, usedforsecurity=False).digest())
    if mode is ChecksumMode.SHA256_PAYLOAD:
        return PartDigest(payload_sha256=hashlib.sha256(view).hexdigest())
    if mode in _HEADER_OF:
        name, compute = _HEADER_OF[mode]
        return PartDigest(checksum=(name, compute(view)))
    return PartDigest()


class RunningDigest:
    """A part's CRC computed piece by piece as the part fills, while each piece is still in
    the CPU's cache. Over the whole part at send time, the CRC read the part from memory once
    more (docs/integrity.md: 0.17 against 0.09 CPU-s per GiB over ``none``, end to end)."""

    def __init__(self, mode: ChecksumMode) -> None:
        self._name, function, self._width = _CRCS[mode]
        self._function = _crc(function)
        self._value = 0

    def update(self, data: memoryview) -> None:
        self._value = self._function(data, self._value)

    def result(self) -> PartDigest:
        """The digest of every byte given to :meth:`update`, in order."""
        return PartDigest(checksum=(self._name, _b64(self._value, self._width)))


def running_digest(mode: ChecksumMode) -> RunningDigest | None:
    """A :class:`RunningDigest` for a CRC mode; None for the others (hashed when sent)."""
    return RunningDigest(mode) if mode in _CRCS else None


def checksum_problem(sent: tuple[str, str] | None, answer: Mapping[str, object]) -> str | None:
    """Why the checksum a store echoes is not the one sent (it stored other bytes); None when
    it matches or the store echoes none."""
    if sent is None or not answer.get(sent[0]):
        return None
    echoed = str(answer[sent[0]])
    return None if echoed == sent[1] else f"the store computed {sent[0]} {echoed}, not {sent[1]}"


def answer_problem(sent_headers: Mapping[str, str], answer: Mapping[str, object]) -> str | None:
    """Why an UploadPart/PutObject answer does not confirm the bytes sent with these headers
    (the ETag is not their Content-MD5, an echoed checksum differs); None when it does or
    cannot tell."""
    headers = {k.lower(): v for k, v in sent_headers.items()}
    if headers.get("content-md5"):
        return etag_problem(str(answer.get("ETag", "") or ""), headers["content-md5"])
    for name, _ in _HEADER_OF.values():
        value = headers.get("x-amz-checksum-" + name.removeprefix("Checksum").lower())
        if value:
            return checksum_problem((name, value), answer)
    return None


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
