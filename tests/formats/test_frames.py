"""Input normalisation and schema conformance, as pure functions (no server)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mpu_toolkit import SchemaMismatchError
from mpu_toolkit.formats.frames import arrow_tables, dataframes, iter_chunks

SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.float64())])


def test_every_input_kind_becomes_chunks():
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    table = pa.Table.from_pandas(df, preserve_index=False)
    batch = table.to_batches()[0]
    reader = pa.RecordBatchReader.from_batches(table.schema, [batch, batch])
    assert len(list(iter_chunks(df))) == 1
    assert len(list(iter_chunks(table))) == 1
    assert len(list(iter_chunks(batch))) == 1
    assert len(list(iter_chunks(reader))) == 2
    assert len(list(iter_chunks(x for x in [df, table, batch]))) == 3


class ArrowStreamOnly:
    """An object that only speaks the Arrow C stream protocol (like polars or DuckDB)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table.__arrow_c_stream__(requested_schema)


def test_arrow_c_stream_objects_are_read():
    table = pa.table({"a": [1, 2, 3]})
    assert pa.concat_tables(arrow_tables(ArrowStreamOnly(table))).equals(table)


@pytest.mark.parametrize("bad", ["data.csv", b"bytes", {"a": [1]}, 42])
def test_wrong_input_kinds_are_refused_at_once(bad):
    with pytest.raises(TypeError, match="frames must be a DataFrame"):
        arrow_tables(bad)


def test_a_wrong_item_is_named():
    with pytest.raises(TypeError, match="chunk 2 is a list"):
        list(arrow_tables([pd.DataFrame({"a": [1]}), [1, 2]]))


def test_safe_differences_are_cast_to_the_first_schema():
    first = pa.table({"a": pa.array([1], pa.int64()), "b": [0.5]})
    later = pa.table({"b": pa.array([1.5], pa.float32()), "a": pa.array([2], pa.int32())})
    nulls = pa.table({"a": pa.array([None], pa.null()), "b": [2.5]})
    out = list(arrow_tables([first, later, nulls]))
    assert all(t.schema.equals(first.schema) for t in out)
    assert pa.concat_tables(out).column("a").to_pylist() == [1, 2, None]


@pytest.mark.parametrize("later, message", [
    (pa.table({"a": pa.array([1.5]), "b": [1.0]}), r"column 'a' is double, the schema has int64"),
    (pa.table({"a": ["7"], "b": [1.0]}), r"column 'a' is string, the schema has int64 \(text"),
    (pa.table({"a": [1], "c": [1.0]}), r"missing \['b'\]; not in the schema \['c'\]"),
])
def test_unsafe_differences_are_refused_naming_the_column(later, message):
    with pytest.raises(SchemaMismatchError, match=message):
        list(arrow_tables([pa.table({"a": [1], "b": [0.5]}), later]))


def test_given_schema_applies_to_dataframes_and_keeps_pandas_metadata():
    df = pd.DataFrame({"a": np.array([1, 2], dtype="int32"), "b": [0.5, None]})
    (table,) = arrow_tables(df, schema=SCHEMA, preserve_index=False)
    assert table.schema.equals(SCHEMA) and b"pandas" in table.schema.metadata


def test_dataframe_not_fitting_the_given_schema_names_the_column():
    with pytest.raises(SchemaMismatchError, match="column 'a' is .*string.*int64"):
        list(arrow_tables(pd.DataFrame({"a": ["x"], "b": [1.0]}), schema=SCHEMA))


def test_index_stored_in_some_chunks_only_gets_a_hint():
    chunks = [pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]}, index=[7])]
    with pytest.raises(SchemaMismatchError, match="preserve_index=True or False"):
        list(arrow_tables(chunks))


def test_bad_preserve_index_is_refused():
    with pytest.raises(TypeError, match="preserve_index"):
        arrow_tables(pd.DataFrame({"a": [1]}), preserve_index="yes")


def test_dataframes_reorders_columns_and_refuses_other_ones():
    first, swapped = pd.DataFrame({"a": [1], "b": [2]}), pd.DataFrame({"b": [4], "a": [3]})
    out = list(dataframes([first, swapped, pa.table({"a": [5], "b": [6]})]))
    assert [list(df.columns) for df in out] == [["a", "b"]] * 3
    with pytest.raises(SchemaMismatchError, match=r"chunk 2 has columns \['a', 'c'\]"):
        list(dataframes([first, pd.DataFrame({"a": [1], "c": [2]})]))
