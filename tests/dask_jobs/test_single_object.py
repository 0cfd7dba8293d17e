"""mpu:// from Dask workers, and many workers writing one object, on a LocalCluster of two
worker processes against the real server."""

from __future__ import annotations

import gzip
import os
import pickle
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import incomplete_uploads, object_exists

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import mpu_toolkit  # noqa: E402
from mpu_toolkit import MPUFileSystem, start_upload, to_single_object  # noqa: E402
from mpu_toolkit._plan.sizing import MiB  # noqa: E402
from mpu_toolkit.testing.quirks import QuirkProxy  # noqa: E402

PART = 5 * MiB


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(rows, dtype="int64"),
                         "city": rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], rows),
                         "value": rng.normal(size=rows).round(6)})


def uneven(df: pd.DataFrame, cuts: list[int]) -> Any:
    """A Dask frame with partitions cut at these row numbers (some big, some tiny)."""
    return dd.from_pandas(df, npartitions=1).repartition(divisions=[0, *cuts, len(df) - 1])


def same_frame(back: pd.DataFrame, df: pd.DataFrame) -> None:
    """Equal, up to Dask's own string dtype (it converts strings to pyarrow-backed ones)."""
    back = back.reset_index(drop=True)
    pd.testing.assert_frame_equal(back.astype({"city": df["city"].dtype}), df)


def object_body(boto: Any, bucket: str, key: str) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_parquet_dataset_round_trip_through_mpu(client, storage_options, boto, bucket, key):
    df = frame(300_000)
    url = f"mpu://{bucket}/{key}/dataset/"
    dd.from_pandas(df, npartitions=4).to_parquet(url, storage_options=storage_options,
                                                  write_index=False)
    same_frame(dd.read_parquet(url, storage_options=storage_options).compute(), df)
    names = sorted(MPUFileSystem(**storage_options).ls(f"{bucket}/{key}/dataset/"))
    assert len([n for n in names if n.endswith(".parquet")]) == 4
    assert incomplete_uploads(boto, bucket, f"{key}/dataset/") == []


def test_to_csv_with_name_function(client, storage_options, bucket, key):
    df = frame(40_000)
    dd.from_pandas(df, npartitions=3).to_csv(
        f"mpu://{bucket}/{key}/csv/part-*.csv", name_function=lambda i: f"{i:03d}",
        storage_options=storage_options, index=False)
    fs = MPUFileSystem(**storage_options)
    assert sorted(p.rsplit("/", 1)[1] for p in fs.ls(f"{bucket}/{key}/csv/")) == [
        "part-000.csv", "part-001.csv", "part-002.csv"]
    same_frame(dd.read_csv(f"mpu://{bucket}/{key}/csv/part-*.csv",
                           storage_options=storage_options).compute(), df)


def _write_then_fail(df: pd.DataFrame, url: str, so: dict[str, Any], fail: bool) -> int:
    with MPUFileSystem(**so).open(url, "wb", part_size="5MiB") as f:
        f.write(os.urandom(12 * MiB))  # two parts are uploaded before the failure
        if fail:
            raise RuntimeError("the task failed half-way")
    return len(df)


def test_a_failed_task_leaves_no_partial_object_and_no_upload(client, storage_options, boto,
                                                              bucket, key):
    url = f"{bucket}/{key}/out"
    tasks = [client.submit(_write_then_fail, pd.DataFrame(), f"{url}-{i}", storage_options,
                           i == 1, pure=False) for i in range(2)]
    assert tasks[0].result() == 0
    with pytest.raises(RuntimeError, match="half-way"):
        tasks[1].result()
    assert object_exists(boto, bucket, f"{key}/out-0")
    assert not object_exists(boto, bucket, f"{key}/out-1")
    assert incomplete_uploads(boto, bucket, f"{key}/out-1") == []


def _fail_first_time(url: str, so: dict[str, Any], marker: str, how: str) -> str:
    first = not os.path.exists(marker)
    open(marker, "a").close()
    with MPUFileSystem(**so).open(url, "wb", part_size="5MiB") as f:
        f.write(b"x" * (11 * MiB))
        if first and how == "raise":
            raise ConnectionError("the first try failed mid-upload")
        if first:
            os._exit(1)  # the worker process dies mid-upload: Dask retries on a new one
    return "done"


