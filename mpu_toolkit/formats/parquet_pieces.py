"""Parquet for jobs over many partitions: one schema for every piece or file, and the pieces
of one object — each partition a Parquet body, one footer for all of them at the end.

A worker converts its partition to Arrow with the job's one schema (safe casts only, else
:class:`~mpu_toolkit.SchemaMismatchError` naming the partition), encodes it with pyarrow's
``ParquetWriter`` in row groups of ``row_group_size`` (as :func:`~mpu_toolkit.write_parquet`
does), and keeps the bytes between the magic and the footer; piece 0 keeps the leading
``PAR1`` too. Its footer travels back to the client as the piece's ``meta``, a few KiB. The
client's trailer is :func:`~mpu_toolkit.formats.parquet_footer.merged_footer`: every row
group of every piece, offsets moved to where the bodies now sit.

The schema is taken, before any upload, from the frame's meta; when the meta has object
columns (strings, decimals, lists ...) their types are inferred from the first rows of the
first partition, as Dask's ``to_parquet(schema="infer")`` does. Pass ``schema=`` to decide.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from .frames import SchemaMismatchError, conform
from .parquet_footer import ParquetPiece, merged_footer, split_piece
from .record import EncodedPiece, FrameJob
from .rowgroups import RowGroupSize, rebatch

__all__ = ["ParquetSettings", "ParquetEncoder", "parquet_pieces", "job_schema", "encode_file",
           "cut_piece"]


@dataclass(frozen=True)
class ParquetSettings:
    """One job's Parquet: the schema of every piece or file, and how they are encoded."""

    schema: pa.Schema
    row_group_size: RowGroupSize
    preserve_index: bool
    compression: str | None = "snappy"
    writer_options: Mapping[str, Any] = field(default_factory=dict)  #: ParquetWriter's

    @classmethod
    def of(cls, job: FrameJob) -> "ParquetSettings":
        options = dict(job.options)
        preserve_index = options.pop("preserve_index", None)
        if preserve_index not in (None, True, False):
            raise TypeError(f"preserve_index must be None, True or False, not "
                            f"{preserve_index!r}")
        preserve = preserve_index is not False  # the index is a column, as Dask writes it
        schema = job_schema(job, preserve, options.pop("schema", None))
        size = RowGroupSize.parse(options.pop("row_group_size", "128MiB"))
        compression = "snappy" if job.compression == "infer" else job.compression
        return cls(schema, size, preserve, compression, options)


@dataclass(frozen=True)
class ParquetEncoder:
    """Partitions as bodies of one Parquet file with the job's schema; picklable."""

    settings: ParquetSettings

    def encode(self, frame: Any, index: int) -> EncodedPiece:
        table = self._table(frame, index)
        groups = list(rebatch([table], self.settings.row_group_size))  # slices: no copy
        settings = self.settings
        data = encode_file(groups, settings.schema, settings.compression,
                           settings.writer_options)
        body, piece = cut_piece(data, first=index == 0)
        return EncodedPiece(body, table.num_rows, replace(piece, row_groups=len(groups)))

    def trailer(self, metas: Sequence[Any]) -> bytes:
        return merged_footer(metas)

    def row_groups(self, metas: Sequence[Any]) -> int | None:
        return sum(piece.row_groups for piece in metas)

    def _table(self, frame: Any, index: int) -> pa.Table:
        schema = self.settings.schema
        if not len(frame):  # an empty partition's dtypes are often not the data's: no rows
            return schema.empty_table()
        where = f"partition {index}"
        try:
            table = pa.Table.from_pandas(frame, preserve_index=self.settings.preserve_index)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise SchemaMismatchError(f"{where}: cannot convert to Arrow: {exc}; give the "
                                      "column one type (e.g. astype)") from exc
        return conform(table, schema, where)


def encode_file(groups: Iterable[pa.Table], schema: pa.Schema, compression: str | None,
                options: Mapping[str, Any]) -> memoryview:
    """``groups`` as one whole Parquet file in memory, a row group each (``options``:
    ``ParquetWriter``'s). A ``BytesIO``: it grows in place (``realloc``), where an Arrow
    ``BufferOutputStream`` costs the kernel twice the time in fresh pages (measured); its
    writes take the GIL, once per page."""
    sink = io.BytesIO()
    writer = pq.ParquetWriter(sink, schema, compression=compression, **dict(options))
    for group in groups:
        writer.write_table(group, row_group_size=group.num_rows)
    writer.close()
    return memoryview(sink.getvalue())


def cut_piece(data: memoryview, first: bool) -> tuple[memoryview, ParquetPiece]:
    """The bytes of the Parquet file ``data`` that go before the merged footer (from the
    leading ``PAR1`` for the ``first`` piece, else from after it), and its footer."""
    start, piece = split_piece(data)
    return data[:start] if first else data[4:start], piece


def parquet_pieces(job: FrameJob) -> ParquetEncoder:
    """The pieces of one Parquet object (the record's ``pieces``)."""
    return ParquetEncoder(ParquetSettings.of(job))


def job_schema(job: FrameJob, preserve_index: bool, schema: pa.Schema | None) -> pa.Schema:
    """The one schema of every piece: ``schema``, or the job's meta completed by its sample
    where the meta cannot say (object columns)."""
    if schema is not None:
        if not isinstance(schema, pa.Schema):
            raise TypeError(f"schema must be a pyarrow.Schema, not {type(schema).__name__}")
        return schema
    meta = job.meta
    sample = meta
    if any(dtype == object for dtype in meta.dtypes) or meta.index.dtype == object:
        sample = job.sample()
    try:
        return pa.Schema.from_pandas(sample, preserve_index=preserve_index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise SchemaMismatchError(f"partition 0: cannot convert to Arrow: {exc}; give the "
                                  "column one type (e.g. astype), or pass schema=") from exc
