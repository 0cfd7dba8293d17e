"""The multipart operations themselves: an upload of one part completed and read back, its
ListParts, ListMultipartUploads by the doctor's prefix (MinIO finds uploads only by the exact
key), two undersized parts at Complete, parts of unequal sizes (R2 refuses them; 10 MiB, the
doctor's largest upload), UploadPartCopy, and its ``x-amz-copy-source-if-match`` with a wrong
ETag."""

from __future__ import annotations

import asyncio

from ..errors import MPUError
from ..model import ObjectRef, PartInfo
from .context import Capability, Probing, said

__all__ = ["NAMES", "probe_multipart"]

NAMES = ("multipart", "list_parts", "list_uploads_by_prefix", "min_part_size_enforced",
         "equal_parts_required", "upload_part_copy", "copy_source_if_match")

PART = b"mpu doctor: one small part\n" * 40
_MiB = 1 << 20
WRONG_ETAG = '"00000000000000000000000000000000"'


async def _one_part(probing: Probing) -> dict[str, Capability]:
    """Create, one part, ListParts and ListMultipartUploads, Complete, HEAD."""
    try:
        ref, upload_id = await probing.start_upload("multipart")
        part = await probing.client.upload_part(ref, upload_id, 1, PART)
    except MPUError as exc:
        return {"multipart": Capability(False, f"CreateMultipartUpload, UploadPart: "
                                               f"{said(exc)}")}
    found = dict(zip(("list_parts", "list_uploads_by_prefix"), await asyncio.gather(
        _list_parts(probing, ref, upload_id, part), _by_prefix(probing, ref, upload_id))))
    try:
        await probing.client.complete(ref, upload_id, [part])
        head = await probing.client.head(ref)
    except MPUError as exc:
        found["multipart"] = Capability(False, f"CompleteMultipartUpload of 1 part: {said(exc)}")
        return found
    found["multipart"] = Capability(
        head.size == len(PART), f"Create, UploadPart, Complete of {len(PART):,} bytes: HEAD "
                                f"says {head.size:,} bytes")
    return found


async def _list_parts(probing: Probing, ref: ObjectRef, upload_id: str,
                      part: PartInfo) -> Capability:
    try:
        listed = await probing.client.list_parts(ref, upload_id)
    except MPUError as exc:
        return Capability(False, f"ListParts: {said(exc)}")
    shown = [(p.number, p.size, p.etag.strip('"')) for p in listed]
    ok = shown == [(1, len(PART), part.etag.strip('"'))]
    return Capability(ok, f"ListParts of an upload of 1 part: {len(listed)} listed"
                          + ("" if ok else f" ({shown})"))


async def _by_prefix(probing: Probing, ref: ObjectRef, upload_id: str) -> Capability:
    try:
        by_prefix, by_key = await asyncio.gather(
            probing.client.list_uploads(probing.bucket, probing.prefix),
            probing.client.list_uploads(probing.bucket, ref.key))
    except MPUError as exc:
        return Capability(None, f"ListMultipartUploads: {said(exc)}")
    in_prefix = any(u.upload_id == upload_id for u in by_prefix)
    in_key = any(u.upload_id == upload_id for u in by_key)
    what = (f"ListMultipartUploads prefix={probing.prefix}: "
            f"{'found' if in_prefix else 'not found'}; by the exact key: "
            f"{'found' if in_key else 'not found'}")
    return Capability(in_prefix if in_key else None, what)


async def _small_parts(probing: Probing) -> Capability:
    what = f"CompleteMultipartUpload of 2 parts of {len(PART):,} bytes"
    try:
        ref, upload_id = await probing.start_upload("small-parts")
        parts = await asyncio.gather(*(probing.client.upload_part(ref, upload_id, n, PART)
                                       for n in (1, 2)))
    except MPUError as exc:
        return Capability(None, f"UploadPart: {said(exc)}")
    try:
        await probing.client.complete(ref, upload_id, parts)
    except MPUError as exc:
        return Capability(getattr(exc, "code", "") == "EntityTooSmall", f"{what}: {said(exc)}")
    return Capability(False, f"{what}: accepted")


async def _unequal_parts(probing: Probing) -> Capability:
    """Parts of 5 MiB and 5 MiB + 1 KiB: refused (InvalidPart) where all parts but the last
    must be equal and the last no larger (Cloudflare R2)."""
    what = "CompleteMultipartUpload of parts of 5 MiB and 5 MiB + 1 KiB"
    try:
        ref, upload_id = await probing.start_upload("unequal-parts")
        parts = await asyncio.gather(*(probing.client.upload_part(ref, upload_id, n, bytes(size))
                                       for n, size in ((1, 5 * _MiB), (2, 5 * _MiB + 1024))))
        await probing.client.complete(ref, upload_id, parts)
    except MPUError as exc:
        refused = getattr(exc, "code", "") == "InvalidPart"
        return Capability(True if refused else None, f"{what}: {said(exc)}")
    return Capability(False, f"{what}: completed")


async def _part_copy(probing: Probing) -> dict[str, Capability]:
    try:
        source = probing.ref("copy-source")
        await probing.put("copy-source", PART)
        ref, upload_id = await probing.start_upload("copied")
    except MPUError as exc:
        return {"upload_part_copy": Capability(None, f"PutObject, Create: {said(exc)}")}
    try:
        copied = await probing.client.upload_part_copy(ref, upload_id, 1, source)
    except MPUError as exc:
        return {"upload_part_copy": Capability(False, f"UploadPartCopy: {said(exc)}")}
    found = {"upload_part_copy": Capability(bool(copied.etag), "UploadPartCopy of a "
                                            f"{len(PART):,}-byte object: ETag {copied.etag}")}
    what = "UploadPartCopy with x-amz-copy-source-if-match: a wrong ETag"
    try:
        await probing.client.upload_part_copy(ref, upload_id, 2, source, if_match=WRONG_ETAG)
    except MPUError as exc:
        refused = getattr(exc, "status", None) == 412
        found["copy_source_if_match"] = Capability(True if refused else None,
                                                   f"{what}: {said(exc)}")
    else:
        found["copy_source_if_match"] = Capability(False, f"{what}: copied")
    return found


async def probe_multipart(probing: Probing) -> dict[str, Capability]:
    one, small, unequal, copy = await asyncio.gather(
        _one_part(probing), _small_parts(probing), _unequal_parts(probing), _part_copy(probing))
    return {**one, "min_part_size_enforced": small, "equal_parts_required": unequal, **copy}
