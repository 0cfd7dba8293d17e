"""The browser's confirmation before an abort, on hand-built frames (pure pandas)."""

from __future__ import annotations

import pandas as pd

from mpu_toolkit.widgets.browser_view import confirm_text

GIB = 2**30


def uploads(rows: list[tuple[str, str, str | None, int | None]]) -> pd.DataFrame:
    """(bucket, key, age, bytes) rows, as uploads.list gives them."""
    return pd.DataFrame({
        "bucket": [r[0] for r in rows], "key": [r[1] for r in rows],
        "upload_id": [f"id-{i}" for i in range(len(rows))],
        "age": pd.to_timedelta([r[2] for r in rows]),
        "bytes": pd.array([r[3] for r in rows], dtype="Int64")})


def test_it_says_what_is_freed_oldest_youngest_and_cost():
    rows = uploads([("logs", "a.bin", "3d", 2 * GIB), ("logs", "b.bin", "2h", GIB),
                    ("raw", "c.bin", "10d", None)])
    text = confirm_text(rows, "selected", min_age=pd.Timedelta("1h"), force=False, price=0.02)
    assert text.startswith("Abort 3 uploads (selected), freeing 3 GiB (3,221,225,472 bytes), "
                           "0.06 a month?")
    assert "Oldest: raw/c.bin (10d old); youngest: logs/b.bin (2h old)." in text
    assert "Protected" not in text and "Force" not in text


def test_it_says_what_min_age_protects():
    rows = uploads([("logs", "old.bin", "2d", 100), ("logs", "live.bin", "5m", 4096),
                    ("logs", "live2.bin", "30s", 1024)])
    text = confirm_text(rows, "all filtered", min_age=pd.Timedelta("1h"), force=False)
    assert text.startswith("Abort 1 upload (all filtered), freeing 100 B (100 bytes)?")
    assert "It is logs/old.bin (2d old)." in text
    assert ("Protected by min_age: 2 younger than 1h (5 KiB) will be skipped" in text)
    forced = confirm_text(rows, "all filtered", min_age=pd.Timedelta("1h"), force=True)
    assert forced.startswith("Abort 3 uploads") and "Force is on" in forced
    assert "youngest: logs/live2.bin (30s old)" in forced


def test_unknown_ages_and_sizes_are_said_so():
    rows = uploads([("b", "k", None, None)])
    text = confirm_text(rows, "selected", min_age=None, force=False)
    assert text == "Abort 1 upload (selected), freeing 0 B (0 bytes)? It is b/k (age unknown)."
