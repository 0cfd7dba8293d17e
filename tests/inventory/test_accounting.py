"""Usage totals from an uploads frame (pure pandas, no server)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from mpu_toolkit.errors import ConfigurationError
from mpu_toolkit.inventory.accounting import (AGE_BANDS, GIB, age_band, band_position,
                                              format_cost, largest_prefixes, parse_price,
                                              summarize, top_prefix)
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


# --- the numbers the pictures draw -------------------------------------------------------------

CLASSES = [("b1", "a", "1h", 1, 100, "STANDARD"), ("b1", "b", "1h", 1, 30, "STANDARD_IA"),
           ("b2", "c", "1h", 1, 5, "STANDARD"), ("b2", "d", "1h", 2, 70, None)]


def with_classes(rows):
    df = frame([r[:5] for r in rows])
    df["storage_class"] = pd.array([r[5] for r in rows], dtype="string")
    return df


def test_bytes_by_storage_class_per_bucket_with_cost():
    totals = summarize(with_classes(CLASSES), "storage_class", price=2)
    got = {(b, None if pd.isna(c) else c): (u, n) for b, c, u, n in zip(
        totals["bucket"], totals["storage_class"], totals["uploads"], totals["bytes"])}
    assert got == {("b1", "STANDARD"): (1, 100), ("b1", "STANDARD_IA"): (1, 30),
                   ("b2", "STANDARD"): (1, 5), ("b2", None): (1, 70)}  # no class: kept
    assert list(totals["bytes"]) == [100, 70, 30, 5]
    assert list(totals["monthly_cost"]) == pytest.approx([n / GIB * 2 for n in (100, 70, 30, 5)])


def test_largest_prefixes_then_the_rest_in_one_row():
    rows = [("b1", "logs/x", "1h", 1, 500), ("b1", "logs/y", "1h", 2, 100),
            ("b1", "tmp/z", "1h", 1, 300), ("b2", "a/1", "1h", 1, 40), ("b2", "top", "1h", 3, 2),
            ("b3", "c/1", "2h", 1, 9)]
    top = largest_prefixes(frame(rows), 2, price=0.5)
    assert [(b, p) for b, p in zip(top["bucket"][:2], top["prefix"][:2])] == [
        ("b1", "logs/"), ("b1", "tmp/")]
    assert list(top["bytes"]) == [600, 300, 51]  # the rest: b2 a/, b2 "" and b3 c/
    assert pd.isna(top.loc[2, "bucket"]) and pd.isna(top.loc[2, "prefix"])
    assert list(top["groups"]) == [1, 1, 3] and list(top["uploads"]) == [2, 1, 3]
    assert list(top["parts"]) == [3, 1, 5]
    assert top["bytes"].sum() == frame(rows)["bytes"].sum()  # every byte, once
    assert list(top["monthly_cost"]) == pytest.approx([n / GIB * 0.5 for n in (600, 300, 51)])
    assert top.loc[2, "oldest"] == frame(rows)["initiated"].min()  # b3's 2 h old upload
    every = largest_prefixes(frame(rows), 10)
    assert len(every) == 5 and every["bucket"].notna().all()  # nothing left: no remainder row
    with pytest.raises(ConfigurationError, match="n=0"):
        largest_prefixes(frame(rows), 0)


@pytest.mark.parametrize("days, position", [(1 / 24, 1.0), (1, 2.0), (3, 2 + 2 / 6), (7, 3.0),
                                            (30, 4.0), (90, 4.0), (0, 0.0)])
def test_band_position_of_a_cut_off(days, position):
    assert band_position(days) == pytest.approx(position)


def test_overdue_bytes_against_the_rule_covering_each_upload():
    uploads = frame([("b1", "logs/a", "3D", 1, 100), ("b1", "logs/b", "10min", 1, 20),
                     ("b1", "tmp/c", "40D", 1, 1000), ("b2", "x", "40D", 1, 7)])
    uploads["abort_days"] = pd.array([2, 2, 7, None], dtype="Int64")
    by_age = summarize(uploads, "age").set_index(["bucket", "age_band"])
    assert by_age["overdue_bytes"].to_dict() == {
        ("b1", "1 – 7 days"): 100, ("b1", "< 1 hour"): 0, ("b1", "> 30 days"): 1000,
        ("b2", "> 30 days"): 0}  # b2 has no rule: nothing is overdue there
    assert by_age.loc[("b1", "> 30 days"), "abort_days"] == 7
    assert pd.isna(by_age.loc[("b2", "> 30 days"), "abort_days"])
    per_bucket = summarize(uploads).set_index("bucket")
    assert per_bucket.loc["b1", "abort_days"] == 2  # the soonest rule of the group
    assert per_bucket.loc["b1", "overdue_bytes"] == 1100
    cols = list(per_bucket.columns)
    assert cols.index("overdue_bytes") + 1 == cols.index("oldest")
    assert "overdue_bytes" not in summarize(frame(ROWS))  # no rules asked: no column
