"""Usage totals from an uploads frame (pure pandas, no server)."""

from __future__ import annotations

import pandas as pd
import pytest

from mpu_toolkit.inventory.accounting import AGE_BANDS, age_band, summarize, top_prefix
from mpu_toolkit.inventory.listing import COLUMNS


def frame(rows):
    now = pd.Timestamp("2026-01-31", tz="UTC")
    df = pd.DataFrame([{"bucket": b, "key": k, "upload_id": f"id{i}",
                        "initiated": now - pd.Timedelta(age), "age": pd.Timedelta(age),
                        "storage_class": "STANDARD", "owner": None, "initiator": None,
                        "parts": p, "bytes": n, "abort_date": pd.NaT}
                       for i, (b, k, age, p, n) in enumerate(rows)], columns=list(COLUMNS))
    df["abort_date"] = pd.to_datetime(df["abort_date"], utc=True)
    return df.astype(COLUMNS)


ROWS = [("b1", "logs/2026/a", "10min", 2, 100), ("b1", "logs/2025/b", "3D", 1, 50),
        ("b1", "tmp/c", "40D", 4, 1000), ("b2", "x", "2h", 1, 7)]


def test_per_bucket_totals_sorted_by_bytes():
    totals = summarize(frame(ROWS))
    assert list(totals["bucket"]) == ["b1", "b2"]
    assert list(totals["uploads"]) == [3, 1] and list(totals["parts"]) == [7, 1]
    assert list(totals["bytes"]) == [1150, 7]
    assert totals.loc[0, "oldest"] == frame(ROWS)["initiated"].min()


def test_per_prefix_at_depth():
    one = summarize(frame(ROWS), "prefix").set_index(["bucket", "prefix"])["bytes"].to_dict()
    assert one == {("b1", "logs/"): 150, ("b1", "tmp/"): 1000, ("b2", ""): 7}
    two = summarize(frame(ROWS), "prefix", prefix_depth=2)
    assert set(two["prefix"]) == {"logs/2026/", "logs/2025/", "tmp/", ""}


def test_age_bands_are_ordered_and_complete():
    bands = age_band(pd.Series(pd.to_timedelta(["5min", "2h", "2D", "10D", "90D"])))
    assert list(bands) == AGE_BANDS
    totals = summarize(frame(ROWS), "age")
    assert set(totals["age_band"].astype(str)) == {"< 1 hour", "1 hour – 1 day", "1 – 7 days",
                                                   "> 30 days"}


def test_share_of_space_against_completed_objects():
    totals = summarize(frame(ROWS), object_bytes={("b1", ""): 8850, ("b2", ""): 0})
    by_bucket = totals.set_index("bucket")
    assert by_bucket.loc["b1", "share"] == pytest.approx(1150 / 10_000)
    assert by_bucket.loc["b2", "share"] == pytest.approx(1.0)


def test_top_prefix():
    keys = pd.Series(["a/b/c", "a/b", "a", ""])
    assert list(top_prefix(keys, 1)) == ["a/", "a/", "", ""]
    assert list(top_prefix(keys, 2)) == ["a/b/", "a/", "", ""]
