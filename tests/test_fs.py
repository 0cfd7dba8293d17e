"""The streaming writer through ``mpu://`` against the real server: bytes, guarantees, fsspec."""

from __future__ import annotations

import gc
import hashlib
import os
import subprocess
import sys
import textwrap
import threading
import time

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import incomplete_uploads, object_exists, wait_until

import mpu_toolkit
from mpu_toolkit import (ConfigurationError, EndpointUnreachable, MPUFileSystem, NoSuchBucket,
                         NoSuchKey, WriterClosedError)
from mpu_toolkit._plan.integrity import multipart_etag
from mpu_toolkit._plan.sizing import MiB

PART = 5 * MiB


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def expected_etag(data: bytes, part: int) -> str:
    if len(data) < part:
        return hashlib.md5(data).hexdigest()
    return multipart_etag([hashlib.md5(c).digest() for c in chunks(data, part)])


@pytest.mark.parametrize("size", [0, 1, PART - 1, PART, PART + 1, 3 * PART + 7],
                         ids=["0B", "1B", "part-1", "part", "part+1", "3parts+7"])
def test_round_trip_is_byte_exact(fs, bucket, key, boto, size):
    data = os.urandom(size)
    with fs.open(f"{bucket}/{key}", "wb", part_size=PART, concurrency=2) as f:
        for piece in chunks(data, 1_000_003) or [b""]:
            f.write(piece)
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    head = boto.head_object(Bucket=bucket, Key=key)
    assert head["ETag"].strip('"') == expected_etag(data, PART)
    assert f.result is not None and f.result.size == size
    assert incomplete_uploads(boto, bucket, key) == []


def test_many_parts_concurrently_with_visible_state(fs, bucket, key, boto):
    data = os.urandom(12 * PART + 12345)
    events = []
    writer = mpu_toolkit.open_writer(f"mpu://{bucket}/{key}", storage_options=fs.storage_options,
                                     part_size=PART, concurrency=4, progress=events.append)
    for piece in chunks(data, 3 * MiB + 1):
        writer.write(piece)
        assert writer.parts_in_flight <= 4
    writer.close()
    assert [p.number for p in writer.parts] == list(range(1, 14))
    assert [p.size for p in writer.parts] == [len(c) for c in chunks(data, PART)]
    assert writer.upload_id and writer.bytes_written == len(data) == writer.bytes_uploaded
    assert events[-1].state == "completed" and events[-1].etag == writer.result.etag
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_max_memory_holds_in_storage_options_and_the_events_show_it(storage_options, bucket,
                                                                    key, boto):
    data, events = os.urandom(10 * PART + 1), []
    with fsspec.open(f"mpu://{bucket}/{key}", "wb", **storage_options, part_size=PART,
                     concurrency=8, max_memory=3 * PART, progress=events.append) as f:
        for piece in chunks(data, MiB):
            f.write(piece)
            assert f.memory_in_use <= 3 * PART
    held = [e.memory_in_use for e in events]
    assert max(held) <= 3 * PART and max(held) >= 2 * PART  # used, and within the budget
    assert held[-1] == 0 and events[-1].state == "completed"
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_concurrent_uploads_to_different_keys(fs, bucket, key, boto):
    payloads = {f"{key}/{i}": os.urandom(PART + 1000 * i) for i in range(4)}
    errors = []

    def upload(k: str, data: bytes) -> None:
        try:
            with fs.open(f"{bucket}/{k}", "wb", part_size=PART, concurrency=2) as f:
                for piece in chunks(data, MiB):
                    f.write(piece)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=item) for item in payloads.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for k, data in payloads.items():
        assert boto.get_object(Bucket=bucket, Key=k)["Body"].read() == data


