"""Retries, integrity and clean failure of one upload, with faults injected in front of the
real server by a proxy on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from helpers import incomplete_uploads, object_exists, proxied_fs

from mpu_toolkit import ConfigurationError, MPUFileSystem, TransientS3Error
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB


def write(fs: MPUFileSystem, path: str, data: bytes, **options: Any) -> Any:
    with fs.open(path, "wb", part_size=PART, **options) as f:
        for i in range(0, len(data), MiB):
            f.write(data[i:i + MiB])
    return f


@pytest.mark.parametrize("action", ["503", "500", "reset"])
def test_transient_part_failures_are_retried_under_the_same_number(
        proxy, storage_options, bucket, key, boto, action):
    proxy.fail("UploadPart", action, times=2)
    data = os.urandom(3 * PART + 11)
    f = write(proxied_fs(proxy, storage_options), f"{bucket}/{key}", data)
    assert proxy.injected == [f"UploadPart:{action}"] * 2
    assert proxy.seen.count("UploadPart") == 4 + 2  # 4 parts, 2 of them sent twice
    assert [p.number for p in f.parts] == [1, 2, 3, 4]
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_transient_complete_and_create_failures_are_retried(proxy, storage_options, bucket,
                                                            key, boto):
    proxy.fail("CreateMultipartUpload", "503", times=1)
    proxy.fail("CompleteMultipartUpload", "500", times=2)
    data = os.urandom(2 * PART)
    write(proxied_fs(proxy, storage_options), f"{bucket}/{key}", data)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_complete_whose_answer_was_lost_is_confirmed_not_failed(proxy, storage_options,
                                                               bucket, key, boto):
    """The first Complete succeeds on the server but the answer never arrives; the retry
    finds the upload gone, and the writer confirms the object by HEAD instead of failing."""
    proxy.fail("CompleteMultipartUpload", "drop-response", times=1)
    data = os.urandom(2 * PART + 5)
    f = write(proxied_fs(proxy, storage_options), f"{bucket}/{key}", data)
    assert proxy.injected == ["CompleteMultipartUpload:drop-response"]
    assert f.result is not None and f.result.size == len(data)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_stalled_part_times_out_and_is_resent(proxy, storage_options, bucket, key, boto):
    proxy.fail("UploadPart", "stall", times=1)
    fs = proxied_fs(proxy, storage_options, config_kwargs={"read_timeout": 2})
    data = os.urandom(2 * PART + 1)
    write(fs, f"{bucket}/{key}", data)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_permanent_part_failure_aborts_and_leaves_nothing(proxy, storage_options, bucket,
                                                         key, boto):
    proxy.fail("UploadPart", "503", times=1000)
    fs = proxied_fs(proxy, storage_options)
    with pytest.raises(TransientS3Error, match="SlowDown"):
        write(fs, f"{bucket}/{key}", os.urandom(3 * PART), max_attempts=2)
    assert "AbortMultipartUpload" in proxy.seen
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_single_put_is_retried_and_verified(proxy, storage_options, bucket, key, boto):
    proxy.fail("PutObject", "503", times=2)
    data = os.urandom(1000)
    f = write(proxied_fs(proxy, storage_options), f"{bucket}/{key}", data)
    assert f.result.etag.strip('"') == hashlib.md5(data).hexdigest()
    assert proxy.seen.count("PutObject") == 3
    assert "CreateMultipartUpload" not in proxy.seen
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


