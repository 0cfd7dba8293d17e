"""Row groups of a target size, whatever the sizes of the chunks the producer hands over.

A target is rows (an int) or bytes of in-memory Arrow data (``"128MiB"``). Chunks are
collected until the target is reached, then sliced (zero-copy) into groups: with a row
target every group but the last has exactly that many rows; with a byte target each group's
row count is taken from the average row width of the rows waiting, so groups hold about
that many bytes. Only the rows of the group being built (plus the chunk being split) are
held: memory stays at about one row group.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from ..errors import ConfigurationError
from .._plan.sizing import parse_size

__all__ = ["RowGroupSize", "rebatch"]


@dataclass(frozen=True)
class RowGroupSize:
    """Rows per row group, or bytes of Arrow data per row group (exactly one is set)."""

    rows: int | None = None
    bytes: int | None = None

    @classmethod
    def parse(cls, value: "int | str | RowGroupSize") -> "RowGroupSize":
        """An int is rows; a string such as ``"128MiB"`` is bytes of in-memory Arrow data."""
        if isinstance(value, RowGroupSize):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return cls(rows=value)
        if isinstance(value, str):
            return cls(bytes=parse_size(value, "row_group_size"))
        raise ConfigurationError(
            f"row_group_size={value!r}: give rows as a positive int (e.g. 1_000_000) or "
            "in-memory bytes as a string (e.g. '128MiB')")

    def __post_init__(self) -> None:
        if (self.rows is None) == (self.bytes is None) or (self.rows or self.bytes or 0) <= 0:
            raise ConfigurationError("RowGroupSize needs exactly one of rows= or bytes=, > 0")


def rebatch(tables: Iterable[pa.Table], size: RowGroupSize) -> Iterator[pa.Table]:
    """Yield ``tables``' rows, in order, regrouped as row groups of ``size``."""
    pending: deque[pa.Table] = deque()
    rows = nbytes = 0
    for table in tables:
        if table.num_rows == 0:
            continue
        pending.append(table)
        rows += table.num_rows
        nbytes += table.nbytes
        while rows and (group := _group_rows(size, rows, nbytes)):
            taken = _take(pending, group)
            rows -= taken.num_rows
            nbytes = sum(t.nbytes for t in pending)
            yield taken
    if rows:
        yield _take(pending, rows)


def _group_rows(size: RowGroupSize, rows: int, nbytes: int) -> int:
    """Rows for the next full group, or 0 while fewer than a group's worth are waiting."""
    if size.rows is not None:
        return size.rows if rows >= size.rows else 0
    assert size.bytes is not None
    if nbytes < size.bytes:
        return 0
    return max(1, rows * size.bytes // nbytes)


def _take(pending: deque[pa.Table], count: int) -> pa.Table:
    """The first ``count`` rows waiting (slices, no copy), removed from ``pending``."""
    pieces = []
    while count:
        head = pending[0]
        if head.num_rows <= count:
            pieces.append(pending.popleft())
            count -= head.num_rows
        else:
            pieces.append(head.slice(0, count))
            pending[0] = head.slice(count)
            count = 0
    return pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
