"""The store around the uploads: how a bucket is addressed (path-style, virtual-hosted), its
clock, whether an ETag is the MD5 of the bytes, and lifecycle rules that abort incomplete
uploads.

Lifecycle rules are never rewritten: a bucket with an abort rule is read only; a bucket
without any configuration gets one rule scoped to the doctor's prefix, read back, and the
configuration deleted again (the state it had); a bucket with other rules is left alone.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

from ..errors import MPUError, S3Error
from .context import Capability, Probing, md5_hex, said
from .multipart import PART

__all__ = ["NAMES", "probe_store", "MAX_SKEW"]

NAMES = ("path_style", "virtual_hosted_style", "clock_skew", "etag_is_md5",
         "lifecycle_abort_incomplete", "abort_date_reported")

MAX_SKEW = 300  #: seconds: SigV4 refuses requests signed further off (RequestTimeTooSkewed)


async def _addressing(probing: Probing) -> dict[str, Capability]:
    etag = await probing.put("addressed", PART)
    sent = time.time()
    path, virtual = await asyncio.gather(probing.send("HEAD", "addressed"),
                                         probing.send("HEAD", "addressed", virtual=True))
    host = f"{probing.bucket}.{probing.raw.endpoint.split('://')[-1]}"
    found = {
        "path_style": Capability(path.ok, f"HEAD /{probing.bucket}/<key>: {path.said()}"),
        "virtual_hosted_style": Capability(virtual.ok, f"HEAD /<key>, Host: {host}: "
                                                       f"{virtual.said()}"),
        "etag_is_md5": Capability(etag.strip('"') == md5_hex(PART),
                                  f"PutObject of {len(PART):,} bytes: ETag {etag}, MD5 "
                                  f"{md5_hex(PART)}"),
    }
    date = path.headers.get("date") or virtual.headers.get("date")
    if not date:
        found["clock_skew"] = Capability(None, "HEAD: no Date header in the answer")
    else:
        offset = email.utils.parsedate_to_datetime(date).timestamp() - (sent + time.time()) / 2
        found["clock_skew"] = Capability(abs(offset) < MAX_SKEW, f"Date {date}: the server's "
                                         f"clock is {offset:+.1f} s from this machine's")
    return found


def _abort_rule(rules: list[dict[str, Any]], prefix: str) -> dict[str, Any] | None:
    """The first enabled rule that aborts incomplete uploads under ``prefix``."""
    for rule in rules:
        days = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
        flt = rule.get("Filter") or {}
        scope = str(flt.get("Prefix", (flt.get("And") or {}).get("Prefix", rule.get("Prefix",
                                                                                    ""))))
        if days and rule.get("Status") == "Enabled" and prefix.startswith(scope):
            return rule
    return None


async def _abort_date(probing: Probing, rule: str) -> Capability:
    """ListParts of an upload started under an abort rule: is its AbortDate reported?"""
    ref, upload_id = await probing.start_upload("under-abort-rule")
    described = await probing.client.describe_upload(ref, upload_id)
    await probing.client.abort(ref, upload_id)
    when = described.abort_date
    return Capability(when is not None, f"ListParts of an upload under {rule}: AbortDate "
                                        f"{when.isoformat() if when else 'not reported'}")


async def _lifecycle(probing: Probing) -> dict[str, Capability]:
    client, bucket = probing.client, probing.bucket
    try:
        rules = await client.get_lifecycle_rules(bucket)
    except MPUError as exc:
        return {"lifecycle_abort_incomplete": Capability(None, f"GetBucketLifecycle: "
                                                               f"{said(exc)}")}
    if rules:
        rule = _abort_rule(rules, probing.prefix)
        if rule is None:
            note = "not probed: the bucket has lifecycle rules the doctor will not rewrite"
            abort = any(r.get("AbortIncompleteMultipartUpload") for r in rules)
            return {"lifecycle_abort_incomplete": Capability(
                        True if abort else None, "GetBucketLifecycle: an abort rule, not "
                        "covering the doctor's prefix" if abort else note),
                    "abort_date_reported": Capability(None, "not probed: no abort rule "
                                                            "covers the doctor's prefix")}
        name = f"the bucket's rule {rule.get('ID', '')!r}".replace(" ''", "")
        return {"lifecycle_abort_incomplete": Capability(True, f"GetBucketLifecycle: {name} "
                                                               "aborts incomplete uploads"),
                "abort_date_reported": await _abort_date(probing, name)}
    return await _trial_rule(probing)


async def _trial_rule(probing: Probing) -> dict[str, Capability]:
    """One abort rule on the doctor's prefix, read back, then the configuration deleted."""
    client, bucket = probing.client, probing.bucket
    rule = {"ID": f"mpu-doctor-{probing.prefix.rstrip('/').rpartition('-')[2]}",
            "Status": "Enabled", "Filter": {"Prefix": probing.prefix},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
    what = "PutBucketLifecycle of an abort rule on the doctor's prefix"
    try:
        await client.put_lifecycle_rules(bucket, [rule])
    except MPUError as exc:
        known = isinstance(exc, S3Error) and exc.code in ("NotImplemented", "MalformedXML",
                                                          "InvalidRequest")
        return {"lifecycle_abort_incomplete": Capability(False if known else None,
                                                         f"{what}: {said(exc)}")}
    try:
        read = await client.get_lifecycle_rules(bucket)
        kept = _abort_rule(read, probing.prefix) is not None
        seen = ("read back (whether the store applies it is not seen in seconds)" if kept
                else "not kept")
        found = {"lifecycle_abort_incomplete": Capability(kept, f"{what}, GetBucketLifecycle: "
                                                                f"{seen}")}
        if kept:
            found["abort_date_reported"] = await _abort_date(probing, "the doctor's rule")
        return found
    finally:
        await client.put_lifecycle_rules(bucket, [])  # DeleteBucketLifecycle: as it was


async def probe_store(probing: Probing) -> dict[str, Capability]:
    addressing, lifecycle = await asyncio.gather(_addressing(probing), _lifecycle(probing))
    return {**addressing, **lifecycle}
