"""Optional smoke test against a real provider, run only when you ask for it.

Every other test talks to a local server (moto or Ceph RGW on 127.0.0.1). This one checks a
provider preset end to end on the real store — a stream, ``write_parquet``, the inventory,
abort, exclusive create and a lifecycle round trip — under a fresh prefix that it removes
afterwards. It runs when the environment names the provider and a bucket you own:

    MPU_TEST_PROVIDER=yandex MPU_TEST_PROVIDER_BUCKET=my-bucket \\
    AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... python -m pytest tests/live -n 0

(``MPU_TEST_PROVIDER_ENDPOINT`` for self-hosted stores, ``MPU_TEST_PROVIDER_ACCOUNT_ID`` for
R2). The bucket's lifecycle configuration is read first and written back at the end.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Iterator

import pandas as pd
import pytest

import mpu_toolkit
from mpu_toolkit import MPUFileSystem, uploads

PROVIDER = os.environ.get("MPU_TEST_PROVIDER")
BUCKET = os.environ.get("MPU_TEST_PROVIDER_BUCKET")

pytestmark = pytest.mark.skipif(
    not (PROVIDER and BUCKET),
    reason="live provider check: set MPU_TEST_PROVIDER, MPU_TEST_PROVIDER_BUCKET and "
           "credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) to run it against a real "
           "store; every other test uses local servers")


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[dict[str, Any], str]]:
    options: dict[str, Any] = {"provider": PROVIDER, "skip_instance_cache": True}
    if os.environ.get("MPU_TEST_PROVIDER_ENDPOINT"):
        options["endpoint_url"] = os.environ["MPU_TEST_PROVIDER_ENDPOINT"]
    if os.environ.get("MPU_TEST_PROVIDER_ACCOUNT_ID"):
        options["account_id"] = os.environ["MPU_TEST_PROVIDER_ACCOUNT_ID"]
    prefix = f"mpu-toolkit-smoke-{uuid.uuid4().hex[:8]}/"
    yield options, prefix
    fs = MPUFileSystem(**options)
    uploads.abort(f"mpu://{BUCKET}/{prefix}", options, force=True)
    fs.rm(f"{BUCKET}/{prefix}", recursive=True)


def test_stream_parquet_list_abort_and_exclusive(live):
    options, prefix = live
    fs = MPUFileSystem(**options)
    base = f"mpu://{BUCKET}/{prefix}"
    data = os.urandom(12 * 2**20 + 5)
    with fs.open(f"{base}stream.bin", "wb") as f:
        f.write(data)
    assert fs.cat(f"{base}stream.bin") == data
    frame = pd.DataFrame({"n": range(1000), "s": ["x"] * 1000})
    mpu_toolkit.write_parquet(frame, f"{base}frame.parquet", storage_options=options)
    pd.testing.assert_frame_equal(
        pd.read_parquet(f"{base}frame.parquet", storage_options=options), frame)

    held = fs.open(f"{base}held.bin", "wb", part_size="5MiB")
    held.write(os.urandom(6 * 2**20))  # one part sent: an incomplete upload exists
    listed = uploads.list(base, options)
    assert held.upload_id in set(listed["upload_id"])
    outcome = uploads.abort(listed[listed.upload_id == held.upload_id], options, force=True)
    assert list(outcome["outcome"]) == ["aborted"]
    held.abort()

    with pytest.raises(FileExistsError):
        with fs.open(f"{base}stream.bin", "xb") as f:
            f.write(b"must not replace")
    assert fs.cat(f"{base}stream.bin") == data


def test_lifecycle_round_trip(live):
    options, prefix = live
    before = uploads.lifecycle(f"mpu://{BUCKET}", options)
    try:
        rules = uploads.set_lifecycle(f"mpu://{BUCKET}/{prefix}", 3, options,
                                      rule_id=f"smoke-{prefix[-9:-1]}")
        assert (rules["abort_incomplete_days"] == 3).any()
    finally:
        uploads.remove_lifecycle(f"mpu://{BUCKET}/{prefix}", options,
                                 rule_id=f"smoke-{prefix[-9:-1]}")
    assert len(uploads.lifecycle(f"mpu://{BUCKET}", options)) == len(before)
