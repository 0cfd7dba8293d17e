"""Storage held by incomplete uploads: totals per bucket, prefix or age band (pandas).

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

__all__ = ["AGE_BANDS", "GIB", "age_band", "format_cost", "monthly_cost", "parse_price",
           "summarize"]

GroupBy = Literal["bucket", "prefix", "age"]

_EDGES = [0.0, 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0, float("inf")]  # seconds
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
    """Totals of ``uploads`` (the frame of :func:`mpu_toolkit.uploads.list`).

    Columns: the group keys, ``uploads``, ``parts``, ``bytes``, with ``price`` (per
    GiB-month) ``monthly_cost``, then ``oldest`` and, with ``object_bytes`` (completed
    objects' bytes per (bucket, prefix)), ``object_bytes`` and ``share`` (incomplete bytes /
    all bytes held).
    """
    rate = parse_price(price)
    if by not in ("bucket", "prefix", "age"):
        raise ConfigurationError(f"by={by!r}: use 'bucket', 'prefix' or 'age'")
    frame = uploads.assign(prefix="")
    if by == "prefix":
        frame["prefix"] = top_prefix(frame["key"].astype(str), prefix_depth)
    keys = {"bucket": ["bucket"], "prefix": ["bucket", "prefix"],
            "age": ["bucket", "age_band"]}[by]
    if by == "age":
        frame = frame.assign(age_band=age_band(frame["age"]))
    totals = (frame.groupby(keys, observed=True, dropna=False)
              .agg(uploads=("upload_id", "size"), parts=("parts", "sum"),
                   bytes=("bytes", "sum"), oldest=("initiated", "min"))
              .reset_index())
    totals = totals.astype({"uploads": "int64", "parts": "Int64", "bytes": "Int64"})
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
