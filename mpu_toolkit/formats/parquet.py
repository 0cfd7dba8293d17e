"""Parquet streamed into a multipart upload, one row group at a time, with bounded memory.

Chunks (see :mod:`mpu_toolkit.formats.frames`) are converted to Arrow, conformed to one schema,
regrouped into row groups of a target size (:mod:`mpu_toolkit.formats.rowgroups`) and encoded by
pyarrow's ``ParquetWriter``, two row groups at a time, into the upload
(:mod:`mpu_toolkit.formats.parquet_parallel`). Memory holds the row groups being built and
encoded plus the upload's parts in flight, however large the stream. Any exception, from the
producer, the conversion or the upload, aborts: no object and no parts are left, not even
the "valid" half file (footer included) that ``ParquetWriter`` on s3fs or pyarrow's
S3FileSystem publishes.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import pandas as pd

import pyarrow as pa
import pyarrow.parquet as pq
from typing_extensions import Unpack

from ..errors import ConfigurationError
from .frames import Frames, arrow_tables, iter_chunks, row_chunks
from .frameupload import FrameUpload, FrameWriteResult, split_options
from .keywords import ParquetKeywords, ParquetWriteOptions
from .offthread import encode_off_thread
from .parquet_parallel import write_in_pieces
from .parquet_pieces import ParquetSettings, parquet_pieces
from ..progress import ProgressCallback
from .record import Format, FrameJob
from .rowgroups import RowGroupSize, rebatch

__all__ = ["write_parquet", "stream_parquet", "PARQUET_OPTIONS", "ParquetFiles",
           "metadata_file", "PARQUET"]

#: ``pq.ParquetWriter``'s own keywords (compression_level, use_dictionary, ...)
PARQUET_OPTIONS = frozenset(inspect.signature(pq.ParquetWriter.__init__).parameters) - {
    "self", "where", "schema", "filesystem", "compression", "options"}


def write_parquet(frames: Frames, url: str, *, storage_options: Mapping[str, Any] | None = None,
                  schema: pa.Schema | None = None, row_group_size: int | str = "128MiB",
                  compression: str | None = "snappy", preserve_index: bool | None = None,
                  progress: bool | ProgressCallback | None = None,
                  **options: Unpack[ParquetWriteOptions]) -> FrameWriteResult:
    """Stream ``frames`` as one Parquet object to ``url`` (``mpu://``, ``s3://``, ``bucket/key``).

    ``frames``: a DataFrame, pyarrow Table or RecordBatch, a RecordBatchReader, or an iterable
    of those (a generator, ``pd.read_csv(..., chunksize=...)``). ``row_group_size``: rows
    (int) or in-memory Arrow bytes (``"128MiB"``), whatever the chunks' sizes. ``schema``:
    the file's schema (default: the first chunk's); later chunks are cast when safe, else
    refused. ``preserve_index`` as in ``DataFrame.to_parquet``. ``progress``: ``True`` for a
    bar, or a callable receiving :class:`~mpu_toolkit.ProgressEvent` (with ``rows``).
    Other ``options``: ``pq.ParquetWriter`` keywords (``compression_level``,
    ``use_dictionary``, ``write_statistics`` ...) and writer options (``part_size``,
    ``concurrency``, ``max_memory``, ``checksum``, ``exclusive``, ``metadata``,
    ``storage_class``, ``ServerSideEncryption`` ...: see :func:`~mpu_toolkit.open_writer`).
    On any exception the upload is aborted and nothing is published.
    """
    parquet_options, writer_options = split_options(
        options, PARQUET_OPTIONS, "write_parquet",
        named=("schema", "row_group_size", "compression", "preserve_index", "progress"))
    size = RowGroupSize.parse(row_group_size)
    writer_options.setdefault("content_type", PARQUET.content_type)
    chunks = iter_chunks(frames)
    with FrameUpload(url, storage_options=storage_options, progress=progress,
                     writer_options=writer_options) as upload:
        upload.row_groups = 0
        stream_parquet(upload.taking(chunks), upload.file, schema=schema,
                       row_group_size=size, compression=compression,
                       preserve_index=preserve_index,
                       on_row_group=lambda rows: upload.add_row_group(), **parquet_options)
    assert upload.result is not None
    return upload.result


def stream_parquet(frames: Frames, file: BinaryIO | pa.NativeFile, *,
                   schema: pa.Schema | None = None,
                   row_group_size: int | str | RowGroupSize = "128MiB",
                   compression: str | None = "snappy", preserve_index: bool | None = None,
                   on_row_group: Callable[[int], None] | None = None,
                   **parquet_options: Unpack[ParquetKeywords]) -> None:
    """Encode ``frames`` as Parquet into any writable ``file``, one row group at a time.

    The file is written, never closed. After an exception its content is incomplete and must
    be discarded (:func:`write_parquet` aborts the upload). ``on_row_group(rows)`` is called
    after each row group. Options as in :func:`write_parquet`. Chunks are pulled and the file
    written on the caller's thread; from the main thread, conversion and encoding run on a
    worker thread, where an interrupt cannot land inside them (:mod:`.offthread`).
    """
    size = RowGroupSize.parse(row_group_size)
    encode_off_thread(lambda chunks, out: _encode(chunks, out, schema, size, compression,
                                                  preserve_index, on_row_group,
                                                  parquet_options),
                      iter_chunks(frames), file)


#: options that keep one ``ParquetWriter`` for the whole file, as its row groups cannot be
#: encoded as files of their own (:mod:`.parquet_parallel`): ``metadata_collector`` wants the
#: writer's footer of the whole file (``ParquetFiles`` gathers them for ``_metadata``), and
#: an encrypted file's footer and pages are keyed to that one file (and ``merged_footer``
#: refuses encrypted footers)
SEQUENTIAL = frozenset({"metadata_collector", "encryption_properties"})


def _encode(frames: Iterator[Any], file: Any, schema: pa.Schema | None, size: RowGroupSize,
            compression: str | None, preserve_index: bool | None,
            on_row_group: Callable[[int], None] | None,
            parquet_options: Mapping[str, Any]) -> None:
    tables = arrow_tables(frames, schema=schema, preserve_index=preserve_index)
    first = next(tables, None)
    if first is None and schema is None:
        raise ConfigurationError("frames held no chunk and no schema= was given: a Parquet "
                                 "file needs a schema; pass schema= to write an empty file")
    file_schema = first.schema if first is not None else schema
    groups = rebatch(itertools.chain([first] if first is not None else [], tables), size)
    # in pieces unless SEQUENTIAL; there, zero or one row group comes out as that one
    # piece's whole file: byte for byte what the loop below writes (nothing to stitch)
    if not parquet_options.keys() & SEQUENTIAL:
        write_in_pieces(groups, file, file_schema, compression, parquet_options, on_row_group)
        return
    writer = pq.ParquetWriter(file, file_schema, compression=compression, **parquet_options)
    for group in groups:
        writer.write_table(group, row_group_size=group.num_rows)
        if on_row_group is not None:
            on_row_group(group.num_rows)
    writer.close()


@dataclass(frozen=True)
class ParquetFiles:
    """A dataset's Parquet files, one schema for all (so that they form one dataset, and
    their footers one ``_metadata``); each file through :func:`stream_parquet`."""

    settings: ParquetSettings
    footers: bool  #: collect each file's footer, for ``_metadata``
    suffix: str = ""

    def encode(self, frame: pd.DataFrame, file: BinaryIO) -> Any:
        collected: list[Any] = []
        options: dict[str, Any] = dict(self.settings.writer_options)
        if self.footers:
            options["metadata_collector"] = collected  # a ParquetWriter keyword
        stream_parquet(row_chunks(frame), file, schema=self.settings.schema,
                       row_group_size=self.settings.row_group_size,
                       compression=self.settings.compression,
                       preserve_index=self.settings.preserve_index, **options)
        return collected[0] if collected else None


def parquet_files(job: FrameJob) -> ParquetFiles:
    """A dataset's files (the record's ``files``)."""
    return ParquetFiles(ParquetSettings.of(job), job.footers)


def metadata_file(footers: Sequence[tuple[str, Any]]) -> bytes:
    """Parquet's ``_metadata``: every file's row groups, with paths relative to the dataset,
    from each file's ``(name, footer)`` in the order given."""
    merged = None
    for name, footer in footers:
        footer.set_file_path(name)
        if merged is None:
            merged = footer
            continue
        try:
            merged.append_row_groups(footer)
        except RuntimeError as exc:
            raise ConfigurationError(f"{name} has another schema than the files before "
                                     f"it ({exc}): pass schema= to give every file one schema,"
                                     " or write_metadata_file=False") from exc
    if merged is None:
        raise ConfigurationError("no file was written (every partition was empty), so "
                                 "there is no _metadata to write: pass "
                                 "write_metadata_file=False")
    out = pa.BufferOutputStream()
    merged.write_metadata_file(out)
    return cast(bytes, out.getvalue().to_pybytes())


PARQUET = Format(
    "parquet", (".parquet", ".parq", ".pq"), "application/vnd.apache.parquet",
    PARQUET_OPTIONS | {"schema", "row_group_size", "preserve_index"},
    write=write_parquet, pieces=parquet_pieces, files=parquet_files, summary=metadata_file)
