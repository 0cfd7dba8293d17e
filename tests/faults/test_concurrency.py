"""Writers at the same time: two on one key, many in threads on one filesystem instance."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

import pytest
from helpers import incomplete_uploads, proxied_fs

from mpu_toolkit import IntegrityError, MPUFileSystem
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def run_threads(target: Any, args: list[tuple[Any, ...]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(*a: Any) -> None:
        try:
            target(*a)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=a) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


@pytest.mark.parametrize("round_", range(3))
def test_two_writers_on_one_key_leave_one_whole_object_never_a_mix(fs, boto, bucket, key,
                                                                   round_):
    payloads = [os.urandom(3 * PART + 7), os.urandom(3 * PART + 7)]
    both_written = threading.Barrier(2)
    results: dict[int, Any] = {}

    def write(i: int) -> None:
        with fs.open(f"{bucket}/{key}", "wb", part_size=PART) as f:
            for start in range(0, len(payloads[i]), MiB):
                f.write(payloads[i][start:start + MiB])
            both_written.wait(60)  # both Completes race
        results[i] = f.result

    errors = run_threads(write, [(0,), (1,)])
    body = boto.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert md5(body) in {md5(p) for p in payloads}  # last Complete wins, whole
    # a writer whose object was replaced before its own check says so; it never claims
    # another writer's bytes as its own
    for error in errors:
        assert isinstance(error, IntegrityError) and "another writer" in str(error)
    assert len(results) + len(errors) == 2
    assert incomplete_uploads(boto, bucket, key) == []


def test_many_writers_in_threads_share_one_filesystem_through_faults(proxy, storage_options,
                                                                     boto, bucket, key):
    fs: MPUFileSystem = proxied_fs(proxy, storage_options, concurrency=2)
    proxy.fail("UploadPart", "503", times=6)
    proxy.fail("CompleteMultipartUpload", "reset", times=2)
    payloads = {f"{key}/{i:02d}": os.urandom(PART + 1 + i * 1000 + (PART if i % 3 else 0))
                for i in range(16)}

    def write(k: str, data: bytes) -> None:
        with fs.open(f"{bucket}/{k}", "wb", part_size=PART) as f:
            for start in range(0, len(data), MiB):
                f.write(data[start:start + MiB])

    assert run_threads(write, list(payloads.items())) == []
    assert len(proxy.injected) == 8
    for k, data in payloads.items():
        assert md5(boto.get_object(Bucket=bucket, Key=k)["Body"].read()) == md5(data)
        assert incomplete_uploads(boto, bucket, k) == []
