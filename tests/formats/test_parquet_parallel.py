"""Row groups encoded two at a time as files of their own, stitched into one Parquet object."""

from __future__ import annotations

import io
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import incomplete_uploads, object_exists

from mpu_toolkit import write_parquet
from mpu_toolkit.formats.parquet import stream_parquet
from mpu_toolkit.formats.parquet_parallel import write_in_pieces

POOL = "mpu_toolkit parquet"


def chunk(start: int, rows: int) -> pd.DataFrame:
    i = np.arange(start, start + rows)
    return pd.DataFrame({
        "i": i, "x": i / 3, "s": [f"row {v % 97}" for v in i],
        "n": pd.array([None if v % 5 == 0 else v for v in i], dtype="Int64"),
        "t": pd.date_range("2024-01-01", periods=rows, freq="s", tz="UTC")
        + pd.Timedelta(seconds=int(start)),
    })


def chunks(count: int = 5, rows: int = 1000):
    return [chunk(n * rows, rows) for n in range(count)]


def pool_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(POOL)]


def test_every_reader_reads_the_stitched_object_back(fs, bucket, key, tmp_path,
                                                    storage_options):
    import duckdb
    import polars as pl

    frames = chunks()
    result = write_parquet(iter(frames), f"mpu://{bucket}/{key}.parquet", write_page_index=True,
                           storage_options=storage_options, row_group_size=700,
                           preserve_index=False)
    expected = pd.concat(frames, ignore_index=True)
    local = tmp_path / "t.parquet"
    local.write_bytes(fs.cat(f"{bucket}/{key}.parquet"))
    meta = pq.ParquetFile(local).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [700] * 7 + [100]
    assert (result.rows, result.row_groups) == (5000, 8)
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(0).statistics
        assert (stats.min, stats.max) == (700 * g, min(700 * g + 699, 4999))
        assert meta.row_group(g).column(0).has_offset_index
    pd.testing.assert_frame_equal(pq.read_table(local).to_pandas(), expected)
    pd.testing.assert_frame_equal(pd.read_parquet(local), expected)
    pd.testing.assert_frame_equal(pq.read_table(local, filters=[("i", ">=", 4200)]).to_pandas(),
                                  expected[expected.i >= 4200].reset_index(drop=True))
    back = duckdb.sql(f"select * from '{local}' order by i").df()
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert pl.read_parquet(local).equals(pl.from_pandas(expected))


def test_without_page_indexes_the_object_is_the_one_writer_file_byte_for_byte():
    """What differs from one ``ParquetWriter``: nothing, when page indexes and bloom filters
    (which that writer puts at the end of the file, the pieces at the end of each body) are
    off: same pages, same offsets, same footer (created_by, schema metadata)."""
    frames = chunks()
    stitched, single = io.BytesIO(), io.BytesIO()
    grouped: list[tuple[int, bool]] = []
    stream_parquet(iter(frames), stitched, row_group_size=700,
                   on_row_group=lambda rows: grouped.append((rows, bool(pool_threads()))))
    collected: list[pq.FileMetaData] = []
    stream_parquet(iter(frames), single, row_group_size=700, metadata_collector=collected)
    assert grouped == [(700, True)] * 7 + [(100, True)]  # in order, encoded on the pool
    assert stitched.getvalue() == single.getvalue()


def test_metadata_collector_keeps_one_writer():
    """The one writer's footer, as ParquetFiles needs for _metadata: no pool."""
    collected: list[pq.FileMetaData] = []
    file = io.BytesIO()
    pools: list[list[str]] = []
    stream_parquet(iter(chunks()), file, row_group_size=700, write_page_index=True,
                   metadata_collector=collected,
                   on_row_group=lambda rows: pools.append(pool_threads()))
    assert pools == [[]] * 8
    meta = pq.ParquetFile(io.BytesIO(file.getvalue())).metadata
    assert collected[0].num_row_groups == meta.num_row_groups == 8
    assert collected[0].row_group(7).column(0).file_offset == \
        meta.row_group(7).column(0).file_offset


def test_one_row_group_and_none_are_the_writers_own_file():
    frames = chunks(2)
    one = io.BytesIO()
    stream_parquet(iter(frames), one, preserve_index=False)
    reference = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(pd.concat(frames), preserve_index=False), reference)
    assert one.getvalue() == reference.getvalue().to_pybytes()

    schema = pa.schema({"a": pa.int64()})
    empty = io.BytesIO()
    stream_parquet(iter([]), empty, schema=schema)
    assert pq.read_table(io.BytesIO(empty.getvalue())).schema.equals(schema)
    assert pq.ParquetFile(io.BytesIO(empty.getvalue())).metadata.num_row_groups == 0


def failing(after: int):
    for n, frame in enumerate(chunks(10)):
        if n == after:
            raise RuntimeError(f"producer failed after {n} chunks")
        yield frame


@pytest.mark.parametrize("on_main", [True, False])
def test_producer_failure_publishes_nothing_and_ends_the_pool(bucket, key, boto,
                                                              storage_options, on_main):
    url = f"mpu://{bucket}/{key}.parquet"
    events: list = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            write_parquet(failing(6), url, storage_options=storage_options, row_group_size=400,
                          progress=events.append)
        except RuntimeError as exc:
            errors.append(exc)

    if on_main:
        write()
    else:  # the pool run straight from the caller's thread, not the encoder's
        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
    assert "producer failed after 6 chunks" in str(errors[0])
    assert (events[-1].state, events[-1].rows) == ("failed", 6000)
    assert pool_threads() == []
    assert not object_exists(boto, bucket, f"{key}.parquet")
    assert incomplete_uploads(boto, bucket, f"{key}.parquet") == []


def test_an_encoder_failure_stops_the_writing_and_ends_the_pool():
    file = io.BytesIO()
    table = pa.table({"a": np.arange(10)})
    groups = (table if n < 3 else pa.table({"b": ["x"]}) for n in range(8))
    with pytest.raises(ValueError, match="schema does not match"):
        write_in_pieces(groups, file, table.schema, "snappy", {}, workers=2)
    assert pool_threads() == []
    assert file.getvalue().startswith(b"PAR1")  # the pieces before the failing one
    with pytest.raises(pa.ArrowInvalid):  # no footer: never a readable half file
        pq.ParquetFile(io.BytesIO(file.getvalue()))