@pytest.mark.parametrize("how", ["raise", "worker-dies"])
def test_a_retried_task_publishes_once(client, storage_options, boto, bucket, key, tmp_path,
                                       how):
    future = client.submit(_fail_first_time, f"{bucket}/{key}", storage_options,
                           str(tmp_path / "tried"), how, pure=False, retries=2)
    assert future.result(timeout=120) == "done"
    assert object_body(boto, bucket, key) == b"x" * (11 * MiB)
    left = mpu_toolkit.uploads.list(f"mpu://{bucket}/{key}", storage_options=storage_options)
    left = left[left["key"] == key]
    if how == "raise":  # the failed try aborted its own upload: no orphan
        assert left.empty
        return
    # a process killed mid-upload cannot abort; the inventory finds what it left
    assert len(left) <= 1
    mpu_toolkit.uploads.abort(left, storage_options=storage_options, force=True)
    assert incomplete_uploads(boto, bucket, key) == []


@pytest.mark.parametrize("name, codec", [("all.csv", None), ("all.csv.gz", "gzip"),
                                         ("all.jsonl", None)])
def test_single_object_is_byte_identical_to_pandas(client, storage_options, boto, bucket, key,
                                                   name, codec):
    df = frame(1_600_000, seed=3)  # ~45 MB of CSV; partitions 1 and 4 over 10 MiB each
    ddf = uneven(df, [1_000, 700_000, 701_000, 702_000, 1_400_000, 1_450_000, 1_599_000])
    assert ddf.npartitions == 8
    result = to_single_object(ddf, f"mpu://{bucket}/{key}/{name}",
                              storage_options=storage_options, part_size=PART)
    body = object_body(boto, bucket, f"{key}/{name}")
    if codec == "gzip":
        body = gzip.decompress(body)  # one gzip member per partition: still one valid file
    expected = (df.to_json(orient="records", lines=True) if name.endswith(".jsonl")
                else df.to_csv())
    assert body == expected.encode()
    # the workers uploaded the bodies of the two large partitions (2+ parts each); the
    # client joined the small ones with the heads
    assert result.rows == len(df) and result.parts >= (3 if codec else 6)
    assert incomplete_uploads(boto, bucket, f"{key}/{name}") == []
    if codec == "gzip":
        back = pd.read_csv(f"mpu://{bucket}/{key}/{name}", storage_options=storage_options,
                           index_col=0)
        pd.testing.assert_frame_equal(back, df)


def test_single_object_without_a_distributed_client(storage_options, boto, bucket, key):
    df = frame(50_000)
    to_single_object(dd.from_pandas(df, npartitions=3), f"{bucket}/{key}.csv",
                     storage_options=storage_options, index=False)
    assert object_body(boto, bucket, f"{key}.csv") == df.to_csv(index=False).encode()


def test_an_equal_parts_store_is_refused_up_front_and_would_refuse_at_complete(
        server, storage_options, boto, bucket, key):
    """Partitions make parts of many sizes: through an emulated R2, the generic default is
    refused at Complete (after every byte was sent) and leaves nothing; R2's preset is
    refused before any request, naming the way that works."""
    df = frame(500_000)  # ~14 MB of CSV: a small first partition, then parts of 5 MiB
    ddf = uneven(df, [1_000])
    so = storage_options
    with QuirkProxy(server.endpoint_url, ["equal_parts"],
                    credentials=(so["key"], so["secret"])) as proxy:
        through = {**so, "endpoint_url": proxy.endpoint_url}
        with pytest.raises(mpu_toolkit.MPUError, match="InvalidPart"):
            to_single_object(ddf, f"{bucket}/{key}.csv", storage_options=through,
                             part_size=PART)
        with pytest.warns(UserWarning, match="not Cloudflare R2's"), \
                pytest.raises(mpu_toolkit.ConfigurationError, match="write_csv"):
            to_single_object(ddf, f"{bucket}/{key}.csv", part_size=PART,
                             storage_options={**through, "provider": "r2"})
        assert proxy.refused == ["CompleteMultipartUpload:InvalidPart"]
    assert not object_exists(boto, bucket, f"{key}.csv")
    assert incomplete_uploads(boto, bucket, f"{key}.csv") == []


