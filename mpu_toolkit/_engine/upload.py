"""One S3 multipart upload, coordinated on fsspec's event loop (the writer's sink).

Like s3transfer's per-transfer coordinator: it owns the upload id, the part tasks and their
digests. Parts run as asyncio tasks on fsspec's I/O thread (no thread per part); MD5 is
computed in a worker thread (``hashlib`` releases the GIL), so hashing, sending and the
producer overlap. The upload is created lazily with the first part, so objects smaller than
one part cost a single PUT and no multipart state.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any, Coroutine, Sequence, TypeVar

from fsspec.asyn import sync

from ..errors import IntegrityError, NoSuchUpload, TransientS3Error
from .._plan.integrity import ChecksumMode, PartDigest, digest_part, etag_matches, multipart_etag
from ..options import WriteOptions
from .._s3.client import MultipartProtocol
from ..model import ObjectInfo, PartInfo

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["S3Upload"]


class S3Upload:
    """Uploads the parts of one object and completes or aborts it (implements UploadSink)."""

    def __init__(self, protocol: MultipartProtocol, loop: asyncio.AbstractEventLoop,
                 bucket: str, key: str, options: WriteOptions) -> None:
        self._protocol = protocol
        self._loop = loop
        self.bucket, self.key = bucket, key
        self._options = options
        self._retry = options.retry_policy()
        self._mode: ChecksumMode = options.checksum
        self._upload_id: str | None = None
        self._create_task: asyncio.Task[str] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._md5s: dict[int, bytes] = {}

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

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

    # -- the sink interface (called from the producer's thread) ----------------------------
    def submit_part(self, number: int, data: bytearray | memoryview) -> "Future[PartInfo]":
        return asyncio.run_coroutine_threadsafe(self._tracked(self.send_part(number, data)),
                                                self._loop)

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo:
        return self._run(self.finish(list(parts)))

    def put_object(self, data: bytearray) -> ObjectInfo:
        return self._run(self.put_whole(data))

    def abort(self, keep_parts: bool = False) -> None:
        if _on_loop_thread(self._loop):  # e.g. garbage collection on the I/O thread
            asyncio.ensure_future(self.cancel(keep_parts))
            return
        self._run(self.cancel(keep_parts))

    # -- coroutines on the loop (also used directly by copy, compose and file uploads) ------
    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        async def runner() -> T:
            return await coro

        return sync(self._loop, runner)

    async def _tracked(self, coro: Coroutine[Any, Any, T]) -> T:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            return await coro
        finally:
            self._tasks.discard(task)

    async def _ensure_started(self) -> str:
        if self._create_task is None and self._upload_id is not None:  # attached
            return self._upload_id
        if self._create_task is None:
            self._create_task = asyncio.ensure_future(self._create())
        # shielded: a cancelled part must not orphan an upload the server already created
        return await asyncio.shield(self._create_task)

    async def _create(self) -> str:
        opts = self._options
        lost = _LostAnswers()
        try:
            upload_id = await self._retry.run(
                lambda: self._protocol.create(
                    self.bucket, self.key, metadata=opts.metadata,
                    content_type=opts.content_type, storage_class=opts.storage_class,
                    checksum_algorithm=self._mode.algorithm, extra=opts.extra),
                what=f"CreateMultipartUpload {self.url}", retry_unreachable=False,
                on_retry=lost.note)
        except Exception as error:
            if lost.count or _answer_lost(error):
                await self._warn_possible_orphans(None)
            raise
        self._upload_id = upload_id
        log.debug("%s: started upload %s", self.url, upload_id)
        if lost.count:
            await self._warn_possible_orphans(upload_id)
        return upload_id

    async def _warn_possible_orphans(self, ours: str | None) -> None:
        """A CreateMultipartUpload whose answer was lost may have started an upload that
        no one will finish (S3 has no idempotency token for it). Name the candidates; they
        are not aborted here, since another writer of this key may own them."""
        try:
            others = [u.upload_id for u in await self._protocol.list_uploads(self.bucket,
                                                                               self.key)
                      if u.key == self.key and u.upload_id != ours]
        except Exception as exc:  # only a warning: the upload itself goes on
            log.warning("%s: could not list uploads to look for orphans: %s", self.url, exc)
            return
        if others:
            log.warning("%s: CreateMultipartUpload was retried after its answer was lost; "
                        "it may have left incomplete upload(s) %s that no one will finish. If "
                        "no other writer uses this key, abort them (mpu abort %s --upload-id "
                        "ID --force) or let a lifecycle rule do it", self.url,
                        ", ".join(others), self.url)

    async def _digest(self, data: bytearray | memoryview) -> PartDigest:
        if self._mode is ChecksumMode.MD5:
            return await asyncio.to_thread(digest_part, data, self._mode)
        return PartDigest()

    async def send_part(self, number: int, data: bytes | bytearray | memoryview) -> PartInfo:
        """UploadPart with digest, ETag check and retries (same number on every try)."""
        upload_id = await self._ensure_started()
        digest = await self._digest(data)
        args = digest.request_args(self._mode)

        async def attempt() -> PartInfo:
            part = await self._protocol.upload_part(self.bucket, self.key, upload_id, number,
                                                    data, **args)
            if not part.etag.strip('"'):  # Complete could not name this part
                raise IntegrityError(f"{self.url}: the answer to part {number} has no ETag; "
                                     "re-sending")
            self._check_etag(part.etag, digest, f"part {number}")
            return part

        part = await self._retry.run(attempt, what=f"UploadPart {number} of {self.url}")
        if digest.md5 is not None:
            self._md5s[number] = digest.md5
        return part

    async def copy_part(self, number: int, source: ObjectInfo,
                        byte_range: tuple[int, int]) -> PartInfo:
        """UploadPartCopy of ``source`` bytes ``first..last``, if the source is unchanged."""
        upload_id = await self._ensure_started()
        return await self._retry.run(
            lambda: self._protocol.upload_part_copy(
                self.bucket, self.key, upload_id, number, source.bucket, source.key,
                byte_range=byte_range, source_version=source.version_id,
                if_match=source.etag or None),
            what=f"UploadPartCopy {number} of {self.url}")

    def _check_etag(self, etag: str, digest: PartDigest, what: str) -> None:
        if digest.md5 is not None and etag_matches(etag, digest.md5.hex()) is False:
            raise IntegrityError(f"{self.url}: the server's ETag {etag} for {what} is not the "
                                 f"MD5 of the bytes sent ({digest.md5.hex()}); re-sending")

    async def put_whole(self, data: bytes | bytearray) -> ObjectInfo:
        """PutObject of a whole small object, with digest, ETag check and retries."""
        opts = self._options
        digest = await self._digest(data)

        async def attempt() -> ObjectInfo:
            info = await self._protocol.put_object(
                self.bucket, self.key, data, metadata=opts.metadata,
                content_type=opts.content_type, storage_class=opts.storage_class,
                extra=opts.extra, **digest.request_args(self._mode))
            self._check_etag(info.etag, digest, "the object")
            return info

        info = await self._retry.run(attempt, what=f"PutObject {self.url}",
                                     retry_unreachable=False)
        if opts.verify and digest.md5 is None:
            return await self._confirm(len(data), None)
        return info

    async def finish(self, parts: list[PartInfo]) -> ObjectInfo:
        """CompleteMultipartUpload with ``parts``, then (``verify``) HEAD to confirm.

        When an answer was lost (the connection dropped after the request went out), the
        server may have completed the upload already: a retry then finds it gone, or every
        retry fails the same way. Before reporting a failure the object is HEADed; if it has
        this upload's size and multipart ETag, the upload did complete.
        """
        assert self._upload_id is not None, "complete() before any part was sent"
        parts = sorted(parts, key=lambda p: p.number)  # the multipart ETag is in this order
        upload_id, size = self._upload_id, sum(p.size for p in parts)
        md5s = [self._md5s.get(p.number) for p in parts]
        expected = multipart_etag(md5s) if all(md5s) else None  # type: ignore[arg-type]
        lost = _LostAnswers()

        async def attempt() -> ObjectInfo:
            try:
                return await self._protocol.complete(self.bucket, self.key, upload_id, parts)
            except NoSuchUpload:
                if not lost.count or not await self._published(size, expected):
                    raise
                return await self._protocol.head(self.bucket, self.key)

        try:
            info = await self._retry.run(attempt, what=f"CompleteMultipartUpload {self.url}",
                                         on_retry=lost.note)
        except Exception as error:
            if not (lost.count or _answer_lost(error)) or not await self._published(size,
                                                                                   expected):
                raise
            log.warning("%s: Complete's answers were lost, but the object is there with this "
                        "upload's size and ETag: it completed", self.url)
            info = await self._protocol.head(self.bucket, self.key)
        if self._options.verify:
            info = await self._confirm(size, expected)
        return info

    async def _published(self, size: int, expected_etag: str | None) -> bool:
        """Is the object this upload's? Size, and the multipart ETag where it is known."""
        try:
            info = await self._protocol.head(self.bucket, self.key)
        except Exception:
            return False
        if info.size != size:
            return False
        return expected_etag is None or etag_matches(info.etag, expected_etag) is not False

    async def _confirm(self, size: int, expected_etag: str | None) -> ObjectInfo:
        """HEAD the published object: right size and, where comparable, right ETag."""
        info = await self._retry.run(lambda: self._protocol.head(self.bucket, self.key),
                                     what=f"HeadObject {self.url}")
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

    async def cancel(self, keep_parts: bool = False) -> None:
        """Cancel parts in flight (and wait for them); then abort until no part is left.
        With ``keep_parts`` the parts in flight finish and the upload stays for resuming.

        A part that was already on the wire when abort ran can still land: AWS advises
        repeating the abort until ListParts finds nothing, which is done here.
        """
        if not keep_parts:  # parts to keep are let finish: they are the resume's head start
            for task in list(self._tasks):
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._create_task is not None:
            await asyncio.gather(self._create_task, return_exceptions=True)
        if self._upload_id is None or keep_parts:
            return
        upload_id = self._upload_id
        await self._retry.run(
            lambda: self._protocol.abort_until_clean(self.bucket, self.key, upload_id),
            what=f"AbortMultipartUpload {self.url}")
        log.info("%s: aborted upload %s", self.url, self._upload_id)


def _answer_lost(error: BaseException) -> bool:
    """True when the request may have reached the server: no HTTP answer came back."""
    return isinstance(error, TransientS3Error) and error.status is None


class _LostAnswers:
    """Counts the retried tries whose request may have reached the server (``on_retry``)."""

    def __init__(self) -> None:
        self.count = 0

    def note(self, _attempt: int, error: BaseException) -> None:
        self.count += _answer_lost(error)


def _on_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
