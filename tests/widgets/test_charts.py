"""The SVG pictures of held space: well-formed, bars in proportion, legend, cut-off lines,
a text equivalent equal to <desc>, escaped names, and a picture for no uploads (pure)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from mpu_toolkit.inventory.lifecycle import rules_frame
from mpu_toolkit.inventory.listing import COLUMNS
from mpu_toolkit.widgets.charts import (PALETTE, age_chart, class_chart, describe_age,
                                        describe_classes, describe_prefixes, describe_starts,
                                        prefix_chart, start_chart)

NS = {"s": "http://www.w3.org/2000/svg"}
NOW = pd.Timestamp("2026-01-31", tz="UTC")


def frame(rows):
    """An uploads frame from (bucket, key, age, bytes[, storage class]) rows."""
    df = pd.DataFrame([{"bucket": r[0], "key": r[1], "upload_id": f"id{i}",
                        "initiated": NOW - pd.Timedelta(r[2]), "age": pd.Timedelta(r[2]),
                        "storage_class": r[4] if len(r) > 4 else "STANDARD", "owner": None,
                        "initiator": None, "parts": 1, "bytes": r[3], "abort_date": pd.NaT}
                       for i, r in enumerate(rows)], columns=list(COLUMNS))
    df["abort_date"] = pd.to_datetime(df["abort_date"], utc=True)
    return df.astype(COLUMNS)


UPLOADS = frame([("b1", "logs/a", "10min", 4000), ("b1", "logs/b", "3D", 1000),
                 ("b2", "tmp/c", "3D", 3000), ("b3", "x", "40D", 2000),
                 ("b2", "cold/d", "2h", 500, "GLACIER")])


def rules(bucket, days, prefix=""):
    return rules_frame(bucket, [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": prefix},
                                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}])


def parse(svg):
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    return root


def bars(root):
    """{title of each bar segment: (x, width)}."""
    return {r.find("s:title", NS).text: (float(r.get("x")), float(r.get("width")))
            for r in root.iterfind(".//s:rect[@class='mpu-bar']", NS)}


def legend(root):
    return [t.text for t in root.iterfind(".//s:g[@class='mpu-legend']/s:text", NS)]


def test_age_bars_are_stacked_by_bucket_in_proportion_to_bytes():
    root = parse(age_chart(UPLOADS))
    got = bars(root)
    assert set(got) == {"b1, < 1 hour: 3.9 KiB", "b1, 1 – 7 days: 1000 B",
                        "b2, 1 – 7 days: 2.9 KiB", "b2, 1 hour – 1 day: 500 B",
                        "b3, > 30 days: 2.0 KiB"}
    widths = {t.split(":")[0]: w for t, (_, w) in got.items()}
    bytes_of = {"b1, < 1 hour": 4000, "b1, 1 – 7 days": 1000, "b2, 1 – 7 days": 3000,
                "b2, 1 hour – 1 day": 500, "b3, > 30 days": 2000}
    scale = widths["b1, < 1 hour"] / 4000
    assert scale == pytest.approx(280 / 4000)  # the longest bar (4000 B) is the plot's width
    for name, n in bytes_of.items():
        assert widths[name] == pytest.approx(n * scale, abs=0.002), name
    # stacked: b2's segment of "1 – 7 days" starts where b1's ends (b1 holds most: first)
    x1, w1 = got["b1, 1 – 7 days: 1000 B"]
    assert got["b2, 1 – 7 days: 2.9 KiB"][0] == pytest.approx(x1 + w1, abs=0.002)
    assert legend(root) == ["b1", "b2", "b3"]  # every bucket, largest first
    fills = {r.get("fill") for r in root.iterfind(".//s:rect[@class='mpu-bar']", NS)}
    assert fills == set(PALETTE[:3])


def test_the_cut_off_line_is_drawn_exactly_where_a_rule_exists():
    plain = parse(age_chart(UPLOADS))
    assert plain.findall(".//s:g[@class='mpu-cutoff']", NS) == []
    assert "abort after" not in describe_age(UPLOADS)
    ruled = parse(age_chart(UPLOADS, pd.concat([rules("b1", 7), rules("b2", 1, "tmp/")])))
    cuts = ruled.findall(".//s:g[@class='mpu-cutoff']", NS)
    assert [c.find("s:title", NS).text for c in cuts] == ["abort after 1 day (b2/tmp/)",
                                                          "abort after 7 days (b1)"]
    rows = {t.text: float(t.get("y")) for t in ruled.iterfind(".//s:text[@class='mpu-label']",
                                                             NS)}
    y = [float(c.find("s:line", NS).get("y1")) for c in cuts]
    # 1 day: between "1 hour – 1 day" and "1 – 7 days"; 7 days: between "1 – 7" and "7 – 30"
    assert rows["1 hour – 1 day"] < y[0] < rows["1 – 7 days"] < y[1] < rows["7 – 30 days"]
    assert y[1] - y[0] == pytest.approx(rows["1 – 7 days"] - rows["1 hour – 1 day"])
    assert ("Lifecycle cut-off: abort after 7 days (b1), between 1 – 7 days and 7 – 30 days."
            in describe_age(UPLOADS, rules("b1", 7)))
    disabled = rules("b1", 7).assign(status="Disabled")
    assert parse(age_chart(UPLOADS, disabled)).findall(".//s:g[@class='mpu-cutoff']", NS) == []


@pytest.mark.parametrize("draw, describe, args", [
    (age_chart, describe_age, (rules("b1", 7), 0.023)),
    (prefix_chart, describe_prefixes, (2,)),
    (class_chart, describe_classes, (0.5,)),
    (start_chart, describe_starts, (0.5,))], ids=["age", "prefixes", "classes", "starts"])
def test_title_and_desc_are_the_text_equivalent(draw, describe, args):
    root = parse(draw(UPLOADS, *args))
    title, desc = root.find("s:title", NS), root.find("s:desc", NS)
    text = describe(UPLOADS, *args)
    assert title is not None and text.startswith(title.text + ":")
    assert desc is not None and desc.text == text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_the_text_says_every_number():
    assert describe_age(UPLOADS, price=2).splitlines() == [
        "Incomplete uploads by age: 10.3 KiB in total, 0.00002 a month at 2 per GiB-month.",
        "< 1 hour: 3.9 KiB, 0.0000075 a month (b1 3.9 KiB)",
        "1 hour – 1 day: 500 B, 0.00000093 a month (b2 500 B)",
        "1 – 7 days: 3.9 KiB, 0.0000075 a month (b1 1000 B, b2 2.9 KiB)",
        "7 – 30 days: 0 B, 0.00 a month",
        "> 30 days: 2.0 KiB, 0.0000037 a month (b3 2.0 KiB)"]
    assert describe_classes(UPLOADS).splitlines()[1:] == [
        "STANDARD: 9.8 KiB (b1 4.9 KiB, b2 2.9 KiB, b3 2.0 KiB)", "GLACIER: 500 B (b2 500 B)"]
    assert describe_prefixes(UPLOADS, 2).splitlines()[1:] == [
        "b1/logs/: 4.9 KiB", "b2/tmp/: 2.9 KiB", "other (2 prefixes): 2.4 KiB"]


def test_top_prefixes_and_the_rest_are_bars_in_proportion():
    root = parse(prefix_chart(UPLOADS, 2))
    got = bars(root)
    widths = {t.split(",")[0] + "|" + t.split(", ")[1].split(":")[0]: w
              for t, (_, w) in got.items()}
    assert widths == {"b1|b1/logs/": pytest.approx(280.0),
                      "b2|b2/tmp/": pytest.approx(280.0 * 3000 / 5000),
                      "other prefixes|other (2 prefixes)": pytest.approx(280.0 * 2500 / 5000)}
    assert legend(root) == ["b1", "b2", "other prefixes"]


def test_storage_class_bars():
    got = bars(parse(class_chart(UPLOADS)))
    widths = {t.split(":")[0]: w for t, (_, w) in got.items()}
    assert widths == {"b1, STANDARD": pytest.approx(280 * 5000 / 10000),
                      "b2, STANDARD": pytest.approx(280 * 3000 / 10000),
                      "b3, STANDARD": pytest.approx(280 * 2000 / 10000),
                      "b2, GLACIER": pytest.approx(280 * 500 / 10000)}


def test_names_from_the_data_are_escaped():
    evil = "<script>alert('x')</script>&"
    uploads = frame([(evil, "k", "1h", 10, evil), ("b", f"{evil}/k", "1h", 5)])
    for svg in (age_chart(uploads, rules(evil, 1)), prefix_chart(uploads),
                class_chart(uploads)):
        assert "<script>" not in svg and "</script>" not in svg
        root = parse(svg)
        assert not root.findall(".//s:script", NS) and not root.findall(".//script")
    [name] = [t for t in parse(age_chart(uploads)).iterfind(
        ".//s:g[@class='mpu-legend']/s:text", NS) if t.text.startswith("<script>")]
    assert name.find("s:title", NS).text == evil  # shown as text: cut, and whole on hover
    assert evil in parse(class_chart(uploads)).find("s:desc", NS).text


def test_many_buckets_share_a_grey_beyond_the_palette():
    uploads = frame([(f"bucket-{i:02}", "k", "1h", 100 + i) for i in range(9)])
    root = parse(class_chart(uploads))
    names = legend(root)
    assert names[:len(PALETTE)] == [f"bucket-{i:02}" for i in range(8, 1, -1)]
    assert names[-1] == "other buckets" and len(names) == len(PALETTE) + 1
    [grey] = [w for t, (_, w) in bars(root).items() if t.startswith("other buckets")]
    assert grey == pytest.approx(280 * (100 + 101) / sum(range(100, 109)), abs=0.002)


@pytest.mark.parametrize("draw", [age_chart, prefix_chart, class_chart, start_chart])
def test_no_uploads_gives_a_small_picture_that_says_so(draw):
    root = parse(draw(frame([])))
    assert root.find("s:desc", NS).text.endswith(": no incomplete uploads.")
    assert [t.text for t in root.iterfind("s:text[@class='mpu-empty']", NS)] == [
        "no incomplete uploads"]
    assert not root.findall(".//s:rect", NS) and int(root.get("height")) < 60


def test_text_and_axes_follow_the_theme_colour():
    root = parse(age_chart(UPLOADS, rules("b1", 7)))
    assert root.get("fill") == "currentColor"
    assert all(t.get("fill") is None for t in root.iterfind(".//s:text", NS))  # inherited
    strokes = {e.get("stroke") for e in root.iter() if e.get("stroke")}
    assert strokes == {"currentColor"}


def test_starts_show_how_the_space_built_up_week_by_week_stacked_by_bucket():
    # 40 days from the oldest to the newest: one bar per week (Monday), oldest first
    assert describe_starts(UPLOADS).splitlines() == [
        "Incomplete uploads by when they started: 10.3 KiB in total.",
        "week of 2025-12-22: 2.0 KiB (b3 2.0 KiB)",
        "week of 2026-01-26: 8.3 KiB (b1 4.9 KiB, b2 3.4 KiB)"]
    got = bars(parse(start_chart(UPLOADS)))
    assert set(got) == {"b3, week of 2025-12-22: 2.0 KiB", "b1, week of 2026-01-26: 4.9 KiB",
                        "b2, week of 2026-01-26: 3.4 KiB"}
    b1, b2 = got["b1, week of 2026-01-26: 4.9 KiB"], got["b2, week of 2026-01-26: 3.4 KiB"]
    assert b1[0] + b1[1] == pytest.approx(b2[0])  # stacked: b2 starts where b1 ends
    assert b1[1] + b2[1] == pytest.approx(280)  # the biggest row is the longest bar


def test_starts_within_two_weeks_are_per_day_and_old_ones_share_a_row():
    days = frame([("b", f"k{i}", f"{i}D", 100 * (i + 1)) for i in (0, 1, 1, 5)])
    assert describe_starts(days).splitlines()[1:] == [
        "2026-01-26: 600 B (b 600 B)", "2026-01-30: 400 B (b 400 B)",
        "2026-01-31: 100 B (b 100 B)"]
    months = frame([("b", f"k{i}", f"{31 * i}D", 10) for i in range(14)])  # 14 months
    lines = describe_starts(months).splitlines()[1:]
    assert len(lines) == 10 and lines[0] == "before 2025-05: 50 B (b 50 B)"  # the 5 oldest
    assert lines[-1].startswith("2026-01: ")
