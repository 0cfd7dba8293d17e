"""Output for the ``mpu`` command: readable tables for people, ``--json`` for scripts."""

from __future__ import annotations

import json
import math
from typing import Any, TextIO

import pandas as pd

from ..inventory.accounting import format_cost
from ..inventory.safe_abort import format_age
from .._plan.sizing import format_size

__all__ = ["print_table", "print_json", "records", "shorten"]


def shorten(text: str, width: int, where: str = "middle") -> str:
    """``text`` in at most ``width`` characters, an ellipsis marking what was cut."""
    if len(text) <= width:
        return text
    if where == "end":
        return text[:width - 1] + "…"
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]

_SIZE_COLUMNS = {"bytes", "size", "object_bytes", "overdue_bytes"}


def _plain(value: Any) -> Any:
    """A JSON-safe scalar: ISO timestamps, seconds for durations, None for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of JSON-safe values (``age`` in seconds)."""
    return [{col: _plain(v) for col, v in zip(frame.columns, row)}
            for row in frame.itertuples(index=False, name=None)]


def print_json(data: Any, out: TextIO) -> None:
    if isinstance(data, pd.DataFrame):
        data = records(data)
    json.dump(data, out, indent=2, default=str)
    out.write("\n")


def _cell(column: str, value: Any) -> str:
    value = _plain(value) if not isinstance(value, (pd.Timestamp, pd.Timedelta)) else value
    if value is None or value is pd.NaT:
        return "-"
    if column in _SIZE_COLUMNS:
        return format_size(int(value))
    if column == "share":
        return f"{value:.1%}"
    if column == "monthly_cost":
        return format_cost(float(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, pd.Timedelta):
        return format_age(value)
    return str(value)


def print_table(frame: pd.DataFrame, out: TextIO, empty: str = "(none)") -> None:
    """Aligned columns with human sizes, times and ages."""
    if frame.empty:
        out.write(empty + "\n")
        return
    cells = [[_cell(c, v) for c, v in zip(frame.columns, row)]
             for row in frame.itertuples(index=False, name=None)]
    header = [str(c) for c in frame.columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    numeric = [c in _SIZE_COLUMNS or pd.api.types.is_numeric_dtype(frame[c])
               for c in frame.columns]
    for row in [header, *cells]:
        out.write("  ".join(v.rjust(w) if num else v.ljust(w)
                            for v, w, num in zip(row, widths, numeric)).rstrip() + "\n")
