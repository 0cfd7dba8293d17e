"""Parquet pieces: each partition a Parquet body, and one footer for all of them at the end.

A worker converts its partition to Arrow with the job's one schema (safe casts only, else
:class:`~mpu_toolkit.SchemaMismatchError` naming the partition), encodes it with pyarrow's
``ParquetWriter`` in row groups of ``row_group_size`` (as :func:`~mpu_toolkit.write_parquet`
does), and keeps the bytes between the magic and the footer; piece 0 keeps the leading
``PAR1`` too. Its footer travels back to the client as the piece's ``meta``, a few KiB. The
client's trailer is :func:`~mpu_toolkit.formats.parquet_footer.merged_footer`: every row
group of every piece, offsets moved to where the bodies now sit.

The schema is taken, before any upload, from the frame's ``_meta``; when ``_meta`` has object
columns (strings, decimals, lists ...) their types are inferred from the first rows of the
first partition, as Dask's ``to_parquet(schema="infer")`` does. Pass ``schema=`` to decide.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from ..formats.frames import SchemaMismatchError, conform
from ..formats.parquet import PARQUET_OPTIONS
from ..formats.parquet_footer import merged_footer, split_piece
from ..formats.rowgroups import RowGroupSize, rebatch
from .pieces import EncodedPiece

__all__ = ["ParquetEncoder", "parquet_encoder", "job_schema"]

CONTENT_TYPE = "application/vnd.apache.parquet"
_SAMPLE_ROWS = 1_000


@dataclass(frozen=True)
class ParquetEncoder:
    """Partitions as bodies of one Parquet file with ``schema``; picklable."""

    schema: pa.Schema
    row_group_size: RowGroupSize
    preserve_index: bool
    compression: str | None = "snappy"
    parquet_options: Mapping[str, Any] = field(default_factory=dict)
    content_type: str = CONTENT_TYPE

    def encode(self, frame: Any, index: int) -> EncodedPiece:
        table = self._table(frame, index)
        groups = list(rebatch([table], self.row_group_size))  # slices: no copy
        data = self._parquet(groups)
        start, piece = split_piece(data)
        view = memoryview(data)
        return EncodedPiece(view[:start] if index == 0 else view[4:start], table.num_rows,
                            replace(piece, row_groups=len(groups)))

    def trailer(self, metas: Sequence[Any]) -> bytes:
        return merged_footer(metas)

    def row_groups(self, metas: Sequence[Any]) -> int | None:
        return sum(piece.row_groups for piece in metas)

    def check(self) -> None:
        """Encode no rows here, so that a bad option fails before any upload starts."""
        self._parquet(iter(()))

    def _table(self, frame: Any, index: int) -> pa.Table:
        if not len(frame):  # an empty partition's dtypes are often not the data's: no rows
            return self.schema.empty_table()
        where = f"partition {index}"
        try:
            table = pa.Table.from_pandas(frame, preserve_index=self.preserve_index)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise SchemaMismatchError(f"{where}: cannot convert to Arrow: {exc}; give the "
                                      "column one type (e.g. astype)") from exc
        return conform(table, self.schema, where)

    def _parquet(self, groups: Any) -> bytes:
        sink = io.BytesIO()
        writer = pq.ParquetWriter(sink, self.schema, compression=self.compression,
                                  **dict(self.parquet_options))
        for group in groups:
            writer.write_table(group, row_group_size=group.num_rows)
        writer.close()
        return sink.getvalue()


def parquet_encoder(ddf: Any, options: dict[str, Any], compression: Any) -> ParquetEncoder:
    """The encoder for ``ddf``, taking its own keywords out of ``options``."""
    preserve_index = options.pop("preserve_index", None)
    if preserve_index not in (None, True, False):
        raise TypeError(f"preserve_index must be None, True or False, not {preserve_index!r}")
    preserve = preserve_index is not False  # the index is a column, as Dask writes it
    schema = job_schema(ddf, preserve, options.pop("schema", None))
    size = RowGroupSize.parse(options.pop("row_group_size", "128MiB"))
    parquet_options = {k: options.pop(k) for k in list(options) if k in PARQUET_OPTIONS}
    encoder = ParquetEncoder(schema, size, preserve,
                             "snappy" if compression == "infer" else compression,
                             parquet_options)
    encoder.check()
    return encoder


def job_schema(ddf: Any, preserve_index: bool, schema: pa.Schema | None) -> pa.Schema:
    """The one schema of every piece: ``schema``, or the frame's ``_meta`` completed by a
    sample of the first partition where ``_meta`` cannot say (object columns)."""
    if schema is not None:
        if not isinstance(schema, pa.Schema):
            raise TypeError(f"schema must be a pyarrow.Schema, not {type(schema).__name__}")
        return schema
    meta = ddf._meta
    sample = meta
    if any(dtype == object for dtype in meta.dtypes) or meta.index.dtype == object:
        with warnings.catch_warnings():  # fewer rows than asked for is fine for a sample
            warnings.simplefilter("ignore", UserWarning)
            sample = ddf.head(_SAMPLE_ROWS, npartitions=1, compute=True)
    try:
        return pa.Schema.from_pandas(sample, preserve_index=preserve_index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise SchemaMismatchError(f"partition 0: cannot convert to Arrow: {exc}; give the "
                                  "column one type (e.g. astype), or pass schema=") from exc
