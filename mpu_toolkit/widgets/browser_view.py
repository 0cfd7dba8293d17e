"""The uploads browser's question before an abort. Pure pandas."""

from __future__ import annotations

import pandas as pd

from ..inventory.safe_abort import format_age
from .html_table import cost_text, size_text

__all__ = ["confirm_text"]


def confirm_text(rows: pd.DataFrame, what: str, *, min_age: pd.Timedelta | None,
                 force: bool, price: float | None = None) -> str:
    """The question before an abort: how many uploads, the bytes (and cost) freed, the
    oldest and youngest of them, and who ``min_age`` spares."""
    young = ((rows["age"] < min_age).fillna(False) if min_age is not None and not force
             else pd.Series(False, index=rows.index))
    doomed = rows[~young]
    freed = int(doomed["bytes"].fillna(0).sum())
    text = (f"Abort {len(doomed):,} upload{'s' if len(doomed) != 1 else ''} ({what}), "
            f"freeing {size_text(freed)} ({freed:,} bytes)"
            + (f", {cost_text(freed, price)}" if price is not None else "") + "?")
    if len(doomed):
        text += " " + _span(doomed)
    spare = "0s" if min_age is None else format_age(min_age)
    if young.any():
        kept = int(rows[young]["bytes"].fillna(0).sum())
        text += (f" Protected by min_age: {int(young.sum()):,} younger than {spare} "
                 f"({size_text(kept)}) will be skipped (they may be live writers; tick force "
                 "to include them).")
    elif force and min_age is not None:
        text += " Force is on: uploads of live writers would be aborted too."
    return text


def _span(rows: pd.DataFrame) -> str:
    """Oldest and youngest of ``rows``: age and where."""
    ordered = rows.sort_values("age", kind="stable")
    youngest, oldest = ordered.iloc[0], ordered.iloc[-1]

    def where(row: pd.Series) -> str:
        return f"{row['bucket']}/{row['key']}"

    if len(rows) == 1:
        return f"It is {where(oldest)} ({_age(oldest)})."
    return (f"Oldest: {where(oldest)} ({_age(oldest)}); youngest: {where(youngest)} "
            f"({_age(youngest)}).")


def _age(row: pd.Series) -> str:
    return "age unknown" if pd.isna(row["age"]) else f"{format_age(row['age'])} old"
