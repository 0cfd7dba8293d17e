"""A part's bytes in several buffers, in order.

The streaming writer does not copy a large ``bytes`` write (:mod:`mpu_toolkit._engine.writer`):
``bytes`` cannot change, so the part holds the caller's object itself, beside slices of its
part buffer for what was copied. Such a part is a :class:`Pieces`: hashed piece by piece
(:func:`~.integrity.digest_part`) and sent piece by piece (:mod:`mpu_toolkit._s3.wire`),
never joined on the way. Copying 1 MiB writes into a ring of part buffers cost the writer
0.13-0.2 CPU-s per GiB here (``bench/buffer_copy_bench.py``): a cold destination each time.
"""

from __future__ import annotations

from typing import Iterable, Union

__all__ = ["Pieces", "PartData", "views_of"]


class Pieces:
    """One part's bytes in several buffers, in order; never joined on the part path."""

    __slots__ = ("views", "nbytes")

    def __init__(self, pieces: Iterable[bytes | bytearray | memoryview]) -> None:
        self.views = tuple(memoryview(piece).cast("B") for piece in pieces)
        self.nbytes = sum(len(view) for view in self.views)

    def __len__(self) -> int:
        return self.nbytes

    def __bytes__(self) -> bytes:
        return b"".join(self.views)

    def __repr__(self) -> str:
        return f"<Pieces {self.nbytes:,} bytes in {len(self.views)}>"


#: what a part's bytes may be
PartData = Union[bytes, bytearray, memoryview, Pieces]


def views_of(data: PartData) -> tuple[memoryview, ...]:
    """The part's bytes as flat views, in order, without a copy."""
    return data.views if isinstance(data, Pieces) else (memoryview(data).cast("B"),)
