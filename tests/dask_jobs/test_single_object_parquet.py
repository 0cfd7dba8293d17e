"""One Parquet object from every partition of a Dask frame, on a process LocalCluster against
the real server: pyarrow, pandas, DuckDB, Polars and Dask read it identically."""

from __future__ import annotations

import decimal
import io
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import incomplete_uploads, object_exists

dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")

from mpu_toolkit import (ConfigurationError, SchemaMismatchError, to_single_object,  # noqa: E402
                         write_parquet)
from mpu_toolkit._plan.sizing import MiB  # noqa: E402


def rich_frame(rows: int, start: int = 0) -> pd.DataFrame:
    """Nulls, dictionary strings, zoned timestamps, categoricals, decimals, nested lists, an
    index, and one incompressible column so that big partitions upload their own parts."""
    ids = np.arange(start, start + rows)
    noise = np.random.default_rng(start).bytes(48 * rows)
    return pd.DataFrame({
        "id": ids,
        "city": np.array(["Oslo", "Lima", None, "Pune"], dtype=object)[ids % 4],
        "value": np.where(ids % 3 == 0, np.nan, ids * 0.5),
        "ts": pd.to_datetime(ids, unit="s").tz_localize("UTC").tz_convert("Asia/Tokyo"),
        "kind": pd.Categorical(np.array(["a", "b", "c"])[ids % 3], categories=["a", "b", "c"]),
        "price": [decimal.Decimal(int(i)).scaleb(-2) if i % 5 else None for i in ids],
        "tags": [[int(i), int(i) + 1] if i % 2 else None for i in ids],
        "noise": [noise[i:i + 48] for i in range(0, 48 * rows, 48)],
    }, index=pd.Index(ids * 10, name="row"))


_INFERRED = pa.Schema.from_pandas(rich_frame(10), preserve_index=True)
#: decimals as wide as the data needs (a sample's precision is too narrow); pandas metadata
#: regenerated to match
SCHEMA = pa.Table.from_pandas(rich_frame(10), preserve_index=True, schema=_INFERRED.set(
    _INFERRED.get_field_index("price"), pa.field("price", pa.decimal128(12, 2)))).schema


def dask_frame(sizes: list[int]) -> Any:
    """Partitions of these row counts, object columns kept as objects (no Dask string
    conversion), so that decimals and lists reach the writer as they are."""
    starts = np.cumsum([0, *sizes])[:-1]
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(rich_frame, sizes, [int(s) for s in starts], meta=rich_frame(0))


#: tiny, big (> 2 x 5 MiB: it uploads its own parts), tiny, empty, medium, tiny
SIZES = [700, 250_000, 300, 0, 60_000, 11]


@pytest.fixture(scope="module")
def written(client, storage_options, bucket) -> tuple[str, pd.DataFrame, Any]:
    url = f"mpu://{bucket}/single-object-parquet/all.parquet"
    result = to_single_object(dask_frame(SIZES), url, storage_options=storage_options,
                              schema=SCHEMA, row_group_size=50_000, part_size="5MiB")
    expected = pd.concat([rich_frame(n, int(s)) for n, s in
                          zip(SIZES, np.cumsum([0, *SIZES])) if n])
    return url, expected, result


