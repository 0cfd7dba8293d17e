"""Upload a local file as concurrent parts, or resume an interrupted upload of it.

The file's size is known, so parts are equal (:func:`~mpu_toolkit._plan.sizing.for_known_size`)
and read straight from disk into at most ``concurrency`` reused buffers (fewer if
``max_memory`` cannot hold that many parts). To resume, the stored parts (ListParts) are
laid over the file (:mod:`~mpu_toolkit._plan.resumeplan`) and each
candidate is kept only if its ETag is the MD5 of the local bytes at its place; missing,
mismatched (the file changed) and unverifiable parts are sent again, so old and new bytes
are never mixed. A failed upload started with ``resume=True`` keeps its parts for the next
try; otherwise it is aborted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .. import hints
from .._plan.integrity import etag_matches
from .._plan.resumeplan import ResumeStep, plan_resume
from .._plan.sizing import counted, for_known_size
from .._s3.client import S3Client
from ..errors import ConfigurationError, SourceChanged
from ..model import ObjectInfo, ObjectRef, PartInfo
from ..options import WriteOptions
from ..progress import make_progress
from .gather import bounded_gather
from .transfer import PlannedTransfer, TransferProgress
from .upload import S3Upload

log = logging.getLogger(__name__)

__all__ = ["upload_bytes", "FileUploadResult", "upload_local_file"]


@dataclass(frozen=True)
class FileUploadResult:
    """What an upload of a local file did; ``parts_sent`` counts UploadPart requests that
    succeeded, so a resume shows exactly what it had to send again."""

    url: str
    object: ObjectInfo
    size: int
    upload_id: str | None          #: None when the file went up in one PutObject
    parts: int
    parts_kept: int = 0            #: stored parts verified against the file and reused
    parts_sent: int = 0
    parts_replaced: tuple[int, ...] = field(default_factory=tuple)  #: stored, but differing
    bytes_sent: int = 0
    resumed: bool = False
    seconds: float = 0.0


async def upload_bytes(client: S3Client, loop: asyncio.AbstractEventLoop, data: memoryview,
                       dest: ObjectRef, options: WriteOptions) -> ObjectInfo:
    """Store bytes held in memory (fsspec's ``pipe``): one verified PUT, or concurrent
    verified parts; all or nothing, exclusive when ``options`` say so."""
    upload = S3Upload(client, loop, dest, options)
    try:
        if options.exclusive:
            await upload.check_key_free()
        step = for_known_size(len(data), options.part_size, options.limits).part_size(1)
        if len(data) <= step:
            return await upload.put_whole(data)
        parts = await bounded_gather(
            [partial(upload.send_part, n, data[start:start + step])
             for n, start in enumerate(range(0, len(data), step), 1)], options.concurrency)
        return await upload.finish(parts)
    except BaseException:
        await upload.cancel()
        raise


async def upload_local_file(client: S3Client, loop: asyncio.AbstractEventLoop,
                            path: str | os.PathLike[str], dest: ObjectRef,
                            options: WriteOptions, *, resume: bool = False,
                            upload_id: str | None = None) -> FileUploadResult:
    """Upload ``path`` to ``dest``; with ``resume``, continue the key's interrupted upload
    (or ``upload_id``) and send only what is missing or different."""
    started = time.monotonic()
    path = os.fspath(path)
    before = _stat(path)
    size = before.st_size
    client = client.with_policy(options.retry_policy())
    existing = upload_id or (await _find_upload(client, dest) if resume else None)
    upload = S3Upload(client, loop, dest, options)
    if options.exclusive:
        await upload.check_key_free()  # before reading a byte; again when publishing
    part_size = for_known_size(size, options.part_size, options.limits).part_size(1)
    options = options.updated(concurrency=options.concurrency_for(part_size))
    if existing is None and size <= part_size:
        info = await upload.put_whole(await asyncio.to_thread(_read_all, path))
        _check_unchanged(path, before)
        done = TransferProgress(make_progress(options.progress, dest.url, size), dest.url,
                                size, done_bytes=size, done_parts=1)
        done.emit("completed", etag=info.etag)
        return FileUploadResult(dest.url, info, size, None, 1, parts_sent=1, bytes_sent=size,
                                seconds=time.monotonic() - started)
    stored = await client.list_parts(dest, existing) if existing else []
    steps = plan_resume(stored, size, part_size, options.limits)
    kept, replaced = await _verify(path, steps, options.concurrency)
    if existing:
        upload.attach(existing, {n: md5 for n, (_, md5) in kept.items()})
        log.info("%s: resuming upload %s: %s kept, %d to send", dest.url, existing,
                 counted(len(kept), "part"), len(steps) - len(kept))
    if replaced:
        log.warning("%s: %s changed since upload %s stored part(s) %s; sending them again",
                    dest.url, path, existing, ", ".join(map(str, replaced)))
    to_send = [s for s in steps if s.number not in kept]
    transfer = PlannedTransfer(upload, options, size,
                               keep_on_error=resume or options.keep_parts_on_error,
                               source=path, done_parts=len(kept),
                               done_bytes=sum(s.size for s in steps if s.number in kept))
    buffers: list[bytearray] = []  # at most `concurrency`, reused part after part
    buffer_size = max((s.size for s in to_send), default=0)

    async def send(step: ResumeStep) -> PartInfo:
        buffer = buffers.pop() if buffers else bytearray(buffer_size)
        try:
            view = await asyncio.to_thread(_read_into, path, step.offset, step.size, buffer)
            return await upload.send_part(step.number, view)
        finally:
            buffers.append(buffer)

    async def unchanged() -> None:
        _check_unchanged(path, before)

    info, sent = await transfer.run([partial(send, s) for s in to_send],
                                    kept=[part for part, _ in kept.values()], check=unchanged)
    return FileUploadResult(dest.url, info, size, upload.upload_id, len(steps), len(kept),
                            len(sent), tuple(replaced), sum(p.size for p in sent),
                            existing is not None, time.monotonic() - started)


async def _find_upload(client: S3Client, dest: ObjectRef) -> str | None:
    """The one incomplete upload of ``dest``; several are ambiguous and refused."""
    found = [u for u in await client.list_uploads(dest.bucket, prefix=dest.key)
             if u.key == dest.key]
    if len(found) > 1:
        ids = ", ".join(u.upload_id for u in found)
        raise ConfigurationError(f"{dest.url} has {len(found)} incomplete uploads ({ids}): "
                                 "pass upload_id= (`"
                                 f"{hints.resume_put('FILE', dest.url, 'ID')}`) to choose "
                                 f"one, and abort the others with "
                                 f"`{hints.abort(dest.url, 'ID')}`")
    if not found:
        log.info("%s: no incomplete upload to resume; starting a new one", dest.url)
    return found[0].upload_id if found else None


async def _verify(path: str, steps: list[ResumeStep], concurrency: int
                  ) -> tuple[dict[int, tuple[PartInfo, bytes]], list[int]]:
    """Hash the local bytes of every stored candidate: matching ones are kept (with their
    MD5); numbers of parts whose ETag names other bytes are returned as replaced."""
    candidates = [s for s in steps if s.stored is not None]
    digests = await bounded_gather(
        [partial(asyncio.to_thread, _md5_of_range, path, s.offset, s.size) for s in candidates],
        min(concurrency, os.cpu_count() or 1))
    kept: dict[int, tuple[PartInfo, bytes]] = {}
    replaced: list[int] = []
    for step, md5 in zip(candidates, digests):
        assert step.stored is not None
        verdict = etag_matches(step.stored.etag, md5.hex())
        if verdict:
            kept[step.number] = (step.stored, md5)
        elif verdict is False:
            replaced.append(step.number)
        else:  # an ETag that is not an MD5 (SSE-KMS ...): cannot be checked, so re-sent
            log.info("part %d: ETag %s is not an MD5; sending it again", step.number,
                     step.stored.etag)
    return kept, replaced


def _stat(path: str) -> os.stat_result:
    try:
        result = os.stat(path)
    except FileNotFoundError:
        raise ConfigurationError(f"no such local file: {path!r}") from None
    if not os.path.isfile(path):
        raise ConfigurationError(f"{path!r} is not a regular file: give a file to upload "
                                 "(directories: fs.put(dir, url, recursive=True))")
    return result


def _check_unchanged(path: str, before: os.stat_result) -> None:
    now = os.stat(path)
    if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise SourceChanged(f"{path} changed while it was being uploaded; nothing was "
                            "published — upload it again once its writer is done",
                            code="SourceChanged")


def _read_all(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _read_into(path: str, offset: int, size: int, buffer: bytearray) -> Any:
    view = memoryview(buffer)[:size]
    with open(path, "rb") as f:
        f.seek(offset)
        if f.readinto(view) != size:
            raise SourceChanged(f"{path} is shorter than when the upload began; upload it "
                                "again once its writer is done", code="SourceChanged")
    return view


def _md5_of_range(path: str, offset: int, size: int, chunk: int = 8 << 20) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        f.seek(offset)
        while size > 0:
            data = f.read(min(chunk, size))
            if not data:
                break
            digest.update(data)
            size -= len(data)
    return digest.digest()
