"""Usage totals from an uploads frame (pure pandas, no server)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from mpu_toolkit.errors import ConfigurationError
from mpu_toolkit.inventory.accounting import (AGE_BANDS, GIB, age_band, format_cost,
                                              parse_price, summarize, top_prefix)
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


BIG = [("b1", "logs/a", "10min", 2, 3 * GIB), ("b1", "tmp/b", "40D", 1, GIB // 2),
       ("b2", "x", "2h", 1, GIB // 4)]


def test_monthly_cost_next_to_bytes_follows_each_grouping():
    per_bucket = summarize(frame(BIG), price=0.02)
    assert list(per_bucket.columns[:5]) == ["bucket", "uploads", "parts", "bytes",
                                            "monthly_cost"]
    assert str(per_bucket["monthly_cost"].dtype) == "Float64"
    assert list(per_bucket["monthly_cost"]) == pytest.approx([3.5 * 0.02, 0.25 * 0.02])
    per_prefix = summarize(frame(BIG), "prefix", price="0.02")
    cost = per_prefix.set_index(["bucket", "prefix"])["monthly_cost"].to_dict()
    assert cost == pytest.approx({("b1", "logs/"): 0.06, ("b1", "tmp/"): 0.01,
                                  ("b2", ""): 0.005})
    per_age = summarize(frame(BIG), "age", price=Decimal("0.02"))
    by_band = per_age.set_index("age_band")["monthly_cost"].to_dict()
    assert by_band == pytest.approx({"< 1 hour": 0.06, "> 30 days": 0.01,
                                     "1 hour – 1 day": 0.005})
    with_share = summarize(frame(BIG), price=1, object_bytes={})
    assert list(with_share["monthly_cost"]) == pytest.approx([3.5, 0.25])
    assert "share" in with_share


def test_no_price_no_cost_column_and_a_free_price_costs_nothing():
    assert "monthly_cost" not in summarize(frame(ROWS))
    assert summarize(frame(ROWS), price=0)["monthly_cost"].eq(0).all()


@pytest.mark.parametrize("price, problem", [
    (-0.01, "is negative"), ("-1", "is negative"), (float("nan"), "not a finite number"),
    (float("inf"), "not a finite number"), ("inf", "not a finite number"),
    (Decimal("NaN"), "not a finite number"), ("0,02", "is not a number"),
    ("$0.02", "is not a number"), ("", "is not a number"), (True, "is not a number"),
    ([0.02], "is not a number")])
def test_a_bad_price_is_refused_naming_the_problem_and_the_fix(price, problem):
    with pytest.raises(ConfigurationError, match=problem) as refused:
        summarize(frame(ROWS), price=price)
    assert f"price={price!r}" in str(refused.value)
    assert "price per GiB-month" in str(refused.value) and "≥ 0" in str(refused.value)


def test_prices_are_accepted_as_numbers_or_numeric_strings():
    assert [parse_price(p) for p in (1, 0.023, Decimal("0.023"), " 0.023 ", "2e-2")] == [
        1.0, 0.023, 0.023, 0.023, 0.02]
    assert parse_price(None) is None
    with pytest.raises(ConfigurationError, match="--price='x'"):
        parse_price("x", "--price")


def test_format_cost():
    assert [format_cost(c) for c in (0, 0.0042, 0.01, 1234.567, 0.000011, 0.009999)] == [
        "0.00", "0.0042", "0.01", "1,234.57", "0.000011", "0.01"]
