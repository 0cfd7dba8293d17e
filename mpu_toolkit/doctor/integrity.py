"""Does the store check what it is sent? A wrong Content-MD5, a wrong signed payload hash, a
wrong CRC32C or CRC64NVME, each on a PutObject of a few bytes: refused means verified. The
right value is sent too (a store that refuses even that does not take the header at all),
and an ``aws-chunked`` body with a CRC32 trailer must be accepted *and* stored as the bytes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import zlib
from typing import Callable

from awscrt import checksums

from .context import Capability, Probing
from .raw import Answer

__all__ = ["NAMES", "probe_integrity"]

NAMES = ("content_md5_verified", "sha256_payload_verified", "crc32c_verified",
         "crc64nvme_verified", "aws_chunked_trailer")

BODY = b"mpu doctor: integrity probe\n" * 4
OTHER = b"not the bytes that were sent"

_HEADER_CHECKSUMS: dict[str, tuple[str, str, Callable[[bytes], bytes]]] = {
    "content_md5_verified": ("Content-MD5", "", lambda b: hashlib.md5(b).digest()),
    "crc32c_verified": ("x-amz-checksum-crc32c", "CRC32C",
                        lambda b: checksums.crc32c(b).to_bytes(4, "big")),
    "crc64nvme_verified": ("x-amz-checksum-crc64nvme", "CRC64NVME",
                           lambda b: checksums.crc64nvme(b).to_bytes(8, "big")),
}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _verdict(what: str, right: Answer, wrong: Answer) -> Capability:
    """Refused wrong + accepted right: verified; accepted wrong: not; else unclear."""
    if not right.ok:
        return Capability(False, f"PutObject with the right {what}: {right.said()} (not taken)")
    if wrong.ok:
        return Capability(False, f"PutObject with a wrong {what}: {wrong.said()} (stored)")
    if wrong.status == 400:
        return Capability(True, f"PutObject with a wrong {what}: {wrong.said()}")
    return Capability(None, f"PutObject with a wrong {what}: {wrong.said()} (not a refusal "
                            "of the value)")


async def _header_check(probing: Probing, name: str) -> Capability:
    header, algorithm, digest = _HEADER_CHECKSUMS[name]
    extra = {"x-amz-sdk-checksum-algorithm": algorithm} if algorithm else {}

    def sent(payload: bytes) -> dict[str, str]:
        return {header: _b64(digest(payload)), **extra}

    right, wrong = await asyncio.gather(
        probing.send("PUT", f"{name}-right", body=BODY, headers=sent(BODY)),
        probing.send("PUT", f"{name}-wrong", body=BODY, headers=sent(OTHER)))
    return _verdict(header, right, wrong)


async def _payload_hash(probing: Probing) -> Capability:
    right, wrong = await asyncio.gather(
        probing.send("PUT", "sha256-right", body=BODY),
        probing.send("PUT", "sha256-wrong", body=BODY,
                     payload_hash=hashlib.sha256(OTHER).hexdigest()))
    return _verdict("signed x-amz-content-sha256", right, wrong)


def chunked(body: bytes) -> bytes:
    """``body`` as one ``aws-chunked`` chunk, then the CRC32 trailer."""
    crc = _b64(zlib.crc32(body).to_bytes(4, "big"))
    return (f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n"
            + f"x-amz-checksum-crc32:{crc}\r\n\r\n".encode())


async def _trailer(probing: Probing) -> Capability:
    what = "PutObject aws-chunked with an x-amz-checksum-crc32 trailer"
    answer = await probing.send(
        "PUT", "trailer", body=chunked(BODY), payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        headers={"Content-Encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
                 "x-amz-decoded-content-length": str(len(BODY))})
    if not answer.ok:
        return Capability(False, f"{what}: {answer.said()}")
    stored = await probing.send("GET", "trailer")
    if not stored.ok:
        return Capability(None, f"{what}: {answer.said()}; GET: {stored.said()}")
    if stored.body != BODY:
        return Capability(False, f"{what}: {answer.said()}, but GET gave {len(stored.body)} "
                                 f"bytes, not the {len(BODY)} sent (the framing was stored)")
    return Capability(True, f"{what}: {answer.said()}; GET gave the {len(BODY)} bytes sent")


async def probe_integrity(probing: Probing) -> dict[str, Capability]:
    checks = [_header_check(probing, name) for name in _HEADER_CHECKSUMS]
    found = await asyncio.gather(*checks, _payload_hash(probing), _trailer(probing))
    return dict(zip([*_HEADER_CHECKSUMS, "sha256_payload_verified", "aws_chunked_trailer"],
                    found))
