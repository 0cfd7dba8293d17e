"""Conditional writes, on a key the doctor wrote first: PutObject with ``If-None-Match: *``
and with ``If-Match`` of a wrong ETag, CompleteMultipartUpload with ``If-None-Match: *``.
Refused with 412 means honoured; written means ignored (over the doctor's own object)."""

from __future__ import annotations

import asyncio

from ..errors import MPUError
from .context import Capability, Probing, said
from .multipart import PART, WRONG_ETAG

__all__ = ["NAMES", "probe_conditional"]

NAMES = ("if_none_match_put", "if_match_put", "if_none_match_complete")


async def _put(probing: Probing, name: str, header: str, value: str) -> Capability:
    answer = await probing.send("PUT", name, body=PART, headers={header: value})
    what = f"PutObject over an existing key with {header}: {value}"
    honoured = False if answer.ok else True if answer.status == 412 else None
    return Capability(honoured, f"{what}: {answer.said()}")


async def _complete(probing: Probing) -> Capability:
    what = "CompleteMultipartUpload over an existing key with If-None-Match: *"
    try:
        ref, upload_id = await probing.start_upload("taken-by-complete")
        part = await probing.client.upload_part(ref, upload_id, 1, PART)
    except MPUError as exc:
        return Capability(None, f"CreateMultipartUpload, UploadPart: {said(exc)}")
    try:
        await probing.client.complete(ref, upload_id, [part], exclusive=True)
    except MPUError as exc:
        refused = getattr(exc, "status", None) == 412
        return Capability(True if refused else None, f"{what}: {said(exc)}")
    return Capability(False, f"{what}: completed")


async def probe_conditional(probing: Probing) -> dict[str, Capability]:
    await asyncio.gather(probing.put("taken", PART), probing.put("taken-by-complete", PART))
    found = await asyncio.gather(_put(probing, "taken", "If-None-Match", "*"),
                                 _put(probing, "taken", "If-Match", WRONG_ETAG),
                                 _complete(probing))
    return dict(zip(NAMES, found))
