"""to_dataset: datasets committed by the job, on the LocalCluster of two worker processes
(``client``, conftest.py) against the real server, checked with an independent boto3 client."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import time
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

import mpu_toolkit  # noqa: E402
from mpu_toolkit import ConfigurationError, ObjectExists, to_dataset  # noqa: E402
from mpu_toolkit._plan.sizing import MiB  # noqa: E402
from mpu_toolkit.dask import dataset as dataset_module  # noqa: E402
from mpu_toolkit.dask.dataset import plan  # noqa: E402
from mpu_toolkit.dask.pending import StopSignal, write_partition  # noqa: E402

PART = 5 * MiB


@pytest.fixture
def local_scheduler(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dask's threaded scheduler in this process, even while the module's client lives."""
    monkeypatch.setattr(dataset_module, "distributed_client", lambda: None)
    with dask.config.set(scheduler="threads"):
        yield


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(rows, dtype="int64"),
                         "city": rng.choice(["Oslo", "Lima", "Pune", "Kyiv"], rows),
                         "value": rng.normal(size=rows).round(6)})


def objects(boto: Any, bucket: str, prefix: str) -> dict[str, int]:
    """Key -> size of every object under ``prefix/``."""
    found = {}
    for page in boto.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                               Prefix=prefix + "/"):
        found.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
    return found


