"""The uploads frame of a view, filled while :func:`mpu_toolkit.uploads.stream` lists.

Rows arrive batch by batch (sizes ``<NA>``), sizes later, keyed by upload id; uploads found
gone meanwhile drop out. The view is told at most every ``interval`` seconds (and once at
the end), so that a listing of 100,000 uploads does not redraw it 500 times. ``stop()`` ends
the listing within ~0.1 s; what was seen stays.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, Callable, Sequence

import pandas as pd

from .. import inventory as uploads
from ..fs import MPUFileSystem
from ..inventory.listing import COLUMNS
from ..inventory.streaming import ListingProgress

__all__ = ["StreamedListing", "empty_uploads"]


def empty_uploads() -> pd.DataFrame:
    """The uploads frame with no rows (the columns and dtypes of uploads.list)."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})


class StreamedListing:
    """One listing of ``urls``; :meth:`run` blocks (call it in a background thread)."""

    def __init__(self, fs: MPUFileSystem, urls: str | Sequence[str] | None,
                 on_change: Callable[[pd.DataFrame, bool], None],
                 on_progress: Callable[[ListingProgress], None],
                 interval: float = 0.3, clock: Callable[[], float] = time.monotonic) -> None:
        self._fs, self._urls = fs, urls
        self._on_change, self._on_progress = on_change, on_progress
        self._interval, self._clock = interval, clock
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._batches: list[pd.DataFrame] = []
        self._sizes: dict[str, tuple[Any, Any, Any]] = {}
        self._gone: set[str] = set()
        self._shown = -math.inf  # never: the first batch is shown whatever the clock says

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> ListingProgress:
        """List to the end (or the stop); the view gets the whole frame last, with
        ``final=True`` (``False`` when the listing failed: the rows seen so far)."""
        try:
            final = uploads.stream(self._urls, fs=self._fs, stop=self._stop,
                                   on_rows=self._rows, on_sizes=self._sized,
                                   on_progress=self._progress)
        except BaseException:  # the server went away midway: what was listed stays shown
            self._on_change(self.frame(), False)
            raise
        self._on_change(self.frame(), True)
        return final

    def frame(self) -> pd.DataFrame:
        """What was listed so far, sizes filled in where known, oldest first."""
        with self._lock:
            batches, sizes, gone = list(self._batches), dict(self._sizes), set(self._gone)
        frame = pd.concat(batches, ignore_index=True) if batches else empty_uploads()
        frame = frame[~frame["upload_id"].isin(gone)].reset_index(drop=True)
        ids = frame["upload_id"].astype(str)
        have = ids.isin(sizes.keys()).to_numpy()
        if have.any():
            known = [sizes[i] for i in ids[have]]
            frame.loc[have, "parts"] = pd.array([k[0] for k in known], dtype="Int64")
            frame.loc[have, "bytes"] = pd.array([k[1] for k in known], dtype="Int64")
            frame.loc[have, "abort_date"] = pd.to_datetime([k[2] for k in known], utc=True)
        return frame.sort_values(["initiated", "bucket", "key"], kind="stable",
                                 ignore_index=True)

    # -- callbacks, on the event loop's thread: quick ------------------------------------
    def _rows(self, frame: pd.DataFrame) -> None:
        with self._lock:
            self._batches.append(frame)
        self._maybe_show()

    def _sized(self, frame: pd.DataFrame) -> None:
        with self._lock:
            for row in frame.itertuples(index=False):
                if row.gone:
                    self._gone.add(str(row.upload_id))
                else:
                    self._sizes[str(row.upload_id)] = (row.parts, row.bytes, row.abort_date)
        self._maybe_show()

    def _progress(self, progress: ListingProgress) -> None:
        self._on_progress(progress)

    def _maybe_show(self) -> None:
        now = self._clock()
        if now - self._shown >= self._interval:
            self._shown = now
            self._on_change(self.frame(), False)
