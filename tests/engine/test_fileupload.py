"""Uploading local files and resuming interrupted uploads, against the real server.

The interrupted uploads are real: a child process uploading the file is killed with
SIGKILL mid-upload (no cleanup can run), then the upload is resumed here through a proxy
that counts the UploadPart requests actually sent.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fsspec.callbacks import Callback
from helpers import incomplete_uploads, object_exists, proxied_fs

import mpu_toolkit
from mpu_toolkit import (
    ConfigurationError,
    NoSuchUpload,
    SourceChanged,
    TransientS3Error,
)
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB
PARTS = 8

CHILD = textwrap.dedent("""
    import json, sys, time
    import mpu_toolkit
    path, url, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

    def report(event):  # runs on the I/O loop: slows the upload so the parent can kill it
        print(event.parts_done, flush=True)
        time.sleep(0.25)

    mpu_toolkit.upload_file(path, url, storage_options=options, part_size="5MiB",
                            concurrency=1, resume=True, progress=report)
    print("finished", flush=True)
""")


def local_file(tmp_path: Path, size: int = PARTS * PART - 12345) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(size))
    return path


def killed_upload(path: Path, bucket: str, key: str, storage_options: dict[str, Any],
                  boto: Any, parts_before_kill: int = 3) -> dict[str, Any]:
    """Run an upload of ``path`` in a child process and SIGKILL it after some parts."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), f"mpu://{bucket}/{key}",
                              json.dumps(storage_options)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == "finished":
            raise AssertionError("the upload finished before it could be killed")
        if int(line) >= parts_before_kill:
            child.send_signal(signal.SIGKILL)
            break
    assert child.wait(30) == -signal.SIGKILL
    [upload] = incomplete_uploads(boto, bucket, key)
    stored = boto.list_parts(Bucket=bucket, Key=key, UploadId=upload["UploadId"])["Parts"]
    assert parts_before_kill <= len(stored) < PARTS
    assert not object_exists(boto, bucket, key)
    return {"upload_id": upload["UploadId"], "stored": [p["PartNumber"] for p in stored]}


def test_a_killed_upload_is_resumed_sending_only_the_missing_parts(
        tmp_path, storage_options, boto, bucket, key, proxy):
    path = local_file(tmp_path)
    killed = killed_upload(path, bucket, key, storage_options, boto)
    pfs = proxied_fs(proxy, storage_options)
    result = mpu_toolkit.upload_file(path, f"mpu://{bucket}/{key}", resume=True, fs=pfs,
                                     part_size=PART)
    missing = PARTS - len(killed["stored"])
    assert proxy.seen.count("UploadPart") == missing == result.parts_sent
    assert result.parts_kept == len(killed["stored"]) and result.parts == PARTS
    assert result.resumed and result.upload_id == killed["upload_id"]
    assert result.parts_replaced == ()
    assert proxy.seen.count("CreateMultipartUpload") == 0
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()
    assert incomplete_uploads(boto, bucket, key) == []


def test_a_file_changed_since_the_interruption_is_detected_not_mixed(
        tmp_path, storage_options, boto, bucket, key, proxy, caplog):
    path = local_file(tmp_path)
    killed = killed_upload(path, bucket, key, storage_options, boto)
    data = bytearray(path.read_bytes())
    data[PART + 100:PART + 108] = b"CHANGED!"  # inside stored part 2
    data += b"and it grew"
    path.write_bytes(bytes(data))
    pfs = proxied_fs(proxy, storage_options)
    with caplog.at_level(logging.WARNING, logger="mpu_toolkit"):
        result = mpu_toolkit.upload_file(path, f"{bucket}/{key}", resume=True, fs=pfs,
                                         part_size=PART)
    assert 2 in killed["stored"] and result.parts_replaced == (2,)
    assert "changed since upload" in caplog.text and "2" in caplog.text
    assert proxy.seen.count("UploadPart") == result.parts_sent == PARTS - len(killed["stored"]) + 1
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == bytes(data)


def test_resume_without_an_interrupted_upload_starts_one(tmp_path, fs, boto, bucket, key):
    path = local_file(tmp_path, 3 * PART + 1)
    result = mpu_toolkit.upload_file(path, f"{bucket}/{key}", resume=True, fs=fs,
                                     part_size=PART)
    assert not result.resumed and result.parts_sent == result.parts == 4
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()


def test_two_interrupted_uploads_are_ambiguous_until_one_is_chosen(tmp_path, fs, boto, bucket,
                                                                   key):
    path = local_file(tmp_path, 2 * PART + 1)
    ids = [boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for _ in range(2)]
    with pytest.raises(ConfigurationError, match="2 incomplete uploads") as info:
        mpu_toolkit.upload_file(path, f"{bucket}/{key}", resume=True, fs=fs, part_size=PART)
    assert all(i in str(info.value) for i in ids) and "upload_id=" in str(info.value)
    result = mpu_toolkit.upload_file(path, f"{bucket}/{key}", upload_id=ids[1], fs=fs,
                                     part_size=PART)
    assert result.upload_id == ids[1]
    assert [u["UploadId"] for u in incomplete_uploads(boto, bucket, key)] == [ids[0]]
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()


