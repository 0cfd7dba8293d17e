"""The encoders of :func:`~mpu_toolkit.dask.single_object.to_single_object`, by format.

Text (CSV, JSON Lines) here; Parquet in :mod:`.parquet_pieces`. :func:`encoder_for` picks
one from ``format=`` or the URL's extension. A new format is one
:class:`~.pieces.PieceEncoder` class and one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from ..errors import ConfigurationError
from ..formats.frameupload import split_options
from ..formats.text import (CONTENT_TYPES, Compression, Kind, Render, codec_for, encode_chunk,
                            renderer, text_options)
from .parquet_pieces import parquet_encoder
from .pieces import EncodedPiece, PieceEncoder

__all__ = ["TextEncoder", "encoder_for"]

_KINDS: dict[str, Kind] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                           ".json": "jsonl"}
_PARQUET_EXTENSIONS = (".parquet", ".parq", ".pq")
#: to_single_object's own parameters, for "did you mean" on a misspelt Parquet option
_PARQUET_NAMED = ("schema", "row_group_size", "compression", "preserve_index", "format",
                  "part_size", "storage_options")


@dataclass(frozen=True)
class TextEncoder:
    """CSV or JSON Lines as pandas writes them (the CSV header in piece 0 only); each piece
    one gzip member or zstd frame when compressed (they concatenate into a valid file)."""

    render: Render
    codec: str | None
    encoding: str
    content_type: str

    def encode(self, frame: Any, index: int) -> EncodedPiece:
        return EncodedPiece(encode_chunk(frame, self.render, index == 0, self.codec,
                                         self.encoding), len(frame))

    def trailer(self, metas: Sequence[Any]) -> bytes:
        return b""

    def row_groups(self, metas: Sequence[Any]) -> int | None:
        return None


def encoder_for(ddf: Any, url: str, format: str | None, compression: Compression,
                encoding: str, options: Mapping[str, Any]) -> tuple[PieceEncoder, dict[str, Any]]:
    """The encoder for ``url``'s format, and the options that are the writer's."""
    if "partition_on" in options:
        raise ConfigurationError(
            "partition_on: to_single_object writes ONE object, which cannot be partitioned; "
            "for a directory of files per value use to_dataset(ddf, 'mpu://bucket/prefix/', "
            "partition_on=[...])")
    kind = _kind(format) if format is not None else _kind_of(url)
    if kind == "parquet":
        rest = dict(options)
        encoder = parquet_encoder(ddf, rest, compression)
        _, writer_options = split_options(rest, (), "to_single_object", _PARQUET_NAMED)
        writer_options.setdefault("content_type", encoder.content_type)
        return encoder, writer_options
    encoder_options, writer_options = text_options(kind, dict(options), "to_single_object")
    writer_options.setdefault("content_type", CONTENT_TYPES[kind])
    return TextEncoder(renderer(kind, encoder_options), codec_for(compression, url), encoding,
                       writer_options["content_type"]), writer_options


def _kind(format: str) -> Kind | Literal["parquet"]:
    if format in ("csv", "jsonl", "parquet"):
        return format  # type: ignore[return-value]
    raise ConfigurationError(f"format={format!r}: use 'parquet', 'csv' or 'jsonl'")


def _kind_of(url: str) -> Kind | Literal["parquet"]:
    name = url.rsplit("/", 1)[-1].lower()
    if name.endswith(_PARQUET_EXTENSIONS):
        return "parquet"
    for suffix in (".gz", ".gzip", ".zst", ".zstd"):
        name = name.removesuffix(suffix)
    for ext, kind in _KINDS.items():
        if name.endswith(ext):
            return kind
    raise ConfigurationError(f"cannot tell the format of {url!r} from its extension: name it "
                             ".parquet, or .csv / .jsonl (optionally .gz / .zst), or pass "
                             "format=")
