"""CSV text rendered by pyarrow.compute (C++, off the GIL), byte for byte what pandas writes.

``fast_renderer(options)`` renders a frame as ``df.to_csv(**options).encode("utf-8")`` does,
for pandas' default options plus ``sep``, ``index``, ``header`` and ``na_rep``, and for frames
of common dtypes only: numpy ints, bools and float64, strings (object columns of str, pandas'
``str``/``string`` dtypes, categories of str) and naive datetime64. Anything else declines
(``None``) and pandas renders it. What pandas does, matched here:

* floats are numpy's ``astype(str)`` (Python's repr): Arrow prints the same shortest digits,
  positionally for exponents -6..9 and in scientific notation otherwise; an integral value
  gains ``.0`` and the exponents where the two notations differ (-9..-5, 10..15) are
  formatted by numpy itself;
* datetimes take one format per column per pandas chunk (``100_000 // columns`` rows):
  dates only when every value is midnight, else seconds and as many fraction digits (3, 6,
  9) as the finest value needs;
* fields are quoted as the running Python's ``csv`` module quotes them (QUOTE_MINIMAL,
  doubled quotes), and a row of one empty field is written ``""``.
"""

from __future__ import annotations

import csv
import inspect
import io
import os
from collections.abc import Callable, Mapping
from functools import partial, reduce
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["fast_renderer", "FastRender"]

FastRender = Callable[[pd.DataFrame, bool], "bytes | None"]

_DEFAULTS = {name: p.default for name, p in
             inspect.signature(pd.DataFrame.to_csv).parameters.items()}
_OWN = {"sep", "index", "header", "na_rep"}
_NUMERIC_CHARS = " .-+:"  # in numbers, dates or bools (as are letters and digits)
_NA_MAX = 32  # numpy writes na_rep into a float column's "<U32" strings: longer is cut
_CELLS_PER_CHUNK = 100_000  # pandas' csvs._DEFAULT_CHUNKSIZE_CELLS
_TEXT = pa.large_string()
_PER_SECOND = {"s": 1, "ms": 10 ** 3, "us": 10 ** 6, "ns": 10 ** 9}
_UNIT_OF = {3: "ms", 6: "us", 9: "ns"}


def fast_renderer(options: Mapping[str, Any]) -> FastRender | None:
    """``render(df, first)``: the UTF-8 bytes of ``df.to_csv(header=header if first else
    False, **options)``, or ``None`` when ``df`` has a dtype, index or column name it does
    not support. ``None`` instead of a renderer when ``options`` are outside its set."""
    if os.linesep != "\n" and options.get("lineterminator") != "\n":
        return None
    for key, value in options.items():
        default = _DEFAULTS.get(key, inspect.Parameter.empty)
        if not (key in _OWN or (key == "lineterminator" and value == "\n")
                or (type(value) is type(default) and value == default)):
            return None
    sep, na_rep = options.get("sep", ","), options.get("na_rep", "")
    index, header = options.get("index", True), options.get("header", True)
    if not (isinstance(sep, str) and len(sep) == 1 and sep not in '"\r\n' + _NUMERIC_CHARS
            and not sep.isalnum() and isinstance(na_rep, str) and len(na_rep) <= _NA_MAX
            and type(index) is bool and type(header) is bool):
        return None
    return partial(_render, _Style(sep, na_rep), index, header)


class _Style:
    """The separator, ``na_rep`` as written, and what makes Python's csv quote a field."""

    def __init__(self, sep: str, na_rep: str) -> None:
        self.sep = sep
        self.specials = [c for c in dict.fromkeys((sep, '"', "\r", "\n"))
                         if self.line(["a" + c]).startswith('"')]  # "\r": by Python version
        self.na = pa.scalar(self.line([na_rep, ""])[:-len(sep) - 1], _TEXT)

    def line(self, fields: list[str]) -> str:
        """One row as Python's csv writer (pandas' writer) writes it."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n", delimiter=self.sep).writerow(fields)
        return out.getvalue()

    def quote(self, text: Any) -> Any:
        needs = reduce(pc.or_, [pc.match_substring(text, char) for char in self.specials])
        if not pc.any(needs).as_py():
            return text
        quoted = pc.binary_join_element_wise(_t('"'), pc.replace_substring(text, '"', '""'),
                                             _t('"'), _t(""))
        return pc.if_else(needs, quoted, text)


def _render(style: _Style, index: bool, header: bool, df: pd.DataFrame,
            first: bool) -> bytes | None:
    names = list(df.columns)
    if not names or not all(isinstance(name, str) for name in names):  # MultiIndex: tuples
        return None
    columns = []
    if index:
        label = df.index.name
        kind = df.index.dtype.kind if isinstance(df.index.dtype, np.dtype) else ""
        if kind not in ("i", "u") or not isinstance(label, (str, type(None))):
            return None
        names.insert(0, label or "")
        columns.append(pc.cast(pa.array(df.index.to_numpy()), _TEXT))
    chunk = (_CELLS_PER_CHUNK // df.shape[1]) or 1
    for i in range(df.shape[1]):
        column = _column(df.iloc[:, i], style, chunk)
        if column is None:
            return None
        columns.append(column)
    head = style.line(names).encode() if header and first else b""
    return head + _join(columns, style.sep) if len(df) else head


def _t(text: str) -> Any:
    return pa.scalar(text, _TEXT)


def _join(columns: list[Any], sep: str) -> bytes:
    """The lines of ``columns`` (strings, no nulls) as one UTF-8 text, with no Python loop
    over rows: the joined lines' data buffer is the text."""
    if len(columns) == 1:  # csv writes a row of one empty field as ""
        columns[0] = pc.if_else(pc.equal(columns[0], _t("")), _t('""'), columns[0])
    columns[-1] = pc.binary_join_element_wise(columns[-1], _t(""), _t("\n"))
    lines = pc.binary_join_element_wise(*columns, _t(sep))
    offsets = np.frombuffer(lines.buffers()[1], np.int64)
    start, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2][start:stop].to_pybytes()


