"""CSV and JSON Lines streamed into a multipart upload, optionally gzip- or zstd-compressed.

Each chunk (see :mod:`mpu_toolkit.formats.frames`), in slices of ``CHUNK_ROWS`` rows, is
rendered as pandas renders it (``to_csv``: by Arrow where :mod:`.csv_fast` gives the same
bytes; ``to_json(orient="records", lines=True)``), encoded, compressed on the fly into gzip
members (one per 4 MiB of text, compressed on two threads) or one zstd frame, and written to
the upload; only one slice's text is held at a time, and a large frame's parts upload while
the rest renders. The CSV header is written once, from the first chunk. As with Parquet, any
exception aborts the upload: no truncated object (one cut after a gzip member would even read
as complete).
"""

from __future__ import annotations

import codecs
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO, Literal, Protocol, cast

import pandas as pd
import pyarrow as pa
from typing_extensions import Unpack

from ..errors import ConfigurationError
from .compression import (GZIP_LEVEL, Compression, GzipMembers, TextCompression,
                          codec_and_level, codec_for, gzip_member, suffix)
from .csv_fast import FastRender, fast_renderer
from .frames import Frames, dataframes, iter_chunks, row_chunks
from .frameupload import FrameUpload, FrameWriteResult, split_options
from .keywords import CsvWriteOptions, JsonlWriteOptions
from .offthread import encode_off_thread, off_main_thread
from ..progress import ProgressCallback
from .record import EncodedPiece, Format, FrameJob

__all__ = ["write_csv", "write_jsonl", "renderer", "encode_chunk", "TextPieces", "TextFiles",
           "CSV", "JSONL"]

_NOT_PASSED = {"self", "path_or_buf", "mode", "compression", "storage_options", "encoding",
               "errors"}
_CSV_OPTIONS = frozenset(inspect.signature(pd.DataFrame.to_csv).parameters) - _NOT_PASSED
_JSONL_OPTIONS = frozenset(inspect.signature(pd.DataFrame.to_json).parameters) - _NOT_PASSED - {
    "orient", "lines", "indent"}
_NAMED = ("compression", "encoding", "progress")  # the writers' own parameters


def write_csv(frames: Frames, url: str, *, storage_options: Mapping[str, Any] | None = None,
              compression: TextCompression = "infer", encoding: str = "utf-8",
              progress: bool | ProgressCallback | None = None,
              **options: Unpack[CsvWriteOptions]) -> FrameWriteResult:
    """Stream ``frames`` as one CSV object to ``url``; the header comes from the first chunk.

    ``options``: ``DataFrame.to_csv`` keywords (``sep``, ``index``, ``header``,
    ``date_format``, ``na_rep`` ...; pandas' defaults) and writer options (``part_size``,
    ``concurrency``, ``checksum``, ``exclusive``, ``metadata``, ``storage_class`` ...: see
    :func:`~mpu_toolkit.open_writer`). ``compression``: ``"infer"`` from the extension
    (``.gz``, ``.zst``), ``"gzip"``, ``"zstd"`` (level 1), ``None``, or as in pandas a dict
    ``{"method": "gzip", "compresslevel": N}``: gzip's levels 0-9, by default 4, compressed
    by libdeflate (at each level smaller than zlib's, 4 smaller than pandas' 9, at several
    times the speed) on two threads while the next rows render. On any exception
    the upload is aborted and nothing is published.
    """
    csv_options, writer_options = split_options(options, _CSV_OPTIONS, "write_csv", _NAMED)
    return _write_text(frames, url, "csv", csv_options, CSV, storage_options,
                       compression, encoding, progress, writer_options)


def write_jsonl(frames: Frames, url: str, *, storage_options: Mapping[str, Any] | None = None,
                compression: TextCompression = "infer", encoding: str = "utf-8",
                progress: bool | ProgressCallback | None = None,
                **options: Unpack[JsonlWriteOptions]) -> FrameWriteResult:
    """Stream ``frames`` as JSON Lines (one object per row) to ``url``.

    Rows are rendered as ``DataFrame.to_json(orient="records", lines=True)`` does;
    ``options``: its other keywords (``date_format``, ``date_unit``, ``force_ascii``,
    ``double_precision`` ...) and writer options. ``compression`` as in :func:`write_csv`.
    """
    json_options, writer_options = split_options(options, _JSONL_OPTIONS, "write_jsonl",
                                                 _NAMED)
    return _write_text(frames, url, "jsonl", json_options, JSONL, storage_options,
                       compression, encoding, progress, writer_options)


Kind = Literal["csv", "jsonl"]
#: ``render(df, first)``: one chunk's encoded text (the CSV header only when ``first``)
Render = Callable[[pd.DataFrame, bool], bytes]


def renderer(kind: Kind, options: Mapping[str, Any], encoding: str = "utf-8") -> Render:
    """``render(df, first)``: one chunk as pandas writes it, encoded. CSV in UTF-8 of the
    common dtypes and options is rendered by Arrow (:mod:`.csv_fast`: the same bytes, several
    times faster); everything else by pandas."""
    utf8 = codecs.lookup(encoding).name == "utf-8"  # an unknown encoding: LookupError, now
    if kind == "csv":
        csv_options = dict(options)
        header = csv_options.pop("header", True)
        fast = fast_renderer(options) if utf8 else None
        return partial(_render_csv, fast, header, csv_options, encoding)
    return partial(_render_jsonl, options, encoding)