def uploads(boto: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Incomplete uploads under ``prefix/`` (every page)."""
    found, markers = [], {}
    while True:
        page = boto.list_multipart_uploads(Bucket=bucket, Prefix=prefix + "/", **markers)
        found += page.get("Uploads", [])
        if not page.get("IsTruncated"):
            return found
        markers = {"KeyMarker": page["NextKeyMarker"],
                   "UploadIdMarker": page["NextUploadIdMarker"]}


def body(boto: Any, bucket: str, key: str) -> bytes:
    return boto.get_object(Bucket=bucket, Key=key)["Body"].read()


def partitions(ddf: Any) -> list[pd.DataFrame]:
    return [p.compute(scheduler="sync") for p in ddf.to_delayed()]


def test_parquet_round_trip_with_partition_on_and_metadata(client, storage_options, boto,
                                                            bucket, key):
    df = frame(20_000)
    ddf = dd.from_pandas(df, npartitions=3)
    result = to_dataset(ddf, f"mpu://{bucket}/{key}/", partition_on="city",
                        storage_options=storage_options, write_metadata_file=True,
                        row_group_size=1_000)
    names = sorted(f"city={c}/part.{i}.parquet" for i, p in enumerate(partitions(ddf))
                   for c in p["city"].unique())
    stored = objects(boto, bucket, key)
    assert sorted(stored) == sorted([f"{key}/{n}" for n in names]
                                    + [f"{key}/_SUCCESS", f"{key}/_metadata"])
    assert uploads(boto, bucket, key) == []
    assert (result.url, result.files, result.rows) == (f"mpu://{bucket}/{key}/", len(names),
                                                       len(df))
    assert sorted(result.keys) == [f"{key}/{n}" for n in names]
    assert result.bytes == sum(stored[f"{key}/{n}"] for n in names)

    back = dd.read_parquet(f"mpu://{bucket}/{key}", storage_options=storage_options).compute()
    back = back.astype({"city": str}).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(back[["id", "city", "value"]], df, check_dtype=False)
    assert back["id"].dtype == "int64" and back["value"].dtype == "float64"
    one = pq.read_table(io.BytesIO(body(boto, bucket, f"{key}/{names[0]}")))
    # the partition column is the directory; the index a column, as Dask writes it
    assert one.column_names == ["id", "value", "__index_level_0__"]

    metadata = pq.read_metadata(io.BytesIO(body(boto, bucket, f"{key}/_metadata")))
    assert metadata.num_rows == len(df)
    paths = [metadata.row_group(i).column(0).file_path for i in range(metadata.num_row_groups)]
    assert sorted(set(paths)) == names
    footers = [pq.read_metadata(io.BytesIO(body(boto, bucket, f"{key}/{n}"))) for n in names]
    assert metadata.num_row_groups == sum(f.num_row_groups for f in footers) > len(names)

    manifest = json.loads(body(boto, bucket, f"{key}/_SUCCESS"))
    assert manifest["committer"] == "mpu_toolkit.to_dataset"
    assert (manifest["rows"], manifest["bytes"], manifest["format"]) == (
        len(df), result.bytes, "parquet")
    assert sorted(f["name"] for f in manifest["files"]) == names
    assert {f["name"]: f["bytes"] for f in manifest["files"]} == {
        n: stored[f"{key}/{n}"] for n in names}
    assert sum(f["rows"] for f in manifest["files"]) == len(df)
    assert manifest["time"].startswith("20")


def _wide_part(seed: int) -> pd.DataFrame:
    return frame(150_000, seed).assign(note="lorem ipsum " * 3)  # 8+ MB of text


@pytest.mark.parametrize("fmt, compression, name", [("csv", "auto", "part.{}.csv"),
                                                    ("csv", "gzip", "part.{}.csv.gz"),
                                                    ("jsonl", "auto", "part.{}.jsonl")])
def test_text_datasets_are_what_pandas_writes(client, storage_options, boto, bucket, key, fmt,
                                              compression, name):
    ddf = dd.from_map(_wide_part, [1, 2])  # made on the workers: a small graph
    options = {"index": False} if fmt == "csv" else {}
    result = to_dataset(ddf, f"s3://{bucket}/{key}", format=fmt, compression=compression,
                        storage_options=storage_options, part_size=PART, **options)
    assert result.url == f"s3://{bucket}/{key}/"
    assert sorted(objects(boto, bucket, key)) == [f"{key}/_SUCCESS", f"{key}/{name.format(0)}",
                                                  f"{key}/{name.format(1)}"]
    for i, part in enumerate(partitions(ddf)):
        data = body(boto, bucket, f"{key}/{name.format(i)}")
        if compression == "gzip":
            data = gzip.decompress(data)
        expected = (part.to_csv(index=False) if fmt == "csv"
                    else part.to_json(orient="records", lines=True))
        assert data == expected.encode()
        stored = boto.head_object(Bucket=bucket, Key=f"{key}/{name.format(i)}")
        parts = -(-stored["ContentLength"] // PART)  # full parts of part_size, then the rest
        assert stored["ETag"].strip('"').endswith(f"-{parts}")
        assert parts == 1 if compression == "gzip" else parts >= 2
    assert result.rows == 2 * 150_000 and result.files == 2
    assert uploads(boto, bucket, key) == []


def _explode(part: pd.DataFrame) -> pd.DataFrame:
    if len(part) and part["id"].iloc[0] >= 30_000:
        import time

        time.sleep(1)  # the other tasks finish meanwhile: their uploads wait for the commit
        raise ValueError("bad partition")
    return part


@pytest.mark.parametrize("scheduler", ["distributed", "local"])
def test_a_failing_task_publishes_nothing_and_leaves_no_upload(client, storage_options, boto,
                                                               bucket, key, scheduler,
                                                               request):
    if scheduler == "local":
        request.getfixturevalue("local_scheduler")
    ddf = dd.from_pandas(frame(40_000), npartitions=4).map_partitions(_explode)
    with pytest.raises(ValueError, match="bad partition") as failed:
        to_dataset(ddf, f"mpu://{bucket}/{key}/", format="jsonl",
                   storage_options=storage_options)
    notes = " ".join(getattr(failed.value, "__notes__", []))
    # the tasks that had finished left uploads for the commit: the abort removed them
    assert re.search(r"job aborted, nothing published: aborted [1-9]\d* upload", notes), notes
    assert objects(boto, bucket, key) == {}
    assert uploads(boto, bucket, key) == []


class Bomb:
    """A cell that fails the first time a worker renders it, late in its partition (after
    the partition's first part was uploaded): it records the partition's uploads in
    ``marker``, then raises or kills the worker process. Later it renders as "ok"."""

    def __init__(self, marker: str, how: str, so: dict[str, Any], bucket: str,
                 prefix: str) -> None:
        self.marker, self.how, self.so, self.bucket, self.prefix = (marker, how, so, bucket,
                                                                     prefix)

    def __str__(self) -> str:
        try:
            distributed.get_worker()
        except ValueError:  # not on a worker (a repr on the client)
            return "ok"
        if os.path.exists(self.marker):
            return "ok"
        import boto3

        s3 = boto3.client("s3", endpoint_url=self.so["endpoint_url"], region_name="us-east-1",
                          aws_access_key_id=self.so["key"],
                          aws_secret_access_key=self.so["secret"])
        def parts_landed() -> dict[str, int]:
            return {u["UploadId"]: len(s3.list_parts(Bucket=self.bucket, Key=u["Key"],
                                                     UploadId=u["UploadId"]).get("Parts", []))
                    for u in uploads(s3, self.bucket, self.prefix)
                    if u["Key"].endswith("part.1.csv")}

        # parts travel in the background while the encoder goes on: let the first land
        deadline = time.monotonic() + 30
        while not any((seen := parts_landed()).values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(self.marker, "w") as f:
            json.dump(seen, f)
        if self.how == "exit":
            os._exit(1)  # the worker dies mid-task; its nanny starts another one
        raise ConnectionError("the first attempt failed after uploading a part")


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_a_retried_or_killed_task_leaves_no_duplicate_and_no_upload(
        client, storage_options, boto, bucket, key, tmp_path, how):
    marker = str(tmp_path / "tried")
    rows = 150_000  # per partition, ~70 bytes a row: a 5 MiB part leaves before the last rows
    df = pd.DataFrame({"id": np.arange(2 * rows),
                       "text": pd.Series(["x" * 60] * (2 * rows), dtype=object)})
    df.loc[2 * rows - 1, "text"] = Bomb(marker, how, storage_options, bucket, key)
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dd.from_pandas(df, npartitions=2, sort=False)
        result = to_dataset(ddf, f"mpu://{bucket}/{key}/", format="csv", index=False,
                            storage_options=storage_options, part_size=PART,
                            retries=1 if how == "raise" else None)
    with open(marker) as f:
        first_attempt = json.load(f)
    assert len(first_attempt) == 1 and list(first_attempt.values()) == [1]  # a part was up
    assert sorted(objects(boto, bucket, key)) == [f"{key}/_SUCCESS", f"{key}/part.0.csv",
                                                  f"{key}/part.1.csv"]
    assert uploads(boto, bucket, key) == []  # the first attempt's upload was aborted too
    assert result.rows == 2 * rows
    last = body(boto, bucket, f"{key}/part.1.csv").decode().splitlines()
    assert len(last) == rows + 1 and last[-1] == f"{2 * rows - 1},ok"
    assert len(body(boto, bucket, f"{key}/part.0.csv").decode().splitlines()) == rows + 1


def test_uploads_that_nobody_commits_are_found_and_aborted_by_the_inventory(
        storage_options, boto, bucket, key):
    """What a killed client leaves: the tasks' uploads, which the inventory finds."""
    df = frame(8_000)
    url = f"mpu://{bucket}/{key}/"
    _, spec = plan(dd.from_pandas(df, npartitions=1), url, storage_options=storage_options,
                   format="csv", partition_on=["city"])
    files = write_partition(df, 0, spec, StopSignal("never-stopped"))
    assert sorted(f.name for f in files) == [f"city={c}/part.0.csv"
                                             for c in sorted(df["city"].unique())]
    listed = mpu_toolkit.uploads.list(url, storage_options=storage_options)
    assert set(listed["upload_id"]) == {f.handle.upload_id for f in files}
    assert set(listed["key"]) == {f"{key}/{f.name}" for f in files}
    assert objects(boto, bucket, key) == {}  # nothing is published by a task
    done = mpu_toolkit.uploads.abort(url, storage_options=storage_options, force=True)
    assert len(done) == len(files)
    assert uploads(boto, bucket, key) == []


def test_an_existing_dataset_is_refused_or_overwritten(client, storage_options, boto, bucket,
                                                       key):
    url = f"mpu://{bucket}/{key}"
    to_dataset(dd.from_pandas(frame(3_000), npartitions=3), url, write_metadata_file=True,
               storage_options=storage_options)
    before = objects(boto, bucket, key)
    assert len(before) == 5  # 3 files, _metadata, _SUCCESS
    with pytest.raises(ObjectExists, match="overwrite=True"):
        to_dataset(dd.from_pandas(frame(100), npartitions=1), url,
                   storage_options=storage_options)
    assert objects(boto, bucket, key) == before and uploads(boto, bucket, key) == []

    df = frame(2_000, seed=7)
    result = to_dataset(dd.from_pandas(df, npartitions=2), url, overwrite=True,
                        storage_options=storage_options)
    assert sorted(objects(boto, bucket, key)) == [f"{key}/_SUCCESS", f"{key}/part.0.parquet",
                                                  f"{key}/part.1.parquet"]
    back = dd.read_parquet(url, storage_options=storage_options).compute()
    pd.testing.assert_frame_equal(back.astype({"city": object}).reset_index(drop=True),
                                  df.astype({"city": object}))
    assert json.loads(body(boto, bucket, f"{key}/_SUCCESS"))["rows"] == result.rows == 2_000


def test_a_failed_complete_deletes_what_was_published(local_scheduler, storage_options,
                                                      boto, bucket, key, proxy):
    so = {**storage_options, "endpoint_url": proxy.endpoint_url, "max_attempts": 1}
    proxy.fail("CompleteMultipartUpload", "500", times=10_000, after=1)  # the first passes
    with pytest.raises(mpu_toolkit.S3Error) as failed:
        to_dataset(dd.from_pandas(frame(3_000), npartitions=3), f"mpu://{bucket}/{key}/",
                   format="csv", storage_options=so)
    notes = " ".join(getattr(failed.value, "__notes__", []))
    assert "commit failed, _SUCCESS not written: deleted 1 object" in notes
    assert "aborted 2 uploads" in notes
    assert proxy.seen.count("CompleteMultipartUpload") == 3
    assert objects(boto, bucket, key) == {} and uploads(boto, bucket, key) == []


@pytest.mark.parametrize("url, kwargs, error, words", [
    ("{b}/{k}/", {"format": "orc"}, ConfigurationError, "format='orc'"),
    ("{b}/{k}/", {"partition_on": ["town"]}, ConfigurationError, "no column ['town']"),
    ("{b}/{k}/", {"partition_on": ["id", "city", "value"]}, ConfigurationError, "every column"),
    ("{b}/{k}/all.parquet", {}, ConfigurationError, "to_single_object"),
    ("{b}/{k}/all.csv.gz", {"format": "csv"}, ConfigurationError, "writes a directory"),
    ("{b}", {}, ConfigurationError, "prefix"),
    ("{b}/{k}/", {"part_size": "1MiB"}, ConfigurationError, "part_size"),
    ("{b}/{k}/", {"row_groups_size": 10}, ConfigurationError, "did you mean 'row_group_size'"),
    ("{b}/{k}/", {"format": "csv", "row_group_size": 10}, ConfigurationError, "takes no row_"),
    ("{b}/{k}/", {"format": "csv", "compression": "lz4"}, ConfigurationError, "'gzip'"),
    ("{b}/{k}/", {"compression": "nope"}, ConfigurationError, "cannot be written as parquet"),
    ("{b}/{k}/", {"format": "csv", "sep": 12}, ConfigurationError, "cannot be written as csv"),
    ("{b}/{k}/", {"ddf": "pandas"}, TypeError, "takes a Dask DataFrame"),
])
def test_bad_input_fails_before_any_upload(storage_options, boto, bucket, key, url, kwargs,
                                           error, words):
    df = frame(100)
    ddf = df if kwargs.pop("ddf", None) else dd.from_pandas(df, npartitions=2)
    with pytest.raises(error) as failed:
        to_dataset(ddf, "mpu://" + url.format(b=bucket, k=key),
                   storage_options=storage_options, **kwargs)
    assert words in str(failed.value)
    assert objects(boto, bucket, key) == {} and uploads(boto, bucket, key) == []
    assert objects(boto, bucket, f"{key}/all.parquet") == {}
