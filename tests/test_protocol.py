"""The seven multipart operations against the real server, with pagination and quirks."""

from __future__ import annotations

import hashlib
import os
from typing import Awaitable, Callable, TypeVar

import pytest
from fsspec.asyn import sync

from mpu_toolkit.errors import (ConfigurationError, EntityTooSmall, InvalidPart, MPUError,
                                NoSuchBucket, NoSuchUpload, TooManyPartsError)
from mpu_toolkit.fs import MPUFileSystem
from mpu_toolkit._s3.client import MultipartProtocol
from mpu_toolkit._plan.sizing import MiB

T = TypeVar("T")
PART = 5 * MiB


def run(fs: MPUFileSystem, call: Callable[[], Awaitable[T]]) -> T:
    async def runner() -> T:
        return await call()

    return sync(fs.loop, runner)


@pytest.fixture
def mp(fs: MPUFileSystem) -> MultipartProtocol:
    return fs.multipart


def test_start_with_metadata_upload_complete(fs, mp, bucket, key, boto):
    upload_id = run(fs, lambda: mp.create(bucket, key, metadata={"owner": "etl", "run": "7"},
                                          content_type="application/x-test"))
    first, last = os.urandom(PART), b"tail"
    p1 = run(fs, lambda: mp.upload_part(bucket, key, upload_id, 1, first))
    p2 = run(fs, lambda: mp.upload_part(bucket, key, upload_id, 2, last))
    assert p1.etag.strip('"') == hashlib.md5(first).hexdigest()
    run(fs, lambda: mp.complete(bucket, key, upload_id, [p2, p1]))  # sorted by the layer
    head = boto.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {"owner": "etl", "run": "7"}
    assert head["ContentType"] == "application/x-test"
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == first + last


def test_resent_part_number_replaces_the_part(fs, mp, bucket, key, boto):
    upload_id = run(fs, lambda: mp.create(bucket, key))
    run(fs, lambda: mp.upload_part(bucket, key, upload_id, 1, b"a" * PART))
    replacement = os.urandom(PART + 3)
    part = run(fs, lambda: mp.upload_part(bucket, key, upload_id, 1, replacement))
    listed = run(fs, lambda: mp.list_parts(bucket, key, upload_id))
    assert [(p.number, p.size, p.etag) for p in listed] == [(1, PART + 3, part.etag)]
    run(fs, lambda: mp.complete(bucket, key, upload_id, listed))
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == replacement


def test_list_parts_pages_through_every_part(fs, mp, bucket, key):
    upload_id = run(fs, lambda: mp.create(bucket, key))
    for number in (1, 2, 3, 4, 5):
        run(fs, lambda: mp.upload_part(bucket, key, upload_id, number, bytes([number]) * 10))
    parts = run(fs, lambda: mp.list_parts(bucket, key, upload_id, page_size=2))
    assert [p.number for p in parts] == [1, 2, 3, 4, 5]
    assert all(p.size == 10 for p in parts)
    run(fs, lambda: mp.abort(bucket, key, upload_id))


def test_list_uploads_pages_with_both_markers(fs, mp, bucket, key):
    """Several uploads of one key span pages: paging needs KeyMarker and UploadIdMarker.
    (moto ignores MaxUploads and returns one page; RGW really pages here.)"""
    keys = [f"{key}/a", f"{key}/a", f"{key}/a", f"{key}/b", f"{key}/c"]
    ids = [run(fs, lambda k=k: mp.create(bucket, k)) for k in keys]
    listed = run(fs, lambda: mp.list_uploads(bucket, prefix=f"{key}/", page_size=2))
    assert sorted((u.key, u.upload_id) for u in listed) == sorted(zip(keys, ids))
    assert all(u.initiated is not None and u.bucket == bucket for u in listed)
    for k, upload_id in zip(keys, ids):
        run(fs, lambda k=k, u=upload_id: mp.abort(bucket, k, u))
    assert run(fs, lambda: mp.list_uploads(bucket, prefix=f"{key}/")) == []


