"""write_parquet and the pandas/pyarrow Parquet paths through mpu:// against the real server."""

from __future__ import annotations

import io
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from helpers import incomplete_uploads, object_exists, wait_until

from mpu_toolkit import (ConfigurationError, MPUFileSystem, SchemaMismatchError, write_parquet)
from mpu_toolkit.formats.parquet import stream_parquet

PART = "5MiB"


def typed_chunk(start: int, rows: int) -> pd.DataFrame:
    """Most pandas dtypes people store, on a named DatetimeIndex (stored as a column)."""
    i = np.arange(start, start + rows)
    return pd.DataFrame({
        "int": i, "small": (i % 100).astype("int16"), "float": i / 7,
        "nullable": pd.array([None if v % 5 == 0 else v for v in i], dtype="Int64"),
        "text": pd.array([f"row {v}" for v in i], dtype="str"),
        "flag": i % 2 == 0,
        "cat": pd.Categorical(np.array(["a", "b", "c"])[i % 3], categories=["a", "b", "c"]),
        "when": pd.date_range("2024-01-01", periods=rows, freq="s", tz="Europe/Paris")
        + pd.Timedelta(seconds=int(start)),
    }, index=pd.DatetimeIndex(pd.date_range("2020", periods=rows, freq="min")
                              + pd.Timedelta(minutes=int(start)), name="at"))


def random_chunks(count: int, rows: int = 400_000, fail_after: int | None = None,
                  events: list | None = None):
    """Incompressible float chunks (3.2 MB each); raises after ``fail_after`` chunks, once
    ``events`` show a part uploaded."""
    rng = np.random.default_rng(0)
    for n in range(count):
        if n == fail_after:
            wait_until(lambda: any(e.parts_done for e in events or []))
            raise RuntimeError(f"producer failed after {n} chunks")
        yield pd.DataFrame({"x": rng.random(rows)})


def read_back(fs: MPUFileSystem, path: str) -> pq.ParquetFile:
    return pq.ParquetFile(io.BytesIO(fs.cat(path)))