def test_on_the_synchronous_scheduler_pieces_are_encoded_off_the_main_thread(
        client, storage_options, boto, bucket, key):
    """There the tasks run on the caller's thread, where a Ctrl-C lands: the encoder must not
    (pandas' JSON encoder crashes when interrupted), so it runs on a worker thread. The
    scheduler asked for wins over the distributed client running beside (``client``)."""
    import dask

    rendered: list[str] = []

    def handler(value: object) -> str:  # called back from inside pandas' to_json
        rendered.append(threading.current_thread().name)
        return "opaque"

    df = pd.DataFrame({"o": [object()] * 4})
    with dask.config.set({"scheduler": "sync", "dataframe.convert-string": False}):
        to_single_object(dd.from_pandas(df, npartitions=2), f"{bucket}/{key}.jsonl",
                         storage_options=storage_options, default_handler=handler)
    assert object_body(boto, bucket, f"{key}.jsonl") == b'{"o":"opaque"}\n' * 4
    assert rendered == ["mpu_toolkit encoder"] * 4


def _explode(part: pd.DataFrame) -> pd.DataFrame:
    if len(part) and part["id"].iloc[0] >= 200_000:
        raise ValueError("bad partition")
    return part


def test_a_failing_partition_aborts_the_single_object(client, storage_options, boto, bucket,
                                                      key):
    ddf = dd.from_pandas(frame(400_000), npartitions=4).map_partitions(_explode)
    with pytest.raises(ValueError, match="bad partition"):
        to_single_object(ddf, f"mpu://{bucket}/{key}.csv", storage_options=storage_options,
                         part_size=PART)
    assert not object_exists(boto, bucket, f"{key}.csv")
    assert incomplete_uploads(boto, bucket, f"{key}.csv") == []


def _upload_part(handle: Any, number: int, seed: int) -> Any:
    return handle.upload_part(number, np.random.default_rng(seed).bytes(PART))


def test_the_upload_handle_travels_to_workers(client, storage_options, boto, bucket, key):
    handle = start_upload(f"mpu://{bucket}/{key}", storage_options=storage_options,
                          metadata={"writers": "2"})
    assert storage_options["secret"] not in repr(handle)
    assert pickle.loads(pickle.dumps(handle)) == handle
    futures = [client.submit(_upload_part, handle, n, n, pure=False) for n in (2, 1, 3)]
    parts = [f.result() for f in futures]
    info = handle.complete(parts)
    expected = b"".join(np.random.default_rng(n).bytes(PART) for n in (1, 2, 3))
    assert object_body(boto, bucket, key) == expected
    assert info.etag.strip('"').endswith("-3")
    assert boto.head_object(Bucket=bucket, Key=key)["Metadata"] == {"writers": "2"}


def test_writers_refuse_to_travel(fs, bucket, key):
    f = fs.open(f"{bucket}/{key}", "wb")
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(f)
    f.discard()


@pytest.mark.parametrize("max_attempts", [1, None])
def test_a_worker_sends_parts_with_the_storage_options_writer_options(
        max_attempts, client, proxy, storage_options, bucket, key):
    """The handle is resolved in the worker's process over the storage options' writer
    options: max_attempts=1 there lets one 503 fail the part; by default it is retried."""
    so = {**storage_options, "endpoint_url": proxy.endpoint_url,
          **({"max_attempts": max_attempts} if max_attempts else {})}
    handle = start_upload(f"mpu://{bucket}/{key}", storage_options=so)
    proxy.fail("UploadPart", "503", times=1)
    future = client.submit(_upload_part, handle, 1, 1, pure=False)
    try:
        if max_attempts == 1:
            with pytest.raises(Exception, match="UploadPart .* failed: SlowDown"):
                future.result()
        else:
            assert future.result().number == 1
    finally:
        handle.abort()
    assert proxy.injected == ["UploadPart:503"]
    assert proxy.seen.count("UploadPart") == (1 if max_attempts == 1 else 2)
