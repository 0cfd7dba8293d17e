"""Frames in: what producers hand over, normalised to one stream of chunks with one schema.

A producer may give a DataFrame, a pyarrow Table / RecordBatch / RecordBatchReader, anything
with ``__arrow_c_stream__`` (polars, DuckDB ...), or an iterable of DataFrames, Tables and
RecordBatches (a generator, ``pd.read_csv(..., chunksize=...)``, ``pd.read_sql(...,
chunksize=...)``). Chunks are pulled one at a time, so the producer never has to hold all
the data. Every later chunk must fit the schema of the first one (or of ``schema=``): safe
casts (``int32`` → ``int64``, another column order, all-null columns) are applied, anything
else is refused with a :class:`SchemaMismatchError` naming the column and both types.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Union

import pandas as pd
import pyarrow as pa

from ..errors import MPUError

__all__ = ["Frames", "SchemaMismatchError", "iter_chunks", "arrow_tables", "dataframes",
           "row_chunks"]

Chunk = Union[pd.DataFrame, pa.Table, pa.RecordBatch]
Frames = Union[Chunk, pa.RecordBatchReader, Iterable[Chunk]]

#: rows encoded at a time from one frame: Arrow copies and rendered text stay small
CHUNK_ROWS = 50_000

_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
                      KeyError, TypeError, ValueError)


class SchemaMismatchError(MPUError, ValueError):
    """A chunk does not fit the stream's schema (the first chunk's, or ``schema=``)."""


def iter_chunks(frames: Frames) -> Iterator[Chunk]:
    """The chunks of ``frames``, one at a time; the input's kind is checked at once."""
    if isinstance(frames, (pd.DataFrame, pa.Table, pa.RecordBatch)):
        return iter([frames])
    if isinstance(frames, pa.RecordBatchReader):
        return iter(frames)
    if hasattr(frames, "__arrow_c_stream__"):
        return iter(pa.RecordBatchReader.from_stream(frames))
    if isinstance(frames, (str, bytes, Mapping)) or not isinstance(frames, Iterable):
        raise TypeError(
            f"frames must be a DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, "
            f"or an iterable of DataFrames/Tables/RecordBatches, not {type(frames).__name__}"
            + (" (to write a file's contents, read it into frames first)"
               if isinstance(frames, (str, bytes)) else ""))
    return _checked(frames)


def _checked(items: Iterable[Any]) -> Iterator[Chunk]:
    for number, item in enumerate(items, 1):
        if not isinstance(item, (pd.DataFrame, pa.Table, pa.RecordBatch)):
            raise TypeError(f"chunk {number} is a {type(item).__name__}; each chunk must be a "
                            "DataFrame, a pyarrow Table or a RecordBatch")
        yield item


def arrow_tables(frames: Frames, *, schema: pa.Schema | None = None,
                 preserve_index: bool | None = None) -> Iterator[pa.Table]:
    """Every chunk as a pyarrow Table with the same schema (``schema=`` or the first chunk's).

    DataFrames are converted with ``pa.Table.from_pandas(df, schema, preserve_index)``, so the
    pandas metadata that round-trips dtypes and the index travels with the first table.
    """
    if preserve_index not in (None, True, False):
        raise TypeError(f"preserve_index must be None, True or False, not {preserve_index!r}")
    return _conformed(iter_chunks(frames), schema, preserve_index)


def _conformed(chunks: Iterator[Chunk], schema: pa.Schema | None,
               preserve_index: bool | None) -> Iterator[pa.Table]:
    target = schema
    for number, chunk in enumerate(chunks, 1):
        table = _to_table(chunk, schema, preserve_index, number)
        if target is None or (number == 1 and table.schema.equals(schema,
                                                                  check_metadata=False)):
            target = table.schema  # the first chunk's (given fields plus pandas metadata)
        yield conform(table, target, f"chunk {number}")


def _to_table(chunk: Chunk, schema: pa.Schema | None, preserve_index: bool | None,
              number: int) -> pa.Table:
    if isinstance(chunk, pa.Table):
        return chunk
    if isinstance(chunk, pa.RecordBatch):
        return pa.Table.from_batches([chunk])
    if schema is not None:
        try:
            return pa.Table.from_pandas(chunk, schema=schema, preserve_index=preserve_index)
        except _CONVERSION_ERRORS:
            pass  # converted as is below, so that conform() can say which column differs
    try:
        return pa.Table.from_pandas(chunk, preserve_index=preserve_index)
    except _CONVERSION_ERRORS as exc:
        raise SchemaMismatchError(f"chunk {number}: cannot convert the DataFrame to Arrow: "
                                  f"{exc}; give the column one type (e.g. astype)") from exc


def conform(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """``table`` with exactly ``schema``'s fields, by name; safe casts only."""
    if table.schema.equals(schema, check_metadata=False):
        return table
    names = table.column_names
    missing = [n for n in schema.names if n not in names]
    extra = [n for n in names if n not in schema.names]
    if missing or extra:
        hint = (" (an index stored as a column in some chunks only: pass preserve_index=True "
                "or False)" if any(str(n).startswith("__index_level_") for n in missing + extra)
                else "")
        raise SchemaMismatchError(
            f"{where} has columns {names}, the schema has {schema.names}: "
            + "; ".join(([f"missing {missing}"] if missing else [])
                        + ([f"not in the schema {extra}"] if extra else []))
            + f"{hint}. Give every chunk the same columns, or select them in the producer")
    columns = [_cast(table.column(field.name), field, where) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def _cast(column: pa.ChunkedArray, field: pa.Field, where: str) -> pa.ChunkedArray:
    if column.type == field.type:
        return column
    problem = None
    if _is_text(column.type) and not _is_text(field.type):
        problem = "text is not parsed into other types"
    else:
        try:
            return column.cast(field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            problem = str(exc).splitlines()[0]
    raise SchemaMismatchError(
        f"{where}: column {field.name!r} is {column.type}, the schema has {field.type} "
        f"({problem}). Convert the column in the producer, or pass schema= with a type that "
        "every chunk fits")


def _is_text(type_: pa.DataType) -> bool:
    return (pa.types.is_string(type_) or pa.types.is_large_string(type_)
            or pa.types.is_binary(type_) or pa.types.is_large_binary(type_)
            or pa.types.is_string_view(type_) or pa.types.is_binary_view(type_))


def dataframes(frames: Frames) -> Iterator[pd.DataFrame]:
    """Every chunk as a DataFrame with the first chunk's columns (reordered if needed)."""
    return _same_columns(iter_chunks(frames))


def _same_columns(chunks: Iterator[Chunk]) -> Iterator[pd.DataFrame]:
    columns: list[Any] | None = None
    for number, chunk in enumerate(chunks, 1):
        df = chunk if isinstance(chunk, pd.DataFrame) else chunk.to_pandas()
        if columns is None:
            columns = list(df.columns)
        elif list(df.columns) != columns:
            if sorted(map(str, df.columns)) != sorted(map(str, columns)):
                raise SchemaMismatchError(
                    f"chunk {number} has columns {list(df.columns)}, the first chunk has "
                    f"{columns}. Give every chunk the same columns")
            df = df[columns]
        yield df


def row_chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """``frame`` in slices of :data:`CHUNK_ROWS` rows; an empty frame is one empty slice (an
    empty file still has a schema, or a CSV header)."""
    if len(frame) == 0:
        yield frame
    for start in range(0, len(frame), CHUNK_ROWS):
        yield frame.iloc[start:start + CHUNK_ROWS]