def test_exception_mid_stream_publishes_nothing(fs, bucket, key, boto):
    with pytest.raises(RuntimeError, match="producer failed"):
        with fsspec.open(f"mpu://{bucket}/{key}", "wb", part_size=PART,
                         **fs.storage_options) as f:
            f.write(os.urandom(3 * PART))
            wait_until(lambda: f.parts_in_flight < 3)  # parts are really uploading
            raise RuntimeError("producer failed")
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_garbage_collected_writer_publishes_nothing(fs, bucket, key, boto):
    writer = fs.open(f"{bucket}/{key}", "wb", part_size=PART)
    writer.write(os.urandom(2 * PART + 10))
    del writer
    gc.collect()
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_writer_open_at_interpreter_exit_publishes_nothing(storage_options, bucket, key, boto):
    script = textwrap.dedent(f"""
        import os, fsspec
        f = fsspec.open("mpu://{bucket}/{key}", "wb", part_size="5MiB",
                        **{storage_options!r}).open()
        f.write(os.urandom(12 << 20))
        print("leaving with the writer open")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "still open at interpreter exit" in done.stderr
    assert not object_exists(boto, bucket, key)
    assert incomplete_uploads(boto, bucket, key) == []


def test_keep_parts_on_error_leaves_one_resumable_upload(fs, bucket, key, boto):
    with pytest.raises(ValueError) as info:
        with fs.open(f"{bucket}/{key}", "wb", part_size=PART, keep_parts_on_error=True) as f:
            f.write(os.urandom(2 * PART + 10))
            f.write(b"more")
            raise ValueError("stop")
    kept = incomplete_uploads(boto, bucket, key)
    assert [u["UploadId"] for u in kept] == [f.upload_id]
    assert f.state == "kept"
    parts = boto.list_parts(Bucket=bucket, Key=key, UploadId=f.upload_id)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    assert any(f.upload_id in note for note in getattr(info.value, "__notes__", []))
    boto.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=f.upload_id)


def test_transaction_defers_publishing_until_commit(fs, bucket, key, boto):
    data = os.urandom(PART + 5)
    with fs.transaction:
        with fs.open(f"{bucket}/{key}", "wb", part_size=PART) as f:
            f.write(data)
        assert not object_exists(boto, bucket, key)  # closed, not yet committed
    assert boto.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_failed_transaction_discards_every_file(fs, bucket, key, boto):
    with pytest.raises(KeyError):
        with fs.transaction:
            for name in ("a", "b"):
                with fs.open(f"{bucket}/{key}/{name}", "wb", part_size=PART) as f:
                    f.write(os.urandom(PART + 1))
            raise KeyError("fail the transaction")
    for name in ("a", "b"):
        assert not object_exists(boto, bucket, f"{key}/{name}")
        assert incomplete_uploads(boto, bucket, f"{key}/{name}") == []


def test_metadata_and_content_type_reach_the_object(fs, bucket, key, boto):
    with fs.open(f"{bucket}/{key}", "wb", metadata={"source": "etl"},
                 content_type="text/csv", part_size=PART) as f:
        f.write(b"a,b\n" * (2 * MiB))
    head = boto.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {"source": "etl"} and head["ContentType"] == "text/csv"


def test_text_and_gzip_modes_round_trip(fs, bucket, key):
    with fsspec.open(f"mpu://{bucket}/{key}.txt", "w", **fs.storage_options) as f:
        f.write("héllo\n" * 1000)
    with fsspec.open(f"mpu://{bucket}/{key}.gz", "wb", compression="gzip",
                     **fs.storage_options) as f:
        f.write(b"row\n" * 100_000)
    with fsspec.open(f"mpu://{bucket}/{key}.txt", "r", **fs.storage_options) as f:
        assert f.read() == "héllo\n" * 1000
    with fsspec.open(f"mpu://{bucket}/{key}.gz", "rb", compression="gzip",
                     **fs.storage_options) as f:
        assert f.read() == b"row\n" * 100_000


def test_pyarrow_write_table_through_the_filesystem(fs, bucket, key):
    table = pa.table({"x": list(range(10_000)), "y": [str(i) for i in range(10_000)]})
    pq.write_table(table, f"{bucket}/{key}.parquet", filesystem=fs)
    assert pq.read_table(f"{bucket}/{key}.parquet", filesystem=fs).equals(table)


def test_pandas_round_trip_without_importing_mpu_toolkit(storage_options, bucket, key):
    """The entry point registers mpu:// for fsspec; the user imports pandas only."""
    script = textwrap.dedent(f"""
        import sys, pandas as pd
        so = {storage_options!r}
        df = pd.DataFrame({{"a": range(5000), "b": ["x", "y"] * 2500,
                           "t": pd.date_range("2024-01-01", periods=5000, freq="min", tz="UTC")}})
        assert "mpu_toolkit" not in sys.modules
        df.to_parquet("mpu://{bucket}/{key}.parquet", storage_options=so)
        back = pd.read_parquet("mpu://{bucket}/{key}.parquet", storage_options=so)
        pd.testing.assert_frame_equal(back, df)
        import fsspec
        print(type(fsspec.filesystem("mpu", **so)).__module__)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "mpu_toolkit.fs"


def test_failed_parquet_write_leaves_no_half_file(fs, bucket, key, boto):
    """pyarrow's ParquetWriter writes a footer on error; the writer must not publish it."""
    table = pa.table({"x": list(range(2_000_000))})
    with pytest.raises(RuntimeError):
        with pq.ParquetWriter(f"{bucket}/{key}.parquet", table.schema, filesystem=fs) as w:
            w.write_table(table)
            raise RuntimeError("source failed after one row group")
    assert not object_exists(boto, bucket, f"{key}.parquet")
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


def test_unsupported_modes_are_refused_clearly(fs, bucket, key):
    for mode in ("r+b", "w+b"):
        with pytest.raises(ConfigurationError, match="not supported"):
            fs.open(f"{bucket}/{key}", mode)


def test_bad_writes_raise_clear_errors(fs, bucket, key):
    f = fs.open(f"{bucket}/{key}", "wb")
    with pytest.raises(TypeError, match="bytes"):
        f.write("text")
    f.write(b"ok")
    f.close()
    with pytest.raises(WriterClosedError, match="completed"):
        f.write(b"late")
    with pytest.raises(ConfigurationError, match="did you mean 'part_size'"):
        fs.open(f"{bucket}/{key}", "wb", part_sise=5)


def test_missing_bucket_fails_cleanly(fs, key):
    with pytest.raises(NoSuchBucket, match="mpu-missing-bucket-9b"):
        with fs.open(f"mpu-missing-bucket-9b/{key}", "wb", part_size=PART) as f:
            f.write(os.urandom(PART + 1))
            f.write(b"x")
    with pytest.raises(NoSuchBucket):  # and as a single PUT
        with fs.open(f"mpu-missing-bucket-9b/{key}", "wb") as f:
            f.write(b"small")


def test_a_read_of_a_path_not_there_names_its_url_and_endpoint(storage_options, bucket, key):
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    with pytest.raises(FileNotFoundError) as info:  # what fsspec callers catch, still
        pd.read_csv(f"mpu://{bucket}/{key}.csv", storage_options=storage_options)
    assert f"mpu://{bucket}/{key}.csv does not exist at {storage_options['endpoint_url']}" \
        in str(info.value)
    assert not fs.exists(f"{bucket}/{key}")  # exists() still answers, without raising
    with pytest.raises(NoSuchBucket, match="mpu-missing-bucket-9b"):
        fs.info("mpu-missing-bucket-9b")


def test_reads_of_a_missing_key_or_bucket_name_the_listing_that_shows_what_exists(
        storage_options, bucket, key):
    """As writes do: still a FileNotFoundError (fsspec, pandas and pyarrow catch it), with the
    URL, the endpoint and the `mpu ls` of the prefix that holds the key (or of the buckets)."""
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    fs.pipe(f"{bucket}/{key}/there.bin", b"x")
    listing = f"`mpu ls mpu://{bucket}/{key}/`"
    for read in (lambda: fs.open(f"{bucket}/{key}/nope.bin", "rb"),
                 lambda: fs.cat(f"mpu://{bucket}/{key}/nope.bin"),
                 lambda: fs.info(f"{bucket}/{key}/nope.bin"),
                 lambda: fs.ls(f"{bucket}/{key}/nope.bin/"),
                 lambda: pd.read_csv(f"mpu://{bucket}/{key}/nope.bin",
                                     storage_options=storage_options)):
        with pytest.raises(FileNotFoundError) as info:
            read()
        assert isinstance(info.value, NoSuchKey) and listing in str(info.value)
        assert f"{bucket}/{key}/nope.bin" in str(info.value)
    for read in (lambda: fs.open("mpu-missing-bucket-9b/t.parquet", "rb"),
                 lambda: fs.ls("mpu-missing-bucket-9b/t/"),
                 lambda: pd.read_csv("mpu://mpu-missing-bucket-9b/t.csv",
                                     storage_options=storage_options)):
        with pytest.raises(FileNotFoundError) as info:
            read()
        assert isinstance(info.value, NoSuchBucket) and "`mpu ls` lists the buckets" in str(
            info.value)


def test_an_endpoint_without_a_scheme_is_refused_with_the_fix():
    with pytest.raises(ConfigurationError, match="'http://127.0.0.1:9000'"):
        MPUFileSystem(endpoint_url="127.0.0.1:9000", key="k", secret="s",
                      skip_instance_cache=True)


def test_unreachable_endpoint_fails_fast():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fs = MPUFileSystem(endpoint_url=f"http://127.0.0.1:{port}", key="k", secret="s",
                       skip_instance_cache=True)
    started = time.monotonic()
    with pytest.raises(EndpointUnreachable, match=f"127.0.0.1:{port}"):
        with fs.open("bucket/key", "wb") as f:
            f.write(b"data")
    assert time.monotonic() - started < 10


def test_filesystem_pickles_and_keeps_writer_options(fs):
    import pickle

    custom = MPUFileSystem(**fs.storage_options, part_size="8MiB", concurrency=3)
    clone = pickle.loads(pickle.dumps(custom))
    assert clone.write_options.part_size == 8 * MiB and clone.write_options.concurrency == 3


def test_loading_the_protocol_does_not_import_pandas_or_pyarrow():
    """fsspec loads mpu:// in every process that opens such a URL: keep it as light as s3fs."""
    script = ("import sys, fsspec; fsspec.get_filesystem_class('mpu'); "
              "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- no bucket is created as a side effect ------------------------------------------------------
def _write_somehow(how: str, url: str, so: dict) -> None:
    import pandas as pd

    frame = pd.DataFrame({"year": [2025, 2026], "x": [1.0, 2.0]})
    if how == "fsspec.open":
        with fsspec.open(url, "wb", **so) as f:
            f.write(b"data")
    elif how == "fs.open":
        with MPUFileSystem(**so).open(url, "wb") as f:
            f.write(b"data")
    elif how == "to_csv":
        frame.to_csv(url, storage_options=so)
    elif how == "to_parquet":
        frame.to_parquet(url, storage_options=so)
    elif how == "pyarrow-write_dataset":
        import pyarrow.dataset as ds
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        ds.write_dataset(pa.Table.from_pandas(frame), url.split("://")[1], format="parquet",
                         partitioning=["year"], filesystem=PyFileSystem(FSSpecHandler(
                             MPUFileSystem(**so))))
    elif how == "dask-to_parquet":
        import dask.dataframe as dd

        dd.from_pandas(frame, npartitions=2).to_parquet(url + "/", storage_options=so)
    elif how == "dask-to_csv":
        import dask.dataframe as dd

        dd.from_pandas(frame, npartitions=2).to_csv(url + "-*.csv", storage_options=so)


@pytest.mark.parametrize("how", ["fsspec.open", "fs.open", "to_csv", "to_parquet",
                                 "pyarrow-write_dataset", "dask-to_parquet", "dask-to_csv"])
def test_a_misspelled_bucket_is_refused_and_never_created(how, storage_options, boto, key):
    typo = f"mpu-typo-{os.urandom(4).hex()}"
    with pytest.raises(Exception) as info:
        _write_somehow(how, f"mpu://{typo}/{key}", storage_options)
    chain = [info.value, info.value.__cause__, info.value.__context__]
    assert any(isinstance(e, NoSuchBucket) for e in chain) or "NoSuchBucket" in str(info.value)
    assert "create the bucket first" in str(info.value)  # the advice that says what to do
    assert typo not in [b["Name"] for b in boto.list_buckets()["Buckets"]]


def test_mkdir_creates_a_bucket_when_asked_and_makedirs_never_does(storage_options, boto):
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    name = f"mpu-new-{os.urandom(4).hex()}"
    with pytest.raises(NoSuchBucket):
        fs.makedirs(f"{name}/dir", exist_ok=True)
    with pytest.raises(NoSuchBucket):
        fs.mkdir(f"{name}/dir")
    assert name not in [b["Name"] for b in boto.list_buckets()["Buckets"]]
    fs.mkdir(name)
    try:
        assert name in [b["Name"] for b in boto.list_buckets()["Buckets"]]
        fs.makedirs(f"{name}/dir", exist_ok=True)  # the bucket exists: nothing to do
        with pytest.raises(FileExistsError):
            fs.makedirs(name)
    finally:
        boto.delete_bucket(Bucket=name)


@pytest.mark.parametrize("scheme", ["mpu", "s3", "s3a"])
def test_results_and_errors_echo_the_scheme_the_user_wrote(scheme, fs, bucket, key, boto):
    url = f"{scheme}://{bucket}/{key}"
    with fs.open(url, "wb") as f:
        f.write(b"data")
    assert f.url == url and f.result is not None
    copied = mpu_toolkit.copy(url, f"{url}.copy", fs=fs)
    assert copied.url == f"{url}.copy"
    with pytest.raises(mpu_toolkit.NoSuchKey) as info:
        mpu_toolkit.copy(f"{url}.missing", f"{url}.nothing", fs=fs)
    assert f"{scheme}://{bucket}/{key}.missing" in str(info.value)


def test_a_read_with_a_wrong_secret_names_the_secret_as_a_cause(server, storage_options,
                                                                 bucket, key, boto):
    if server.is_moto:
        pytest.skip("moto does not check request signatures: any key and secret are accepted")
    boto.put_object(Bucket=bucket, Key=key, Body=b"data")
    fs = MPUFileSystem(**{**storage_options, "secret": "not-the-secret"},
                       skip_instance_cache=True)
    with pytest.raises(PermissionError) as info:  # what s3fs callers catch, still
        fs.cat(f"{bucket}/{key}")
    # a read starts with HEAD, whose 403 has no body: the message names both possible causes
    assert f"Object on mpu://{bucket}/{key}" in str(info.value)
    assert "the secret does not match the access key id" in str(info.value)
    assert "check secret=" in str(info.value)
