"""Whole-file compression of text formats: the codecs, the name suffixes that say them, and
gzip's levels.

gzip levels are gzip's own scale (``compresslevel`` 0–9, as in Python's :mod:`gzip` and
pandas' ``compression={"method": "gzip", "compresslevel": N}``). Levels 1–3 are compressed by
ISA-L's igzip (the ``isal`` package, installed with mpu_toolkit where it has wheels) at its
levels 1–3: the same gzip format, each level at least zlib's ratio at that level and about 5–15
times its speed. Levels 0 and 4–9, and every level without ``isal``, are zlib's.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any, Literal, Union

from ..errors import ConfigurationError


def _isal() -> Any:
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - a platform without its wheels: zlib does all levels
        return None
    return isal_zlib


__all__ = ["Compression", "TextCompression", "CODECS", "GZIP_LEVEL", "codec_for",
           "codec_and_level", "gzip_compressor", "split_codec", "suffix"]

Compression = Literal["infer", "gzip", "zstd"] | None
#: a codec's name, or pandas' dict form: ``{"method": "gzip", "compresslevel": 1}``
TextCompression = Union[Compression, Mapping[str, Any]]

#: codec → the suffixes naming it, the first one written
CODECS: dict[str, tuple[str, ...]] = {"gzip": (".gz", ".gzip"), "zstd": (".zst", ".zstd")}
#: gzip's default level: igzip's best (with ``isal``), ~10 times zlib's level 6 speed
GZIP_LEVEL = 3
_FAST_LEVELS = range(1, 4)  # the levels igzip compresses
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream
_ISAL = _isal()


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


def codec_and_level(compression: TextCompression, url: str) -> tuple[str | None, int]:
    """The codec asked for and gzip's level: ``compression`` is a name (:func:`codec_for`) or
    pandas' dict form, ``{"method": "gzip", "compresslevel": N}`` (N in 0–9)."""
    if not isinstance(compression, Mapping):
        return codec_for(compression, url), GZIP_LEVEL
    options = dict(compression)
    codec = codec_for(options.pop("method", "infer"), url)
    level = options.pop("compresslevel", GZIP_LEVEL)
    if options:
        raise ConfigurationError(f"compression={dict(compression)!r}: {sorted(options)} not "
                                 "supported; the dict takes 'method' and 'compresslevel' (gzip)")
    if "compresslevel" in compression and codec != "gzip":
        raise ConfigurationError(f"compression={dict(compression)!r}: compresslevel is gzip's "
                                 f"(0-9), and this writes {codec or 'uncompressed'}")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
        raise ConfigurationError(f"compresslevel={level!r}: gzip's levels are 0 (none) to 9 "
                                 f"(smallest); {GZIP_LEVEL} by default, 1-3 the fast ones")
    return codec, level


def gzip_compressor(level: int = GZIP_LEVEL) -> Any:
    """A ``compressobj`` writing one gzip member at ``level`` (see the module's docstring)."""
    if level in _FAST_LEVELS and _ISAL is not None:
        return _ISAL.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    return zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)


def suffix(codec: str | None) -> str:
    """The name suffix written for ``codec`` ("" for none)."""
    return CODECS[codec][0] if codec else ""
