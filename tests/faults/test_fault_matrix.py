"""The fault matrix: every request type of a write × every way it can fail, transient and
permanent, for a bytes stream and for ``write_parquet``, through a fault-injecting proxy on
127.0.0.1 in front of the real server; plus the producer raising, the writer garbage-
collected unclosed, and the writing process killed with SIGKILL mid-stream.

Expected outcomes (the table in docs/guarantees.md is this file's summary):

* transient (the fault goes away after two tries): the object is byte-exact;
* permanent: one clear error naming the request, no object, no incomplete upload — or, with
  ``keep_parts_on_error``, exactly one incomplete upload, which resumes;
* a lost answer is worth a second look: a Complete that the server did (its answer lost
  every time) is confirmed by HEAD and reported as success; a CreateMultipartUpload whose
  answer is lost leaves an upload that S3 gives no way to recognise (there is no idempotency
  token for it), so it is named in a warning instead of being aborted blindly;
* a SIGKILL leaves one incomplete upload, which the inventory finds and aborts.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from helpers import incomplete_uploads, object_exists

import mpu_toolkit
from mpu_toolkit import MPUError, MPUFileSystem, uploads, write_parquet
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB
DATA = os.urandom(3 * PART + 12345)          # 4 parts
FRAME = pd.DataFrame({"x": np.random.default_rng(7).normal(size=1_600_000),
                      "n": np.arange(1_600_000, dtype="int64")})  # ~20 MB of Parquet: 4+ parts
ATTEMPTS = 3
FAULTS = ["500", "503", "reset-early", "reset", "stall", "drop-response"]
CELLS = ([("CreateMultipartUpload", f) for f in FAULTS]
         + [("UploadPart", f) for f in FAULTS]
         + [("CompleteMultipartUpload", f) for f in FAULTS + ["200-error"]])


def cell_id(cell: tuple[str, str]) -> str:
    return f"{cell[0]}-{cell[1]}"


def slow_if_stall(cells: list[tuple[str, str]]) -> list[Any]:
    """Stalls wait for the client's 2 s read timeout on every try: marked slow."""
    return [pytest.param(*c, id=cell_id(c), marks=[pytest.mark.slow] if c[1] == "stall" else [])
            for c in cells]


def proxied_options(proxy: Any, storage_options: dict[str, Any]) -> dict[str, Any]:
    return {**storage_options, "endpoint_url": proxy.endpoint_url, "skip_instance_cache": True,
            "config_kwargs": {"read_timeout": 2, "connect_timeout": 2}}


def write(workload: str, so: dict[str, Any], url: str, **options: Any) -> None:
    options = {"part_size": PART, "max_attempts": ATTEMPTS, **options}
    if workload == "bytes":
        with MPUFileSystem(**so).open(url, "wb", **options) as f:
            for i in range(0, len(DATA), MiB):
                f.write(DATA[i:i + MiB])
    else:
        write_parquet(FRAME, url, storage_options=so, row_group_size=200_000, **options)


def assert_written(workload: str, boto: Any, bucket: str, key: str) -> None:
    body = boto.get_object(Bucket=bucket, Key=key)["Body"].read()
    if workload == "bytes":
        assert hashlib.md5(body).hexdigest() == hashlib.md5(DATA).hexdigest()
    else:
        import io
        pd.testing.assert_frame_equal(pq.read_table(io.BytesIO(body)).to_pandas(), FRAME)


def assert_nothing_left(boto: Any, bucket: str, key: str) -> None:
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def abort_all(boto: Any, bucket: str, key: str) -> None:
    for u in incomplete_uploads(boto, bucket, key):
        boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=u["UploadId"])


