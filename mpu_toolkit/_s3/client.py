"""The S3 requests mpu_toolkit makes: the seven multipart operations, single-object requests
(PUT, HEAD, ranged GET, COPY, DELETE), bucket listings and lifecycle rules. Typed and async.

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
from typing import TYPE_CHECKING, Any, AsyncIterator, Mapping, Sequence

from .._plan.integrity import etag_problem
from .._plan.sizing import S3_LIMITS
from ..errors import IntegrityError, MPUError, NoSuchUpload, S3Error, UploadNotClean
from ..model import (ObjectAttributes, ObjectInfo, ObjectRef, PartInfo, UploadInfo,
                     UploadParts)
from .errormap import map_error
from .payload import PartBody
from .providers import copies_by_reference
from .retry import Attempts, RetryPolicy, scope

if TYPE_CHECKING:
    from s3fs import S3FileSystem

log = logging.getLogger(__name__)

__all__ = ["S3Client"]

_S3_NAMES = {  # botocore method -> S3 operation (as errors and logs name it)
    "create_multipart_upload": "CreateMultipartUpload", "upload_part": "UploadPart",
    "upload_part_copy": "UploadPartCopy", "list_parts": "ListParts",
    "abort_multipart_upload": "AbortMultipartUpload",
    "complete_multipart_upload": "CompleteMultipartUpload",
    "list_multipart_uploads": "ListMultipartUploads", "list_buckets": "ListBuckets",
    "list_objects_v2": "ListObjectsV2",
    "put_object": "PutObject", "head_object": "HeadObject", "get_object": "GetObject",
    "copy_object": "CopyObject", "delete_object": "DeleteObject",
    "get_bucket_lifecycle_configuration": "GetBucketLifecycle",
    "put_bucket_lifecycle_configuration": "PutBucketLifecycle",
    "delete_bucket_lifecycle": "DeleteBucketLifecycle",
}
_CHECKSUM_KEYS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256",
                  "ChecksumCRC64NVME")
#: HEAD fields that CreateMultipartUpload/CopyObject accept back: what a copy keeps.
_COPIED_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                   "Expires", "WebsiteRedirectLocation")


class S3Client:
    """S3 requests on one s3fs filesystem's client (its session, loop and options).

    ``policy`` overrides the filesystem's retry policy for this client's requests (a write's
    ``max_attempts``); ``None`` keeps the filesystem's.
    """

    def __init__(self, fs: "S3FileSystem", policy: RetryPolicy | None = None) -> None:
        self._fs = fs
        self._policy = policy

    def with_policy(self, policy: RetryPolicy) -> "S3Client":
        return S3Client(self._fs, policy)

    @property
    def endpoint(self) -> str:
        return str(self._fs.endpoint_url or self._fs.client_kwargs.get("endpoint_url") or "AWS S3")

    async def _call(self, method: str, bucket: str, key: str = "", *,
                    attempts: Attempts | None = None, **params: Any) -> Any:
        name = _S3_NAMES[method]
        where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
        number = params.get("PartNumber")
        what = f"{name} {number} of {where}" if number else f"{name} {where}"
        with scope(self._policy, attempts, what):
            try:
                await self._fs.set_session()
                client = await self._fs.get_s3(bucket or None)
                log.debug("%s %s", what, {k: v for k, v in params.items() if k != "Body"})
                call = getattr(client, method)
                return await call(**({"Bucket": bucket} if bucket else {}),
                                  **({"Key": key} if key else {}), **params)
            except Exception as exc:
                raise map_error(exc, operation=name, bucket=bucket, key=key,
                                endpoint=self.endpoint) from exc

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
            "create_multipart_upload", ref.bucket, ref.key, attempts=attempts,
            **attributes.request_args(),
            **({"ChecksumAlgorithm": checksum_algorithm} if checksum_algorithm else {}))
        return str(response["UploadId"])

    # 2. upload part ------------------------------------------------------------------------
    async def upload_part(self, ref: ObjectRef, upload_id: str, number: int,
                          body: bytes | bytearray | memoryview, *, content_md5: str | None = None,
                          checksum_algorithm: str | None = None) -> PartInfo:
        """UploadPart. Safe to repeat: the same bytes under the same number replace the part.

        With ``content_md5`` (base64) the server checks the bytes, and the answer's ETag must
        be their MD5 (re-sent otherwise); an answer without an ETag is re-sent too.
        """
        S3_LIMITS.check_part_number(number)
        response = await self._call(
            "upload_part", ref.bucket, ref.key, UploadId=upload_id, PartNumber=number,
            Body=PartBody(body), ContentLength=len(body),
            **_checksum_args(content_md5, checksum_algorithm))
        etag = str(response.get("ETag", "") or "")
        _check_answer(etag, content_md5, f"{ref.url}: part {number}")
        return PartInfo(number, len(body), etag, checksums=_checksums(response))

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
        args = _copy_source(source, if_match)
        if byte_range is not None:
            args["CopySourceRange"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        response = await self._call("upload_part_copy", ref.bucket, ref.key,
                                    UploadId=upload_id, PartNumber=number, **args)
        result = response.get("CopyPartResult", {})
        size = byte_range[1] - byte_range[0] + 1 if byte_range else -1
        return PartInfo(number, size, str(result.get("ETag", "")),
                        result.get("LastModified"), _checksums(result))

    # 4. list parts -------------------------------------------------------------------------
    async def describe_upload(self, ref: ObjectRef, upload_id: str,
                              page_size: int = 1000) -> UploadParts:
        """ListParts, every page (PartNumberMarker), with the lifecycle abort date."""
        marker, parts, abort_date = 0, [], None
        while True:
            response = await self._call("list_parts", ref.bucket, ref.key, UploadId=upload_id,
                                        MaxParts=page_size, PartNumberMarker=marker)
            abort_date = abort_date or response.get("AbortDate")
            page = response.get("Parts", [])
            parts += [PartInfo(int(p["PartNumber"]), int(p["Size"]), str(p.get("ETag", "")),
                               p.get("LastModified"), _checksums(p)) for p in page]
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
            await self._call("abort_multipart_upload", ref.bucket, ref.key,
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
                            "part landed afterwards (%s); `mpu uploads` shows any left",
                            ref.url, upload_id, exc)
                return True
            if not left:
                return True
            log.warning("%s: %d part(s) landed after abort #%d of %s; aborting again",
                        ref.url, len(left), round_, upload_id)
            await asyncio.sleep(0.2 * round_)
        raise UploadNotClean(f"{ref.url}: upload {upload_id} still has parts after "
                             f"{rounds} aborts; run `mpu abort` again later, or add a "
                             "lifecycle rule (`mpu lifecycle --set-days 7`)")

    # 6. complete ---------------------------------------------------------------------------
    async def complete(self, ref: ObjectRef, upload_id: str, parts: Sequence[PartInfo], *,
                       attempts: Attempts | None = None) -> ObjectInfo:
        """CompleteMultipartUpload with exactly ``parts`` in ascending order.

        Not safe to repeat blindly: after a lost answer the retry finds the upload gone
        (NoSuchUpload) although the first try completed it; ``attempts.lost`` tells the
        caller to confirm with HEAD. botocore turns AWS's "200 OK with an error body" into an
        error (retried). The returned ETag may be empty (Ceph RGW): confirm with :meth:`head`.
        """
        ordered = sorted(parts, key=lambda p: p.number)
        response = await self._call(
            "complete_multipart_upload", ref.bucket, ref.key, UploadId=upload_id,
            attempts=attempts,
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
        markers: dict[str, str] = {}
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

    async def iter_objects(self, bucket: str, prefix: str = "",
                           page_size: int = 1000) -> AsyncIterator[tuple[str, int]]:
        """ListObjectsV2, every page: ``(key, size)`` of each object under ``prefix``."""
        token: dict[str, str] = {}
        while True:
            response = await self._call("list_objects_v2", bucket, Prefix=prefix,
                                        MaxKeys=page_size, **token)
            for item in response.get("Contents", []):
                yield str(item["Key"]), int(item.get("Size", 0))
            next_token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not next_token:
                return
            token = {"ContinuationToken": str(next_token)}

    async def list_buckets(self) -> list[str]:
        response = await self._call("list_buckets", "")
        return [str(b["Name"]) for b in response.get("Buckets", [])]

    # lifecycle rules -----------------------------------------------------------------------
    async def get_lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        """The bucket's lifecycle rules; [] when it has none."""
        try:
            response = await self._call("get_bucket_lifecycle_configuration", bucket)
        except S3Error as exc:
            if exc.code == "NoSuchLifecycleConfiguration":
                return []
            raise
        return list(response.get("Rules", []))

    async def put_lifecycle_rules(self, bucket: str, rules: Sequence[Mapping[str, Any]], *,
                                  attempts: Attempts | None = None) -> None:
        """Replace the bucket's whole lifecycle configuration (none left: delete it). Safe to
        repeat: the same configuration again. After lost answers, read it back."""
        if rules:
            await self._call("put_bucket_lifecycle_configuration", bucket, attempts=attempts,
                             LifecycleConfiguration={"Rules": list(rules)})
        else:
            await self._call("delete_bucket_lifecycle", bucket, attempts=attempts)

    # single-request objects ------------------------------------------------------------------
    async def put_object(self, ref: ObjectRef, body: bytes | bytearray | memoryview,
                         attributes: ObjectAttributes, *, content_md5: str | None = None,
                         checksum_algorithm: str | None = None,
                         attempts: Attempts | None = None) -> ObjectInfo:
        """PutObject: an object smaller than one part in one request. Safe to repeat (the
        same bytes again); ``content_md5`` is checked as in :meth:`upload_part`."""
        response = await self._call(
            "put_object", ref.bucket, ref.key, attempts=attempts, Body=PartBody(body),
            ContentLength=len(body), **attributes.request_args(),
            **_checksum_args(content_md5, checksum_algorithm))
        etag = str(response.get("ETag", "") or "")
        _check_answer(etag, content_md5, ref.url)
        return ObjectInfo(ref.bucket, ref.key, etag, len(body), response.get("VersionId"))

    async def copy_object(self, ref: ObjectRef, source: ObjectRef, *,
                          if_match: str | None = None, replace: ObjectAttributes | None = None,
                          storage_class: str | None = None,
                          attempts: Attempts | None = None) -> ObjectInfo:
        """CopyObject (sources up to 5 GiB): one request, the server copies. Safe to repeat.

        Without ``replace`` the source's metadata and headers are kept (COPY directive);
        with it, its metadata, content type and headers are set instead.
        """
        args = _copy_source(source, if_match)
        if replace is not None:
            args.update(replace.request_args(), MetadataDirective="REPLACE")
        if storage_class:
            args["StorageClass"] = storage_class
        response = await self._call("copy_object", ref.bucket, ref.key, attempts=attempts,
                                    **args)
        result = response.get("CopyObjectResult", {})
        return ObjectInfo(ref.bucket, ref.key, str(result.get("ETag", "")),
                          version_id=response.get("VersionId"),
                          last_modified=result.get("LastModified"))

    async def get_range(self, ref: ObjectRef, first: int, last: int, *,
                        if_match: str | None = None) -> bytes:
        """GetObject of bytes ``first..last`` (inclusive); fails if the ETag is not
        ``if_match`` (the object was replaced). A body that breaks off is read again."""
        async def read() -> bytes:
            response = await self._call("get_object", ref.bucket, ref.key,
                                        Range=f"bytes={first}-{last}",
                                        **_version(ref), **({"IfMatch": if_match}
                                                            if if_match else {}))
            try:
                async with response["Body"] as stream:
                    data: bytes = await stream.read()
            except Exception as exc:
                raise map_error(exc, operation="GetObject", bucket=ref.bucket, key=ref.key,
                                endpoint=self.endpoint) from exc
            if len(data) != last - first + 1:
                raise IntegrityError(f"{ref.url}: asked for bytes {first}-{last}, got "
                                     f"{len(data):,} bytes; the object may have been replaced")
            return data

        return await (self._policy or RetryPolicy()).run(read, what=f"GetObject {ref.url}")

    async def delete_object(self, ref: ObjectRef) -> None:
        """DeleteObject. Safe to repeat: deleting what is gone succeeds."""
        await self._call("delete_object", ref.bucket, ref.key, **_version(ref))

    async def head(self, ref: ObjectRef) -> ObjectInfo:
        """HeadObject: size, ETag, user metadata and the headers a copy carries over."""
        response = await self._call("head_object", ref.bucket, ref.key, **_version(ref))
        http_headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return ObjectInfo(ref.bucket, ref.key, str(response.get("ETag", "")),
                          int(response.get("ContentLength", 0)), response.get("VersionId"),
                          last_modified=response.get("LastModified"),
                          metadata=dict(response.get("Metadata") or {}),
                          content_type=response.get("ContentType"),
                          headers={k: response[k] for k in _COPIED_HEADERS if response.get(k)},
                          copies_by_reference=copies_by_reference(http_headers))


