"""One Parquet file from row groups encoded two at a time, each as a file of its own.

pyarrow's ``ParquetWriter`` encodes a file's columns one after the other, on one core. Here
each row group becomes a standalone Parquet file (:func:`~.parquet_pieces.encode_file`) on
a small thread pool (pyarrow releases the GIL while it encodes), and the pieces are laid end
to end as :mod:`.parquet_pieces` does for Dask's partitions: the first piece from its leading
``PAR1`` up to its footer, every later one's body (from after its ``PAR1`` up to its
footer), then one footer listing every row group with its offsets moved
(:func:`~.parquet_footer.merged_footer`). One piece alone is written whole: the writer's own
file, footer included, as a single ``ParquetWriter`` would have written it.

Memory: at most ``workers`` row groups are in flight, each held as Arrow data while it is
encoded and then as its encoded file until its bytes are written, plus every piece's footer
(a few KiB each) and the row group the producer is filling meanwhile.

On any exception (the producer's, an encoder's, the file's) nothing more is written: the
pieces not started are cancelled and the ones being encoded are waited for (a C call cannot
be stopped; each ends with its row group), so no thread of the pool outlives the call.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from .parquet_footer import ParquetPiece, merged_footer
from .parquet_pieces import cut_piece, encode_file

__all__ = ["write_in_pieces", "WORKERS"]

#: row groups encoded at once (this many in flight)
WORKERS = min(2, os.cpu_count() or 1)


def write_in_pieces(groups: Iterable[pa.Table], file: Any, schema: pa.Schema,
                    compression: str | None, options: Mapping[str, Any],
                    on_row_group: Callable[[int], None] | None = None,
                    workers: int = WORKERS) -> None:
    """Write ``groups`` as one Parquet file into ``file``, one row group per group, encoded
    on ``workers`` threads; ``on_row_group(rows)`` after each group's bytes are written, in
    order. ``options``: ``ParquetWriter``'s (neither ``metadata_collector`` nor
    ``encryption_properties``: see :mod:`.parquet`)."""
    pieces = _Pieces(file, on_row_group)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="mpu_toolkit parquet")
    in_flight: deque[tuple[int, Future[memoryview]]] = deque()
    try:
        for group in groups:
            in_flight.append((group.num_rows,
                              pool.submit(encode_file, [group], schema, compression, options)))
            if len(in_flight) >= workers:
                pieces.write(*in_flight.popleft())
        while in_flight:
            pieces.write(*in_flight.popleft())
    finally:  # after an exception: nothing more is written, and the pool's threads end
        pool.shutdown(wait=True, cancel_futures=True)
    if pieces.footers:
        pieces.close()
    else:  # no row group: the schema's empty file
        file.write(encode_file([], schema, compression, options))


class _Pieces:
    """The file being laid out: the pieces' bytes, in order, then one footer."""

    def __init__(self, file: Any, on_row_group: Callable[[int], None] | None) -> None:
        self.file = file
        self.on_row_group = on_row_group
        self.footers: list[ParquetPiece] = []
        self.tail = b""  # the first piece's own footer, its length and PAR1

    def write(self, rows: int, encoded: Future[memoryview]) -> None:
        data = encoded.result()
        body, footer = cut_piece(data, first=not self.footers)
        if not self.footers:
            self.tail = bytes(data[len(body):])
        self.file.write(body)
        self.footers.append(footer)
        if self.on_row_group is not None:
            self.on_row_group(rows)

    def close(self) -> None:
        self.file.write(self.tail if len(self.footers) == 1 else merged_footer(self.footers))
