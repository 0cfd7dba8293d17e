"""Server-side copy and compose: objects to objects without downloading them.

:meth:`ServerCopy.copy` copies one object: CopyObject (one request) up to ``copy_cutoff``,
else concurrent UploadPartCopy over byte ranges (the only way past 5 GiB).
:meth:`ServerCopy.compose` concatenates objects following
:func:`~mpu_toolkit._plan.copyplan.plan_compose`: every range that can be a part is copied
server-side; only pieces under the 5 MiB minimum travel through the client. Both read the
sources' ETags first and refuse to publish if a source changed meanwhile (checked again with
HEAD before Complete, since some servers ignore the copy-source-if-match condition). Any
failure aborts: nothing partial is published.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal, Sequence

from .._plan.copyplan import PlannedPart, copy_ranges, plan_compose, plan_equal
from .._s3.client import S3Client
from .._s3.retry import Attempts
from ..errors import (ConfigurationError, IntegrityError, MPUError, NoSuchKey, SourceChanged,
                      TooManyPartsError, add_note)
from ..model import ObjectAttributes, ObjectInfo, ObjectRef, PartInfo
from ..options import CopyOptions
from .blocking import settle
from .gather import bounded_gather
from .transfer import PartJob, PlannedTransfer
from .conditions import ensure_absent
from .upload import S3Upload

log = logging.getLogger(__name__)

__all__ = ["CopyResult", "ServerCopy"]

Method = Literal["CopyObject", "UploadPartCopy", "UploadPart", "PutObject"]
_HEADS_IN_FLIGHT = 16


@dataclass(frozen=True)
class CopyResult:
    """What a copy or compose did."""

    url: str
    object: ObjectInfo
    method: Method
    parts: int              #: parts of the new object (1 for single requests)
    bytes_copied: int       #: bytes the server copied itself
    bytes_uploaded: int     #: bytes that went through this client (compose's small pieces)
    seconds: float

    @property
    def size(self) -> int:
        return self.bytes_copied + self.bytes_uploaded


class ServerCopy:
    """Copies and composes on one client, with one set of :class:`CopyOptions`."""

    def __init__(self, client: S3Client, loop: asyncio.AbstractEventLoop,
                 options: CopyOptions) -> None:
        self._client = client.with_policy(options.write.retry_policy())
        self._loop = loop
        self.options = options
        self._started = time.monotonic()

    def _result(self, dest: ObjectRef, info: ObjectInfo, method: Method, parts: int,
                copied: int, uploaded: int) -> CopyResult:
        return CopyResult(dest.url, info, method, parts, copied, uploaded,
                          time.monotonic() - self._started)

    async def copy(self, source: ObjectRef, dest: ObjectRef) -> CopyResult:
        """Copy ``source`` to ``dest`` on the server, keeping or replacing its attributes."""
        options = self.options
        if ((source.bucket, source.key) == (dest.bucket, dest.key) and options.keeps_attributes
                and not options.write.storage_class):
            raise ConfigurationError(f"copying {dest.url} onto itself changes nothing: pass "
                                     "metadata= or content_type= to rewrite them")
        [src] = await self._head_all([source])
        if options.write.exclusive:
            await ensure_absent(self._client, dest)
        size = src.size or 0
        if size <= options.single_request_max(src):
            return await self._single_copy(src, dest, keep_source_attributes=True)
        return await self._multipart([src], dest, options.attributes(src, copy=True),
                                     self._plan([size]))

    async def compose(self, sources: Sequence[ObjectRef], dest: ObjectRef) -> CopyResult:
        """Concatenate ``sources`` (in order) into ``dest``, byte-exact, copying all it can."""
        if not sources:
            raise ConfigurationError("compose needs at least one source object")
        srcs = await self._head_all(sources)
        options = self.options
        if options.write.exclusive:
            await ensure_absent(self._client, dest)
        try:
            plan = self._plan([s.size or 0 for s in srcs])
        except TooManyPartsError:  # more sources than one upload can hold: two levels
            return await self._compose_in_groups(srcs, dest)
        attributes = options.attributes(srcs[0], copy=False)
        if len(plan) == 1 and plan[0].kind == "copy" and plan[0].size == srcs[
                plan[0].segments[0].source].size:
            return await self._single_copy(srcs[plan[0].segments[0].source], dest,
                                           keep_source_attributes=False)
        if len(plan) <= 1:  # everything fits in one request: download the pieces, PUT them
            data = await self._download(srcs, plan[0]) if plan else bytearray()
            upload = S3Upload(self._client, self._loop, dest, options.write, attributes)
            info = await upload.put_whole(data)
            await self._check_unchanged(srcs)
            return self._result(dest, info, "PutObject", 1, 0, len(data))
        return await self._multipart(srcs, dest, attributes, plan)

    def _plan(self, sizes: list[int]) -> list[PlannedPart]:
        """The parts of the sources' concatenation; of one size where the store needs it."""
        options = self.options
        planner = plan_equal if options.write.part_size_policy == "equal" else plan_compose
        return planner(sizes, options.part_size, options.write.limits)

    async def _compose_in_groups(self, srcs: list[ObjectInfo], dest: ObjectRef) -> CopyResult:
        """Compose groups that fit in one upload into temporary objects beside ``dest``, then
        compose those; the temporaries are deleted whatever happens."""
        options = self.options
        limits = options.write.limits
        groups: list[list[ObjectInfo]] = [[]]
        budget = 0
        for src in srcs:  # parts a source can need at most (small ones merge: fewer)
            need = len(copy_ranges(src.size or 0, options.part_size, limits)) or 1
            if groups[-1] and budget + need > limits.max_parts:
                groups.append([])
                budget = 0
            groups[-1].append(src)
            budget += need
        token = uuid.uuid4().hex[:12]
        temps = [ObjectRef(dest.bucket, f"{dest.key}.mpu-compose-{token}/{i:05d}")
                 for i in range(len(groups))]
        log.info("%s: %d sources need more than %d parts: composing %d groups first",
                 dest.url, len(srcs), limits.max_parts, len(groups))
        moved = 0
        total = sum(s.size or 0 for s in srcs)
        try:
            for group, temp in zip(groups, temps):
                first = await self.compose([s.ref for s in group], temp)
                moved += first.bytes_uploaded
            await self._check_unchanged(srcs)
            wide = math.ceil(total / max(1, limits.max_parts - len(temps)))
            final = replace(options, part_size=max(options.part_size, wide),
                            copy_cutoff="auto",
                            content_type=options.content_type or srcs[0].content_type)
            result = await ServerCopy(self._client, self._loop, final).compose(temps, dest)
        except BaseException as error:
            await self._delete(temps, error)
            raise
        await self._delete(temps, None)
        through_client = result.bytes_uploaded + moved
        return replace(result, bytes_copied=total - through_client,
                       bytes_uploaded=through_client, seconds=time.monotonic() - self._started)

    async def _delete(self, temps: list[ObjectRef], error: BaseException | None) -> None:
        """Delete compose's temporaries; any left are named (in ``error``'s notes too)."""
        async def delete(temp: ObjectRef) -> bool:
            try:
                await self._client.delete_object(temp)
            except MPUError:
                try:  # the answers may have been lost after the delete was done
                    await self._client.head(temp)
                except NoSuchKey:
                    return True
                except MPUError:
                    pass
                return False
            return True

        deleted = await asyncio.gather(*(delete(t) for t in temps))
        left = [t.url for t, done in zip(temps, deleted) if not done]
        if left:
            message = (f"compose left {len(left)} temporary object(s) it could not delete: "
                       f"{', '.join(left)}; delete them with `fs.rm`")
            log.warning("%s", message)
            if error is not None:
                add_note(error, message)

    async def _single_copy(self, src: ObjectInfo, dest: ObjectRef,
                           keep_source_attributes: bool) -> CopyResult:
        """CopyObject; the source's attributes travel with it unless something is replaced.
        A copy whose answers were all lost is confirmed by HEAD (same size and ETag)."""
        keep = keep_source_attributes and self.options.keeps_attributes
        replace_with = None if keep else self.options.attributes(src,
                                                                 copy=keep_source_attributes)
        attempts, copied = Attempts(), asyncio.Event()

        async def copy_request() -> None:
            if self.options.write.exclusive:  # CopyObject carries no If-None-Match here
                await ensure_absent(self._client, dest)
            await self._client.copy_object(dest, src.ref, if_match=src.etag or None,
                                           replace=replace_with, attempts=attempts,
                                           storage_class=self.options.write.storage_class)
            copied.set()

        try:
            await settle(copy_request())
        except asyncio.CancelledError as cancel:
            if copied.is_set():
                add_note(cancel, f"{dest.url} was copied before the interruption took effect")
            raise
        except Exception:
            if not attempts.lost or not await self._same_as(dest, src):
                raise
            log.warning("%s: CopyObject's answers were lost, but the object is there with the "
                        "source's size and ETag: it was copied", dest.url)
        info = await self._client.head(dest)
        if info.size != src.size:
            raise IntegrityError(f"{dest.url} has {info.size:,} bytes after CopyObject from "
                                 f"{src.url} ({src.size:,} bytes); copy again")
        return self._result(dest, info, "CopyObject", 1, src.size or 0, 0)

    async def _same_as(self, dest: ObjectRef, src: ObjectInfo) -> bool:
        try:
            info = await self._client.head(dest)
        except Exception:
            return False
        return (info.size, info.etag) == (src.size, src.etag)

    async def _multipart(self, srcs: list[ObjectInfo], dest: ObjectRef,
                         attributes: ObjectAttributes, plan: list[PlannedPart]) -> CopyResult:
        upload = S3Upload(self._client, self._loop, dest, self.options.write, attributes)
        transfer = PlannedTransfer(upload, self.options.write, sum(p.size for p in plan))

        def job(part: PlannedPart) -> PartJob:
            if part.kind == "copy":
                segment = part.segments[0]
                return lambda: upload.copy_part(part.number, srcs[segment.source],
                                                (segment.first, segment.last))

            async def send() -> PartInfo:
                return await upload.send_part(part.number, await self._download(srcs, part))
            return send

        info, _ = await transfer.run([job(p) for p in plan],
                                     check=lambda: self._check_unchanged(srcs))
        copied = sum(p.size for p in plan if p.kind == "copy")
        return self._result(dest, info, "UploadPartCopy" if copied else "UploadPart", len(plan),
                            copied, sum(p.size for p in plan) - copied)

    async def _download(self, srcs: list[ObjectInfo], part: PlannedPart) -> bytearray:
        """The part's segments, read with GetObject (each pinned to its source's ETag)."""
        data = bytearray()
        for segment in part.segments:
            src = srcs[segment.source]
            data += await self._client.get_range(src.ref, segment.first, segment.last,
                                                 if_match=src.etag or None)
        return data

    async def _head_all(self, refs: Sequence[ObjectRef]) -> list[ObjectInfo]:
        """HEAD each source; the result is pinned to the version asked for (none: latest)."""
        async def head(ref: ObjectRef) -> ObjectInfo:
            return replace(await self._client.head(ref), version_id=ref.version_id)

        return await bounded_gather([partial(head, r) for r in refs], _HEADS_IN_FLIGHT)

    async def _check_unchanged(self, srcs: list[ObjectInfo]) -> None:
        """HEAD the sources again, where the store may ignore copy-source-if-match (Ceph RGW,
        moto, a store not known): one known to honour it (its preset, or a saved doctor
        report) refuses a replaced source by itself, so it is not asked again."""
        if self._client.provider.copy_source_if_match:
            return
        unique = list({(s.bucket, s.key): s for s in srcs}.values())
        for src, now in zip(unique, await self._head_all([s.ref for s in unique])):
            if (now.etag, now.size) != (src.etag, src.size):
                raise SourceChanged(f"{src.url} was replaced during the copy (ETag "
                                    f"{src.etag} → {now.etag}); nothing was published — copy "
                                    "again once its writer is done", code="SourceChanged",
                                    bucket=src.bucket, key=src.key)
