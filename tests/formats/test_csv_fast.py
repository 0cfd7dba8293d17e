"""csv_fast's bytes against pandas' own to_csv, and what it declines (pure, no server)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpu_toolkit.formats.csv_fast import fast_renderer

SEPS = [",", ";", "\t", "|", "§"]  # "§": two bytes in UTF-8
NA_REPS = ["", "NA", "n/a;,|", 'q"', "x\ny", "§"]
TEXT = st.text(st.sampled_from(list('ab ,;\t|"\r\n§é€😀\x00')) | st.characters(codec="utf-8"),
               max_size=6)
FLOATS = st.sampled_from([0.0, -0.0, 1.0, -3.0, 0.5, 1e-4, 9.999e-5, 1e-5, 1.5e-7, 1e-9, 1e-10,
                          1e9, 1e10, 123456789012345.6, 1e15, 9.999e15, 1e16, 1.5e16, 1e22,
                          5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, float("nan"),
                          float("inf"), float("-inf"), 0.1, 1 / 3]) | st.floats()
UNITS = {"s": 1, "ms": 10 ** 3, "us": 10 ** 6, "ns": 10 ** 9}
DAY = 86400


def expected(df: pd.DataFrame, options: dict, first: bool) -> bytes:
    header = options.get("header", True)
    rest = {k: v for k, v in options.items() if k != "header"}
    return df.to_csv(header=header if first else False, **rest).encode("utf-8")


@st.composite
def datetimes(draw: st.DrawFn, rows: int) -> pd.Series:
    unit = draw(st.sampled_from(list(UNITS)))
    per_second = UNITS[unit]
    days = (-354_000, 2_932_000) if unit != "ns" else (-106_000, 106_000)  # years 1000-9999
    finest = draw(st.sampled_from([0, 1, 3, 6, 9]))  # the column's finest: day, s, ms, us, ns
    ticks = []
    for _ in range(rows):
        if draw(st.integers(0, 9)) == 0:
            ticks.append(np.iinfo(np.int64).min)  # NaT
            continue
        second = draw(st.integers(*days)) * DAY + (draw(st.integers(0, DAY - 1)) if finest else 0)
        places = min(draw(st.sampled_from([0, 3, 6, 9])), finest if finest > 1 else 0)
        fraction = draw(st.integers(0, 10 ** places - 1)) if places else 0
        ticks.append(second * per_second + fraction * per_second // 10 ** places
                     if 10 ** places <= per_second else second * per_second)
    return pd.Series(np.array(ticks, np.int64).view(f"datetime64[{unit}]"))


@st.composite
def columns(draw: st.DrawFn, rows: int) -> pd.Series:
    kind = draw(st.sampled_from(["int", "uint", "bool", "float", "object", "str", "category",
                                 "datetime"]))
    if kind == "int":
        dtype = draw(st.sampled_from([np.int8, np.int32, np.int64]))
        info = np.iinfo(dtype)
        return pd.Series(draw(st.lists(st.integers(info.min, info.max), min_size=rows,
                                       max_size=rows)), dtype=dtype)
    if kind == "uint":
        return pd.Series(draw(st.lists(st.integers(0, 2 ** 64 - 1), min_size=rows,
                                       max_size=rows)), dtype=np.uint64)
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool)
    if kind == "float":
        return pd.Series(draw(st.lists(FLOATS, min_size=rows, max_size=rows)), dtype=np.float64)
    if kind == "datetime":
        return draw(datetimes(rows))
    values = draw(st.lists(TEXT | st.sampled_from([None, float("nan"), pd.NA]), min_size=rows,
                           max_size=rows))
    if kind == "object":
        return pd.Series(values, dtype=object)
    if kind == "str":
        return pd.Series(values, dtype=draw(st.sampled_from(["str", "string"])))
    extra = draw(st.lists(TEXT, max_size=2))  # categories no row uses
    categories = list(dict.fromkeys([v for v in values if isinstance(v, str)] + extra))
    dtype = draw(st.sampled_from([object, "str"]))
    return pd.Series(pd.Categorical(values, categories=pd.Index(categories, dtype=dtype)))


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 12))
    count = draw(st.integers(1, 4))
    names = draw(st.lists(TEXT, min_size=count, max_size=count))
    df = pd.concat([draw(columns(rows)) for _ in range(count)], axis=1, ignore_index=True)
    df.columns = pd.Index(names, dtype=draw(st.sampled_from([object, "str"])))
    cut = draw(st.integers(0, rows))
    df = pd.concat([df.iloc[:cut], df.iloc[cut:]])  # Arrow columns in chunks
    start, step = draw(st.integers(-10 ** 18, 10 ** 18)), draw(st.sampled_from([1, -7, 10 ** 6]))
    index = (pd.RangeIndex(start, start + rows * step, step) if draw(st.booleans())
             else pd.Index(draw(st.lists(st.integers(-2 ** 63, 2 ** 63 - 1), min_size=rows,
                                         max_size=rows)), dtype=np.int64))
    df.index = index.rename(draw(st.sampled_from([None, "", "id", 'a,"b'])))
    return df


OPTIONS = st.fixed_dictionaries({}, optional={
    "sep": st.sampled_from(SEPS), "index": st.booleans(), "header": st.booleans(),
    "na_rep": st.sampled_from(NA_REPS)})


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), OPTIONS, st.booleans())
def test_the_bytes_are_what_pandas_writes(df: pd.DataFrame, options: dict, first: bool):
    render = fast_renderer(options)
    assert render is not None
    assert render(df, first) == expected(df, options, first)


def test_datetimes_take_pandas_format_per_chunk_of_cells():
    """pandas formats 100_000 cells at a time: with 1000 columns, 100 rows per format."""
    day = np.datetime64("2024-03-01", "ns") + np.arange(300).astype("timedelta64[D]")
    stamps = day + np.repeat([0, 1, 0], 100).astype("timedelta64[s]")
    stamps[250] += np.timedelta64(1500, "us")  # the third hundred: microseconds
    df = pd.DataFrame(np.zeros((300, 999), np.int64), columns=[f"c{i}" for i in range(999)])
    df.insert(0, "t", stamps)
    lines = fast_renderer({"index": False})(df, True).decode().splitlines()
    assert lines[1].startswith("2024-03-01,") and lines[101].startswith("2024-06-09 00:00:01,")
    assert lines[201].startswith("2024-09-17 00:00:00.000000,")
    assert "\n".join(lines) + "\n" == df.to_csv(index=False)


def test_a_concatenated_frame_whose_arrow_columns_have_chunks():
    df = pd.concat([pd.DataFrame({"s": ["a", None], "c": pd.Categorical(["x", "y"])})] * 2)
    assert fast_renderer({})(df, True) == df.to_csv().encode()


@pytest.mark.parametrize("options", [
    {"float_format": "%.2f"}, {"date_format": "%Y"}, {"columns": ["a"]}, {"decimal": ","},
    {"quoting": csv.QUOTE_ALL}, {"lineterminator": "\r\n"}, {"index_label": "i"},
    {"chunksize": 10}, {"header": ["A"]}, {"index": "yes"}, {"sep": ";;"}, {"sep": '"'},
    {"sep": "."}, {"sep": " "}, {"sep": "x"}, {"sep": "\n"}, {"na_rep": "n" * 33},
    {"na_rep": None}, {"escapechar": "\\"}, {"doublequote": False}])
def test_options_outside_its_set_decline(options: dict):
    assert fast_renderer(options) is None


def test_pandas_defaults_passed_explicitly_are_accepted():
    options = {"float_format": None, "decimal": ".", "quotechar": '"', "lineterminator": "\n",
               "chunksize": None, "date_format": None, "na_rep": "n" * 32}
    df = pd.DataFrame({"x": [1.5, np.nan]})
    assert fast_renderer(options)(df, True) == expected(df, options, True)


@pytest.mark.parametrize("df", [
    pd.DataFrame({"a": np.array([1.5], np.float32)}),
    pd.DataFrame({"a": pd.array([1, None], "Int64")}),
    pd.DataFrame({"a": pd.array([True, None], "boolean")}),
    pd.DataFrame({"a": pd.to_datetime(["2024-01-01"]).tz_localize("UTC")}),
    pd.DataFrame({"a": pd.to_timedelta([1], "s")}),
    pd.DataFrame({"a": pd.Series(["x", 1], dtype=object)}),
    pd.DataFrame({"a": pd.Series([b"x"], dtype=object)}),
    pd.DataFrame({"a": pd.Categorical([1, 2])}),
    pd.DataFrame({"a": np.array(["0999-12-31"], "datetime64[s]")}),
    pd.DataFrame({"a": np.array(["10000-01-01"], "datetime64[s]")}),
    pd.DataFrame({0: [1]}),
    pd.DataFrame(np.zeros((1, 2)), columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])),
    pd.DataFrame(index=[0, 1]),
    pd.DataFrame({"a": [1]}, index=pd.Index([0.5])),
    pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)])),
    pd.DataFrame({"a": [1]}, index=pd.Index([1], name=7)),
], ids=["float32", "Int64", "boolean", "tz-aware", "timedelta", "mixed object", "bytes",
        "int categories", "year 999", "year 10000", "int column name", "MultiIndex columns",
        "no columns", "float index", "MultiIndex", "int index name"])
def test_frames_outside_its_set_decline(df: pd.DataFrame):
    assert fast_renderer({})(df, True) is None


def test_an_unwritten_index_of_any_type_is_no_reason_to_decline():
    df = pd.DataFrame({"a": [1, 2]}, index=pd.MultiIndex.from_tuples([(1, 2), (3, 4)]))
    assert fast_renderer({"index": False})(df, True) == df.to_csv(index=False).encode()
