"""The client side of :func:`~mpu_toolkit.to_dataset`: complete every pending file, or abort
them all, and leave the prefix without uploads nobody will complete.

Like Hadoop S3A's committers, tasks upload but never publish: the job commits once every task
has succeeded. :meth:`JobCommitter.commit` removes the previous ``_SUCCESS`` / ``_metadata``
(an overwrite), completes every file (``concurrency`` at a time), deletes the previous objects
that were not rewritten, writes ``_metadata`` if asked, aborts the uploads of superseded
attempts, and writes ``_SUCCESS`` last: a reader that finds the marker finds the whole
dataset. Any failure before the marker deletes what was completed and aborts the rest.

The uploads under the prefix at the start (:meth:`JobCommitter.survey`) belong to someone
else and are never touched; every other upload under it is the job's own: the files it
commits, or attempts that failed, were killed or were superseded by a retry. This assumes
that no other job writes under the same prefix meanwhile.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any, Awaitable, Callable, Mapping, Sequence

from .._engine.blocking import run_blocking
from .._engine.gather import bounded_gather
from .._engine.upload import S3Upload
from .._plan.integrity import md5_of_etag
from .._plan.sizing import counted
from .._s3.client import S3Client
from ..errors import add_note
from ..fs import MPUFileSystem
from ..model import ObjectRef, location
from .pending import PendingFile

log = logging.getLogger(__name__)

__all__ = ["Survey", "JobCommitter", "SUCCESS", "COMMITTER"]

SUCCESS = "_SUCCESS"
COMMITTER = "mpu_toolkit.to_dataset"
#: summary files of a previous dataset: removed before the first Complete of an overwrite
_SUMMARIES = (SUCCESS, "_metadata", "_common_metadata")


@dataclass(frozen=True)
class Survey:
    """What the prefix held when the job started."""

    objects: Mapping[str, int]  #: key -> size
    uploads: frozenset[str]     #: upload ids: another writer's, never touched


class JobCommitter:
    """Commits or aborts the pending files of one dataset job at ``bucket/prefix/``."""

    def __init__(self, fs: MPUFileSystem, ref: ObjectRef, concurrency: int = 16,
                 writer_options: Mapping[str, Any] | None = None) -> None:
        self._fs = fs
        self._client = S3Client(fs)
        self._bucket = ref.bucket
        self._prefix = ref.key.rstrip("/") + "/"
        self._scheme = ref.scheme
        self._concurrency = concurrency
        self._writer_options = dict(writer_options or {})

    @property
    def url(self) -> str:
        return location(self._bucket, self._prefix, self._scheme)

    def survey(self) -> Survey:
        """The objects and incomplete uploads under the prefix now."""
        async def look() -> Survey:
            objects = {k: s async for k, s in self._client.iter_objects(self._bucket,
                                                                        self._prefix)}
            uploads = await self._client.list_uploads(self._bucket, self._prefix)
            return Survey(objects, frozenset(u.upload_id for u in uploads))

        return run_blocking(self._fs.loop, look())

    def commit(self, files: Sequence[PendingFile], before: Survey,
               extra: Mapping[str, bytes], manifest: Mapping[str, Any]) -> None:
        """Publish ``files``, then ``extra`` (name -> bytes, e.g. ``_metadata``), then
        ``_SUCCESS`` (``manifest`` as JSON). On any failure (an interrupt included) nothing
        of the job stays, and the exception's notes say so."""
        run_blocking(self._fs.loop, self._commit(files, before, extra, manifest))

    def abort(self, files: Sequence[PendingFile], before: Survey) -> str:
        """Abort ``files`` and every other upload of the job under the prefix; a note."""
        async def abort_all() -> str:
            ids = {f.handle.upload_id: f.handle.key for f in files}
            swept = await self._sweep(before, ids)
            return (f"{self.url}: job aborted, nothing published: {swept} (the files of "
                    f"{counted(len({f.partition for f in files}), 'finished task')})")

        return run_blocking(self._fs.loop, abort_all())

    # -- on the loop ---------------------------------------------------------------------------
    async def _commit(self, files: Sequence[PendingFile], before: Survey,
                      extra: Mapping[str, bytes], manifest: Mapping[str, Any]) -> None:
        names = {f.handle.key for f in files}
        summaries = [k for k in before.objects if k[len(self._prefix):] in _SUMMARIES]
        stale = sorted(k for k in before.objects if k not in names and k not in summaries)
        uploads = [self._upload_of(f) for f in files]
        written: list[str] = []  # keys PUT (or maybe PUT, when interrupted)
        try:
            await self._each([partial(self._delete, k) for k in summaries])
            await bounded_gather([partial(u.finish, list(f.parts)) for u, f in
                                  zip(uploads, files, strict=True)], self._concurrency)
            await self._each([partial(self._delete, k) for k in stale])
            for name, data in extra.items():
                await self._put(name, data, "application/octet-stream", written)
            swept = await self._sweep(before, {})
            log.info("%s: %s", self.url, swept)
            body = json.dumps({**manifest, "committer": COMMITTER,
                               "time": datetime.now(timezone.utc).isoformat()}, indent=1)
            await self._put(SUCCESS, body.encode(), "application/json", written)
        except BaseException as error:
            add_note(error, await self._undo(uploads, written, before))
            raise
        log.info("%s: committed %s (%s); deleted %s of the previous dataset", self.url,
                 counted(len(files), "file"), counted(sum(f.size for f in files), "byte"),
                 counted(len(stale) + len(summaries), "object"))

    def _upload_of(self, file: PendingFile) -> S3Upload:
        upload = self._fs.multipart_upload(file.handle.ref, **file.handle.options)
        upload.attach(file.handle.upload_id, {p.number: md5 for p in file.parts
                                              if (md5 := md5_of_etag(p.etag)) is not None})
        return upload

    async def _put(self, name: str, data: bytes, content_type: str,
                   written: list[str]) -> None:
        ref = ObjectRef(self._bucket, self._prefix + name, scheme=self._scheme)
        upload = self._fs.multipart_upload(ref, **{**self._writer_options,
                                                   "content_type": content_type})
        written.append(ref.key)  # first: an interrupted PUT may still have stored it
        await upload.put_whole(data)

    async def _delete(self, key: str) -> None:
        await self._client.delete_object(ObjectRef(self._bucket, key))

    async def _each(self, jobs: Sequence[Callable[[], Awaitable[None]]]) -> None:
        await bounded_gather(jobs, self._concurrency)

    async def _undo(self, uploads: Sequence[S3Upload], written: Sequence[str],
                    before: Survey) -> str:
        """After a failed commit: delete what was published, abort the rest, sweep."""
        published = [u.ref.key for u in uploads if u.published is not None] + list(written)
        pending = {u.upload_id: u.ref.key for u in uploads
                   if u.published is None and u.upload_id is not None}
        failed: list[str] = []

        async def delete(key: str) -> None:
            try:
                await self._delete(key)
            except Exception as exc:
                log.warning("%s: could not delete %s: %s", self.url, key, exc)
                failed.append(key)

        await bounded_gather([partial(delete, k) for k in published], self._concurrency)
        note = (f"{self.url}: commit failed, _SUCCESS not written: deleted "
                f"{counted(len(published) - len(failed), 'object')} it had published, "
                f"{await self._sweep(before, pending)}")
        if before.objects:
            note += ("; the previous dataset lost its summary files and the files this job "
                     "rewrote: write it again")
        if failed:
            note += f"; could NOT delete {', '.join(failed)}: delete them by hand"
        return note

    async def _sweep(self, before: Survey, ours: Mapping[str, str]) -> str:
        """Abort ``ours`` (upload id -> key) and every other upload under the prefix that
        did not exist ``before``; what happened, in words. A failure is logged and
        reported, not raised: the others are aborted all the same."""
        try:
            listed = await self._client.list_uploads(self._bucket, self._prefix)
            unlisted = ""
        except Exception as exc:
            log.warning("%s: could not list the uploads under it: %s", self.url, exc)
            listed, unlisted = [], f"; could NOT list the uploads under it ({exc})"
        targets = {**ours, **{u.upload_id: u.key for u in listed
                              if u.upload_id not in before.uploads}}
        failed: list[str] = []

        async def abort(upload_id: str, key: str) -> None:
            try:
                await self._client.abort_until_clean(ObjectRef(self._bucket, key), upload_id)
            except Exception as exc:
                log.warning("%s: could not abort upload %s of %s: %s", self.url, upload_id,
                            key, exc)
                failed.append(upload_id)

        await bounded_gather([partial(abort, i, k) for i, k in targets.items()],
                             self._concurrency)
        done = f"aborted {counted(len(targets) - len(failed), 'upload')}"
        if len(targets) > len(ours):
            done += f" ({len(targets) - len(ours)} of failed, killed or superseded attempts)"
        if failed:
            done += f"; could NOT abort {', '.join(failed)}"
        if failed or unlisted:
            done += (f"{unlisted}: run mpu_toolkit.uploads.abort({self.url!r}, force=True) "
                     "once no task runs")
        return done