def _check_answer(etag: str, content_md5: str | None, what: str) -> None:
    """After the retries: an answer that still does not confirm the bytes is an error."""
    problem = etag_problem(etag, content_md5) if content_md5 else None
    if problem:
        error = IntegrityError(f"{what}: {problem}; the server may have stored other bytes")
        error.transient = False
        raise error


def _checksum_args(content_md5: str | None, algorithm: str | None) -> dict[str, Any]:
    if content_md5:
        return {"ContentMD5": content_md5}
    return {"ChecksumAlgorithm": algorithm} if algorithm else {}


def _checksums(response: Mapping[str, Any]) -> dict[str, str]:
    return {k: response[k] for k in _CHECKSUM_KEYS if response.get(k)}


def _version(ref: ObjectRef) -> dict[str, str]:
    return {"VersionId": ref.version_id} if ref.version_id else {}


def _copy_source(source: ObjectRef, if_match: str | None) -> dict[str, Any]:
    copy_source: dict[str, str] = {"Bucket": source.bucket, "Key": source.key, **_version(source)}
    args: dict[str, Any] = {"CopySource": copy_source}
    if if_match:
        args["CopySourceIfMatch"] = if_match
    return args


def _name(principal: Mapping[str, Any] | None) -> str | None:
    if not principal:
        return None
    return principal.get("DisplayName") or principal.get("ID")