@pytest.mark.parametrize("workload", ["bytes", "parquet"])
@pytest.mark.parametrize("operation, fault", slow_if_stall(CELLS))
def test_transient_fault_recovers_byte_exact(workload, operation, fault, proxy,
                                             storage_options, boto, bucket, key, caplog):
    proxy.fail(operation, fault, times=2)
    with caplog.at_level(logging.WARNING, logger="mpu_toolkit"):
        write(workload, proxied_options(proxy, storage_options), f"{bucket}/{key}")
    assert proxy.injected == [f"{operation}:{fault}"] * 2
    assert_written(workload, boto, bucket, key)
    left = incomplete_uploads(boto, bucket, key)
    if (operation, fault) == ("CreateMultipartUpload", "drop-response"):
        # the server started an upload for each lost answer; no request can tell which
        assert len(left) == 2 and "may have left incomplete upload" in caplog.text
        assert all(u["UploadId"] in caplog.text for u in left)
        abort_all(boto, bucket, key)
    else:
        assert left == []


@pytest.mark.parametrize("workload", ["bytes", "parquet"])
@pytest.mark.parametrize("operation, fault", slow_if_stall(CELLS))
def test_permanent_fault_fails_cleanly(workload, operation, fault, proxy, storage_options,
                                       boto, bucket, key, caplog):
    proxy.fail(operation, fault, times=10_000)
    so = proxied_options(proxy, storage_options)
    if (operation, fault) == ("CompleteMultipartUpload", "drop-response"):
        # the first Complete was done by the server: confirmed by size and ETag, a success
        with caplog.at_level(logging.WARNING, logger="mpu_toolkit"):
            write(workload, so, f"{bucket}/{key}")
        assert "it completed" in caplog.text
        assert_written(workload, boto, bucket, key)
        assert incomplete_uploads(boto, bucket, key) == []
        return
    with caplog.at_level(logging.WARNING, logger="mpu_toolkit"):
        with pytest.raises(MPUError) as info:
            write(workload, so, f"{bucket}/{key}")
    assert operation in str(info.value)  # the error names the request that failed
    assert proxy.seen.count(operation) >= ATTEMPTS
    if (operation, fault) == ("CreateMultipartUpload", "drop-response"):
        # cannot hold: each lost Create started an upload; they are named, not guessed at
        left = incomplete_uploads(boto, bucket, key)
        assert len(left) == ATTEMPTS and all(u["UploadId"] in caplog.text for u in left)
        assert not object_exists(boto, bucket, key)
        abort_all(boto, bucket, key)
        return
    assert_nothing_left(boto, bucket, key)


