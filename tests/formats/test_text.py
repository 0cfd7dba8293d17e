"""write_csv and write_jsonl against the real server: text, compression, guarantees."""

from __future__ import annotations

import gzip
import io
import threading
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from helpers import ctrl_c_pressed, incomplete_uploads, object_exists

from mpu_toolkit import ConfigurationError, SchemaMismatchError, write_csv, write_jsonl


def chunks(count: int = 3, rows: int = 1000, fail_after: int | None = None):
    for n in range(count):
        if n == fail_after:
            raise RuntimeError(f"producer failed after {n} chunks")
        i = np.arange(n * rows, (n + 1) * rows)
        yield pd.DataFrame({"i": i, "x": i / 3, "s": [f"v;{v}" for v in i],
                            "t": pd.date_range("2024-01-01", periods=rows, freq="h")
                            + pd.Timedelta(hours=int(n * rows))}, index=i)


def decompress(data: bytes, codec: str | None) -> str:
    if codec == "zstd":
        return pa.input_stream(pa.py_buffer(data), compression="zstd").read().decode()
    return (gzip.decompress(data) if codec == "gzip" else data).decode()


@pytest.mark.parametrize("suffix, codec", [("", None), (".gz", "gzip"), (".zst", "zstd")])
def test_csv_is_what_to_csv_writes_with_one_header(fs, bucket, key, storage_options, suffix,
                                                   codec):
    options = {"sep": ";", "index": False, "date_format": "%Y-%m-%dT%H", "na_rep": "NA"}
    result = write_csv(chunks(), f"mpu://{bucket}/{key}.csv{suffix}",
                       storage_options=storage_options, **options)
    text = decompress(fs.cat(f"{bucket}/{key}.csv{suffix}"), codec)
    assert text == pd.concat(chunks()).to_csv(**options)
    assert text.count("i;x;s;t") == 1 and result.rows == 3000 and result.row_groups is None


def test_csv_keeps_the_index_and_header_options_of_pandas(fs, bucket, key, storage_options):
    write_csv(chunks(), f"mpu://{bucket}/{key}.csv", storage_options=storage_options,
              header=["I", "X", "S", "T"], index_label="row")
    text = fs.cat(f"{bucket}/{key}.csv").decode()
    assert text == pd.concat(chunks()).to_csv(header=["I", "X", "S", "T"], index_label="row")


@pytest.mark.parametrize("compression, codec", [("infer", None), ("gzip", "gzip"),
                                                ("zstd", "zstd")])
def test_jsonl_is_what_to_json_lines_writes(fs, bucket, key, storage_options, compression,
                                            codec):
    frames = [pa.Table.from_pandas(df) for df in chunks()] + [pd.DataFrame(
        {"i": [], "x": [], "s": [], "t": []})]
    write_jsonl(iter(frames), f"mpu://{bucket}/{key}.jsonl", compression=compression,
                storage_options=storage_options, date_format="iso")
    text = decompress(fs.cat(f"{bucket}/{key}.jsonl"), codec)
    expected = pd.concat(chunks()).to_json(orient="records", lines=True, date_format="iso")
    assert text == expected and text.count("\n") == 3000


@pytest.mark.parametrize("writer, name, read, expected", [
    (write_csv, "csv", pd.read_csv, lambda df: df.to_csv()),
    (write_jsonl, "jsonl", partial(pd.read_json, lines=True),
     lambda df: df.to_json(orient="records", lines=True, date_format="iso"))])
def test_gzip_level_is_passed_as_pandas_dict_and_any_level_reads_back(
        fs, bucket, key, storage_options, writer, name, read, expected):
    options = {"date_format": "iso"} if name == "jsonl" else {}
    sizes = {}
    for level in (1, 3, 9):
        url = f"mpu://{bucket}/{key}-{level}.{name}"  # no .gz: the dict's method says it
        writer(chunks(), url, storage_options=storage_options,
               compression={"method": "gzip", "compresslevel": level}, **options)
        with fs.open(url, "rb") as f:
            back = read(f, compression="gzip")
        pd.testing.assert_frame_equal(back, read(io.StringIO(expected(pd.concat(chunks())))))
        sizes[level] = fs.size(url)
    assert sizes[9] < sizes[1]


def test_large_gzip_stream_is_one_valid_gzip_file_over_many_parts(fs, bucket, key, boto,
                                                               storage_options):
    rng = np.random.default_rng(3)
    frames = [pd.DataFrame({"r": rng.random(200_000)}) for _ in range(4)]
    result = write_csv(iter(frames), f"mpu://{bucket}/{key}.csv.gz",
                       storage_options=storage_options, part_size="5MiB", index=False)
    assert result.parts >= 2
    text = gzip.decompress(fs.cat(f"{bucket}/{key}.csv.gz")).decode()
    assert text == pd.concat(frames).to_csv(index=False)
    assert boto.head_object(Bucket=bucket, Key=f"{key}.csv.gz")["ContentType"] == "text/csv"


