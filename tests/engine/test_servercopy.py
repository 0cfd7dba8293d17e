"""Server-side copy and compose against the real server; requests counted by the proxy."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pytest
from helpers import incomplete_uploads, object_exists, proxied_fs

import mpu_toolkit
from mpu_toolkit import ConfigurationError, SourceChanged
from mpu_toolkit.options import CopyOptions
from mpu_toolkit._plan.sizing import MiB, PartLimits
from mpu_toolkit.errors import NoSuchKey
from mpu_toolkit.options import WriteOptions

PART = 5 * MiB


def put(boto: Any, bucket: str, key: str, data: bytes, **extra: Any) -> bytes:
    boto.put_object(Bucket=bucket, Key=key, Body=data, **extra)
    return data


def body(boto: Any, bucket: str, key: str) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_multipart_copy_is_byte_exact_and_keeps_metadata_and_headers(fs, boto, bucket, key,
                                                                      proxy, storage_options):
    data = put(boto, bucket, key, os.urandom(2 * PART + 12345), Metadata={"owner": "ana"},
               ContentType="text/csv", ContentEncoding="gzip", CacheControl="max-age=60")
    pfs = proxied_fs(proxy, storage_options)
    result = mpu_toolkit.copy(f"mpu://{bucket}/{key}", f"mpu://{bucket}/{key}.copy", fs=pfs,
                              copy_cutoff=0, part_size="5MiB")
    assert (result.method, result.parts, result.bytes_copied) == ("UploadPartCopy", 2, len(data))
    assert proxy.seen.count("UploadPartCopy") == 2 and "UploadPart" not in proxy.seen
    assert body(boto, bucket, f"{key}.copy") == data
    head = boto.head_object(Bucket=bucket, Key=f"{key}.copy")
    assert head["Metadata"] == {"owner": "ana"} and head["ContentType"] == "text/csv"
    assert head["ContentEncoding"] == "gzip" and head["CacheControl"] == "max-age=60"
    assert head["ETag"].strip('"').endswith("-2")
    assert result.object.size == len(data)


@pytest.mark.parametrize("cutoff", ["0", "5GiB"])
def test_copy_replaces_metadata_when_asked(fs, boto, bucket, key, cutoff):
    data = put(boto, bucket, key, os.urandom(PART + 7), Metadata={"owner": "ana"},
               ContentType="text/csv")
    result = mpu_toolkit.copy(f"{bucket}/{key}", f"{bucket}/{key}.2", fs=fs,
                              metadata={"owner": "bo", "stage": "2"},
                              content_type="application/json", copy_cutoff=cutoff,
                              part_size=PART)
    assert result.method == ("UploadPartCopy" if cutoff == "0" else "CopyObject")
    head = boto.head_object(Bucket=bucket, Key=f"{key}.2")
    assert head["Metadata"] == {"owner": "bo", "stage": "2"}
    assert head["ContentType"] == "application/json"
    assert body(boto, bucket, f"{key}.2") == data
    assert boto.head_object(Bucket=bucket, Key=key)["Metadata"] == {"owner": "ana"}


def test_auto_cutoff_uses_copyobject_where_the_server_shares_data(server, fs, boto, bucket,
                                                                  key):
    data = put(boto, bucket, key, os.urandom(2 * PART + 1))
    result = mpu_toolkit.copy(f"{bucket}/{key}", f"{bucket}/{key}.auto", fs=fs,
                              part_size=PART)
    # Ceph RGW copies by reference on CopyObject (no bytes move: measured 13x faster than
    # part copies); elsewhere objects over one part are copied as concurrent ranges.
    expected = "CopyObject" if server.is_rgw else "UploadPartCopy"
    assert result.method == expected
    assert body(boto, bucket, f"{key}.auto") == data


def test_fsspec_copy_goes_through_the_concurrent_part_copy(fs, boto, bucket, key):
    data = put(boto, bucket, key, os.urandom(3 * PART))
    fs.copy(f"mpu://{bucket}/{key}", f"mpu://{bucket}/{key}.fs", copy_cutoff=0,
            part_size=PART)
    assert boto.head_object(Bucket=bucket, Key=f"{key}.fs")["ETag"].strip('"').endswith("-3")
    assert fs.cat(f"{bucket}/{key}.fs") == data


def test_compose_of_mixed_sizes_is_byte_exact_and_copies_what_it_can(fs, boto, bucket, key,
                                                                     proxy, storage_options):
    sizes = [MiB, 12 * MiB, 100, 3 * MiB, 7 * MiB + 5, 0, 2 * MiB]
    pieces = [put(boto, bucket, f"{key}/{i}", os.urandom(n)) for i, n in enumerate(sizes)]
    pfs = proxied_fs(proxy, storage_options)
    result = pfs.compose([f"{bucket}/{key}/{i}" for i in range(len(sizes))],
                         f"{bucket}/{key}.all", part_size=PART, metadata={"from": "shards"},
                         content_type="text/csv")
    assert body(boto, bucket, f"{key}.all") == b"".join(pieces)
    assert result.size == sum(sizes) and result.method == "UploadPartCopy"
    # 1 MiB + 4 MiB head of the 12 MiB source; then 100 B + 3 MiB + 2 MiB of the next
    assert result.bytes_uploaded == 10 * MiB
    assert proxy.seen.count("UploadPart") == 2
    assert proxy.seen.count("UploadPartCopy") == result.parts - 2
    head = boto.head_object(Bucket=bucket, Key=f"{key}.all")
    assert head["Metadata"] == {"from": "shards"} and head["ContentType"] == "text/csv"
    assert incomplete_uploads(boto, bucket, f"{key}.all") == []


def test_compose_of_small_shards_is_one_put(fs, boto, bucket, key):
    shards = [put(boto, bucket, f"{key}/{i}.csv", f"row {i}\n".encode()) for i in range(5)]
    result = mpu_toolkit.compose([f"mpu://{bucket}/{key}/{i}.csv" for i in range(5)],
                                 f"mpu://{bucket}/{key}.csv", fs=fs)
    assert result.method == "PutObject" and result.bytes_uploaded == len(b"".join(shards))
    assert body(boto, bucket, f"{key}.csv") == b"".join(shards)


def test_compose_of_one_whole_object_is_a_copyobject(fs, boto, bucket, key):
    data = put(boto, bucket, key, os.urandom(PART + 3))
    result = mpu_toolkit.compose([f"{bucket}/{key}"], f"{bucket}/{key}.one", fs=fs)
    assert result.method == "CopyObject" and body(boto, bucket, f"{key}.one") == data


def test_more_sources_than_one_upload_holds_compose_in_two_levels(fs, boto, bucket, key, proxy,
                                                                  storage_options):
    # 7 sources that each need a part of their own, with at most 3 parts per upload
    pieces = [put(boto, bucket, f"{key}/{i}", os.urandom(PART + i)) for i in range(7)]
    pfs = proxied_fs(proxy, storage_options)
    result = pfs.compose([f"{bucket}/{key}/{i}" for i in range(7)], f"{bucket}/{key}.all",
                         part_size=PART, limits=PartLimits(max_parts=3),
                         content_type="application/octet-stream")
    assert body(boto, bucket, f"{key}.all") == b"".join(pieces)
    assert result.size == sum(len(p) for p in pieces) and result.parts <= 3
    # groups of 3, 3 and 1 sources (the last one is a plain CopyObject), then the whole
    assert proxy.seen.count("CompleteMultipartUpload") == 3
    assert proxy.seen.count("CopyObject") == 1 and proxy.seen.count("DeleteObject") == 3
    names = [o["Key"] for o in boto.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]]
    assert not [n for n in names if ".mpu-compose-" in n]  # the temporaries are gone
    assert incomplete_uploads(boto, bucket, f"{key}.all") == []


def test_a_failed_two_level_compose_leaves_no_temporaries(boto, bucket, key, proxy,
                                                          storage_options):
    for i in range(7):
        put(boto, bucket, f"{key}/{i}", os.urandom(PART + i))
    proxy.fail("UploadPartCopy", "500", times=10_000, after=4)  # the second group fails
    pfs = proxied_fs(proxy, storage_options, max_attempts=2)
    with pytest.raises(mpu_toolkit.TransientS3Error):
        pfs.compose([f"{bucket}/{key}/{i}" for i in range(7)], f"{bucket}/{key}.all",
                    part_size=PART, limits=PartLimits(max_parts=3))
    names = [o["Key"] for o in boto.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]]
    assert not [n for n in names if ".mpu-compose-" in n] and f"{key}.all" not in names
    assert [u for u in boto.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
            ] == []


def test_compose_refuses_bad_input_before_any_request(fs, bucket, key):
    with pytest.raises(ConfigurationError, match="at least one source"):
        mpu_toolkit.compose([], f"{bucket}/{key}", fs=fs)
    with pytest.raises(TypeError, match="list of source URLs"):
        mpu_toolkit.compose(f"{bucket}/a", f"{bucket}/{key}", fs=fs)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="is not an object"):
        mpu_toolkit.compose([f"{bucket}/a"], bucket, fs=fs)


def test_a_missing_source_names_the_object_and_leaves_nothing(fs, boto, bucket, key):
    put(boto, bucket, f"{key}/0", os.urandom(PART))
    with pytest.raises(NoSuchKey, match=f"{key}/missing"):
        mpu_toolkit.compose([f"{bucket}/{key}/0", f"{bucket}/{key}/missing"],
                            f"{bucket}/{key}.all", fs=fs)
    assert not object_exists(boto, bucket, f"{key}.all")
    assert incomplete_uploads(boto, bucket, f"{key}.all") == []


def test_a_failing_part_copy_aborts_and_publishes_nothing(proxy, storage_options, boto, bucket,
                                                          key):
    put(boto, bucket, key, os.urandom(3 * PART))
    proxy.fail("UploadPartCopy", "500", times=100)
    pfs = proxied_fs(proxy, storage_options, max_attempts=2)
    with pytest.raises(mpu_toolkit.TransientS3Error, match="UploadPartCopy"):
        pfs.copy(f"{bucket}/{key}", f"{bucket}/{key}.x", copy_cutoff=0, part_size=PART)
    assert "AbortMultipartUpload" in proxy.seen
    assert not object_exists(boto, bucket, f"{key}.x")
    assert incomplete_uploads(boto, bucket, f"{key}.x") == []


@pytest.mark.parametrize("operation", ["copy", "compose"])
def test_a_source_replaced_during_the_copy_is_not_published(fs, boto, bucket, key, operation):
    put(boto, bucket, key, os.urandom(4 * PART))
    replaced = []

    def replace_source(event: Any) -> None:  # runs when the first part is done
        if not replaced:
            replaced.append(put(boto, bucket, key, os.urandom(4 * PART)))

    args = dict(part_size=PART, concurrency=1, progress=replace_source, fs=fs)
    with pytest.raises(SourceChanged, match="replaced"):
        if operation == "copy":
            mpu_toolkit.copy(f"{bucket}/{key}", f"{bucket}/{key}.c", copy_cutoff=0, **args)
        else:
            mpu_toolkit.compose([f"{bucket}/{key}", f"{bucket}/{key}"], f"{bucket}/{key}.c",
                                **args)
    assert replaced and not object_exists(boto, bucket, f"{key}.c")
    assert incomplete_uploads(boto, bucket, f"{key}.c") == []


def test_copy_onto_itself_needs_a_change(fs, boto, bucket, key):
    data = put(boto, bucket, key, b"same bytes", Metadata={"v": "1"})
    with pytest.raises(ConfigurationError, match="onto itself changes nothing"):
        mpu_toolkit.copy(f"{bucket}/{key}", f"{bucket}/{key}", fs=fs)
    mpu_toolkit.copy(f"{bucket}/{key}", f"{bucket}/{key}", fs=fs, metadata={"v": "2"})
    assert boto.head_object(Bucket=bucket, Key=key)["Metadata"] == {"v": "2"}
    assert body(boto, bucket, key) == data


def test_copy_settings_refuse_a_cutoff_copyobject_cannot_do():
    with pytest.raises(ConfigurationError, match="at most 5 GiB"):
        CopyOptions.from_kwargs(WriteOptions(), copy_cutoff="6GiB")
    with pytest.raises(ConfigurationError, match="part_size"):
        CopyOptions.from_kwargs(WriteOptions(), part_size="1MiB")


def test_copy_progress_reports_every_byte(fs, boto, bucket, key):
    data = put(boto, bucket, key, os.urandom(3 * PART + 1))
    events: list[Any] = []
    mpu_toolkit.copy(f"{bucket}/{key}", f"{bucket}/{key}.p", fs=fs, copy_cutoff=0,
                     part_size=PART, progress=events.append)
    assert events[-1].state == "completed" and events[-1].bytes_uploaded == len(data)
    assert events[-1].total == len(data) and events[-1].parts_done == 3
    assert hashlib.md5(body(boto, bucket, f"{key}.p")).digest() == hashlib.md5(data).digest()


def test_a_compose_with_nothing_to_copy_says_it_uploaded(fs, boto, bucket, key):
    """Small pieces take up to 5 MiB of a big neighbour's head: here nothing is left to copy."""
    sizes = [100_000, PART + 1, 100_000, 100_000]
    data = b"".join(put(boto, bucket, f"{key}.{i}", os.urandom(n)) for i, n in enumerate(sizes))
    result = mpu_toolkit.compose([f"{bucket}/{key}.{i}" for i in range(4)], f"{bucket}/{key}",
                                 fs=fs, part_size=PART)
    assert (result.method, result.bytes_copied, result.bytes_uploaded) == (
        "UploadPart", 0, len(data))
    assert body(boto, bucket, key) == data


