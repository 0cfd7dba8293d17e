"""One S3 multipart upload, coordinated on fsspec's event loop (the writer's sink).

Like s3transfer's per-transfer coordinator: it owns the upload id, the part tasks and their
digests. Parts run as asyncio tasks on fsspec's I/O thread (no thread per part); MD5 is
computed in a worker thread (``hashlib`` releases the GIL), so hashing, sending and the
producer overlap. The upload is created lazily with the first part, so objects smaller than
one part cost a single PUT and no multipart state. Retries are the wire layer's; what is
decided here is what a *lost answer* means (Create: name the uploads it may have started;
Complete and PUT: look at the object before calling it a failure).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from functools import partial
from dataclasses import replace
from typing import Any, Coroutine, Mapping, Sequence, TypeVar

from .. import hints
from .._plan.copyplan import copy_ranges
from .._plan.integrity import (ChecksumMode, PartDigest, RunningDigest, digest_part,
                               etag_matches, multipart_etag, running_digest)
from .._s3.client import S3Client
from .._s3.providers import Provider
from .._s3.retry import Attempts
from ..errors import ConfigurationError, IntegrityError, TransientS3Error, add_note
from ..model import ObjectAttributes, ObjectInfo, ObjectRef, PartInfo
from ..options import WriteOptions
from .blocking import run_blocking, settle
from .conditions import ensure_absent, ensure_unchanged
from .gather import bounded_gather
from .orphans import warn_possible_orphans

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["S3Upload"]


#: modes digested on the event loop: CRCs in hardware take ~0.3 ms per 6 MiB part
_INLINE = frozenset({ChecksumMode.NONE, ChecksumMode.CRC32C, ChecksumMode.CRC64NVME})


class S3Upload:
    """Uploads the parts of one object and completes or aborts it (implements UploadSink).

    ``attributes`` (metadata, content type ...) default to ``options``'; a copy passes the
    ones it keeps from its source.
    """

    def __init__(self, client: S3Client, loop: asyncio.AbstractEventLoop, ref: ObjectRef,
                 options: WriteOptions, attributes: ObjectAttributes | None = None) -> None:
        self._client = client.with_policy(options.retry_policy())
        self._loop = loop
        self.ref = ref
        self._options = options
        self._attributes = attributes if attributes is not None else options.attributes
        #: ``auto`` resolved by what the store is known to verify
        self._mode: ChecksumMode = options.checksum.for_store(self._client.provider.checksum)
        self._upload_id: str | None = None
        self._create_task: asyncio.Task[str] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._md5s: dict[int, bytes] = {}
        self.published: ObjectInfo | None = None  #: set once the object exists
        self._appended_to: ObjectInfo | None = None  #: the object an append copied
        self._sealed = False  #: a request carrying the attributes is on its way

    @property
    def url(self) -> str:
        return self.ref.url

    @property
    def options(self) -> WriteOptions:
        """The resolved writer options this upload runs with."""
        return self._options

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def provider(self) -> Provider:
        return self._client.provider

    @property
    def upload_id(self) -> str | None:
        return self._upload_id

    def attach(self, upload_id: str, known_md5s: dict[int, bytes] | None = None) -> None:
        """Continue an existing upload (resume) instead of creating one; ``known_md5s`` are
        the verified MD5s of its parts that are kept, for the final ETag check."""
        if self._create_task is not None:
            raise RuntimeError("attach() must come before the first part")
        self._upload_id = upload_id
        self._md5s.update(known_md5s or {})

    def set_metadata(self, metadata: Mapping[str, str | None]) -> None:
        """Change the user metadata the object will get (``None`` drops a key): possible
        until CreateMultipartUpload (or the single PUT) is sent, which carries it."""
        if self._sealed or self._upload_id is not None:
            raise ConfigurationError(
                f"{self.url}: metadata can no longer change: the upload started with the "
                "first part (CreateMultipartUpload carries the metadata); pass metadata= when "
                "opening, or call setxattr before writing a whole part")
        merged = {**self._attributes.metadata, **metadata}
        self._attributes = replace(self._attributes, metadata={
            k: str(v) for k, v in merged.items() if v is not None})

    # -- the sink interface (called from the producer's thread) ----------------------------
    def running_digest(self) -> RunningDigest | None:
        return running_digest(self._mode)

    def submit_part(self, number: int, data: bytearray | memoryview,
                    digest: PartDigest | None = None) -> "Future[PartInfo]":
        self._sealed = True  # the attributes travel with the CreateMultipartUpload it starts
        if self._upload_id is None:  # once a part is handed over the upload exists (and is
            self._run(self._ensure_started())  # listed); a denied write fails at write()
        return asyncio.run_coroutine_threadsafe(
            self._tracked(self.send_part(number, data, digest)), self._loop)

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo:
        return self._run(self.finish(list(parts)))

    def put_object(self, data: bytearray) -> ObjectInfo:
        self._sealed = True
        return self._run(self.put_whole(data))

    def abort(self, keep_parts: bool = False) -> str:
        if _on_loop_thread(self._loop):  # e.g. garbage collection on the I/O thread
            asyncio.ensure_future(self.cancel(keep_parts))
            return f"{self.url}: aborting in the background"
        return self._run(self.cancel(keep_parts))

    # -- coroutines on the loop (also used directly by the planned transfers) --------------
    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return run_blocking(self._loop, coro)

    async def _tracked(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return await coro
        finally:
            self._tasks.discard(task)

    async def start(self) -> str:
        """CreateMultipartUpload now (else it happens with the first part); the upload id."""
        return await self._ensure_started()

    async def _ensure_started(self) -> str:
        if self._create_task is None and self._upload_id is not None:  # attached
            return self._upload_id
        if self._create_task is None:
            self._create_task = asyncio.ensure_future(self._create())
        # shielded: a cancelled part must not orphan an upload the server already created
        return await asyncio.shield(self._create_task)

    async def _create(self) -> str:
        attempts = Attempts()
        try:
            upload_id = await self._client.create(
                self.ref, self._attributes, checksum_algorithm=self._mode.algorithm,
                attempts=attempts)
        except Exception as error:
            if attempts.lost or _answer_lost(error):
                await warn_possible_orphans(self._client, self.ref, None)
            raise
        self._upload_id = upload_id
        log.debug("%s: started upload %s", self.url, upload_id)
        if attempts.lost:
            await warn_possible_orphans(self._client, self.ref, upload_id)
        return upload_id

    @property
    def checksum(self) -> ChecksumMode:
        """The integrity mode this upload runs with (``auto`` resolved for the store)."""
        return self._mode

    async def _digest(self, data: bytes | bytearray | memoryview) -> PartDigest:
        if self._mode in _INLINE:  # tens of GB/s: cheaper than the hop to a thread
            return digest_part(data, self._mode)
        return await asyncio.to_thread(digest_part, data, self._mode)

    async def send_part(self, number: int, data: bytes | bytearray | memoryview,
                        digest: PartDigest | None = None) -> PartInfo:
        """UploadPart with the mode's digest (computed here unless given), checked in the
        answer (the same number on every try)."""
        upload_id = await self._ensure_started()
        if digest is None:
            digest = await self._digest(data)
        part = await self._client.upload_part(self.ref, upload_id, number, data, digest)
        if digest.md5 is not None:
            self._md5s[number] = digest.md5
        return part

    async def stored_parts(self) -> list[PartInfo]:
        """The parts the server holds for this (started or attached) upload: ListParts."""
        assert self._upload_id is not None, "stored_parts() before the upload exists"
        return await self._client.list_parts(self.ref, self._upload_id)

    async def copy_part(self, number: int, source: ObjectInfo,
                        byte_range: tuple[int, int]) -> PartInfo:
        """UploadPartCopy of ``source`` bytes ``first..last``, if the source is unchanged."""
        upload_id = await self._ensure_started()
        return await self._client.upload_part_copy(self.ref, upload_id, number, source.ref,
                                                   byte_range, if_match=source.etag or None)

    async def put_whole(self, data: bytes | bytearray | memoryview) -> ObjectInfo:
        """PutObject of a whole small object, with the mode's digest checked."""
        digest = await self._digest(data)
        return await self._settled(self._put(data, digest))

    async def check_key_free(self) -> None:
        """Exclusive mode: raise ObjectExists if the key is taken now (a HEAD). Done at open
        (fail before sending bytes) and, where the store may ignore ``If-None-Match``, right
        before publishing; a writer publishing in between still wins that race there."""
        await ensure_absent(self._client, self.ref)

    async def _before_publish(self, honoured: bool | None) -> bool:
        """Checks before Complete/PUT; returns whether to send ``If-None-Match: *``.

        Exclusive: HEAD first unless the store honours the condition. Append: the object
        appended to must still be the one copied (its ETag), or nothing is published."""
        if self._appended_to is not None:
            await ensure_unchanged(self._client, self._appended_to)
        if not self._options.exclusive:
            return False
        if honoured is not True:
            await self.check_key_free()
        return honoured is not False

    async def copy_prefix(self, existing: ObjectInfo, part_size: int, concurrency: int
                          ) -> tuple[list[PartInfo], bytes]:
        """Append: ``existing`` becomes the first parts (UploadPartCopy ranges pinned to its
        ETag; of the writer's part size under R2's ``"equal"`` policy); its bytes no part holds
        (all, under 5 MiB) are returned, to write first. Publishing checks it is unchanged."""
        self._appended_to = existing
        size, limits, step = existing.size or 0, self._options.limits, self._options.part_size
        if self._options.part_size_policy == "equal":  # every part but the last of one size
            copied = size - size % step
            ranges = [(first, first + step - 1) for first in range(0, copied, step)]
        else:  # under a part's minimum: all written first
            copied = size if size >= limits.min_part else 0
            ranges = copy_ranges(size, part_size, limits) if copied else []
        rest = await self._client.get_range(existing.ref, copied, size - 1,
                                            if_match=existing.etag) if copied < size else b""
        if not ranges:  # nothing to copy: the bytes are written first
            return [], rest
        try:
            parts = await bounded_gather(
                [partial(self.copy_part, n, existing, r) for n, r in enumerate(ranges, 1)],
                concurrency)
        except BaseException as error:  # e.g. replaced meanwhile: no upload is left behind
            add_note(error, await self.cancel())
            raise
        return parts, rest

    async def _put(self, data: bytes | bytearray | memoryview, digest: PartDigest
                   ) -> ObjectInfo:
        attempts = Attempts()
        exclusive = await self._before_publish(self._client.provider.if_none_match_put)
        try:
            info = await self._client.put_object(
                self.ref, data, self._attributes, digest=digest, exclusive=exclusive,
                attempts=attempts)
        except Exception as error:
            expected = digest.md5.hex() if digest.md5 else None
            if not (attempts.lost or _answer_lost(error)) or not await self._published(
                    len(data), expected):
                raise
            log.warning("%s: PutObject's answers were lost, but the object is there with "
                        "these bytes' size and MD5: it was stored", self.url)
            info = await self._client.head(self.ref)
        if self._options.verify and digest.md5 is None:
            info = await self._confirm(len(data), None)
        self.published = info
        return info

    async def finish(self, parts: list[PartInfo]) -> ObjectInfo:
        """CompleteMultipartUpload with ``parts``, then (``verify``) HEAD to confirm.

        When an answer was lost (the connection dropped after the request went out), the
        server may have completed the upload already: a retry then finds it gone, or every
        retry fails the same way. Before reporting a failure the object is HEADed; if it has
        this upload's size and multipart ETag, the upload did complete. The request is let
        finish when the caller is interrupted meanwhile, so its outcome is known.
        """
        assert self._upload_id is not None, "complete() before any part was sent"
        return await self._settled(self._complete(sorted(parts, key=lambda p: p.number)))

    async def _settled(self, request: Coroutine[Any, Any, ObjectInfo]) -> ObjectInfo:
        """A publishing request, let finish when cancelled; the cancellation then says
        whether the object was published."""
        try:
            return await settle(request)
        except asyncio.CancelledError as cancel:
            if self.published is not None:
                add_note(cancel, self._published_note())
            raise

    def _published_note(self) -> str:
        assert self.published is not None
        return (f"{self.url} was published before the interruption took effect (ETag "
                f"{self.published.etag})")

    async def _complete(self, parts: list[PartInfo]) -> ObjectInfo:
        upload_id, size = self._upload_id, sum(p.size for p in parts)
        assert upload_id is not None
        md5s = [self._md5s.get(p.number) for p in parts]  # the multipart ETag's order
        expected = multipart_etag(md5s) if all(md5s) else None  # type: ignore[arg-type]
        attempts = Attempts()
        exclusive = await self._before_publish(
            self._client.provider.if_none_match_complete)
        try:
            info = await self._client.complete(self.ref, upload_id, parts, exclusive=exclusive,
                                               attempts=attempts)
        except Exception as error:
            lost = attempts.lost or _answer_lost(error)
            if not lost or not await self._published(size, expected):
                raise
            log.warning("%s: Complete's answers were lost, but the object is there with this "
                        "upload's size and ETag: it completed", self.url)
            info = await self._client.head(self.ref)
        self.published = info
        if self._options.verify:
            info = self.published = await self._confirm(size, expected)
        return info

    async def _published(self, size: int, expected_etag: str | None) -> bool:
        """Is the object this upload's? Size, and the ETag where it is known."""
        try:
            info = await self._client.head(self.ref)
        except Exception:
            return False
        if info.size != size:
            return False
        return expected_etag is None or etag_matches(info.etag, expected_etag) is not False

    async def _confirm(self, size: int, expected_etag: str | None) -> ObjectInfo:
        """HEAD the published object: right size and, where comparable, right ETag."""
        info = await self._client.head(self.ref)
        problem = None
        if info.size != size:
            problem = f"has {info.size:,} bytes, {size:,} were sent"
        elif expected_etag and etag_matches(info.etag, expected_etag) is False:
            problem = f"has ETag {info.etag}, expected {expected_etag}"
        if problem:
            error = IntegrityError(f"{self.url} {problem} after completing: another writer may "
                                   "have replaced it, or the store altered it; check the object")
            error.transient = False
            raise error
        return info

    async def cancel(self, keep_parts: bool = False, source: str | None = None) -> str:
        """Cancel parts in flight (and wait for them); then abort until no part is left.
        With ``keep_parts`` the parts in flight finish and the upload stays for resuming
        (from the local file ``source``, when there is one). Returns what happened, in a
        sentence for the caller's error notes.

        A part that was already on the wire when abort ran can still land: AWS advises
        repeating the abort until ListParts finds nothing, which is done here.
        """
        if not keep_parts:  # parts to keep are let finish: they are the resume's head start
            for task in list(self._tasks):
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._create_task is not None:
            await asyncio.gather(self._create_task, return_exceptions=True)
        if self.published is not None:
            return self._published_note()
        if self._upload_id is None:
            return f"{self.url}: nothing was published"
        if keep_parts:
            upload_id, file = self._upload_id, source or "FILE"
            return (f"{self.url}: incomplete upload kept for resuming: upload_id={upload_id}; "
                    "finish it from a local copy of the bytes with "
                    f"`{hints.resume_put(file, self.url, upload_id)}` (or upload_file("
                    f"{file!r}, '{self.url}', resume=True)), or drop it with "
                    f"`{hints.abort(self.url, upload_id, young=True)}`")
        await self._client.abort_until_clean(self.ref, self._upload_id)
        log.info("%s: aborted upload %s", self.url, self._upload_id)
        return f"{self.url}: upload {self._upload_id} aborted, nothing published"


def _answer_lost(error: BaseException) -> bool:
    """True when the request may have reached the server: no HTTP answer came back."""
    return isinstance(error, TransientS3Error) and error.status is None


def _on_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
