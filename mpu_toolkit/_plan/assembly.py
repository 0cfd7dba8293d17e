"""Many pieces, rendered anywhere, as the parts of one object: pure functions, no I/O.

Piece *i* of *n* (a Dask partition, say) owns the part numbers ``i*S+1 .. (i+1)*S`` with
``S = 10,000 // n``, so every piece can number its own parts without asking anyone, and
the numbers ascend in piece order. A piece of at least two minimum parts keeps its first
5 MiB (the *head*) and uploads the rest itself as parts ``i*S+2, i*S+3 ...`` (none under
the minimum). A smaller piece keeps everything. The assembler, where the pieces are
collected in order, joins what was kept — the small pieces before a large one, plus that
large one's head — into part ``i*S+1``, which is therefore at least 5 MiB; runs of small
pieces are flushed as soon as they reach ``part_size``; what is left at the end is the last
part, which may be small. Memory at the assembler: one ``part_size`` plus one piece.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import ConfigurationError, TooManyPartsError
from ..model import PartInfo
from .sizing import S3_LIMITS, MiB, PartLimits, format_size

__all__ = ["PieceLayout", "layout_piece", "Assembler"]


@dataclass(frozen=True)
class PieceLayout:
    """How piece ``index`` splits: ``kept`` bytes stay with the assembler; ``parts`` are
    ``(number, first, last)`` byte ranges (inclusive) the piece uploads itself."""

    index: int
    kept: int
    parts: tuple[tuple[int, int, int], ...] = ()


def numbers_per_piece(pieces: int, limits: PartLimits = S3_LIMITS) -> int:
    if not 1 <= pieces <= limits.max_parts:
        raise ConfigurationError(f"{pieces:,} pieces: one object can be assembled from 1 to "
                                 f"{limits.max_parts:,} (repartition to fewer)")
    return limits.max_parts // pieces


def layout_piece(index: int, pieces: int, size: int, part_size: int,
                 limits: PartLimits = S3_LIMITS) -> PieceLayout:
    """Which bytes of piece ``index`` (of ``pieces``, ``size`` bytes) it uploads itself."""
    span = numbers_per_piece(pieces, limits)
    minimum = limits.min_part
    if span < 2 or size < 2 * minimum:
        return PieceLayout(index, size)
    body = size - minimum
    step = max(part_size, math.ceil(body / (span - 1)))
    if step > MiB and step % MiB:  # whole MiB parts where the limits allow
        step = math.ceil(step / MiB) * MiB
    step = min(step, limits.max_part)
    if math.ceil(body / step) > span - 1:
        raise TooManyPartsError(f"piece {index} has {format_size(size)}: more than "
                                f"{span - 1} parts of {format_size(step)}; use more, smaller "
                                "partitions")
    bounds = list(range(minimum, size, step)) + [size]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < minimum:
        del bounds[-2]  # no short part in the middle of the object
        if bounds[-1] - bounds[-2] > limits.max_part:
            bounds.insert(-1, bounds[-2] + (bounds[-1] - bounds[-2]) // 2)
    first = index * span + 2
    return PieceLayout(index, minimum, tuple(
        (first + n, a, b - 1) for n, (a, b) in enumerate(zip(bounds, bounds[1:]))))


@dataclass
class Assembler:
    """Collects pieces in order; says which parts to upload from the kept bytes."""

    pieces: int
    part_size: int = 16 * MiB
    limits: PartLimits = S3_LIMITS
    parts: list[PartInfo] = field(default_factory=list)
    _pending: bytearray = field(default_factory=bytearray)
    _next: int = 0
    _flushed: int = 0

    def add(self, index: int, kept: bytes, uploaded: list[PartInfo]
            ) -> Iterator[tuple[int, bytes]]:
        """Piece ``index`` (the next in order): its kept bytes and the parts it uploaded.
        Yields ``(number, data)`` for each part to upload now."""
        if index != self._next:
            raise ValueError(f"piece {index} given before piece {self._next}")
        self._next += 1
        span = numbers_per_piece(self.pieces, self.limits)
        self._pending += kept
        if uploaded or len(self._pending) >= self.part_size:
            yield index * span + 1, bytes(self._pending)
            self._pending.clear()
            self._flushed += 1
        self.parts += uploaded

    def finish(self) -> Iterator[tuple[int, bytes]]:
        """The last part, from what is still kept (an empty object is one empty part)."""
        if self._next != self.pieces:
            raise ValueError(f"{self.pieces - self._next} piece(s) missing")
        if self._pending or not (self.parts or self._flushed):
            number = (self.pieces - 1) * numbers_per_piece(self.pieces, self.limits) + 1
            yield number, bytes(self._pending)
            self._pending.clear()