def test_result_and_object(written, boto, bucket, server):
    url, expected, result = written
    key = url.split("/", 3)[3]
    head = boto.head_object(Bucket=bucket, Key=key)
    assert result.rows == len(expected) and head["ContentLength"] == result.bytes
    assert result.row_groups == sum(-(-n // 50_000) for n in SIZES)
    assert head["ContentType"] == "application/vnd.apache.parquet"
    assert result.parts == int(head["ETag"].strip('"').split("-")[1]) > 2
    if not server.is_moto:  # moto answers HEAD ?partNumber= with a 500
        sizes = [boto.head_object(Bucket=bucket, Key=key, PartNumber=n)["ContentLength"]
                 for n in range(1, result.parts + 1)]
        assert min(sizes[:-1]) >= 5 * MiB  # the middle-part rule, as the server saw it
    assert incomplete_uploads(boto, bucket, key) == []


def test_pyarrow_and_pandas_read_every_row_once_in_order(written, storage_options):
    url, expected, _ = written
    with fsspec.open(url, "rb", **storage_options) as f:
        table = pq.read_table(f)
        f.seek(0)
        meta = pq.ParquetFile(f).metadata
    assert table.schema.names == SCHEMA.names
    assert meta.num_rows == len(expected)
    assert meta.num_row_groups == sum(-(-n // 50_000) for n in SIZES)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
        min(50_000, n - k) for n in SIZES for k in range(0, n, 50_000)]
    pd.testing.assert_frame_equal(table.to_pandas(), expected)
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=storage_options),
                                  expected)


def test_duckdb_reads_it_through_a_registered_mpu_filesystem(written, storage_options):
    duckdb = pytest.importorskip("duckdb")
    url, expected, _ = written
    con = duckdb.connect()
    con.register_filesystem(fsspec.filesystem("mpu", **storage_options))
    back = con.sql(f"SELECT id, city, value, price, tags, row FROM read_parquet('{url}')").df()
    assert back["id"].tolist() == expected["id"].tolist()
    assert back["row"].tolist() == expected.index.tolist()
    assert back["city"].isna().sum() == expected["city"].isna().sum()
    assert back["price"].astype(object).where(back["price"].notna(), None).tolist() == [
        None if p is None else float(p) for p in expected["price"]]
    assert con.sql(f"SELECT count(*), sum(id) FROM read_parquet('{url}')").fetchall() == [
        (len(expected), int(expected["id"].sum()))]


def test_polars_reads_it(written, storage_options):
    pl = pytest.importorskip("polars")
    url, expected, _ = written
    with fsspec.open(url, "rb", **storage_options) as f:
        back = pl.read_parquet(f)
    assert back.height == len(expected)
    assert back["id"].to_list() == expected["id"].tolist()
    assert back["tags"].to_list() == expected["tags"].tolist()
    assert str(back.schema["ts"].time_zone) == "Asia/Tokyo"


def test_dask_reads_it(written, storage_options):
    url, expected, _ = written
    back = dd.read_parquet(url, storage_options=storage_options).compute()
    assert back["id"].tolist() == expected["id"].tolist()
    assert back.index.tolist() == expected.index.tolist()


def test_metadata_matches_write_parquet_in_one_piece(written, storage_options, bucket):
    url, expected, _ = written
    one = f"mpu://{bucket}/single-object-parquet/one-piece.parquet"
    write_parquet(iter(rich_frame(n, int(s)) for n, s in zip(SIZES, np.cumsum([0, *SIZES]))
                       if n), one, storage_options=storage_options, schema=SCHEMA,
                  row_group_size=50_000, preserve_index=True)
    ours, theirs = (pq.read_metadata(fsspec.open(u, "rb", **storage_options).open())
                    for u in (url, one))
    assert ours.num_rows == theirs.num_rows
    assert ours.schema.equals(theirs.schema)
    assert ours.metadata[b"pandas"] == theirs.metadata[b"pandas"]
    # write_parquet's row groups cross the partitions' edges; compare each column's
    # statistics over the whole file
    for column in range(ours.num_columns):
        assert _column_summary(ours, column) == _column_summary(theirs, column)


def _column_summary(meta: Any, column: int) -> tuple[Any, ...]:
    stats = [meta.row_group(g).column(column).statistics for g in range(meta.num_row_groups)]
    with_values = [s for s in stats if s is not None and s.has_min_max]
    return (sum(s.null_count for s in stats), sum(s.num_values for s in stats),
            min((s.min for s in with_values), default=None),
            max((s.max for s in with_values), default=None))


def _poison(df: pd.DataFrame) -> pd.DataFrame:
    if len(df) and df["id"].iloc[0] == 1_000:
        return df.assign(value="not a number")  # partition 2 only
    return df


def test_a_partition_that_does_not_fit_the_schema_is_named_and_aborts(client, storage_options,
                                                                      boto, bucket, key):
    ddf = dask_frame([500, 500, 500]).map_partitions(_poison, meta=rich_frame(0))
    with pytest.raises(SchemaMismatchError, match=r"partition 2: column 'value'") as caught:
        to_single_object(ddf, f"mpu://{bucket}/{key}.parquet", storage_options=storage_options,
                         schema=SCHEMA)
    assert any("aborted" in note for note in getattr(caught.value, "__notes__", []))
    assert not object_exists(boto, bucket, f"{key}.parquet")
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


def test_schema_is_inferred_from_meta_and_a_sample(client, storage_options, bucket, key):
    url = f"mpu://{bucket}/{key}.parquet"
    df = rich_frame(3_000).drop(columns=["price"])  # decimals need a schema to fix precision
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dd.from_pandas(df, npartitions=3)
    to_single_object(ddf, url, storage_options=storage_options)
    pd.testing.assert_frame_equal(pd.read_parquet(url, storage_options=storage_options), df)


def test_an_empty_dask_frame_gives_a_valid_empty_file(storage_options, bucket, key):
    url = f"mpu://{bucket}/{key}.parquet"
    empty = rich_frame(0)
    result = to_single_object(dd.from_pandas(empty, npartitions=1), url,
                              storage_options=storage_options, schema=SCHEMA)
    back = pd.read_parquet(url, storage_options=storage_options)
    assert result.rows == 0 and len(back) == 0
    assert list(back.columns) == list(empty.columns) and back.index.name == "row"


def test_partition_on_is_refused_with_the_reason(storage_options, boto, bucket, key):
    with pytest.raises(ConfigurationError, match="ONE object, which cannot be partitioned.*"
                                                 "to_dataset"):
        to_single_object(dask_frame([10, 10]), f"mpu://{bucket}/{key}.parquet",
                         storage_options=storage_options, partition_on=["kind"])
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


def test_too_many_partitions_are_refused_before_any_upload(storage_options, boto, bucket, key):
    ddf = dd.from_map(rich_frame, [1] * 10_000, list(range(10_000)), meta=rich_frame(0))
    with pytest.raises(ConfigurationError, match=r"10,000 partitions.*at most 9,999.*"
                                                 r"repartition"):
        to_single_object(ddf, f"mpu://{bucket}/{key}.parquet", storage_options=storage_options)
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


@pytest.mark.parametrize("options, problem", [
    ({"compression": "lzzz"}, "lzzz"),
    ({"row_group_siz": 5}, "did you mean 'row_group_size'"),
    ({"schema": "id int"}, "schema must be a pyarrow.Schema"),
])
def test_bad_parquet_options_fail_before_any_upload(storage_options, boto, bucket, key, options,
                                                    problem):
    with pytest.raises((ConfigurationError, TypeError, ValueError, pa.ArrowException),
                       match=problem):
        to_single_object(dask_frame([10, 10]), f"mpu://{bucket}/{key}.parquet",
                         storage_options=storage_options, **options)
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


def test_format_option_overrides_the_extension(storage_options, bucket, key):
    url = f"mpu://{bucket}/{key}.bin"
    to_single_object(dask_frame([5, 5]), url, storage_options=storage_options, format="parquet",
                     schema=SCHEMA)
    with fsspec.open(url, "rb", **storage_options) as f:
        assert pq.read_table(io.BytesIO(f.read())).num_rows == 10
