"""Each integrity mode on the wire and on the server: what every UploadPart carries, that the
object reads back whole, and what ``checksum="auto"`` picks for a store."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from typing import Any

import pytest
from awscrt import checksums
from helpers import Wire

import mpu_toolkit
from mpu_toolkit import MPUFileSystem
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB
DATA = os.urandom(2 * PART + 12345)
PIECES = [DATA[:PART], DATA[PART:2 * PART], DATA[2 * PART:]]


def _b64(value: int, width: int) -> str:
    return base64.b64encode(value.to_bytes(width, "big")).decode()


#: per mode: the header every part must carry, computed here from the part's bytes
EXPECTED = {
    "md5": ("content-md5", lambda b: base64.b64encode(hashlib.md5(b).digest()).decode()),
    "sha256-payload": ("x-amz-content-sha256", lambda b: hashlib.sha256(b).hexdigest()),
    "crc32c": ("x-amz-checksum-crc32c", lambda b: _b64(checksums.crc32c(b), 4)),
    "crc64nvme": ("x-amz-checksum-crc64nvme", lambda b: _b64(checksums.crc64nvme(b), 8)),
    "crc32": ("x-amz-checksum-crc32", lambda b: _b64(zlib.crc32(b), 4)),
    "sha256": ("x-amz-checksum-sha256",
               lambda b: base64.b64encode(hashlib.sha256(b).digest()).decode()),
}
PROTECTING = {"content-md5", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
              "x-amz-checksum-crc32", "x-amz-checksum-sha256"}


def _write(so: dict[str, Any], url: str, **options: Any) -> tuple[Any, Wire]:
    wire = Wire(MPUFileSystem(**so))  # fsspec's cached instance: the writer's for ``so``
    with mpu_toolkit.open_writer(url, storage_options=so, part_size=PART, **options) as f:
        for i in range(0, len(DATA), MiB):
            f.write(DATA[i:i + MiB])
    return f, wire


def _protection(headers: dict[str, str]) -> dict[str, str]:
    """What protects one request's body: its checksum headers, and a signed payload hash."""
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}
    found = {k: v for k, v in headers.items() if k in PROTECTING}
    if headers.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD") != "UNSIGNED-PAYLOAD":
        found["x-amz-content-sha256"] = headers["x-amz-content-sha256"]
    return found


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_every_part_carries_its_mode_and_only_it(mode, storage_options, bucket, key, boto):
    f, wire = _write(storage_options, f"mpu://{bucket}/{key}", checksum=mode)
    header, compute = EXPECTED[mode]
    sent = sorted(list(_protection(h).items()) for h in wire.headers_of("UploadPart"))
    assert sent == sorted([(header, compute(piece))] for piece in PIECES)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == DATA
    assert f.checksum.value == mode


def test_none_sends_no_digest(storage_options, bucket, key, boto):
    _, wire = _write(storage_options, f"mpu://{bucket}/{key}", checksum="none")
    assert [_protection(h) for h in wire.headers_of("UploadPart")] == [{}] * 3
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == DATA


@pytest.mark.parametrize("provider, mode", [(None, "md5"), ("ceph", "sha256-payload")])
def test_auto_picks_what_the_store_is_known_to_verify(provider, mode, storage_options, bucket,
                                                      key, boto):
    so = {**storage_options, **({"provider": provider} if provider else {})}
    f, wire = _write(so, f"mpu://{bucket}/{key}")  # checksum="auto", the default
    assert f.checksum.value == mode
    header, compute = EXPECTED[mode]
    assert sorted(_protection(h)[header] for h in wire.headers_of("UploadPart")) == \
        sorted(compute(p) for p in PIECES)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == DATA


@pytest.mark.parametrize("mode", ["md5", "sha256-payload", "crc32c"])
def test_a_small_object_is_protected_the_same_way(mode, storage_options, bucket, key, boto):
    so = {**storage_options, "checksum": mode}
    wire = Wire(MPUFileSystem(**so))
    with mpu_toolkit.open_writer(f"mpu://{bucket}/{key}", storage_options=so) as f:
        f.write(b"small")
    header, compute = EXPECTED[mode]
    assert [_protection(h) for h in wire.headers_of("PutObject")] == [{header: compute(b"small")}]
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == b"small"
