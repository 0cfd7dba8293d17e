"""Whole-file compression of text formats: the codecs, the name suffixes that say them, gzip's
levels, and the writer of gzip members.

gzip levels are gzip's own scale (``compresslevel`` 0–9, as in Python's :mod:`gzip` and
pandas' ``compression={"method": "gzip", "compresslevel": N}``), compressed by libdeflate
(the ``deflate`` package, with wheels for every platform): at each level a smaller file than
zlib's at 2–4 times its speed; its level 4, the default, is smaller than zlib's 9 at ~4 times
zlib's 6 speed. libdeflate compresses whole buffers, so text is written as a series of gzip
members (:class:`GzipMembers`); members concatenate into one valid gzip file (RFC 1952), which
gzip, pandas, pyarrow, polars and DuckDB read whole.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal, Union

import deflate

from ..errors import ConfigurationError

__all__ = ["Compression", "TextCompression", "CODECS", "GZIP_LEVEL", "MEMBER_BYTES", "codec_for",
           "codec_and_level", "gzip_member", "GzipMembers", "split_codec", "suffix"]

Compression = Literal["infer", "gzip", "zstd"] | None
#: a codec's name, or pandas' dict form: ``{"method": "gzip", "compresslevel": 1}``
TextCompression = Union[Compression, Mapping[str, Any]]

#: codec → the suffixes naming it, the first one written
CODECS: dict[str, tuple[str, ...]] = {"gzip": (".gz", ".gzip"), "zstd": (".zst", ".zstd")}
#: gzip's default level: libdeflate's 4, smaller than zlib's 9 (CSV, JSON Lines) at ~4 times
#: zlib's 6 speed; 3 and below are a little faster and larger than zlib's 6 on JSON Lines
GZIP_LEVEL = 4
#: gzip members compressed at once (each on a thread; libdeflate releases the GIL)
MEMBER_THREADS = min(2, os.cpu_count() or 1)
#: text gathered into one gzip member: past the first 32 KiB window of each member there is
#: little to lose to the boundaries (0.03% larger than one member on 41 MB of CSV)
MEMBER_BYTES = 4 << 20


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
                                 f"(smallest); {GZIP_LEVEL} by default, 1 the fastest")
    return codec, level


def gzip_member(data: bytes | bytearray | memoryview, level: int = GZIP_LEVEL) -> bytes:
    """``data`` as one whole gzip member at ``level`` (libdeflate; releases the GIL)."""
    return bytes(deflate.gzip_compress(data, level))


class GzipMembers:
    """Text written to ``file`` as gzip members of :data:`MEMBER_BYTES` of text each,
    compressed on up to ``threads`` threads while the caller renders the next: rendering and
    compressing share the cores. Members reach ``file`` in order, on the caller's thread.

    ``close`` writes the rest (and an empty member if nothing was written: a valid empty
    gzip file); ``discard`` drops what is in flight (the caller failed). Holds at most the
    gathered text and ``threads + 1`` members in flight.
    """

    def __init__(self, file: Any, level: int = GZIP_LEVEL,
                 threads: int = MEMBER_THREADS) -> None:
        self._file = file
        self._level = level
        self._gathered = bytearray()
        self._in_flight: deque[Future[bytes]] = deque()
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="mpu-gzip")
        self._members = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._gathered += data
        if len(self._gathered) >= MEMBER_BYTES:
            self._compress()

    def _compress(self) -> None:
        text, self._gathered = self._gathered, bytearray()
        self._in_flight.append(self._pool.submit(gzip_member, text, self._level))
        self._members += 1
        while len(self._in_flight) > self._threads:
            self._file.write(self._in_flight.popleft().result())

    def close(self) -> None:
        if self._gathered or not self._members:
            self._compress()
        while self._in_flight:
            self._file.write(self._in_flight.popleft().result())
        self._pool.shutdown()

    def discard(self) -> None:
        self._in_flight.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)


def suffix(codec: str | None) -> str:
    """The name suffix written for ``codec`` ("" for none)."""
    return CODECS[codec][0] if codec else ""
