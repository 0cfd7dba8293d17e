"""Storage held by incomplete uploads: totals per bucket, prefix, age band or storage class
(pandas), and the largest prefixes with the rest as one row: the numbers pictures draw.

The share of a bucket's space is computed against its completed objects' bytes when the
caller asks for them (:func:`object_bytes`: a listing of every object costs a scan). The
monthly cost needs the caller's price per GiB-month: none is built in, prices change.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from decimal import Decimal
from typing import Iterable, Literal, Mapping

import pandas as pd

from .._s3.client import S3Client
from ..errors import ConfigurationError

__all__ = ["AGE_BANDS", "GIB", "age_band", "band_position", "format_cost", "largest_prefixes",
           "monthly_cost", "parse_price", "start_period", "summarize"]

GroupBy = Literal["bucket", "prefix", "age", "storage_class", "started"]
_KEYS = {"bucket": ["bucket"], "prefix": ["bucket", "prefix"], "age": ["bucket", "age_band"],
         "storage_class": ["bucket", "storage_class"], "started": ["bucket", "started"]}
DAY = 86400.0  # seconds
_EDGES = [0.0, 3600.0, DAY, 7 * DAY, 30 * DAY, float("inf")]  # seconds
AGE_BANDS = ["< 1 hour", "1 hour – 1 day", "1 – 7 days", "7 – 30 days", "> 30 days"]
GIB = 2 ** 30  # prices are per GiB-month (binary gigabyte)
Price = float | int | Decimal | str


def parse_price(price: Price | None, what: str = "price") -> float | None:
    """A price per GiB-month as a float (None: no price); refuses what cannot be one."""
    if price is None:
        return None
    fix = (f"give the price per GiB-month from your provider's pricing page as a number ≥ 0, "
           f"e.g. {what}=0.023")
    try:
        if isinstance(price, bool) or not isinstance(price, (numbers.Real, Decimal, str)):
            raise TypeError
        value = float(price)
    except (ValueError, TypeError):
        raise ConfigurationError(f"{what}={price!r} is not a number: {fix}") from None
    if not math.isfinite(value):
        raise ConfigurationError(f"{what}={price!r} is not a finite number: {fix}")
    if value < 0:
        raise ConfigurationError(f"{what}={price!r} is negative: {fix}")
    return value


def monthly_cost(nbytes: pd.Series, price: float) -> pd.Series:
    """What ``nbytes`` cost a month at ``price`` per GiB-month (<NA> where bytes are)."""
    return nbytes.astype("Float64") / GIB * price


def format_cost(cost: float) -> str:
    """A cost for people: two decimals, or two significant digits below 0.01 (0.00042)."""
    if cost == 0 or abs(cost) >= 0.01:
        return f"{cost:,.2f}"
    return format(Decimal(f"{cost:.2g}"), "f")


def age_band(age: pd.Series) -> pd.Series:
    """Human age bands (ordered categorical) for ``age`` timedeltas."""
    seconds = age.dt.total_seconds().clip(lower=0)
    return pd.cut(seconds, _EDGES, labels=AGE_BANDS, right=False, include_lowest=True)


def start_period(initiated: pd.Series, most: int = 10) -> pd.Series:
    """When each upload started, as its day, week or month, whichever fits the span (up to 14
    days, 26 weeks, beyond): an ordered categorical, oldest first ("2026-11-29", "week of
    2026-11-23", "2026-11"). Beyond ``most`` periods the oldest share "before <date>"."""
    started = pd.to_datetime(initiated, utc=True)
    span = started.max() - started.min() if started.notna().any() else pd.Timedelta(0)
    unit, shown = (("D", "%Y-%m-%d") if span <= pd.Timedelta(days=14) else
                   ("W", "week of %Y-%m-%d") if span <= pd.Timedelta(weeks=26) else
                   ("M", "%Y-%m"))
    periods = started.dt.tz_localize(None).dt.to_period(unit).dt.start_time
    order = sorted(periods.dropna().unique())
    names = {p: pd.Timestamp(p).strftime(shown) for p in order}
    if len(order) > most:  # the oldest periods share one row
        older = f"before {names[order[-most + 1]].removeprefix('week of ')}"
        names.update({p: older for p in order[:-most + 1]})
    labels = list(dict.fromkeys(names[p] for p in order))
    return pd.Series(pd.Categorical(periods.map(names), categories=labels, ordered=True),
                     index=initiated.index)


def band_position(days: float) -> float:
    """Where an age of ``days`` falls on the :data:`AGE_BANDS` axis, band i spanning [i, i+1):
    1 day is 2.0, the edge between the 2nd and 3rd band; 3 days lie a third into "1 – 7 days"
    (linearly); beyond the last edge, the start of the last band. Places a lifecycle cut-off."""
    seconds = max(0.0, days * DAY)
    band = next(i for i, high in enumerate(_EDGES[1:]) if seconds < high)
    low, high = _EDGES[band], _EDGES[band + 1]
    return band + (0.0 if math.isinf(high) else (seconds - low) / (high - low))


def folder(key: str, depth: int = 1) -> str:
    """``key``'s folder, at most ``depth`` levels deep, with a trailing slash ('' at top)."""
    parts = key.split("/")[:-1][:depth]
    return "/".join(parts) + "/" if parts else ""


def top_prefix(keys: pd.Series, depth: int = 1) -> pd.Series:
    """Each key's :func:`folder`."""
    return keys.map(lambda key: folder(key, depth)).astype("string")


async def object_bytes(client: S3Client, buckets: Iterable[str],
                       depth: int) -> dict[tuple[str, str], int]:
    """Completed objects' bytes per (bucket, folder ``depth`` deep; 0: the whole bucket)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for bucket in buckets:
        async for key, size in client.iter_objects(bucket):
            totals[(bucket, folder(key, depth) if depth else "")] += size
    return dict(totals)


def summarize(uploads: pd.DataFrame, by: GroupBy = "bucket", *, prefix_depth: int = 1,
              object_bytes: Mapping[tuple[str, str], int] | None = None,
              price: Price | None = None) -> pd.DataFrame:
    """Totals of ``uploads`` (the frame of :func:`mpu_toolkit.uploads.list`) per bucket and
    ``by`` (bucket, top-level prefix, age band, storage class, or ``started``: the
    :func:`start_period` of each upload).

    Columns: the group keys, ``uploads``, ``parts``, ``bytes``, with ``price`` (per
    GiB-month) ``monthly_cost``, then ``oldest`` and, with ``object_bytes`` (completed
    objects' bytes per (bucket, prefix)), ``object_bytes`` and ``share`` (incomplete bytes /
    all bytes held). When ``uploads`` has an ``abort_days`` column (set it with
    :func:`.lifecycle.abort_days`), ``abort_days`` (the soonest rule covering the group) and
    ``overdue_bytes`` (bytes of uploads older than their rule's days: due to be aborted)
    come before ``oldest``.
    """
    rate = parse_price(price)
    if by not in _KEYS:
        raise ConfigurationError(f"by={by!r}: use 'bucket', 'prefix', 'age', 'storage_class' "
                                 "or 'started'")
    frame = uploads.assign(prefix="")
    if by == "prefix":
        frame["prefix"] = top_prefix(frame["key"].astype(str), prefix_depth)
    if by == "age":
        frame = frame.assign(age_band=age_band(frame["age"]))
    if by == "started":
        frame = frame.assign(started=start_period(frame["initiated"]))
    sums = dict(uploads=("upload_id", "size"), parts=("parts", "sum"), bytes=("bytes", "sum"))
    ruled = "abort_days" in frame.columns
    if ruled:
        due = (frame["age"].dt.total_seconds() >= frame["abort_days"] * DAY).fillna(False)
        frame = frame.assign(overdue_bytes=frame["bytes"].where(due, 0))
        sums |= dict(abort_days=("abort_days", "min"), overdue_bytes=("overdue_bytes", "sum"))
    totals = (frame.groupby(_KEYS[by], observed=True, dropna=False)
              .agg(**sums, oldest=("initiated", "min"))
              .reset_index())
    totals = totals.astype({"uploads": "int64", "parts": "Int64", "bytes": "Int64",
                            **({"abort_days": "Int64", "overdue_bytes": "Int64"} if ruled
                               else {})})
    if rate is not None:
        totals.insert(totals.columns.get_loc("bytes") + 1, "monthly_cost",
                      monthly_cost(totals["bytes"], rate))
    if object_bytes is not None:
        held = [object_bytes.get((b, p if by == "prefix" else ""), 0)
                for b, p in zip(totals["bucket"], totals.get("prefix", [""] * len(totals)))]
        totals["object_bytes"] = pd.array(held, dtype="Int64")
        all_bytes = totals["bytes"] + totals["object_bytes"]
        totals["share"] = (totals["bytes"] / all_bytes.where(all_bytes > 0)).astype("Float64")
    return totals.sort_values("bytes", ascending=False, ignore_index=True)


def largest_prefixes(uploads: pd.DataFrame, n: int = 8, *, depth: int = 1,
                     price: Price | None = None) -> pd.DataFrame:
    """The ``n`` (bucket, prefix ``depth`` deep) groups holding the most bytes, then one row
    for the rest (bucket and prefix <NA>), so that the rows add up to every byte.

    Columns of :func:`summarize` by prefix, and ``groups``: how many (bucket, prefix) groups
    the row stands for (1, or the remainder's count).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigurationError(f"n={n!r}: give how many prefixes to show, at least 1")
    totals = (summarize(uploads, "prefix", prefix_depth=depth, price=price)
              .sort_values(["bytes", "bucket", "prefix"], ascending=[False, True, True],
                           ignore_index=True)
              .assign(groups=1))
    top, rest = totals.iloc[:n], totals.iloc[n:]
    if rest.empty:
        return top
    other = {c: rest[c].sum() for c in ("uploads", "parts", "bytes", "monthly_cost")
             if c in rest}
    other |= {"bucket": pd.NA, "prefix": pd.NA, "oldest": rest["oldest"].min(),
              "groups": len(rest)}
    remainder = pd.DataFrame([other], columns=top.columns).astype(top.dtypes.to_dict())
    return pd.concat([top, remainder], ignore_index=True)
