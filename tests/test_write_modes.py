"""Write modes through ``mpu://`` against the real server: exclusive create (``"xb"``,
``exclusive=True``, ``mode="create"``), append (``"ab"``) and the s3fs file attributes of a
writer (``version_id``, ``etag``, ``blocksize``, ``setxattr``, ``parts``)."""

from __future__ import annotations

import os
import threading
import uuid
import warnings

import pandas as pd
import pytest
from fsspec.callbacks import Callback
from helpers import incomplete_uploads
from s3fs.utils import FileExpired

import mpu_toolkit
from mpu_toolkit import ConfigurationError, MPUFileSystem, ObjectExists, SourceChanged
from mpu_toolkit._engine import conditions
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB


@pytest.fixture(scope="module")
def store_fs(server, storage_options) -> MPUFileSystem:
    """The filesystem with the server's own preset: moto honours If-None-Match on
    Complete, Ceph RGW 16 ignores it (so exclusive writes there fall back to HEAD)."""
    provider = "ceph" if server.is_rgw else "moto"
    return MPUFileSystem(**storage_options, provider=provider, skip_instance_cache=True)


def body(boto, bucket, key) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()


# -- exclusive create ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [10, 2 * PART + 3], ids=["put", "multipart"])
def test_xb_creates_a_free_key_and_refuses_a_taken_one(store_fs, bucket, key, boto, size):
    path = f"{bucket}/{key}"
    with store_fs.open(path, "xb", part_size=PART) as f:
        f.write(b"a" * size)
    assert body(boto, bucket, key) == b"a" * size
    with pytest.raises(FileExistsError, match="already exists"):
        store_fs.open(path, "xb", part_size=PART)  # refused at open, before any byte
    assert body(boto, bucket, key) == b"a" * size
    assert incomplete_uploads(boto, bucket, key) == []


@pytest.mark.parametrize("size", [10, 2 * PART + 3], ids=["put", "multipart"])
def test_xb_loses_to_a_writer_that_published_after_it_opened(store_fs, bucket, key, boto,
                                                             size):
    """Both open while the key is free; the one that publishes second fails, aborts, and
    the first one's object stays (If-None-Match on moto, HEAD before Complete on RGW)."""
    path = f"{bucket}/{key}"
    first = store_fs.open(path, "xb", part_size=PART)
    second = store_fs.open(path, "xb", part_size=PART)
    first.write(b"1" * size)
    second.write(b"2" * size)
    first.close()
    with pytest.raises(ObjectExists) as raised:
        second.close()
    assert isinstance(raised.value, FileExistsError)
    assert second.state == "failed" and second.result is None
    assert body(boto, bucket, key) == b"1" * size
    assert incomplete_uploads(boto, bucket, key) == []


def test_simultaneous_exclusive_puts_publish_exactly_one(store_fs, bucket, key, boto):
    """Small objects go as PutObject with If-None-Match, which moto and RGW both honour:
    of writers racing to the same key exactly one wins, whatever the timing."""
    path, outcomes, start = f"{bucket}/{key}", {}, threading.Barrier(4)

    def write(n: int) -> None:
        with store_fs.open(path, "xb") as f:
            f.write(str(n).encode() * 100)
            start.wait()
            try:
                f.close()
                outcomes[n] = "published"
            except ObjectExists:
                outcomes[n] = "exists"

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["exists", "exists", "exists", "published"]
    winner = next(n for n, o in outcomes.items() if o == "published")
    assert body(boto, bucket, key) == str(winner).encode() * 100


def test_a_store_that_ignores_the_condition_warns_once(storage_options, bucket, key,
                                                      monkeypatch):
    monkeypatch.setattr(conditions, "_WARNED_RACE", set())
    fs = MPUFileSystem(**storage_options, provider="ceph", skip_instance_cache=True)
    with pytest.warns(UserWarning, match="ignores If-None-Match on CompleteMultipartUpload"):
        fs.open(f"{bucket}/{key}-1", "xb").close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs.open(f"{bucket}/{key}-2", "xb").close()