def _column(series: pd.Series, style: _Style, chunk: int) -> Any:
    """One column's fields as an Arrow large_string array, or None when not supported."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categories(series, style)
    if isinstance(dtype, pd.StringDtype):
        return _strings(pa.array(series.array), style)
    if not isinstance(dtype, np.dtype):
        return None
    values = series.to_numpy()
    if dtype.kind in "iu":
        return pc.cast(pa.array(values), _TEXT)
    if dtype.kind == "b":
        return pc.if_else(pa.array(values), _t("True"), _t("False"))
    if dtype == np.float64:
        return _floats(values, style)
    if dtype.kind == "M":
        return _datetimes(values, style, chunk)
    if dtype == object:
        try:
            return _strings(pa.array(values, from_pandas=True), style)
        except (pa.ArrowException, ValueError, TypeError):
            return None
    return None


def _strings(array: Any, style: _Style) -> Any:
    if isinstance(array, pa.ChunkedArray):  # e.g. a str column of pd.concat's
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
            or pa.types.is_null(array.type)):
        return None
    return style.quote(pc.cast(array, _TEXT)).fill_null(style.na)


def _categories(series: pd.Series, style: _Style) -> Any:
    categories = _strings(pa.array(series.cat.categories.to_numpy(), from_pandas=True), style)
    if categories is None:
        return None
    dictionary = pa.concat_arrays([categories, pa.array([style.na.as_py()], _TEXT)])
    codes = series.cat.codes.to_numpy()
    return pc.take(dictionary, np.where(codes < 0, len(categories), codes))


def _floats(values: np.ndarray, style: _Style) -> Any:
    text = pc.cast(pa.array(values, from_pandas=True), _TEXT)  # NaN: null
    with np.errstate(invalid="ignore"):  # a signalling NaN
        size = np.abs(values)
        integral = (size < 1e10) & (values == np.trunc(values))
    if integral.any():  # Arrow: "1", "-0"; Python: "1.0", "-0.0"
        suffixes = pc.take(pa.array(["", ".0"], _TEXT), integral.view(np.int8))
        text = pc.binary_join_element_wise(text, suffixes, _t(""))
    differ = ((size >= 1e-9) & (size < 1e-4)) | ((size >= 1e10) & (size < 1e16))
    if differ.any():  # Arrow: "0.00001", "1.5e-7", "1e+15"; Python: "1e-05", ...
        text = pc.replace_with_mask(text, differ, pa.array(values[differ].astype(str), _TEXT))
    return text.fill_null(style.na)


def _datetimes(values: np.ndarray, style: _Style, chunk: int) -> Any:
    """pandas' ``format_array_from_datetime`` without a format, per pandas chunk."""
    unit = np.datetime_data(values.dtype)[0]
    if unit not in _PER_SECOND:
        return None
    ticks = values.view(np.int64)
    valid = ~np.isnat(values)
    if valid.any():
        first, last = np.array([values[valid].min(), values[valid].max()]).astype("M8[Y]")
        if first < np.datetime64("1000", "Y") or last > np.datetime64("9999", "Y"):
            return None  # pandas writes the year unpadded, Arrow in four digits
    per_second = _PER_SECOND[unit]
    fraction = np.where(valid, ticks % per_second, 0)
    digits = np.zeros(len(values), np.int8)
    for places in (3, 6, 9):  # a value's finest fraction: ms, us or ns
        if per_second >= 10 ** places:
            digits[fraction % (per_second // 10 ** (places - 3)) != 0] = places
    days = ~valid | (ticks % (86400 * per_second) == 0)
    array = pa.array(values)  # NaT: null
    pieces = []
    for start in range(0, len(values), chunk):
        part, stop = array.slice(start, chunk), start + chunk
        if days[start:stop].all():
            target = pa.date32()
        else:
            finest = int(digits[start:stop].max())
            target = pa.timestamp(_UNIT_OF.get(finest, "s"))
        pieces.append(pc.cast(pc.cast(part, target, safe=False), _TEXT))
    text = pa.concat_arrays(pieces) if pieces else pa.array([], _TEXT)
    return text.fill_null(style.na)
