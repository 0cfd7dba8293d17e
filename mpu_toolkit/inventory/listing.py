"""Find incomplete uploads and what they hold: every page, every bucket, sizes concurrently.

ListMultipartUploads says that an upload exists but not its size; the size needs ListParts
per upload (paginated). Those calls run concurrently with a bound, so thousands of uploads
are sized in seconds. The result is a list of :class:`UploadRecord`; :func:`to_frame` makes
the pandas DataFrame the public API returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from datetime import datetime
from typing import Iterable, Sequence

import pandas as pd

from ..errors import AccessDenied, ConfigurationError, NoSuchBucket, NoSuchUpload
from .._engine.gather import bounded_gather
from .._s3.client import S3Client
from ..model import ObjectRef, UploadInfo, location
from . import exact_keys
from .exact_keys import Coverage

log = logging.getLogger(__name__)

__all__ = ["Target", "UploadRecord", "parse_targets", "collect", "to_frame", "COLUMNS"]

_LISTINGS_IN_FLIGHT = 8  # buckets listed at once
COLUMNS = {  # column -> dtype of the uploads DataFrame
    "bucket": "string", "key": "string", "upload_id": "string",
    "initiated": "datetime64[ns, UTC]", "age": "timedelta64[ns]",
    "storage_class": "string", "owner": "string", "initiator": "string",
    "parts": "Int64", "bytes": "Int64", "abort_date": "datetime64[ns, UTC]",
}


@dataclass(frozen=True)
class Target:
    """A bucket and key prefix to look in; ``bucket=None`` means every bucket."""

    bucket: str | None
    prefix: str = ""


@dataclass(frozen=True)
class UploadRecord:
    upload: UploadInfo
    parts: int | None = None
    bytes: int | None = None
    abort_date: datetime | None = None
    gone: bool = False  # completed or aborted between listing and sizing


def parse_targets(urls: str | Sequence[str] | None) -> list[Target]:
    """``None``/``"mpu://"`` → every bucket; ``"mpu://bucket/prefix"`` → that prefix."""
    if urls is None:
        return [Target(None)]
    targets = []
    for url in [urls] if isinstance(urls, str) else list(urls):
        path = str(url).split("://", 1)[-1] if "://" in str(url) else str(url)
        bucket, _, prefix = path.lstrip("/").partition("/")
        if bucket and any(c in bucket for c in " \\"):
            raise ConfigurationError(f"{url!r} is not a bucket URL: use mpu://bucket/prefix")
        targets.append(Target(bucket or None, prefix))
    return targets


async def _uploads_of(client: S3Client, targets: Iterable[Target], page_size: int,
                      coverage: Coverage) -> list[UploadInfo]:
    jobs = []
    for target in targets:
        if target.bucket is None:  # every bucket the credentials can list
            jobs += [partial(_listed_bucket, client, b, target.prefix, page_size, coverage)
                     for b in await client.list_buckets()]
        else:
            jobs.append(partial(exact_keys.list_uploads, client, target.bucket, target.prefix,
                                page_size, coverage))
    listings = await bounded_gather(jobs, _LISTINGS_IN_FLIGHT)
    seen: dict[tuple[str, str, str], UploadInfo] = {}
    for listing in listings:
        for u in listing:
            seen.setdefault((u.bucket, u.key, u.upload_id), u)
    return list(seen.values())


async def _listed_bucket(client: S3Client, bucket: str, prefix: str, page_size: int,
                         coverage: Coverage) -> list[UploadInfo]:
    """One bucket of an every-bucket listing: a bucket deleted since ListBuckets is skipped,
    and one the credentials may not list is skipped with a warning (the rest still count)."""
    try:
        return await exact_keys.list_uploads(client, bucket, prefix, page_size, coverage)
    except NoSuchBucket:
        return []
    except AccessDenied as exc:
        log.warning("%s is left out of the inventory: %s", location(bucket), exc)
        return []


async def collect(client: S3Client, targets: Sequence[Target], *,
                  sizes: bool = True, page_size: int = 1000, concurrency: int = 16,
                  coverage: Coverage | None = None) -> list[UploadRecord]:
    """Every incomplete upload under ``targets``, with parts and bytes when ``sizes``;
    ``coverage`` learns what the store did not let be seen (exact-key stores)."""
    if not 1 <= concurrency <= 256:
        raise ConfigurationError(f"concurrency={concurrency} must be 1..256")
    uploads = await _uploads_of(client, targets, page_size,
                                coverage or Coverage(client.provider))
    if not sizes:
        return [UploadRecord(u) for u in uploads]

    async def sized(u: UploadInfo) -> UploadRecord:
        try:
            described = await client.describe_upload(ObjectRef(u.bucket, u.key), u.upload_id)
        except (NoSuchUpload, NoSuchBucket):  # completed, aborted or deleted meanwhile
            return UploadRecord(u, gone=True)
        return UploadRecord(u, len(described.parts), sum(p.size for p in described.parts),
                            described.abort_date)

    records = await bounded_gather([partial(sized, u) for u in uploads], concurrency)
    return [r for r in records if not r.gone]


def to_frame(records: Sequence[UploadRecord], now: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per upload, oldest first, with the dtypes of :data:`COLUMNS`."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    rows = [{
        "bucket": r.upload.bucket, "key": r.upload.key, "upload_id": r.upload.upload_id,
        "initiated": r.upload.initiated, "storage_class": r.upload.storage_class,
        "owner": r.upload.owner, "initiator": r.upload.initiator,
        "parts": r.parts, "bytes": r.bytes, "abort_date": r.abort_date,
    } for r in records]
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "age"])
    frame["initiated"] = pd.to_datetime(frame["initiated"], utc=True)
    frame["abort_date"] = pd.to_datetime(frame["abort_date"], utc=True)
    frame.insert(4, "age", now - frame["initiated"])
    frame = frame.astype(COLUMNS)
    return frame.sort_values(["initiated", "bucket", "key"], kind="stable",
                             ignore_index=True)
