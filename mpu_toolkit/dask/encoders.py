"""How one partition becomes a self-contained piece of the one object: a per-format seam.

:func:`~mpu_toolkit.dask.single_object.to_single_object` is format-agnostic: it ships a
:class:`PieceEncoder` with every partition's task, places the pieces the workers return, and
appends the encoder's :meth:`~PieceEncoder.trailer` after the last one. A format whose file
needs a closing structure built from every piece (Parquet's footer) returns it there from
what each piece reported in ``meta``; text formats need none. A new format is one class
here and one entry in :func:`encoder_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence

from ..errors import ConfigurationError
from ..formats.text import (CONTENT_TYPES, Compression, Kind, Render, codec_for, encode_chunk,
                            renderer, text_options)

__all__ = ["EncodedPiece", "PieceEncoder", "TextEncoder", "encoder_for"]

_KINDS: dict[str, Kind] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                           ".json": "jsonl"}


@dataclass(frozen=True)
class EncodedPiece:
    """One partition, encoded: its bytes, its rows, and what the trailer needs of it."""

    data: bytes
    rows: int
    meta: Any = None


class PieceEncoder(Protocol):
    """Picklable: it travels with each partition's task to the worker that encodes it."""

    @property
    def content_type(self) -> str: ...

    def encode(self, frame: Any, index: int) -> EncodedPiece:
        """Partition ``index`` as bytes that may follow the previous piece's."""
        ...

    def trailer(self, metas: Sequence[Any]) -> bytes:
        """What follows the last piece, from every piece's ``meta`` (b"" for none)."""
        ...


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


def encoder_for(url: str, format: str | None, compression: Compression, encoding: str,
                options: Mapping[str, Any]) -> tuple[PieceEncoder, dict[str, Any]]:
    """The encoder for ``url``'s format, and the options that are the writer's."""
    kind = _kind(format) if format is not None else _kind_of(url)
    encoder_options, writer_options = text_options(kind, dict(options), "to_single_object")
    writer_options.setdefault("content_type", CONTENT_TYPES[kind])
    return TextEncoder(renderer(kind, encoder_options), codec_for(compression, url), encoding,
                       writer_options["content_type"]), writer_options


def _kind(format: str) -> Kind:
    if format == "csv":
        return "csv"
    if format == "jsonl":
        return "jsonl"
    raise ConfigurationError(f"format={format!r}: use 'csv' or 'jsonl'")


def _kind_of(url: str) -> Kind:
    name = url.rsplit("/", 1)[-1].lower()
    for suffix in (".gz", ".gzip", ".zst", ".zstd"):
        name = name.removesuffix(suffix)
    for ext, kind in _KINDS.items():
        if name.endswith(ext):
            return kind
    raise ConfigurationError(f"cannot tell the format of {url!r} from its extension: name it "
                             ".csv / .jsonl (optionally .gz / .zst), or pass format=")