def _render_csv(fast: FastRender | None, header: Any, options: Mapping[str, Any],
                encoding: str, df: pd.DataFrame, first: bool) -> bytes:
    text = fast(df, first) if fast is not None else None
    if text is None:  # a dtype, index or name Arrow's rendering does not take: pandas
        text = df.to_csv(header=header if first else False, **options).encode(encoding)
    return text


def _render_jsonl(options: Mapping[str, Any], encoding: str, df: pd.DataFrame,
                  first: bool) -> bytes:
    if not len(df):  # pandas writes "\n" for an empty frame; JSON Lines has no line for it
        return b""
    return df.to_json(orient="records", lines=True, **options).encode(encoding)


def encode_chunk(df: pd.DataFrame, render: Render, first: bool, codec: str | None,
                 level: int = GZIP_LEVEL) -> bytes:
    """One chunk as a self-contained piece: a whole gzip member or zstd frame (pieces
    concatenate into a valid file), or plain encoded text. Off the main thread
    (:mod:`.offthread`): an interrupt never lands inside pandas' encoder."""
    return off_main_thread(_encode_chunk, df, render, first, codec, level)


def _encode_chunk(df: pd.DataFrame, render: Render, first: bool, codec: str | None,
                  level: int) -> bytes:
    data = render(df, first)
    if codec == "gzip":
        return gzip_member(data, level)
    if codec == "zstd":
        return bytes(pa.compress(data, "zstd", asbytes=True))
    return data


def _write_text(frames: Frames, url: str, kind: Kind, options: Mapping[str, Any],
                format: Format, storage_options: Mapping[str, Any] | None,
                compression: TextCompression, encoding: str,
                progress: bool | ProgressCallback | None,
                writer_options: dict[str, Any]) -> FrameWriteResult:
    codec, level = codec_and_level(compression, url)
    render = renderer(kind, options, encoding)  # an unknown encoding fails before any upload
    writer_options.setdefault("content_type", format.content_type)
    chunks = iter_chunks(frames)  # pulled on this thread; rendered off it (.offthread)

    def encode(pulled: Iterator[Any], file: Any) -> None:
        out = _compressor(codec, level, file)
        try:
            first = True
            for df in dataframes(pulled):
                # a large frame in slices: its text stays small, and its parts upload as it
                # renders
                for piece in row_chunks(df):
                    out.write(render(piece, first))
                    first = False
            out.close()
        finally:
            if isinstance(out, GzipMembers):
                out.discard()  # after close: nothing left; after a failure: its work dropped

    with FrameUpload(url, storage_options=storage_options, progress=progress,
                     writer_options=writer_options) as upload:
        encode_off_thread(encode, upload.taking(chunks), upload.file)
    assert upload.result is not None
    return upload.result


class _Stream(Protocol):
    def write(self, data: bytes) -> Any: ...

    def close(self) -> None: ...


def _compressor(codec: str | None, level: int, file: Any) -> _Stream:
    if codec == "gzip":
        return GzipMembers(file, level)
    if codec == "zstd":
        return pa.CompressedOutputStream(file, "zstd")  # one zstd frame; no new dependency
    return file


@dataclass(frozen=True)
class TextPieces:
    """One CSV / JSON Lines object from many partitions, as pandas writes the concatenated
    frame (the CSV header in piece 0 only); each piece one gzip member or zstd frame when
    compressed (they concatenate into a valid file)."""

    render: Render
    codec: str | None

    def encode(self, frame: Any, index: int) -> EncodedPiece:
        return EncodedPiece(encode_chunk(frame, self.render, index == 0, self.codec),
                            len(frame))

    def trailer(self, metas: Sequence[Any]) -> bytes:
        return b""

    def row_groups(self, metas: Sequence[Any]) -> int | None:
        return None


@dataclass(frozen=True)
class TextFiles:
    """A dataset's CSV / JSON Lines files (a CSV header in every file); compressed as one
    gzip member or zstd frame per chunk of rows, which concatenate into a valid file."""

    render: Render
    codec: str | None

    @property
    def suffix(self) -> str:
        return suffix(self.codec)

    def encode(self, frame: pd.DataFrame, file: BinaryIO) -> None:
        for number, chunk in enumerate(row_chunks(frame)):
            file.write(encode_chunk(chunk, self.render, number == 0, self.codec))


def _text_job(kind: Kind, job: FrameJob) -> tuple[Render, str | None]:
    try:
        render = renderer(kind, job.options, job.encoding)
    except LookupError:
        raise ConfigurationError(f"encoding={job.encoding!r} is not a codec Python knows: "
                                 "use e.g. 'utf-8'") from None
    return render, codec_for(cast(Compression, job.compression), job.url)


def _text_pieces(kind: Kind, job: FrameJob) -> TextPieces:
    return TextPieces(*_text_job(kind, job))


def _text_files(kind: Kind, job: FrameJob) -> TextFiles:
    return TextFiles(*_text_job(kind, job))


CSV = Format("csv", (".csv",), "text/csv", _CSV_OPTIONS, write=write_csv,
             pieces=partial(_text_pieces, "csv"), files=partial(_text_files, "csv"),
             compressible=True)
JSONL = Format("jsonl", (".jsonl", ".ndjson", ".json"), "application/x-ndjson",
               _JSONL_OPTIONS, write=write_jsonl, pieces=partial(_text_pieces, "jsonl"),
               files=partial(_text_files, "jsonl"), compressible=True)