def test_generator_of_dataframes_round_trips_every_dtype(fs, bucket, key, storage_options):
    chunks = [typed_chunk(start, rows) for start, rows in [(0, 700), (700, 1), (701, 2299)]]
    result = write_parquet(iter(chunks), f"mpu://{bucket}/{key}.parquet",
                           storage_options=storage_options, row_group_size=1000)
    back = pd.read_parquet(f"{bucket}/{key}.parquet", filesystem=fs)
    pd.testing.assert_frame_equal(back, pd.concat(chunks), check_freq=False)  # as to_parquet
    meta = read_back(fs, f"{bucket}/{key}.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000] * 3
    assert (result.rows, result.row_groups) == (3000, 3)


def test_read_csv_chunks_round_trip_with_their_range_index(fs, bucket, key, storage_options):
    csv = typed_chunk(0, 5000)[["int", "float", "text"]].to_csv(index=False)
    reader = pd.read_csv(io.StringIO(csv), chunksize=1234)
    write_parquet(reader, f"mpu://{bucket}/{key}.parquet", storage_options=storage_options)
    back = pd.read_parquet(f"mpu://{bucket}/{key}.parquet", storage_options=storage_options)
    pd.testing.assert_frame_equal(back, pd.read_csv(io.StringIO(csv)))


def test_tables_batches_and_readers_round_trip(fs, bucket, key, storage_options):
    table = pa.table({"i": pa.array(range(10_000), pa.int64()),
                      "s": [str(i) for i in range(10_000)]})
    inputs = {"table": table, "batches": iter(table.to_batches(max_chunksize=777)),
              "reader": pa.RecordBatchReader.from_batches(table.schema,
                                                          table.to_batches(max_chunksize=3000))}
    for name, frames in inputs.items():
        write_parquet(frames, f"mpu://{bucket}/{key}/{name}.parquet",
                      storage_options=storage_options, row_group_size=4096)
        assert read_back(fs, f"{bucket}/{key}/{name}.parquet").read().equals(table), name


def test_result_describes_the_published_object(fs, bucket, key, boto, storage_options):
    url = f"mpu://{bucket}/{key}.parquet"
    result = write_parquet(random_chunks(6), url, storage_options=storage_options,
                           part_size=PART, row_group_size=500_000, compression=None)
    head = boto.head_object(Bucket=bucket, Key=f"{key}.parquet")
    assert result.url == url  # the scheme the user wrote
    assert (result.rows, result.row_groups) == (2_400_000, 5)
    assert result.bytes == head["ContentLength"] > 19_000_000
    assert result.parts == int(head["ETag"].strip('"').split("-")[1]) >= 3
    assert result.etag.strip('"') == head["ETag"].strip('"') and result.seconds > 0
    assert head["ContentType"] == "application/vnd.apache.parquet"


def test_producer_failure_leaves_no_object_and_no_upload(fs, bucket, key, boto,
                                                         storage_options):
    events = []
    with pytest.raises(RuntimeError, match="producer failed after 6 chunks"):
        write_parquet(random_chunks(10, fail_after=6, events=events),
                      f"mpu://{bucket}/{key}.parquet",
                      storage_options=storage_options, part_size=PART,
                      row_group_size=100_000, compression=None, progress=events.append)
    assert any(e.upload_id and e.parts_done for e in events), "parts were really uploaded"
    assert events[-1].state == "failed" and events[-1].rows == 2_400_000
    assert not object_exists(boto, bucket, f"{key}.parquet")
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


def test_schema_mismatch_mid_stream_is_named_and_leaves_nothing(bucket, key, boto,
                                                                storage_options):
    def chunks():
        yield from random_chunks(4)
        wait_until(lambda: any(e.parts_done for e in events))
        yield pd.DataFrame({"x": ["not a number"]})

    events = []
    with pytest.raises(SchemaMismatchError, match=r"chunk 5: column 'x' is .*string, the "
                                                  r"schema has double"):
        write_parquet(chunks(), f"mpu://{bucket}/{key}.parquet", storage_options=storage_options,
                      part_size=PART, row_group_size=100_000, compression=None,
                      progress=events.append)
    assert any(e.upload_id and e.parts_done for e in events)
    assert not object_exists(boto, bucket, f"{key}.parquet")
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


def test_rows_are_uploaded_while_the_producer_is_still_producing(bucket, key, storage_options):
    events = []

    def chunks():
        yield from random_chunks(6)
        # the producer is still inside its generator: two parts of what it gave are uploaded
        # (waited for: a loaded server takes its time, the producer does not go on meanwhile)
        wait_until(lambda: events and events[-1].bytes_uploaded > 10_000_000)
        assert events[-1].rows >= 1_000_000

    write_parquet(chunks(), f"mpu://{bucket}/{key}.parquet", storage_options=storage_options,
                  part_size=PART, row_group_size=200_000, compression=None,
                  progress=events.append)
    assert events[-1].state == "completed" and events[-1].rows == 2_400_000


def test_progress_bar_shows_rows(bucket, key, storage_options, capsys):
    write_parquet(pd.DataFrame({"a": range(1234)}), f"mpu://{bucket}/{key}.parquet",
                  storage_options=storage_options, progress=True)
    bar = capsys.readouterr().err
    assert f"mpu://{bucket}/{key}.parquet, " in bar  # labelled with the URL as written
    assert "1,234 rows" in bar


def test_empty_input_needs_a_schema(fs, bucket, key, boto, storage_options):
    schema = pa.schema([("a", pa.int64())])
    result = write_parquet(iter([]), f"mpu://{bucket}/{key}.parquet", schema=schema,
                           storage_options=storage_options)
    assert result.rows == 0 and read_back(fs, f"{bucket}/{key}.parquet").schema_arrow == schema
    with pytest.raises(ConfigurationError, match="pass schema="):
        write_parquet(iter([]), f"mpu://{bucket}/{key}-none.parquet",
                      storage_options=storage_options)
    assert not object_exists(boto, bucket, f"{key}-none.parquet")


def test_options_reach_the_encoder_and_the_writer(fs, bucket, key, boto, storage_options):
    write_parquet(pd.DataFrame({"a": range(100)}), f"mpu://{bucket}/{key}.parquet",
                  storage_options=storage_options, compression="zstd", compression_level=5,
                  use_dictionary=False, metadata={"job": "7"})
    column = read_back(fs, f"{bucket}/{key}.parquet").metadata.row_group(0).column(0)
    assert column.compression == "ZSTD"
    assert boto.head_object(Bucket=bucket, Key=f"{key}.parquet")["Metadata"] == {"job": "7"}
    with pytest.raises(ConfigurationError, match="did you mean 'compression_level'"):
        write_parquet(pd.DataFrame({"a": [1]}), f"mpu://{bucket}/{key}-x.parquet",
                      storage_options=storage_options, compresion_level=5)
    assert not object_exists(boto, bucket, f"{key}-x.parquet")


# -- pandas and pyarrow through mpu:// ---------------------------------------------------------
def test_pandas_partition_cols_write_each_file_through_the_writer(fs, bucket, key, boto,
                                                                  storage_options):
    df = pd.DataFrame({"p": ["a", "b"] * 500, "x": range(1000)})
    so = {**storage_options, "metadata": {"writer": "mpu"}}
    df.to_parquet(f"mpu://{bucket}/{key}", partition_cols=["p"], storage_options=so)
    files = fs.find(f"{bucket}/{key}")
    assert {f.split("/")[-2] for f in files} == {"p=a", "p=b"}
    for path in files:  # the metadata default of MPUFileSystem proves which writer wrote it
        assert boto.head_object(Bucket=bucket, Key=path.split("/", 1)[1])["Metadata"] == {
            "writer": "mpu"}
    back = pd.read_parquet(f"mpu://{bucket}/{key}", storage_options=storage_options)
    assert sorted(back["x"]) == list(range(1000)) and set(back["p"].astype(str)) == {"a", "b"}


def test_pyarrow_dataset_writes_partitions_through_the_filesystem(fs, bucket, key):
    table = pa.table({"p": [1, 2, 3] * 1000, "x": range(3000)})
    pyfs = pafs.PyFileSystem(pafs.FSSpecHandler(fs))
    ds.write_dataset(table, f"{bucket}/{key}", filesystem=pyfs, format="parquet",
                     partitioning=["p"], partitioning_flavor="hive")
    assert len(fs.find(f"{bucket}/{key}")) == 3
    back = ds.dataset(f"{bucket}/{key}", filesystem=pyfs, partitioning="hive").to_table()
    assert sorted(back.column("x").to_pylist()) == list(range(3000))


def test_failing_dataset_source_leaves_no_file_and_no_upload(storage_options, bucket, key,
                                                             boto):
    """pyarrow drops its open files without closing them; the writers abort when collected."""
    events = []
    fs = MPUFileSystem(**storage_options, part_size=PART, progress=events.append,
                       skip_instance_cache=True)
    schema = pa.schema([("p", pa.int64()), ("x", pa.float64())])
    rng = np.random.default_rng(1)

    def batches():  # fails once parts have landed (pyarrow writes on its own threads)
        for _ in range(200):
            if any(e.parts_done for e in events):
                raise RuntimeError("source failed")
            yield pa.record_batch({"p": np.arange(300_000) % 2, "x": rng.random(300_000)},
                                  schema=schema)

    with pytest.raises(RuntimeError, match="source failed"):
        ds.write_dataset(pa.RecordBatchReader.from_batches(schema, batches()),
                         f"{bucket}/{key}", format="parquet", partitioning=["p"],
                         partitioning_flavor="hive", max_rows_per_group=100_000,
                         filesystem=pafs.PyFileSystem(pafs.FSSpecHandler(fs)),
                         # threaded, pyarrow 26 once hung in its own plan (all of its threads
                         # idle, none in Python) after the source raised under heavy load
                         use_threads=False)
    assert any(e.upload_id and e.parts_done for e in events), "parts were really uploaded"
    wait_until(lambda: not boto.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads"))
    assert boto.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0


def test_stream_parquet_encodes_off_the_main_thread_and_writes_on_it():
    """Where an interrupt cannot land inside pyarrow's conversion and encoding; the file and
    the producer are used from the caller's thread only."""
    pulled, grouped = [], []

    class File(io.BytesIO):
        writers: set[str] = set()

        def write(self, data):
            self.writers.add(threading.current_thread().name)
            return super().write(data)

    def frames():
        for start in (0, 1000):
            pulled.append(threading.current_thread().name)
            yield typed_chunk(start, 1000)

    file = File()
    stream_parquet(frames(), file, row_group_size=500,
                   on_row_group=lambda rows: grouped.append(threading.current_thread().name))
    assert pq.read_table(io.BytesIO(file.getvalue())).num_rows == 2000
    assert file.writers == set(pulled) == {"MainThread"}
    assert grouped == ["mpu_toolkit encoder"] * 4