def test_an_unknown_upload_id_is_a_clear_error(tmp_path, fs, bucket, key):
    path = local_file(tmp_path, 2 * PART)
    with pytest.raises(NoSuchUpload, match="completed, aborted or expired"):
        mpu_toolkit.upload_file(path, f"{bucket}/{key}", upload_id="no-such-upload", fs=fs,
                                part_size=PART)


def test_a_failed_resumable_upload_keeps_its_parts_for_the_next_try(
        tmp_path, storage_options, boto, bucket, key, proxy):
    path = local_file(tmp_path, 4 * PART)
    proxy.fail("UploadPart", "500", times=2, after=1)  # part 2 fails both of its attempts
    pfs = proxied_fs(proxy, storage_options, max_attempts=2, concurrency=1)
    with pytest.raises(TransientS3Error) as info:
        mpu_toolkit.upload_file(path, f"{bucket}/{key}", resume=True, fs=pfs, part_size=PART)
    assert any("resume=True" in note for note in getattr(info.value, "__notes__", []))
    [upload] = incomplete_uploads(boto, bucket, key)
    result = mpu_toolkit.upload_file(path, f"{bucket}/{key}", resume=True, fs=pfs,
                                     part_size=PART)
    assert result.upload_id == upload["UploadId"] and result.parts_kept >= 1
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()


def test_a_failed_plain_upload_is_aborted(tmp_path, storage_options, boto, bucket, key, proxy):
    path = local_file(tmp_path, 3 * PART)
    proxy.fail("UploadPart", "500", times=100)
    pfs = proxied_fs(proxy, storage_options, max_attempts=2)
    with pytest.raises(TransientS3Error):
        mpu_toolkit.upload_file(path, f"{bucket}/{key}", fs=pfs, part_size=PART)
    assert incomplete_uploads(boto, bucket, key) == []
    assert not object_exists(boto, bucket, key)


def test_a_file_changed_during_the_upload_is_not_published(tmp_path, fs, boto, bucket, key):
    path = local_file(tmp_path, 3 * PART)

    def touch(event: Any) -> None:
        if event.parts_done == 1:
            with open(path, "ab") as f:
                f.write(b"appended while uploading")

    with pytest.raises(SourceChanged, match="changed while it was being uploaded"):
        mpu_toolkit.upload_file(path, f"{bucket}/{key}", fs=fs, part_size=PART, concurrency=1,
                                progress=touch)
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_small_files_are_one_put(tmp_path, fs, boto, bucket, key):
    path = local_file(tmp_path, 1000)
    result = mpu_toolkit.upload_file(path, f"{bucket}/{key}", fs=fs)
    assert result.upload_id is None and result.parts_sent == 1
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == path.read_bytes()


def test_bad_local_paths_are_refused_with_the_fix(tmp_path, fs, bucket, key):
    with pytest.raises(ConfigurationError, match="no such local file"):
        mpu_toolkit.upload_file(tmp_path / "nope.bin", f"{bucket}/{key}", fs=fs)
    with pytest.raises(ConfigurationError, match="not a regular file"):
        mpu_toolkit.upload_file(tmp_path, f"{bucket}/{key}", fs=fs)


def test_fsspec_put_uses_concurrent_verified_parts_and_reports_progress(tmp_path, fs, boto,
                                                                        bucket, key):
    path = tmp_path / "table.csv"
    path.write_bytes(os.urandom(3 * PART + 5))

    per_file: list[Callback] = []

    class Branching(Callback):  # fsspec's protocol: one child callback per file
        def branch(self, path_1: str, path_2: str, kwargs: dict[str, Any]) -> None:
            per_file.append(Callback())
            kwargs["callback"] = per_file[-1]

    fs.put(str(path), f"mpu://{bucket}/{key}.csv", chunksize=PART, callback=Branching())
    head = boto.head_object(Bucket=bucket, Key=f"{key}.csv")
    assert head["ETag"].strip('"').endswith("-4") and head["ContentType"] == "text/csv"
    [child] = per_file
    assert child.size == child.value == path.stat().st_size
    assert boto.get_object(Bucket=bucket, Key=f"{key}.csv")["Body"].read() == path.read_bytes()


def test_a_writer_keeping_its_parts_says_how_to_resume(fs, bucket, key):
    with pytest.raises(RuntimeError) as info:
        with fs.open(f"{bucket}/{key}", "wb", part_size=PART, keep_parts_on_error=True) as f:
            f.write(os.urandom(PART + 1))
            raise RuntimeError("producer failed")
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert f"mpu put --resume --upload-id {shlex.quote(f.upload_id)}" in notes
    # the kept upload is cleaned up by the session's bucket teardown
