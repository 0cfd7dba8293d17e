"""Whole-file compression of text formats: the codecs, and the name suffixes that say them."""

from __future__ import annotations

from typing import Literal

from ..errors import ConfigurationError

__all__ = ["Compression", "CODECS", "codec_for", "split_codec", "suffix"]

Compression = Literal["infer", "gzip", "zstd"] | None

#: codec → the suffixes naming it, the first one written
CODECS: dict[str, tuple[str, ...]] = {"gzip": (".gz", ".gzip"), "zstd": (".zst", ".zstd")}


def split_codec(name: str) -> tuple[str, str | None]:
    """``name`` (lower case) without its compression suffix, and that suffix's codec."""
    for codec, suffixes in CODECS.items():
        for end in suffixes:
            if name.endswith(end):
                return name[:-len(end)], codec
    return name, None


def codec_for(compression: Compression, url: str) -> str | None:
    """The codec asked for: ``compression``, or with ``"infer"`` the one ``url`` ends with."""
    if compression == "infer":
        return split_codec(url.rsplit("/", 1)[-1].lower())[1]
    if compression is None or compression in CODECS:
        return compression
    raise ConfigurationError(f"compression={compression!r}: use 'gzip', 'zstd', None, or "
                             "'infer' (from the extension: .gz, .zst)")


def suffix(codec: str | None) -> str:
    """The name suffix written for ``codec`` ("" for none)."""
    return CODECS[codec][0] if codec else ""
