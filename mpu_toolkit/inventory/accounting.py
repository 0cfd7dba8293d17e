"""Storage held by incomplete uploads: totals per bucket, prefix or age band (pandas).

The share of a bucket's space is computed against its completed objects' bytes when the
caller asks for them (:func:`object_bytes`: a listing of every object costs a scan).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Literal, Mapping

import pandas as pd

from .._s3.client import S3Client
from ..errors import ConfigurationError

__all__ = ["AGE_BANDS", "age_band", "summarize"]

GroupBy = Literal["bucket", "prefix", "age"]

_EDGES = [0.0, 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0, float("inf")]  # seconds
AGE_BANDS = ["< 1 hour", "1 hour – 1 day", "1 – 7 days", "7 – 30 days", "> 30 days"]


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
              object_bytes: Mapping[tuple[str, str], int] | None = None) -> pd.DataFrame:
    """Totals of ``uploads`` (the frame of :func:`mpu_toolkit.uploads.list`).

    Columns: the group keys, ``uploads``, ``parts``, ``bytes``, ``oldest`` and, with
    ``object_bytes`` (completed objects' bytes per (bucket, prefix)), ``object_bytes`` and
    ``share`` (incomplete bytes / all bytes held).
    """
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
    if object_bytes is not None:
        held = [object_bytes.get((b, p if by == "prefix" else ""), 0)
                for b, p in zip(totals["bucket"], totals.get("prefix", [""] * len(totals)))]
        totals["object_bytes"] = pd.array(held, dtype="Int64")
        all_bytes = totals["bytes"] + totals["object_bytes"]
        totals["share"] = (totals["bytes"] / all_bytes.where(all_bytes > 0)).astype("Float64")
    return totals.sort_values("bytes", ascending=False, ignore_index=True)
