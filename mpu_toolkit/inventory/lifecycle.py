"""Lifecycle rules that abort incomplete uploads after N days — without clobbering others.

S3 replaces a bucket's whole lifecycle configuration on every write, so setting one rule
naively deletes the rest. Here the current rules are read, only the rule with our id (or
the given id) is replaced or removed, and the rest are written back unchanged.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import ConfigurationError
from .._s3.client import MultipartProtocol

__all__ = ["RULE_ID", "set_abort_rule", "remove_abort_rule", "rules_frame"]

RULE_ID = "mpu-abort-incomplete-uploads"


def _abort_rule(days: int, prefix: str, rule_id: str) -> dict[str, Any]:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigurationError(f"days={days!r}: give a whole number of days, at least 1")
    return {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}


async def set_abort_rule(protocol: MultipartProtocol, bucket: str, days: int, *,
                         prefix: str = "", rule_id: str = RULE_ID) -> list[dict[str, Any]]:
    """Add or replace the rule ``rule_id``; other rules stay as they are."""
    rule = _abort_rule(days, prefix, rule_id)
    rules = [r for r in await protocol.get_lifecycle_rules(bucket) if r.get("ID") != rule_id]
    await protocol.put_lifecycle_rules(bucket, [*rules, rule])
    return await protocol.get_lifecycle_rules(bucket)


async def remove_abort_rule(protocol: MultipartProtocol, bucket: str, *,
                            rule_id: str = RULE_ID) -> list[dict[str, Any]]:
    """Remove the rule ``rule_id`` only (deleting the configuration if it was the last)."""
    rules = await protocol.get_lifecycle_rules(bucket)
    kept = [r for r in rules if r.get("ID") != rule_id]
    if len(kept) != len(rules):
        await protocol.put_lifecycle_rules(bucket, kept)
    return kept


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