@pytest.mark.parametrize("honoured", [None, True])
def test_sources_are_headed_again_only_where_the_store_may_ignore_the_copy_condition(
        honoured, fs, boto, bucket, key, proxy, storage_options, tmp_path, monkeypatch):
    """A store whose preset (here a saved user preset) says copy-source-if-match is honoured
    refuses a replaced source itself: its sources are HEADed once, before copying; elsewhere
    they are HEADed again before Complete (RGW and moto ignore the condition)."""
    monkeypatch.setenv("MPU_CONFIG_DIR", str(tmp_path))
    (tmp_path / "providers").mkdir()
    (tmp_path / "providers" / "measured.json").write_text(
        json.dumps({"name": "measured", "copy_source_if_match": honoured}))
    pieces = [put(boto, bucket, f"{key}/{i}", os.urandom(PART)) for i in range(3)]
    pfs = proxied_fs(proxy, storage_options, provider="measured")
    pfs.compose([f"{bucket}/{key}/{i}" for i in range(3)], f"{bucket}/{key}.all",
                part_size=PART)
    assert body(boto, bucket, f"{key}.all") == b"".join(pieces)
    assert proxy.seen.count("UploadPartCopy") == 3
    assert proxy.seen.count("HeadObject") == (3 if honoured else 6) + 1  # + the result's HEAD
