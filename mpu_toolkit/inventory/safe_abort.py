"""Abort incomplete uploads without hurting live writers, and say what happened to each.

An upload younger than ``min_age`` may belong to a writer that is still running: it is
skipped unless forced. Every abort is confirmed with ListParts and repeated if parts landed
meanwhile. One upload's failure never stops the batch: each gets an outcome —
``aborted``, ``gone`` (already completed, aborted or expired), ``skipped``, ``would-abort``
(dry run) or ``failed`` with the reason.
"""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any, Literal

import pandas as pd

from ..errors import ConfigurationError, MPUError, NoSuchBucket, NoSuchUpload, add_note
from .._engine.gather import bounded_gather
from .._s3.client import S3Client
from ..model import ObjectRef, location

log = logging.getLogger(__name__)

__all__ = ["Outcome", "parse_age", "format_age", "abort_rows", "still_present",
           "RESULT_COLUMNS"]

Outcome = Literal["aborted", "gone", "skipped", "would-abort", "failed"]
RESULT_COLUMNS = ["bucket", "key", "upload_id", "initiated", "age", "parts", "bytes",
                  "outcome", "reason"]


_AGE_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)


def parse_age(value: str | pd.Timedelta | None, what: str = "min_age") -> pd.Timedelta | None:
    """``"1h"``, ``"30min"``, ``"7d"``, ``"2w"``, a timedelta, or None."""
    if value is None:
        return None
    short = _SHORT_AGE.match(value) if isinstance(value, str) else None
    try:
        age = (pd.Timedelta(seconds=float(short.group(1)) * _AGE_UNITS[short.group(2).lower()])
               if short else pd.Timedelta(value))
    except (ValueError, TypeError):
        raise ConfigurationError(f"{what}={value!r} is not a duration: use e.g. '1h', '30min', "
                                 "'7d' or a timedelta") from None
    if age < pd.Timedelta(0):
        raise ConfigurationError(f"{what}={value!r} must not be negative")
    return age


def format_age(age: pd.Timedelta) -> str:
    """``1h``, ``7d``, ``1d 2h``, ``30min``, ``45s``: ages as people write them."""
    seconds = int(age.total_seconds())
    units = [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)]
    parts = []
    for name, size in units:
        if seconds >= size:
            parts.append(f"{seconds // size}{name}")
            seconds %= size
    return " ".join(parts[:2]) or "0s"


async def _abort_one(client: S3Client, row: pd.Series, dry_run: bool) -> tuple[Outcome, str]:
    if dry_run:
        return "would-abort", "dry run: nothing was aborted"
    try:
        existed = await client.abort_until_clean(ObjectRef(row["bucket"], row["key"]),
                                                 row["upload_id"])
    except MPUError as exc:
        return "failed", str(exc)
    if not existed:
        return "gone", "already completed, aborted or expired"
    log.info("aborted %s upload %s", location(row["bucket"], row["key"]), row["upload_id"])
    return "aborted", ""


async def abort_rows(client: S3Client, rows: pd.DataFrame, *,
                     min_age: pd.Timedelta | None, force: bool = False, dry_run: bool = False,
                     concurrency: int = 8) -> pd.DataFrame:
    """Abort the uploads of ``rows`` (columns of the uploads frame; ``age`` may be NaT for
    uploads not found in a listing — those are reported gone). An interrupt stops the
    aborts in flight; its notes say how many were done."""
    todo, outcomes = [], {}
    for index, row in rows.iterrows():
        if pd.isna(row["initiated"]):
            outcomes[index] = ("gone", "not among the bucket's incomplete uploads")
        elif min_age is not None and not force and row["age"] < min_age:
            outcomes[index] = ("skipped", f"younger than {format_age(min_age)} (it may be a "
                                          "live writer); wait, or force it")
        else:
            todo.append((index, row))
    finished: dict[Any, tuple[Outcome, str]] = {}
    started: set[Any] = set()

    async def one(index: Any, row: pd.Series) -> None:
        started.add(index)
        finished[index] = await _abort_one(client, row, dry_run)

    try:
        await bounded_gather([partial(one, i, r) for i, r in todo], concurrency)
    except BaseException as error:
        aborted = sum(outcome == "aborted" for outcome, _ in finished.values())
        # a request already sent may still take effect on the server: not "untouched"
        in_flight = len(started) - len(finished)
        add_note(error, f"stopped after {len(finished)} of {len(todo)} uploads ({aborted} "
                        "aborted" + (f"; {in_flight} more were in flight and may be aborted "
                                     "too" if in_flight else "")
                        + "); the others are untouched: run the abort again for them")
        raise
    outcomes.update(finished)
    result_frame = rows.reindex(columns=RESULT_COLUMNS[:-2]).copy()
    result_frame["outcome"] = pd.Series({i: o for i, (o, _) in outcomes.items()}, dtype="string")
    result_frame["reason"] = pd.Series({i: r for i, (_, r) in outcomes.items()}, dtype="string")
    return result_frame.reset_index(drop=True)


async def still_present(client: S3Client, rows: pd.DataFrame,
                        concurrency: int = 8) -> pd.DataFrame:
    """Each upload of ``rows`` looked up again on the server (ListParts): ``present`` is
    False once it is gone — the check an abort's caller can show as "confirmed"."""
    async def present(bucket: str, key: str, upload_id: str) -> bool:
        try:
            await client.list_parts(ObjectRef(bucket, key), upload_id)
        except (NoSuchUpload, NoSuchBucket):
            return False
        return True

    triples = list(zip(rows["bucket"].astype(str), rows["key"].astype(str),
                       rows["upload_id"].astype(str)))
    found = await bounded_gather([partial(present, *t) for t in triples], concurrency)
    return pd.DataFrame({"bucket": [t[0] for t in triples], "key": [t[1] for t in triples],
                         "upload_id": [t[2] for t in triples], "present": found})
