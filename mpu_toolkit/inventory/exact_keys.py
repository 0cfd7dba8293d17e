"""Incomplete uploads on stores that find them only by their exact key (MinIO).

There, ListMultipartUploads with a key prefix answers nothing (minio/minio#20989), so a
listing under a prefix would report "no uploads" while uploads hold space. Where the provider
says so (``Provider.list_uploads_by_prefix`` is False), uploads are looked up key by key: the
prefix itself (a URL that names one key) and the keys of the objects under it, at most
:data:`KEYS_LIMIT` per listing. Uploads of keys with no object stay unseen: the listing's
:class:`Coverage` says so in words (:meth:`Coverage.notice`), and names the only complete
cleanup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import AsyncIterator

from .. import hints
from .._engine.gather import bounded_gather
from .._s3.client import S3Client
from .._s3.providers import Provider
from ..model import UploadInfo, location

__all__ = ["KEYS_LIMIT", "Coverage", "iter_uploads", "list_uploads"]

KEYS_LIMIT = 1000  #: object keys looked up per bucket and prefix, at most
_KEYS_IN_FLIGHT = 8  # ListMultipartUploads by key at once


@dataclass
class Coverage:
    """What a listing could see: the (bucket, prefix) pairs looked up key by key, and those
    with more than :data:`KEYS_LIMIT` objects (only the first were looked up)."""

    provider: Provider
    by_key: set[tuple[str, str]] = field(default_factory=set)
    bounded: set[tuple[str, str]] = field(default_factory=set)

    def notice(self) -> str | None:
        """A plain statement of what the listing could not see (None: it saw everything)."""
        if not self.by_key:
            return None
        title = self.provider.title
        text = (f"{title} lists incomplete uploads only by their exact key: they were looked "
                "up by the key given and by the keys of the objects under it")
        if self.bounded:
            text += (f" (only the first {KEYS_LIMIT:,} keys under "
                     f"{', '.join(location(b, p) for b, p in sorted(self.bounded))})")
        text += ", so uploads of keys that have no object are not seen. "
        if self.provider.lifecycle is False:
            return text + (
                f"{title}'s lifecycle rules cannot abort incomplete uploads either: the "
                "server's own expiry of stale uploads is the only complete cleanup (MinIO: "
                "`mc admin config set ALIAS api stale_uploads_expiry=24h`, 24 h by default).")
        (bucket, prefix), *others = sorted(self.by_key)
        url = "URL" if others else location(bucket, prefix, "mpu")
        return text + f"A lifecycle rule is the only complete cleanup: `{hints.lifecycle(url)}`."


async def _keys(client: S3Client, bucket: str, prefix: str, coverage: Coverage) -> list[str]:
    """The keys to look uploads up by: ``prefix`` itself, and the objects' under it."""
    coverage.by_key.add((bucket, prefix))
    keys = [prefix] if prefix else []
    async for key, _ in client.iter_objects(bucket, prefix):
        if key == prefix:
            continue
        if len(keys) - bool(prefix) >= KEYS_LIMIT:
            coverage.bounded.add((bucket, prefix))
            break
        keys.append(key)
    return keys


async def _of_key(client: S3Client, bucket: str, key: str,
                  page_size: int) -> list[UploadInfo]:
    return [u for u in await client.list_uploads(bucket, key, page_size) if u.key == key]


async def list_uploads(client: S3Client, bucket: str, prefix: str, page_size: int,
                       coverage: Coverage) -> list[UploadInfo]:
    """The uploads under ``prefix`` the store lets be found: by the prefix where it lists
    by prefix, else key by key (several at once)."""
    if client.provider.list_uploads_by_prefix is not False:
        return await client.list_uploads(bucket, prefix, page_size)
    found = await bounded_gather([partial(_of_key, client, bucket, key, page_size)
                                  for key in await _keys(client, bucket, prefix, coverage)],
                                 _KEYS_IN_FLIGHT)
    return [u for uploads in found for u in uploads]


async def iter_uploads(client: S3Client, bucket: str, prefix: str, page_size: int,
                       coverage: Coverage) -> AsyncIterator[UploadInfo]:
    """:func:`list_uploads` as the pages come (key after key on exact-key stores)."""
    if client.provider.list_uploads_by_prefix is not False:
        async for upload in client.iter_uploads(bucket, prefix, page_size):
            yield upload
        return
    for key in await _keys(client, bucket, prefix, coverage):
        for upload in await _of_key(client, bucket, key, page_size):
            yield upload
