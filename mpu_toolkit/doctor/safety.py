"""Safe on a production bucket: the doctor first proves it may write and delete under its own
prefix (and refuses, naming the permission, where it may not), and at the end it aborts every
upload it started, deletes every object it wrote (and, in a versioned bucket, every version and
delete marker: :mod:`.versions`), and counts what is left by listing again.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, TypeVar

from ..errors import AccessDenied, ConfigurationError, MPUError
from ..model import ObjectAttributes, ObjectRef, UploadInfo
from .context import Probing
from .versions import delete_versions, versions

__all__ = ["check_permissions", "clean_up", "left_behind"]

T = TypeVar("T")

#: the requests of the check, in order, with the permission each needs
_PERMISSIONS = (("PutObject", "s3:PutObject"), ("DeleteObject", "s3:DeleteObject"),
                ("CreateMultipartUpload", "s3:PutObject"),
                ("ListMultipartUploads", "s3:ListBucketMultipartUploads"),
                ("AbortMultipartUpload", "s3:AbortMultipartUpload"),
                ("ListObjectsV2", "s3:ListBucket"))


async def check_permissions(probing: Probing) -> None:
    """A tiny object written and deleted, an upload started, listed and aborted, a listing:
    AccessDenied on any of them is refused before anything else runs."""
    client, ref = probing.client, probing.ref("permission-check")
    step = 0
    try:
        await client.put_object(ref, b"mpu doctor", ObjectAttributes())
        step = 1
        await client.delete_object(ref)
        step = 2
        _, upload_id = await probing.start_upload("permission-check")
        step = 3
        await client.list_uploads(probing.bucket, ref.key)
        step = 4
        await client.abort(ref, upload_id)
        step = 5
        async for _ in client.iter_objects(probing.bucket, probing.prefix, page_size=1):
            break
    except AccessDenied as exc:
        request, permission = _PERMISSIONS[step]
        raise ConfigurationError(
            f"the doctor needs {permission} on {probing.bucket}/{probing.prefix}* "
            f"({request} was refused: {exc.code or exc.status}); nothing else was tried"
            + ("" if step in (0, 2) else "; what it wrote there is removed where the store "
               "lets it")) from exc


async def left_behind(probing: Probing) -> dict[str, int]:
    """Objects under the doctor's prefix, and uploads listed by the prefix or by any key it
    used (some stores list uploads only by the exact key)."""
    objects, kept = await asyncio.gather(_listed(probing), versions(probing))
    return {"objects": max(len(objects), len(kept or [])),
            "uploads": len(await _uploads(probing))}


async def _uploads(probing: Probing) -> dict[str, UploadInfo]:
    client, bucket = probing.client, probing.bucket
    listings = await asyncio.gather(*(client.list_uploads(bucket, prefix) for prefix
                                      in sorted({probing.prefix, *probing.keys})))
    return {u.upload_id: u for listing in listings for u in listing
            if u.key.startswith(probing.prefix)}


async def clean_up(probing: Probing) -> dict[str, int]:
    """Abort and delete everything under the doctor's prefix; what is left, counted again."""
    client, bucket = probing.client, probing.bucket
    found = {u.upload_id: u.key for u in (await _safely(_uploads(probing)) or {}).values()}
    await asyncio.gather(*(_safely(client.abort(ObjectRef(bucket, key), upload_id))
                           for upload_id, key in {**probing.uploads, **found}.items()))
    listed = await _safely(_listed(probing)) or []
    await asyncio.gather(*(_safely(client.delete_object(ObjectRef(bucket, key)))
                           for key in sorted(probing.keys | set(listed))))
    kept = await versions(probing)  # a versioned bucket keeps them, and delete markers
    if kept:
        await delete_versions(probing, kept)
    return await left_behind(probing)


async def _listed(probing: Probing) -> list[str]:
    return [key async for key, _ in probing.client.iter_objects(probing.bucket,
                                                                probing.prefix)]


async def _safely(work: Awaitable[T]) -> T | None:
    """``work``'s result, or None when it fails (the count at the end says what is left)."""
    try:
        return await work
    except MPUError:
        return None
