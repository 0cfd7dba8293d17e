"""Server-side copy and compose: objects to objects without downloading them.

``copy_object`` copies one object: CopyObject (one request) up to ``copy_cutoff``, else
concurrent UploadPartCopy over byte ranges (the only way past 5 GiB). ``compose_objects``
concatenates objects into one following :func:`~mpu_toolkit.copyplan.plan_compose`: every
range that can be a part is copied server-side; only pieces under the 5 MiB minimum travel
through the client. Both read the sources' ETags first and refuse to publish if a source
changed meanwhile (checked again with HEAD before Complete, since some servers ignore the
copy-source-if-match condition). Any failure aborts: nothing partial is published.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Literal, Mapping, Sequence

from .._plan.copyplan import PlannedPart, Segment, copy_ranges, plan_compose
from ..errors import ConfigurationError, IntegrityError, SourceChanged, TooManyPartsError
from ..options import WriteOptions
from .transfer import TransferProgress, run_parts
from ..progress import make_progress
from .._s3.client import MultipartProtocol
from ..model import ObjectInfo, PartInfo
from .._plan.sizing import MiB, parse_size
from .upload import S3Upload

log = logging.getLogger(__name__)

__all__ = ["CopyResult", "CopySettings", "copy_object", "compose_objects", "Location"]

COPY_PART_SIZE = 64 * MiB  #: copy parts move no bytes through the client: fewer, larger
Location = tuple[str, str, "str | None"]  #: (bucket, key, version id)
Method = Literal["CopyObject", "UploadPartCopy", "PutObject"]


@dataclass(frozen=True)
class CopySettings:
    """What a copy or compose keeps and how it runs.

    ``metadata`` / ``content_type``: ``None`` keeps the source's (a copy) or sets none /
    the first source's (a compose); a value replaces them. ``copy_cutoff``: largest object
    copied with one CopyObject; ``"auto"`` is 5 GiB where the server shares data on copy
    (Ceph RGW: no bytes move) and one part (``part_size``) elsewhere, as aws-cli does.
    """

    options: WriteOptions = WriteOptions()
    part_size: int = COPY_PART_SIZE
    copy_cutoff: int | Literal["auto"] = "auto"
    metadata: Mapping[str, str] | None = None
    content_type: str | None = None

    @classmethod
    def from_kwargs(cls, base: WriteOptions, *, part_size: int | str | None = None,
                    copy_cutoff: int | str = "auto", metadata: Mapping[str, str] | None = None,
                    content_type: str | None = None, **options: Any) -> "CopySettings":
        cutoff: int | Literal["auto"] = "auto"
        if copy_cutoff != "auto":
            cutoff = parse_size(copy_cutoff, "copy_cutoff")
            if not 0 <= cutoff <= base.limits.max_part:
                raise ConfigurationError(f"copy_cutoff={copy_cutoff!r}: CopyObject takes at "
                                         "most 5 GiB; choose 0..5GiB or 'auto'")
        size = COPY_PART_SIZE if part_size is None else parse_size(part_size, "part_size")
        opts = base.updated(**options) if options else base
        return cls(opts, opts.limits.check_part_size(size), cutoff,
                   dict(metadata) if metadata is not None else None, content_type)

    def single_request_max(self, source: ObjectInfo) -> int:
        if self.copy_cutoff != "auto":
            return self.copy_cutoff
        return self.options.limits.max_part if source.copies_by_reference else self.part_size


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


async def copy_object(protocol: MultipartProtocol, loop: asyncio.AbstractEventLoop,
                      source: Location, dest: Location, settings: CopySettings) -> CopyResult:
    """Copy ``source`` to ``dest`` on the server, keeping or replacing metadata."""
    started = time.monotonic()
    src = await protocol.head(source[0], source[1])
    src = replace(src, version_id=source[2])
    target = _attributes(settings, src, keep=src)
    if (source[:2] == dest[:2] and settings.metadata is None and settings.content_type is None
            and not settings.options.storage_class):
        raise ConfigurationError(f"copying s3://{dest[0]}/{dest[1]} onto itself changes "
                                 "nothing: pass metadata= or content_type= to rewrite them")
    size = src.size or 0
    if size <= settings.single_request_max(src):
        return await _single_copy(protocol, src, dest, settings, target, started)
    plan = [PlannedPart(i, "copy", (Segment(0, first, last),))
            for i, (first, last) in enumerate(copy_ranges(size, settings.part_size,
                                                          settings.options.limits), 1)]
    return await _multipart(protocol, loop, [src], dest, settings, target, plan, started)


async def compose_objects(protocol: MultipartProtocol, loop: asyncio.AbstractEventLoop,
                          sources: Sequence[Location], dest: Location,
                          settings: CopySettings) -> CopyResult:
    """Concatenate ``sources`` (in order) into ``dest``, byte-exact, copying all it can."""
    if not sources:
        raise ConfigurationError("compose needs at least one source object")
    started = time.monotonic()
    srcs = await _head_all(protocol, sources)
    target = _attributes(settings, srcs[0], keep=None)
    try:
        plan = plan_compose([s.size or 0 for s in srcs], settings.part_size,
                            settings.options.limits)
    except TooManyPartsError:  # more sources than one upload can hold: two levels
        return await _compose_in_groups(protocol, loop, srcs, dest, settings, started)
    if len(plan) == 1 and plan[0].kind == "copy" and plan[0].size == srcs[plan[0].segments[0]
                                                                          .source].size:
        whole = srcs[plan[0].segments[0].source]
        return await _single_copy(protocol, whole, dest, settings, target, started,
                                  keep_source_attributes=False)
    if len(plan) <= 1:  # everything fits in one request: download the pieces, PUT them
        data = await _download(protocol, srcs, plan[0]) if plan else b""
        info = await protocol.put_object(dest[0], dest[1], data, metadata=target.metadata,
                                         content_type=target.content_type,
                                         storage_class=settings.options.storage_class,
                                         extra={**target.headers, **settings.options.extra})
        await _check_unchanged(protocol, srcs)
        return CopyResult(_url(dest), info, "PutObject", 1, 0, len(data),
                          time.monotonic() - started)
    return await _multipart(protocol, loop, srcs, dest, settings, target, plan, started)


async def _compose_in_groups(protocol: MultipartProtocol, loop: asyncio.AbstractEventLoop,
                             srcs: list[ObjectInfo], dest: Location, settings: CopySettings,
                             started: float) -> CopyResult:
    """Compose groups that fit in one upload into temporary objects beside ``dest``, then
    compose those; the temporaries are deleted whatever happens."""
    limits = settings.options.limits
    groups: list[list[ObjectInfo]] = [[]]
    budget = 0
    for src in srcs:  # parts a source can need at most (small ones merge: fewer)
        need = len(copy_ranges(src.size or 0, settings.part_size, limits)) or 1
        if groups[-1] and budget + need > limits.max_parts:
            groups.append([])
            budget = 0
        groups[-1].append(src)
        budget += need
    token = uuid.uuid4().hex[:12]
    temps = [(dest[0], f"{dest[1]}.mpu-compose-{token}/{i:05d}", None)
             for i in range(len(groups))]
    log.info("%s: %d sources need more than %d parts: composing %d groups first",
             _url(dest), len(srcs), limits.max_parts, len(groups))
    moved = 0
    try:
        for group, temp in zip(groups, temps):
            first = await compose_objects(protocol, loop, [(s.bucket, s.key, s.version_id)
                                                           for s in group], temp, settings)
            moved += first.bytes_uploaded
        await _check_unchanged(protocol, srcs)
        total = sum(s.size or 0 for s in srcs)
        wide = math.ceil(total / max(1, limits.max_parts - len(temps)))
        final = CopySettings(settings.options, max(settings.part_size, wide), "auto",
                             settings.metadata, settings.content_type or srcs[0].content_type)
        result = await compose_objects(protocol, loop, temps, dest, final)
    finally:
        await asyncio.gather(*(protocol.delete_object(t[0], t[1]) for t in temps),
                             return_exceptions=True)
    through_client = result.bytes_uploaded + moved
    return replace(result, bytes_copied=total - through_client, bytes_uploaded=through_client,
                   seconds=time.monotonic() - started)


async def _single_copy(protocol: MultipartProtocol, src: ObjectInfo, dest: Location,
                       settings: CopySettings, target: ObjectInfo, started: float,
                       keep_source_attributes: bool = True) -> CopyResult:
    """CopyObject; the source's metadata travel with it unless something is replaced."""
    unchanged = (keep_source_attributes and settings.metadata is None
                 and settings.content_type is None)
    await protocol.copy_object(dest[0], dest[1], src.bucket, src.key,
                               source_version=src.version_id, if_match=src.etag or None,
                               replace=None if unchanged else target,
                               storage_class=settings.options.storage_class)
    info = await protocol.head(dest[0], dest[1])
    if info.size != src.size:
        raise IntegrityError(f"{_url(dest)} has {info.size:,} bytes after CopyObject from "
                             f"s3://{src.bucket}/{src.key} ({src.size:,} bytes); copy again")
    return CopyResult(_url(dest), info, "CopyObject", 1, src.size or 0, 0,
                      time.monotonic() - started)


