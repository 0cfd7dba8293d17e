"""The part the streaming writer is filling: copied bytes in a part buffer, and ``bytes``
held as they are.

A write is copied into the part's buffer (taken from the :class:`~.buffers.BufferPool` at
the first copied byte), except a large ``bytes`` one: ``bytes`` cannot change, so the part
holds views of the caller's object instead (*borrowed*, counted against the same budget by
the writer). Copying 1 MiB writes into a ring of part buffers cost 0.13-0.2 CPU-s per GiB
here, a cold destination each time (``bench/buffer_copy_bench.py``). A part that borrowed
is handed over as :class:`~mpu_toolkit._plan.pieces.Pieces`, its buffer's copied runs and
the held views in write order, with a :class:`~.buffers.Loan` saying what to give back.
"""

from __future__ import annotations

from typing import Callable

from .._plan.pieces import PartData, Pieces
from .buffers import Loan, copy_into

__all__ = ["FillingPart"]


class FillingPart:
    """One part being filled, up to ``size`` bytes (set at its first byte)."""

    def __init__(self) -> None:
        self.size = 0  #: the part's size; 0 until its first byte arrives
        self.fill = 0  #: bytes in it, copied and borrowed
        self._buffer = bytearray()
        self._staged = 0  # bytes copied into the buffer
        self._run = 0  # where the copied bytes not yet in ``_pieces`` start
        self._pieces: list[memoryview] = []  # once it borrows: its bytes in write order
        self._borrowed = 0

    @property
    def room(self) -> int:
        return self.size - self.fill

    def copy(self, chunk: memoryview, take_buffer: Callable[[int], bytearray]) -> None:
        """Copy ``chunk`` in; the buffer comes from ``take_buffer(size)`` at the first copy."""
        if not self._buffer:
            self._buffer = take_buffer(self.size)
        copy_into(self._buffer, self._staged, chunk)
        self._staged += len(chunk)
        self.fill += len(chunk)

    def hold(self, chunk: memoryview) -> None:
        """Keep ``chunk``, a view of an immutable ``bytes``, as it is."""
        self._close_run()
        self._pieces.append(chunk)
        self._borrowed += len(chunk)
        self.fill += len(chunk)

    def handover(self) -> tuple[PartData, bytearray | Loan]:
        """The part's bytes, and what they live in (given back when the part is done)."""
        buffer = self._buffer
        if self._borrowed:
            self._close_run()
            return Pieces(self._pieces), Loan(buffer or None, self._borrowed, self.fill)
        return (buffer if self.fill == len(buffer) else memoryview(buffer)[:self.fill]), buffer

    def whole(self) -> bytearray:
        """The bytes of an object smaller than one part, for its single PUT."""
        if self._borrowed:
            self._close_run()
            return bytearray(b"".join(self._pieces))
        del self._buffer[self.fill:]
        return self._buffer

    def _close_run(self) -> None:
        """Bytes copied since the last held piece become a piece of their own."""
        if self._staged > self._run:
            self._pieces.append(memoryview(self._buffer)[self._run:self._staged])
            self._run = self._staged
