"""Conditional writes: exclusive create (never publish over an existing key) and an
append's pin (publish only if the object appended to is still the one copied).

Stores that honour ``If-None-Match: *`` decide atomically (:class:`S3Upload` sends it); the
HEAD checks here cover the stores that ignore it (see :mod:`mpu_toolkit._s3.providers`) and
the requests that cannot carry it. A HEAD leaves a window: a writer that publishes between
the HEAD and the request is overwritten. That window is stated to the user once per store.
"""

from __future__ import annotations

import warnings

from .._s3.client import S3Client
from .._s3.errormap import object_exists
from .._s3.providers import Provider
from ..errors import SourceChanged
from ..model import ObjectInfo, ObjectRef

__all__ = ["ensure_absent", "ensure_unchanged", "warn_exclusive_race"]

_WARNED_RACE: set[str] = set()


async def ensure_absent(client: S3Client, ref: ObjectRef) -> None:
    """Raise ObjectExists if ``ref`` exists now (a HEAD): an exclusive write's check where
    the request itself cannot carry ``If-None-Match`` or the store may ignore it."""
    if await client.head_if_exists(ref) is not None:
        raise object_exists(ref.bucket, ref.key, client.endpoint, ref.scheme)


def warn_exclusive_race(provider: Provider) -> None:
    """Once per kind of store: where Complete ignores ``If-None-Match``, an exclusive write
    is checked by HEAD (at open and before Complete), which leaves a window."""
    if provider.if_none_match_complete is False and provider.name not in _WARNED_RACE:
        _WARNED_RACE.add(provider.name)
        warnings.warn(
            f"{provider.title} ignores If-None-Match on CompleteMultipartUpload: exclusive "
            "writes are checked with HEAD at open and before Complete, so a writer that "
            "publishes the same key between that HEAD and Complete is overwritten",
            UserWarning, stacklevel=3)


async def ensure_unchanged(client: S3Client, expected: ObjectInfo) -> None:
    """Raise SourceChanged unless the key's current object is still ``expected`` (its
    ETag; the key, not ``expected``'s version, which a versioned bucket keeps)."""
    now = await client.head_if_exists(ObjectRef(expected.bucket, expected.key))
    if now is None or now.etag != expected.etag:
        raise SourceChanged(
            f"{expected.url} was {'deleted' if now is None else 'replaced'} while bytes were "
            "appended to it; nothing was published — append again", code="SourceChanged",
            bucket=expected.bucket, key=expected.key)
