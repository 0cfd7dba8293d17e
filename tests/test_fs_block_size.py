"""fsspec's ``block_size``, the same on both ways in: ``fsspec.open(url, "wb", block_size=B)``
(a storage option) and ``fs.open(path, "wb", block_size=B)`` (an open argument) write
``B``-byte parts or refuse ``B`` with the part limits; reads stay at a sane read-ahead."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import fsspec
import pytest

from mpu_toolkit import ConfigurationError, MPUFileSystem
from mpu_toolkit._plan.sizing import GiB, MiB
from mpu_toolkit.fs import MAX_READ_BLOCK

S3FS_READ_BLOCK = 50 * MiB  #: s3fs's default read-ahead


def write_via_fsspec(storage_options: dict[str, Any], url: str, block: int, data: bytes) -> Any:
    with fsspec.open(url, "wb", block_size=block, **storage_options) as f:
        f.write(data)
    return f


def write_via_fs_open(storage_options: dict[str, Any], url: str, block: int,
                      data: bytes) -> Any:
    with MPUFileSystem(**storage_options).open(url, "wb", block_size=block) as f:
        f.write(data)
    return f


WAYS = [write_via_fsspec, write_via_fs_open]


@pytest.mark.parametrize("block", [0, 1 * MiB, 6 * GiB], ids=["0", "1MiB", "6GiB"])
def test_a_block_outside_the_part_limits_is_refused_the_same_both_ways(
        block, storage_options, bucket, key, boto):
    url = f"mpu://{bucket}/{key}"
    refusals = []
    for write in WAYS:
        with pytest.raises(ConfigurationError) as info:
            write(storage_options, url, block, b"x")
        refusals.append(str(info.value))
    assert refusals[0] == refusals[1]
    assert f"part_size={block:,} bytes is outside the allowed 5 MiB..5 GiB" in refusals[0]
    assert "Contents" not in boto.list_objects_v2(Bucket=bucket, Prefix=key)


@pytest.mark.parametrize("block, read_ahead", [(0, S3FS_READ_BLOCK), (1 * MiB, 1 * MiB),
                                               (6 * GiB, MAX_READ_BLOCK),
                                               (5 * MiB, 5 * MiB)],
                         ids=["0", "1MiB", "6GiB", "5MiB"])
def test_a_read_after_it_reads_with_a_sane_read_ahead(block, read_ahead, storage_options,
                                                      bucket, key, boto):
    data = os.urandom(3 * MiB)
    boto.put_object(Bucket=bucket, Key=key, Body=data)
    with fsspec.open(f"mpu://{bucket}/{key}", "rb", block_size=block, **storage_options) as f:
        assert f.blocksize == read_ahead
        assert f.read() == data


@pytest.mark.parametrize("write", WAYS)
def test_a_block_inside_the_limits_is_the_part_size(write, storage_options, bucket, key,
                                                    boto):
    data = os.urandom(11 * MiB)
    f = write(storage_options, f"mpu://{bucket}/{key}", 5 * MiB, data)
    assert [p.size for p in f.parts] == [5 * MiB, 5 * MiB, 1 * MiB]
    # the server's parts: its multipart ETag is the MD5 of the parts' MD5s, and "-3" (HEAD
    # with PartNumber would be more direct, but Ceph RGW ignores it and answers the object)
    bounds = [(0, 5 * MiB), (5 * MiB, 10 * MiB), (10 * MiB, 11 * MiB)]
    digests = b"".join(hashlib.md5(data[a:b]).digest() for a, b in bounds)
    expected = f'"{hashlib.md5(digests).hexdigest()}-3"'
    assert boto.head_object(Bucket=bucket, Key=key)["ETag"] == expected
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_part_size_given_too_wins_over_a_refused_block(storage_options, bucket, key, boto):
    so = {**storage_options, "part_size": 6 * MiB}
    f = write_via_fsspec(so, f"mpu://{bucket}/{key}", 1 * MiB, b"y" * (7 * MiB))
    assert [p.size for p in f.parts] == [6 * MiB, 1 * MiB]


def test_a_write_given_its_own_size_is_not_refused_for_the_filesystems_block(
        storage_options, bucket, key):
    fs = MPUFileSystem(**storage_options, block_size=1 * MiB, skip_instance_cache=True)
    for given in ({"part_size": 5 * MiB}, {"block_size": 5 * MiB}):
        with fs.open_writer(f"mpu://{bucket}/{key}", **given) as f:
            f.write(b"z" * (6 * MiB))
        assert [p.size for p in f.parts] == [5 * MiB, 1 * MiB]