@pytest.mark.parametrize("workload", ["bytes", "parquet"])
def test_permanent_part_fault_with_keep_parts_leaves_one_resumable_upload(
        workload, proxy, storage_options, boto, bucket, key, tmp_path, fs):
    proxy.fail("UploadPart", "503", times=10_000, after=2)
    with pytest.raises(MPUError) as info:
        write(workload, proxied_options(proxy, storage_options), f"{bucket}/{key}",
              keep_parts_on_error=True, concurrency=1)
    [kept] = incomplete_uploads(boto, bucket, key)
    assert any(kept["UploadId"] in note for note in getattr(info.value, "__notes__", []))
    assert not object_exists(boto, bucket, key)
    if workload == "parquet":  # resuming needs the same bytes: the encoder's are not kept
        abort_all(boto, bucket, key)
        return
    local = tmp_path / "data.bin"
    local.write_bytes(DATA)
    result = mpu_toolkit.upload_file(local, f"{bucket}/{key}", upload_id=kept["UploadId"], fs=fs,
                                     part_size=PART)
    assert result.parts_kept == 2 and result.resumed
    assert_written(workload, boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


@pytest.mark.parametrize("fault", ["500", "reset", "drop-response",
                                   pytest.param("stall", marks=pytest.mark.slow)])
@pytest.mark.parametrize("kind", ["transient", "permanent"])
def test_abort_faults_after_the_producer_raised(fault, kind, proxy, storage_options, boto,
                                                bucket, key, caplog):
    proxy.fail("AbortMultipartUpload", fault, times=2 if kind == "transient" else 10_000)
    so = proxied_options(proxy, storage_options)
    with caplog.at_level(logging.ERROR, logger="mpu_toolkit"):
        with pytest.raises(RuntimeError, match="the producer failed") as info:  # first wins
            with MPUFileSystem(**so).open(f"{bucket}/{key}", "wb", part_size=PART,
                                          max_attempts=ATTEMPTS) as f:
                f.write(DATA)
                raise RuntimeError("the producer failed")
    assert not object_exists(boto, bucket, key)
    left = incomplete_uploads(boto, bucket, key)
    if kind == "permanent" and fault != "drop-response":
        # cannot hold: the server keeps refusing to abort; the upload is named in the log
        # and the inventory aborts it once the server answers again
        assert [u["UploadId"] for u in left] == [f.upload_id]
        assert "abort after" in caplog.text and f.upload_id in caplog.text
        assert f"--upload-id {shlex.quote(f.upload_id)}" in " ".join(info.value.__notes__)
        outcome = uploads.abort([(bucket, key, f.upload_id)], storage_options=storage_options,
                                force=True)
        assert list(outcome["outcome"]) == ["aborted"]
    assert incomplete_uploads(boto, bucket, key) == []


@pytest.mark.parametrize("workload", ["bytes", "parquet"])
def test_producer_raising_publishes_nothing(workload, fs, storage_options, boto, bucket, key):
    def frames():
        yield FRAME.iloc[:800_000]
        raise RuntimeError("the source went away")

    with pytest.raises(RuntimeError, match="went away"):
        if workload == "bytes":
            with fs.open(f"{bucket}/{key}", "wb", part_size=PART) as f:
                f.write(DATA)
                raise RuntimeError("the source went away")
        else:
            write_parquet(frames(), f"{bucket}/{key}", storage_options=storage_options,
                          part_size=PART, row_group_size=100_000)
    assert_nothing_left(boto, bucket, key)


@pytest.mark.parametrize("workload", ["bytes", "parquet"])
def test_writer_garbage_collected_unclosed_publishes_nothing(workload, fs, boto, bucket, key):
    f = fs.open(f"{bucket}/{key}", "wb", part_size=PART)
    if workload == "bytes":
        f.write(DATA)
    else:
        import pyarrow as pa
        writer = pq.ParquetWriter(f, pa.Schema.from_pandas(FRAME, preserve_index=False))
        writer.write_table(pa.Table.from_pandas(FRAME, preserve_index=False))
        del writer
    del f
    gc.collect()
    assert_nothing_left(boto, bucket, key)


KILLED = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np, pandas as pd
    from mpu_toolkit import MPUFileSystem, write_parquet
    workload, url, so = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

    def progress(event):  # one event at a time, though parts finish on several threads
        print(event.parts_done, flush=True)

    def chunks():  # an endless producer: only SIGKILL stops it
        rng = np.random.default_rng(1)
        while True:
            yield pd.DataFrame({"x": rng.normal(size=200_000)})
            time.sleep(0.05)

    if workload == "bytes":
        with MPUFileSystem(**so).open(url, "wb", part_size="5MiB", progress=progress) as f:
            while True:
                f.write(os.urandom(1 << 20))
                time.sleep(0.01)
    else:
        write_parquet(chunks(), url, storage_options=so, part_size="5MiB",
                      row_group_size=200_000, progress=progress)
""")


@pytest.mark.parametrize("workload", ["bytes", "parquet"])
def test_sigkill_mid_stream_leaves_one_upload_the_inventory_aborts(workload, storage_options,
                                                                  boto, bucket, key):
    import json
    child = subprocess.Popen([sys.executable, "-c", KILLED, workload, f"mpu://{bucket}/{key}",
                              json.dumps(storage_options)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if int(line) >= 2:
                break
    finally:  # the producer is endless: whatever happens here, it must not outlive the test
        child.send_signal(signal.SIGKILL)
    assert child.wait(60) == -signal.SIGKILL
    assert not object_exists(boto, bucket, key)
    found = uploads.list(f"mpu://{bucket}/{key}", storage_options=storage_options)
    found = found[found["key"] == key]
    assert len(found) == 1 and found["parts"].iloc[0] >= 2
    assert found["bytes"].iloc[0] >= 2 * PART
    outcome = uploads.abort(found, storage_options=storage_options, force=True)
    assert list(outcome["outcome"]) == ["aborted"]
    assert incomplete_uploads(boto, bucket, key) == []