def test_upload_part_copy_by_byte_range(fs, mp, bucket, key, boto):
    source = os.urandom(2 * PART + 100)
    boto.put_object(Bucket=bucket, Key=f"{key}-src", Body=source)
    upload_id = run(fs, lambda: mp.create(bucket, key))
    p1 = run(fs, lambda: mp.upload_part_copy(bucket, key, upload_id, 1, bucket, f"{key}-src",
                                             byte_range=(PART, 2 * PART + 99)))
    p2 = run(fs, lambda: mp.upload_part_copy(bucket, key, upload_id, 2, bucket, f"{key}-src",
                                             byte_range=(0, 9)))
    assert p1.size == PART + 100 and p1.etag
    run(fs, lambda: mp.complete(bucket, key, upload_id, [p1, p2]))
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == source[PART:] + source[:10]


def test_after_abort_the_upload_is_gone(fs, mp, bucket, key, server):
    """RGW answers ListParts after abort with NoSuchKey; the layer reports NoSuchUpload."""
    upload_id = run(fs, lambda: mp.create(bucket, key))
    part = run(fs, lambda: mp.upload_part(bucket, key, upload_id, 1, b"x" * 100))
    run(fs, lambda: mp.abort(bucket, key, upload_id))
    with pytest.raises(NoSuchUpload, match="start a new upload"):
        run(fs, lambda: mp.list_parts(bucket, key, upload_id))
    with pytest.raises(MPUError) as info:
        run(fs, lambda: mp.complete(bucket, key, upload_id, [part]))
    if not server.is_moto:  # moto answers 500 InternalError here (not NoSuchUpload)
        assert isinstance(info.value, NoSuchUpload)


@pytest.mark.parametrize("number", [0, 10_001])
def test_part_numbers_out_of_range_are_refused_before_any_request(fs, mp, bucket, key, number):
    # RGW would accept 0 and 10001; S3 refuses them: refuse them client-side, uniformly
    with pytest.raises((TooManyPartsError, ConfigurationError)):
        run(fs, lambda: mp.upload_part(bucket, key, "no-such-upload", number, b"x"))


def test_small_first_part_is_entity_too_small(fs, mp, bucket, key):
    upload_id = run(fs, lambda: mp.create(bucket, key))
    parts = [run(fs, lambda n=n: mp.upload_part(bucket, key, upload_id, n, b"x" * 1024))
             for n in (1, 2)]
    with pytest.raises(EntityTooSmall, match="5 MiB"):
        run(fs, lambda: mp.complete(bucket, key, upload_id, parts))
    run(fs, lambda: mp.abort(bucket, key, upload_id))


def test_completing_with_a_part_never_uploaded_is_invalid_part(fs, mp, bucket, key):
    upload_id = run(fs, lambda: mp.create(bucket, key))
    part = run(fs, lambda: mp.upload_part(bucket, key, upload_id, 1, b"x" * 1024))
    ghost = type(part)(2, 10, '"0123456789abcdef0123456789abcdef"')
    with pytest.raises(InvalidPart):
        run(fs, lambda: mp.complete(bucket, key, upload_id, [part, ghost]))
    run(fs, lambda: mp.abort(bucket, key, upload_id))


def test_missing_bucket_says_what_to_do(fs, mp, key):
    with pytest.raises(NoSuchBucket, match="create the bucket") as info:
        run(fs, lambda: mp.create("mpu-no-such-bucket-4f1c", key))
    assert isinstance(info.value, FileNotFoundError)
    assert "mpu-no-such-bucket-4f1c" in str(info.value)


def test_head_and_put_object(fs, mp, bucket, key):
    body = os.urandom(1000)
    put = run(fs, lambda: mp.put_object(bucket, key, body, metadata={"a": "b"}))
    head = run(fs, lambda: mp.head(bucket, key))
    assert head.size == 1000 and head.etag == put.etag
    assert head.etag.strip('"') == hashlib.md5(body).hexdigest()


