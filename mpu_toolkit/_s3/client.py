"""The S3 client of the engine and the inventory: the seven multipart operations, typed and
async, on top of the single-object requests and listings of :mod:`.objects`.

A thin layer on s3fs's aiobotocore client, so credentials, endpoint and client options are
s3fs's ``storage_options``. It shapes requests and answers into :mod:`mpu_toolkit.model`
records, pages through listings to the end, refuses what S3 would refuse (part numbers 0 and
10,001, which Ceph RGW accepts), and turns every failure into :mod:`mpu_toolkit.errors`.
Retries happen underneath, in :mod:`.retry`, for every request alike; each operation's
docstring says whether repeating it is harmless, and what a lost answer means.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Mapping, Sequence

from .. import hints
from .._plan.integrity import PartDigest
from .._plan.sizing import S3_LIMITS, counted
from ..errors import MPUError, NoSuchUpload, UploadNotClean
from ..model import (ObjectAttributes, ObjectInfo, ObjectRef, PartInfo, UploadInfo, UploadParts,
                     location)
from .objects import ObjectRequests
from .request import body_args, check_answer, checksums, copy_source
from .retry import Attempts

log = logging.getLogger(__name__)

__all__ = ["S3Client"]


class S3Client(ObjectRequests):
    """S3 requests on one s3fs filesystem's client (its session, loop and options).

    ``policy`` overrides the filesystem's retry policy for this client's requests (a write's
    ``max_attempts``); ``None`` keeps the filesystem's.
    """

    # 1. start ----------------------------------------------------------------------------
    async def create(self, ref: ObjectRef, attributes: ObjectAttributes, *,
                     checksum_algorithm: str | None = None,
                     attempts: Attempts | None = None) -> str:
        """CreateMultipartUpload; returns the upload id.

        Not safe to repeat blindly: a try whose answer was lost may have started an upload
        that nobody will finish (S3 has no idempotency token). ``attempts.lost`` says how
        many such tries there were; the caller names the candidates.
        """
        response = await self._call(
            "create_multipart_upload", ref, attempts=attempts,
            **attributes.request_args(),
            **({"ChecksumAlgorithm": checksum_algorithm} if checksum_algorithm else {}))
        return str(response["UploadId"])

    # 2. upload part ------------------------------------------------------------------------
    async def upload_part(self, ref: ObjectRef, upload_id: str, number: int,
                          body: bytes | bytearray | memoryview,
                          digest: PartDigest = PartDigest()) -> PartInfo:
        """UploadPart. Safe to repeat: the same bytes under the same number replace the part.

        ``digest`` says what protects the bytes: with Content-MD5 the server checks them and
        the answer's ETag must be their MD5; a flexible checksum the server echoes must be
        the one sent (re-sent otherwise); a payload hash is signed.
        """
        S3_LIMITS.check_part_number(number)
        response = await self._call("upload_part", ref, UploadId=upload_id, PartNumber=number,
                                    **body_args(body, digest))
        etag = check_answer(response, digest, f"{ref.url}: part {number}")
        return PartInfo(number, len(body), etag, checksums=checksums(response))

    # 3. copy part --------------------------------------------------------------------------
    async def upload_part_copy(self, ref: ObjectRef, upload_id: str, number: int,
                               source: ObjectRef, byte_range: tuple[int, int] | None = None, *,
                               if_match: str | None = None) -> PartInfo:
        """UploadPartCopy of ``source[first:last+1]`` (inclusive range, as in HTTP). Safe to
        repeat, like UploadPart.

        ``if_match``: the source's ETag; the copy fails if the source was replaced (a
        condition some servers ignore, Ceph RGW among them: callers re-check with HEAD).
        """
        S3_LIMITS.check_part_number(number)
        args = copy_source(source, if_match)
        if byte_range is not None:
            args["CopySourceRange"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        response = await self._call("upload_part_copy", ref,
                                    UploadId=upload_id, PartNumber=number, **args)
        result = response.get("CopyPartResult", {})
        size = byte_range[1] - byte_range[0] + 1 if byte_range else -1
        return PartInfo(number, size, str(result.get("ETag", "")),
                        result.get("LastModified"), checksums(result))

    # 4. list parts -------------------------------------------------------------------------
    async def describe_upload(self, ref: ObjectRef, upload_id: str,
                              page_size: int = 1000) -> UploadParts:
        """ListParts, every page (PartNumberMarker), with the lifecycle abort date."""
        marker, parts, abort_date = 0, [], None
        while True:
            response = await self._call("list_parts", ref, UploadId=upload_id,
                                        MaxParts=page_size, PartNumberMarker=marker)
            abort_date = abort_date or response.get("AbortDate")
            page = response.get("Parts", [])
            parts += [PartInfo(int(p["PartNumber"]), int(p["Size"]), str(p.get("ETag", "")),
                               p.get("LastModified"), checksums(p)) for p in page]
            next_marker = int(response.get("NextPartNumberMarker") or 0)
            if not response.get("IsTruncated") or not page or next_marker <= marker:
                return UploadParts(parts, abort_date)
            marker = next_marker

    async def list_parts(self, ref: ObjectRef, upload_id: str,
                         page_size: int = 1000) -> list[PartInfo]:
        return (await self.describe_upload(ref, upload_id, page_size)).parts

    # 5. abort ------------------------------------------------------------------------------
    async def abort(self, ref: ObjectRef, upload_id: str) -> bool:
        """AbortMultipartUpload: deletes the parts stored so far. Safe to repeat.

        Returns False when the upload was already gone (completed, aborted or expired);
        NoSuchUpload after a try whose answer was lost means that try did it: True (when
        every answer is lost, ListParts decides).
        """
        attempts = Attempts()
        try:
            await self._call("abort_multipart_upload", ref,
                             UploadId=upload_id, attempts=attempts)
        except NoSuchUpload:
            return attempts.lost > 0
        except MPUError:
            if not attempts.lost:
                raise
            try:  # every answer lost: the first try may have done it
                await self.list_parts(ref, upload_id)
            except NoSuchUpload:
                return True
            raise
        return True

    async def abort_until_clean(self, ref: ObjectRef, upload_id: str, rounds: int = 3) -> bool:
        """Abort, then confirm with ListParts; repeat while parts are still listed.

        A part already on the wire when the abort ran can land afterwards: AWS advises
        repeating the abort until ListParts finds nothing. Returns False when the upload
        was already gone (completed, aborted or expired) before this call.
        """
        for round_ in range(1, rounds + 1):
            if not await self.abort(ref, upload_id):
                return round_ > 1
            try:
                left = await self.list_parts(ref, upload_id)
            except NoSuchUpload:
                return True
            except MPUError as exc:  # the abort was done; only its confirmation failed
                log.warning("%s: upload %s aborted, but ListParts could not confirm that no "
                            "part landed afterwards (%s); `%s` shows any left",
                            ref.url, upload_id, exc, hints.list_uploads(ref.url))
                return True
            if not left:
                return True
            log.warning("%s: %s landed after abort #%d of %s; aborting again",
                        ref.url, counted(len(left), "part"), round_, upload_id)
            await asyncio.sleep(0.2 * round_)
        again = hints.abort(ref.url, upload_id, young=True)
        rule = hints.lifecycle(location(ref.bucket, scheme=ref.scheme))
        raise UploadNotClean(f"{ref.url}: upload {upload_id} still has parts after "
                             f"{rounds} aborts; run `{again}` again later, or add a "
                             f"lifecycle rule (`{rule}`)")

    # 6. complete ---------------------------------------------------------------------------
    async def complete(self, ref: ObjectRef, upload_id: str, parts: Sequence[PartInfo], *,
                       exclusive: bool = False, attempts: Attempts | None = None) -> ObjectInfo:
        """CompleteMultipartUpload with exactly ``parts`` in ascending order.

        Not safe to repeat blindly: after a lost answer the retry finds the upload gone
        (NoSuchUpload) although the first try completed it; ``attempts.lost`` tells the
        caller to confirm with HEAD. botocore turns AWS's "200 OK with an error body" into an
        error (retried). The returned ETag may be empty (Ceph RGW): confirm with :meth:`head`.
        ``exclusive`` sends ``If-None-Match: *`` (ObjectExists when the key is taken; stores
        that ignore it are named in :mod:`.providers`).
        """
        ordered = sorted(parts, key=lambda p: p.number)
        response = await self._call(
            "complete_multipart_upload", ref, UploadId=upload_id,
            attempts=attempts, **({"IfNoneMatch": "*"} if exclusive else {}),
            MultipartUpload={"Parts": [p.completion_entry() for p in ordered]})
        return ObjectInfo(ref.bucket, ref.key, str(response.get("ETag", "") or ""),
                          version_id=response.get("VersionId"))

    # 7. list uploads -----------------------------------------------------------------------
    async def iter_uploads(self, bucket: str, prefix: str = "",
                           page_size: int = 1000) -> AsyncIterator[UploadInfo]:
        """ListMultipartUploads, every page.

        Pages with KeyMarker *and* UploadIdMarker together: RGW includes the marker key
        when given KeyMarker alone, and several uploads of one key can span pages.
        """
        markers: dict[str, Any] = {}
        while True:
            response = await self._call("list_multipart_uploads", bucket, Prefix=prefix,
                                        MaxUploads=page_size, **markers)
            uploads = response.get("Uploads", [])
            for u in uploads:
                yield UploadInfo(bucket, str(u["Key"]), str(u["UploadId"]), u.get("Initiated"),
                                 u.get("StorageClass"), _name(u.get("Owner")),
                                 _name(u.get("Initiator")))
            new = {"KeyMarker": response.get("NextKeyMarker") or "",
                   "UploadIdMarker": response.get("NextUploadIdMarker") or ""}
            if not response.get("IsTruncated") or not uploads or new == markers:
                return
            markers = new

    async def list_uploads(self, bucket: str, prefix: str = "",
                           page_size: int = 1000) -> list[UploadInfo]:
        return [u async for u in self.iter_uploads(bucket, prefix, page_size)]



def _name(principal: Mapping[str, Any] | None) -> str | None:
    if not principal:
        return None
    return principal.get("DisplayName") or principal.get("ID")
