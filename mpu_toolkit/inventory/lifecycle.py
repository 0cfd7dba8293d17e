"""Lifecycle rules that abort incomplete uploads after N days — without clobbering others.

S3 replaces a bucket's whole lifecycle configuration on every write, so setting one rule
naively deletes the rest. Here the current rules are read, only the rule with our id (or
the given id) is replaced or removed, and the rest are written back unchanged.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import pandas as pd

from .._s3.retry import Attempts
from ..errors import ConfigurationError, MPUError
from .._s3.client import S3Client
from ..model import location

__all__ = ["RULE_ID", "set_abort_rule", "remove_abort_rule", "rules_frame", "abort_rules",
           "abort_days"]

log = logging.getLogger(__name__)

RULE_ID = "mpu-abort-incomplete-uploads"


def _abort_rule(days: int, prefix: str, rule_id: str) -> dict[str, Any]:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigurationError(f"days={days!r}: give a whole number of days, at least 1")
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}


async def set_abort_rule(client: S3Client, bucket: str, days: int, *,
                         prefix: str = "", rule_id: str = RULE_ID) -> list[dict[str, Any]]:
    """Add or replace the rule ``rule_id``; other rules stay as they are."""
    rule = _abort_rule(days, prefix, rule_id)
    rules = [r for r in await client.get_lifecycle_rules(bucket) if r.get("ID") != rule_id]
    await _write(client, bucket, [*rules, rule], lambda now: _abort_days(now, rule_id) == days)
    return await client.get_lifecycle_rules(bucket)


async def remove_abort_rule(client: S3Client, bucket: str, *,
                            rule_id: str = RULE_ID) -> list[dict[str, Any]]:
    """Remove the rule ``rule_id`` only (deleting the configuration if it was the last)."""
    rules = await client.get_lifecycle_rules(bucket)
    kept = [r for r in rules if r.get("ID") != rule_id]
    if len(kept) != len(rules):
        await _write(client, bucket, kept, lambda now: _abort_days(now, rule_id) is None)
    return kept


async def _write(client: S3Client, bucket: str, rules: list[dict[str, Any]],
                 written: Callable[[list[dict[str, Any]]], bool]) -> None:
    """Write the rules; when the answers were lost, read them back before failing."""
    attempts = Attempts()
    try:
        await client.put_lifecycle_rules(bucket, rules, attempts=attempts)
    except MPUError:
        if not attempts.lost or not written(await client.get_lifecycle_rules(bucket)):
            raise
        log.warning("%s: the answers to the lifecycle write were lost, but the rules read "
                    "back as written: it was done", location(bucket))


def _abort_days(rules: list[dict[str, Any]], rule_id: str) -> int | None:
    """Days after which rule ``rule_id`` aborts incomplete uploads (None: no such rule)."""
    for rule in rules:
        if rule.get("ID") == rule_id:
            return (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
    return None


def _prefix(rule: dict[str, Any]) -> str:
    flt = rule.get("Filter") or {}
    return str(flt.get("Prefix", (flt.get("And") or {}).get("Prefix", rule.get("Prefix", ""))))


def rules_frame(bucket: str, rules: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per rule: id, status, prefix, abort_incomplete_days, expiration_days, other."""
    rows = [{
        "bucket": bucket, "id": r.get("ID", ""), "status": r.get("Status", ""),
        "prefix": _prefix(r),
        "abort_incomplete_days": (r.get("AbortIncompleteMultipartUpload") or {})
        .get("DaysAfterInitiation"),
        "expiration_days": (r.get("Expiration") or {}).get("Days"),
        "other": ", ".join(k for k in r if k not in (
            "ID", "Status", "Filter", "Prefix", "AbortIncompleteMultipartUpload",
            "Expiration")),
    } for r in rules]
    frame = pd.DataFrame(rows, columns=["bucket", "id", "status", "prefix",
                                        "abort_incomplete_days", "expiration_days", "other"])
    return frame.astype({"bucket": "string", "id": "string", "status": "string",
                         "prefix": "string", "abort_incomplete_days": "Int64",
                         "expiration_days": "Int64", "other": "string"})


def abort_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """The enabled rules of :func:`rules_frame` that abort incomplete uploads: bucket, prefix,
    abort_days (soonest first), where a picture marks each bucket's cut-off."""
    enabled = rules[(rules["status"] == "Enabled") & rules["abort_incomplete_days"].notna()]
    found = (enabled[["bucket", "prefix", "abort_incomplete_days"]]
             .rename(columns={"abort_incomplete_days": "abort_days"}))
    return found.sort_values(["abort_days", "bucket", "prefix"], ignore_index=True)


def abort_days(uploads: pd.DataFrame, rules: pd.DataFrame) -> pd.Series:
    """Per upload, the days after which the soonest enabled rule covering its key aborts it
    (<NA>: no rule does): why it is still here is then a question worth asking."""
    days = pd.Series(pd.NA, index=uploads.index, dtype="Int64")
    for rule in abort_rules(rules).itertuples(index=False):  # soonest first: the first wins
        covered = ((uploads["bucket"] == rule.bucket)
                   & uploads["key"].astype(str).str.startswith(str(rule.prefix)))
        days = days.mask(covered & days.isna(), rule.abort_days)
    return days