def test_csv_of_common_dtypes_is_rendered_by_arrow_and_the_rest_by_pandas_same_bytes(
        fs, bucket, key, storage_options, monkeypatch):
    calls = []
    to_csv = pd.DataFrame.to_csv
    monkeypatch.setattr(pd.DataFrame, "to_csv",
                        lambda self, *a, **k: calls.append(len(self)) or to_csv(self, *a, **k))
    common = list(chunks())  # ints, floats, str, datetimes: Arrow renders them
    odd = [frame.assign(s=frame["s"].astype(object)) for frame in chunks()]
    odd[1].loc[odd[1].index[0], "s"] = 3.5  # a float among str: pandas renders that chunk
    for name, frames, encoding in (("arrow", common, "utf-8"), ("mixed", odd, "utf-8"),
                                   ("latin", common, "latin-1")):
        calls.clear()
        url = f"mpu://{bucket}/{key}-{name}.csv"
        write_csv(iter(frames), url, storage_options=storage_options, encoding=encoding)
        rendered = len(calls)
        assert fs.cat(url) == to_csv(pd.concat(frames)).encode(encoding), name
        assert rendered == {"arrow": 0, "mixed": 1, "latin": 3}[name], (name, calls)


def test_a_gzip_of_many_members_is_read_whole_by_every_usual_reader(fs, bucket, key, tmp_path,
                                                                  storage_options):
    import duckdb
    import polars as pl
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(7)
    df = pd.DataFrame({"r": rng.random(500_000), "i": np.arange(500_000)})
    write_csv(df, f"mpu://{bucket}/{key}.csv.gz", storage_options=storage_options, index=False)
    blob = fs.cat(f"{bucket}/{key}.csv.gz")
    assert blob.count(b"\x1f\x8b\x08") >= 3  # several members (and few false matches)
    local = tmp_path / "t.csv.gz"
    local.write_bytes(blob)
    expected = df.to_csv(index=False)
    assert gzip.decompress(blob).decode() == expected
    pd.testing.assert_frame_equal(pd.read_csv(local), df)
    assert pacsv.read_csv(local).num_rows == len(df)
    assert pl.read_csv(local).height == len(df)
    assert duckdb.sql(f"select count(*), sum(i) from read_csv('{local}')").fetchall() == [
        (len(df), int(df["i"].sum()))]


@pytest.mark.parametrize("writer, suffix", [(write_csv, ".csv.gz"), (write_jsonl, ".jsonl.zst")])
def test_failing_producer_leaves_nothing(bucket, key, boto, storage_options, writer, suffix):
    events = []

    def big():  # fails once a part has landed
        rng = np.random.default_rng(4)
        while not any(e.parts_done for e in events):
            yield pd.DataFrame({"r": rng.random(150_000)})
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        writer(big(), f"mpu://{bucket}/{key}{suffix}", storage_options=storage_options,
               part_size="5MiB", progress=events.append)
    assert any(e.upload_id and e.parts_done for e in events), "parts were really uploaded"
    assert not object_exists(boto, bucket, f"{key}{suffix}")
    assert incomplete_uploads(boto, bucket, f"{key}{suffix}") == []


def test_bad_input_is_refused_before_anything_is_written(bucket, key, boto, storage_options):
    url = f"mpu://{bucket}/{key}.csv"
    with pytest.raises(ConfigurationError, match="compression='brotli'"):
        write_csv(chunks(), url, storage_options=storage_options, compression="brotli")
    with pytest.raises(ConfigurationError, match="did you mean 'sep'"):
        write_csv(chunks(), url, storage_options=storage_options, sepp=";")
    with pytest.raises(LookupError):
        write_csv(chunks(), url, storage_options=storage_options, encoding="no-such-codec")
    with pytest.raises(SchemaMismatchError, match="chunk 2 has columns"):
        write_csv(iter([pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]})]), url,
                  storage_options=storage_options)
    assert not object_exists(boto, bucket, f"{key}.csv")
    assert incomplete_uploads(boto, bucket, f"{key}.csv") == []


class Opaque:
    """A value pandas' JSON encoder does not know: it calls ``default_handler`` in Python."""


def test_ctrl_c_while_pandas_renders_json_aborts_and_says_so(bucket, key, boto,
                                                            storage_options):
    """pandas' C JSON encoder crashed (SIGSEGV) when a KeyboardInterrupt landed in it: it
    now runs off the main thread, so the interrupt reaches the caller, once the chunk is
    rendered, as a KeyboardInterrupt naming the aborted upload."""
    events, pulled, rendered = [], [], []
    inside, released = threading.Event(), threading.Event()

    def handler(value: Opaque) -> str:  # called back from inside to_json
        rendered.append(threading.current_thread().name)
        inside.set()
        released.wait(10)  # the interrupt lands meanwhile
        return "opaque"

    def frames():
        rng = np.random.default_rng(5)
        while not any(e.parts_done for e in events):  # a part landed: the upload is real
            pulled.append(threading.current_thread().name)
            yield pd.DataFrame({"r": rng.random(150_000)})
        yield pd.DataFrame({"r": [Opaque()] * 3})
        yield pd.DataFrame({"r": rng.random(10)})  # never rendered

    url = f"mpu://{bucket}/{key}.jsonl"
    with ctrl_c_pressed(inside, released), pytest.raises(KeyboardInterrupt) as interrupt:
        write_jsonl(frames(), url, storage_options=storage_options, part_size="5MiB",
                    default_handler=handler, progress=events.append)
    assert released.is_set()  # the rendering ended before the interrupt was re-raised
    assert set(pulled) == {"MainThread"} and rendered == ["mpu_toolkit encoder"] * 3
    assert any("aborted, nothing published" in note for note in interrupt.value.__notes__)
    assert not object_exists(boto, bucket, f"{key}.jsonl")
    assert incomplete_uploads(boto, bucket, f"{key}.jsonl") == []