async def _multipart(protocol: MultipartProtocol, loop: asyncio.AbstractEventLoop,
                     srcs: list[ObjectInfo], dest: Location, settings: CopySettings,
                     target: ObjectInfo, plan: list[PlannedPart], started: float
                     ) -> CopyResult:
    opts = settings.options.updated(metadata=target.metadata, content_type=target.content_type,
                                    extra={**target.headers, **settings.options.extra})
    upload = S3Upload(protocol, loop, dest[0], dest[1], opts)
    progress = TransferProgress(make_progress(opts.progress, dest[1], sum(p.size for p in plan)),
                                _url(dest), sum(p.size for p in plan))

    def job(part: PlannedPart) -> Any:
        if part.kind == "copy":
            segment = part.segments[0]
            return lambda: upload.copy_part(part.number, srcs[segment.source],
                                            (segment.first, segment.last))

        async def send() -> PartInfo:
            return await upload.send_part(part.number, await _download(protocol, srcs, part))
        return send

    try:
        parts = await run_parts([job(p) for p in plan], opts.concurrency, progress)
        progress.upload_id = upload.upload_id
        await _check_unchanged(protocol, srcs)
        progress.emit("completing")
        info = await upload.finish(parts)
    except BaseException as error:
        progress.emit("failed", error=str(error))
        await upload.cancel()
        raise
    progress.emit("completed", etag=info.etag)
    copied = sum(p.size for p in plan if p.kind == "copy")
    return CopyResult(_url(dest), info, "UploadPartCopy", len(plan), copied,
                      sum(p.size for p in plan) - copied, time.monotonic() - started)


