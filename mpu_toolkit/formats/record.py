"""A file format's one record, and the encoders it hands to the writers above it.

A :class:`Format` says everything the package needs of a format: its name, the extensions
that name its files, the Content-Type its objects get, its encoder's own keywords, and the
three ways frames become its bytes — the streaming writer (``write_parquet`` ...), the
:class:`PieceEncoder` of ``to_single_object`` and the :class:`FileEncoding` of
``to_dataset``. Each format's module ends with its record; :mod:`.registry` lists them.

The encoders know frames, not Dask: ``dask/`` describes the job in a :class:`FrameJob` (the
frame's meta, a way to sample its first rows, the format's keywords) and ships the encoder
the record builds from it with every task. Both encoders are picklable for that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

import pandas as pd

from .frameupload import FrameWriteResult

__all__ = ["Format", "FrameJob", "EncodedPiece", "PieceEncoder", "FileEncoding"]


@dataclass(frozen=True)
class FrameJob:
    """What a job over many partitions asks of a format."""

    meta: pd.DataFrame                   #: no rows: the partitions' columns and dtypes
    sample: Callable[[], pd.DataFrame]   #: the first rows, for types ``meta`` cannot tell
    options: Mapping[str, Any]           #: the format's own keywords (:attr:`Format.options`)
    compression: str | None = "infer"    #: "infer": from ``url``, else the format's default
    encoding: str = "utf-8"              #: of text
    url: str = ""                        #: the one object's; "" for a dataset's files
    footers: bool = False                #: keep each file's footer, for :attr:`Format.summary`


@dataclass(frozen=True)
class EncodedPiece:
    """One partition, encoded: its bytes, its rows, and what the trailer needs of it."""

    data: bytes | memoryview
    rows: int
    meta: Any = None


class PieceEncoder(Protocol):
    """One object from many partitions: piece ``i`` follows piece ``i - 1``, and a trailer
    built from what every piece reported (Parquet's footer) closes the object."""

    def encode(self, frame: Any, index: int) -> EncodedPiece:
        """Partition ``index`` as bytes that may follow the previous piece's."""
        ...

    def trailer(self, metas: Sequence[Any]) -> bytes:
        """What follows the last piece, from every piece's ``meta`` (b"" for none)."""
        ...

    def row_groups(self, metas: Sequence[Any]) -> int | None:
        """Row groups in the object (None: the format has none)."""
        ...


class FileEncoding(Protocol):
    """One file per partition (or per ``partition_on`` group of it)."""

    @property
    def suffix(self) -> str:
        """What follows the format's extension in the files' names (".gz"), or ""."""
        ...

    def encode(self, frame: pd.DataFrame, file: BinaryIO) -> Any:
        """Write ``frame`` into ``file``; return its footer when the job asked for them."""
        ...


@dataclass(frozen=True)
class Format:
    """Everything about one file format; one record per format, in :mod:`.registry`."""

    name: str                        #: ``format=`` names it so
    extensions: tuple[str, ...]      #: lower case; the first names a dataset's files
    content_type: str                #: the objects' Content-Type, unless one is given
    options: frozenset[str]          #: the encoder's own keywords, told from writer options
    write: Callable[..., FrameWriteResult]        #: the streaming writer: (frames, url, ...)
    pieces: Callable[[FrameJob], PieceEncoder]    #: for ``to_single_object``
    files: Callable[[FrameJob], FileEncoding]     #: for ``to_dataset``
    compressible: bool = False       #: the whole file may be gzip / zstd (".csv.gz")
    #: a dataset's ``_metadata`` from each file's ``(name, footer)``; None: the format has none
    summary: Callable[[Sequence[tuple[str, Any]]], bytes] | None = None