def test_exclusive_pipe_put_and_frames(store_fs, bucket, key, boto, tmp_path):
    store_fs.pipe(f"{bucket}/{key}", b"first", mode="create")
    with pytest.raises(FileExistsError):
        store_fs.pipe(f"{bucket}/{key}", b"second" * (PART // 3), mode="create")
    local = tmp_path / "data.bin"
    local.write_bytes(b"x" * (PART + 10))
    with pytest.raises(FileExistsError):
        store_fs.put_file(str(local), f"{bucket}/{key}", mode="create")
    frame = pd.DataFrame({"a": [1, 2]})
    url = f"mpu://{bucket}/{key}"
    so = {**store_fs.storage_options}
    with pytest.raises(FileExistsError):
        mpu_toolkit.write_parquet(frame, url, storage_options=so, exclusive=True)
    with pytest.raises(FileExistsError):
        mpu_toolkit.write_csv(frame, url, storage_options=so, exclusive=True)
    assert body(boto, bucket, key) == b"first"
    assert incomplete_uploads(boto, bucket, key) == []


# -- append ----------------------------------------------------------------------------------
@pytest.mark.parametrize("existing", [0, 100, PART + 7], ids=["empty", "small", "large"])
@pytest.mark.parametrize("added", [0, 9, 2 * PART + 1], ids=["nothing", "few", "parts"])
def test_ab_appends_whole_and_keeps_attributes(store_fs, bucket, key, boto, existing, added):
    old, new = os.urandom(existing), os.urandom(added)
    boto.put_object(Bucket=bucket, Key=key, Body=old, ContentType="text/csv",
                    Metadata={"owner": "etl"}, CacheControl="no-cache")
    with store_fs.open(f"{bucket}/{key}", "ab", part_size=PART) as f:
        assert f.tell() == existing
        f.write(new)
        assert f.tell() == existing + added
    assert body(boto, bucket, key) == old + new
    head = boto.head_object(Bucket=bucket, Key=key)
    assert (head["ContentType"], head["Metadata"], head.get("CacheControl")) == (
        "text/csv", {"owner": "etl"}, "no-cache")
    assert incomplete_uploads(boto, bucket, key) == []


def test_ab_copies_a_large_object_on_the_server(store_fs, bucket, key, boto):
    boto.put_object(Bucket=bucket, Key=key, Body=b"o" * (PART + 1))
    f = store_fs.open(f"{bucket}/{key}", "ab", part_size=PART)
    assert [(p.number, p.size) for p in f.parts] == [(1, PART + 1)]  # an UploadPartCopy
    assert f.bytes_uploaded == PART + 1  # no byte of it went through this client
    f.write(b"n")
    f.close()
    assert body(boto, bucket, key) == b"o" * (PART + 1) + b"n"


def test_ab_to_a_missing_key_creates_it(store_fs, bucket, key, boto):
    with store_fs.open(f"{bucket}/{key}", "ab") as f:
        f.write(b"new")
    assert body(boto, bucket, key) == b"new"


@pytest.mark.parametrize("existing", [100, PART + 7], ids=["small", "large"])
def test_ab_publishes_nothing_if_the_object_was_replaced_meanwhile(store_fs, bucket, key,
                                                                   boto, existing):
    boto.put_object(Bucket=bucket, Key=key, Body=b"o" * existing)
    f = store_fs.open(f"{bucket}/{key}", "ab", part_size=PART)
    f.write(b"n" * 10)
    boto.put_object(Bucket=bucket, Key=key, Body=b"replaced")
    with pytest.raises(SourceChanged, match="replaced while bytes were appended"):
        f.close()
    assert body(boto, bucket, key) == b"replaced"
    assert incomplete_uploads(boto, bucket, key) == []


def test_unsupported_modes_name_the_supported_ones(fs, bucket, key):
    with pytest.raises(ConfigurationError, match="'xb' to create only if absent, 'ab' to"):
        fs.open(f"{bucket}/{key}", "r+b")


# -- what an s3fs user reads and calls on a write-mode file ------------------------------------
def test_writer_has_s3fs_file_attributes(fs, bucket, key, boto):
    f = fs.open(f"{bucket}/{key}", "wb", blocksize=PART)  # s3fs's spelling
    assert f.blocksize == PART and f.fs is fs
    f.setxattr(stage="raw", dropped=None)
    f.write(b"z" * (3 * PART))
    assert [p.number for p in f.parts] == [1, 2, 3]  # handed over, some maybe in flight
    with pytest.raises(ConfigurationError, match="metadata can no longer change"):
        f.setxattr(late="1")
    with pytest.raises(ValueError):
        f.read()
    f.close()
    head = boto.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {"stage": "raw"}
    assert f.etag == head["ETag"] and all(p.etag for p in f.parts)


def test_version_id_after_close_on_a_versioned_bucket(fs, boto, key):
    name = f"mpu-versioned-{uuid.uuid4().hex[:8]}"
    boto.create_bucket(Bucket=name)
    boto.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    try:
        versions = []
        for data in (b"1", b"2" * (PART + 1)):
            with fs.open(f"{name}/{key}", "wb", part_size=PART) as f:
                f.write(data)
            versions.append(f.version_id)
        listed = boto.list_object_versions(Bucket=name, Prefix=key)["Versions"]
        assert None not in versions and {v["VersionId"] for v in listed} == set(versions)
    finally:
        for v in boto.list_object_versions(Bucket=name).get("Versions", []):
            boto.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
        boto.delete_bucket(Bucket=name)


@pytest.mark.parametrize("size", [100, PART + 1], ids=["put", "multipart"])
def test_put_file_callback_gets_size_and_progress(fs, bucket, key, tmp_path, size):
    local = tmp_path / "f.bin"
    local.write_bytes(b"c" * size)
    callback = Callback()
    fs.put_file(str(local), f"{bucket}/{key}", callback=callback)
    assert callback.size == size and callback.value == size


def test_reading_an_object_replaced_under_the_reader_raises_file_expired(fs, bucket, key,
                                                                         boto):
    boto.put_object(Bucket=bucket, Key=key, Body=b"first")
    with fs.open(f"{bucket}/{key}", "rb", cache_type="none") as f:
        boto.put_object(Bucket=bucket, Key=key, Body=b"second!")
        with pytest.raises(FileExpired):
            f.read()


def test_mv_of_a_missing_key_is_file_not_found(fs, bucket, key):
    with pytest.raises(FileNotFoundError):
        fs.mv(f"{bucket}/{key}/missing", f"{bucket}/{key}/elsewhere")


def test_ab_copy_that_fails_leaves_no_upload(fs, bucket, key, boto):
    """The object is deleted between the HEAD at open and its copy: the UploadPartCopy
    fails, and the upload it started is aborted, not left to be billed. (A *replacement*
    in between is not refused by the copy on moto or Ceph RGW 16, which both ignore
    x-amz-copy-source-if-match; the HEAD before Complete refuses it:
    test_ab_publishes_nothing_if_the_object_was_replaced_meanwhile.)"""
    from mpu_toolkit._engine.blocking import run_blocking
    from mpu_toolkit._engine.upload import S3Upload

    boto.put_object(Bucket=bucket, Key=key, Body=b"o" * (PART + 1))
    ref = fs.object_ref(f"{bucket}/{key}", write=True)
    existing = run_blocking(fs.loop, fs._client.head(ref))
    boto.delete_object(Bucket=bucket, Key=key)
    upload = S3Upload(fs._client, fs.loop, ref, fs.write_options)
    with pytest.raises(FileNotFoundError) as failed:
        run_blocking(fs.loop, upload.copy_prefix(existing, PART, 4))
    assert any("aborted" in note for note in failed.value.__notes__)
    assert incomplete_uploads(boto, bucket, key) == []