async def _download(protocol: MultipartProtocol, srcs: list[ObjectInfo],
                    part: PlannedPart) -> bytearray:
    """The part's segments, read with GetObject (each pinned to its source's ETag)."""
    data = bytearray()
    for segment in part.segments:
        src = srcs[segment.source]
        data += await protocol.get_range(src.bucket, src.key, segment.first, segment.last,
                                         if_match=src.etag or None)
    return data


async def _head_all(protocol: MultipartProtocol, locations: Sequence[Location],
                    concurrency: int = 16) -> list[ObjectInfo]:
    gate = asyncio.Semaphore(concurrency)

    async def head(location: Location) -> ObjectInfo:
        async with gate:
            info = await protocol.head(location[0], location[1])
            return replace(info, version_id=location[2])

    return list(await asyncio.gather(*(head(location) for location in locations)))


async def _check_unchanged(protocol: MultipartProtocol, srcs: list[ObjectInfo]) -> None:
    """HEAD the sources again: some servers ignore copy-source-if-match (Ceph RGW)."""
    unique = list({(s.bucket, s.key): s for s in srcs}.values())
    now_all = await _head_all(protocol, [(s.bucket, s.key, s.version_id) for s in unique])
    for src, now in zip(unique, now_all):
        if (now.etag, now.size) != (src.etag, src.size):
            raise SourceChanged(f"s3://{src.bucket}/{src.key} was replaced during the copy "
                                f"(ETag {src.etag} → {now.etag}); nothing was published — "
                                "copy again once its writer is done", code="SourceChanged",
                                bucket=src.bucket, key=src.key)


def _attributes(settings: CopySettings, first: ObjectInfo, keep: ObjectInfo | None
                ) -> ObjectInfo:
    """The new object's metadata, content type and headers."""
    metadata = settings.metadata if settings.metadata is not None else (
        keep.metadata if keep else {})
    content_type = settings.content_type or first.content_type
    return replace(first, metadata=dict(metadata), content_type=content_type,
                   headers=dict(keep.headers) if keep else {})


def _url(location: Location) -> str:
    return f"s3://{location[0]}/{location[1]}"
