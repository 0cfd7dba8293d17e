"""The per-format seam of :func:`~mpu_toolkit.dask.single_object.to_single_object`.

:func:`~mpu_toolkit.dask.single_object.to_single_object` is format-agnostic: it ships a
:class:`PieceEncoder` with every partition's task, places the pieces the workers return, and
appends the encoder's :meth:`~PieceEncoder.trailer` after the last one. A format whose file
needs a closing structure built from every piece (Parquet's footer) returns it there from
what each piece reported in ``meta``; text formats need none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

__all__ = ["EncodedPiece", "PieceEncoder"]


@dataclass(frozen=True)
class EncodedPiece:
    """One partition, encoded: its bytes, its rows, and what the trailer needs of it."""

    data: bytes | memoryview
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

    def row_groups(self, metas: Sequence[Any]) -> int | None:
        """Row groups in the object (None: the format has none)."""
        ...
