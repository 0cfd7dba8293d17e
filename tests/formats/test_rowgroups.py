"""Re-batching into row groups, as a pure function (no server)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpu_toolkit import ConfigurationError, stream_parquet
from mpu_toolkit.formats.rowgroups import RowGroupSize, rebatch

chunk_sizes = st.lists(st.integers(min_value=0, max_value=60), max_size=25)


def tables(sizes: list[int]) -> list[pa.Table]:
    start, out = 0, []
    for n in sizes:
        out.append(pa.table({"i": pa.array(range(start, start + n), pa.int64())}))
        start += n
    return out


def expected_groups(total: int, target: int) -> list[int]:
    return [target] * (total // target) + ([total % target] if total % target else [])


@given(sizes=chunk_sizes, target=st.integers(min_value=1, max_value=50))
def test_row_target_gives_exact_groups_in_order(sizes, target):
    groups = list(rebatch(tables(sizes), RowGroupSize(rows=target)))
    assert [g.num_rows for g in groups] == expected_groups(sum(sizes), target)
    values = [v for g in groups for v in g.column("i").to_pylist()]
    assert values == list(range(sum(sizes)))


@given(sizes=chunk_sizes, rows_per_group=st.integers(min_value=1, max_value=50))
def test_byte_target_follows_the_row_width(sizes, rows_per_group):
    """int64 rows are 8 bytes wide: a target of 8 × n bytes gives groups of n rows."""
    groups = list(rebatch(tables(sizes), RowGroupSize(bytes=8 * rows_per_group)))
    assert [g.num_rows for g in groups] == expected_groups(sum(sizes), rows_per_group)


def test_byte_target_adapts_to_wide_rows():
    narrow = pa.table({"s": ["x"] * 10_000})  # 5 bytes a row (offset + 1)
    wide = pa.table({"s": ["x" * 100] * 1000})  # 104 bytes a row
    groups = list(rebatch([narrow, wide], RowGroupSize(bytes=10_000)))
    assert sum(g.num_rows for g in groups) == 11_000
    assert all(g.nbytes <= 12_000 for g in groups)
    assert groups[0].num_rows > 5 * groups[-2].num_rows


@settings(max_examples=40, deadline=None)
@given(sizes=chunk_sizes, target=st.integers(min_value=1, max_value=50))
def test_parquet_row_groups_are_exact_for_any_chunking(sizes, target):
    sink = io.BytesIO()
    stream_parquet(tables(sizes), sink, schema=pa.schema([("i", pa.int64())]),
                   row_group_size=target)
    meta = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
    counts = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert counts == expected_groups(sum(sizes), target)
    assert pq.read_table(io.BytesIO(sink.getvalue())).column("i").to_pylist() == list(
        range(sum(sizes)))


@pytest.mark.parametrize("value, parsed", [
    (1000, RowGroupSize(rows=1000)), ("128MiB", RowGroupSize(bytes=128 << 20)),
    ("1000", RowGroupSize(bytes=1000))])
def test_row_group_size_parsing(value, parsed):
    assert RowGroupSize.parse(value) == parsed


@pytest.mark.parametrize("bad", [0, -5, True, 1.5, None])
def test_bad_row_group_size_is_refused(bad):
    with pytest.raises(ConfigurationError, match="row_group_size"):
        RowGroupSize.parse(bad)
