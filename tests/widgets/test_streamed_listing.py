"""StreamedListing's frame as batches of rows and sizes arrive (callbacks driven directly)."""

from __future__ import annotations

import pandas as pd

from mpu_toolkit.inventory.listing import COLUMNS
from mpu_toolkit.widgets.streamed_listing import StreamedListing


def rows(ids: list[str], minutes_ago: list[int]) -> pd.DataFrame:
    now = pd.Timestamp.now(tz="UTC")
    return pd.DataFrame({
        "bucket": "b", "key": [f"k/{i}" for i in ids], "upload_id": ids,
        "initiated": [now - pd.Timedelta(minutes=m) for m in minutes_ago],
        "age": [pd.Timedelta(minutes=m) for m in minutes_ago], "storage_class": "STANDARD",
        "owner": "o", "initiator": "o", "parts": None, "bytes": None,
        "abort_date": pd.Series(pd.NaT, index=range(len(ids)), dtype="datetime64[ns, UTC]")}
    ).astype(COLUMNS)


def sizes(items: list[tuple[str, int | None, int | None, bool]]) -> pd.DataFrame:
    frame = pd.DataFrame(items, columns=["upload_id", "parts", "bytes", "gone"])
    frame["abort_date"] = pd.NaT
    return frame.astype({"parts": "Int64", "bytes": "Int64"})


def test_rows_then_sizes_then_gone_make_one_frame_oldest_first():
    shown: list[tuple[int, bool]] = []
    listing = StreamedListing(None, None, lambda f, final: shown.append((len(f), final)),
                              lambda p: None, interval=0)
    listing._rows(rows(["a", "b"], [5, 50]))
    listing._rows(rows(["c"], [500]))
    listing._sized(sizes([("b", 2, 20, False), ("c", None, None, True)]))
    frame = listing.frame()
    assert list(frame["upload_id"]) == ["b", "a"]  # oldest first; c gone
    assert frame.set_index("upload_id")["bytes"].to_dict() == {"b": 20, "a": None}
    assert frame.dtypes.astype(str).to_dict() == {c: str(pd.Series(dtype=t).dtype)
                                                  for c, t in COLUMNS.items()}
    assert shown == [(2, False), (3, False), (2, False)]  # told after every batch here


class Clock:
    """A monotonic clock read by the listing, moved by the test: 5 s after boot."""

    def __init__(self) -> None:
        self.now = 5.0

    def __call__(self) -> float:
        return self.now


def test_the_view_is_told_at_most_every_interval_even_just_after_boot():
    shown: list[int] = []
    clock = Clock()
    listing = StreamedListing(None, None, lambda f, final: shown.append(len(f)),
                              lambda p: None, interval=3600, clock=clock)
    for n in range(5):
        listing._rows(rows([f"u{n}"], [n]))
        clock.now += 1
    assert shown == [1]  # the first batch, then nothing until the interval has passed
    clock.now = 5.0 + 3600
    listing._rows(rows(["u5"], [5]))
    assert shown == [1, 6] and len(listing.frame()) == 6
