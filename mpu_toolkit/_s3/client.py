"""The seven S3 multipart operations (plus single PUT and HEAD), typed and async.

A thin layer on s3fs's aiobotocore client, so credentials, endpoint and client options are
s3fs's ``storage_options``. It does three things and nothing else: shape requests and
responses into small dataclasses, page through listings to the end, and turn every failure
into :mod:`mpu_toolkit.errors` (including server quirks, e.g. Ceph RGW accepting part
numbers 0 and 10001, which are refused here before any request).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Mapping, Sequence

from ..errors import IntegrityError, NoSuchUpload, S3Error, UploadNotClean
from .errormap import map_error
from .payload import PartBody
from .._plan.sizing import S3_LIMITS
from ..model import ObjectInfo, PartInfo, UploadInfo, UploadParts

if TYPE_CHECKING:
    from s3fs import S3FileSystem

log = logging.getLogger(__name__)

__all__ = ["MultipartProtocol"]


_CHECKSUM_KEYS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256",
                  "ChecksumCRC64NVME")


def _checksums(response: Mapping[str, Any]) -> dict[str, str]:
    return {k: response[k] for k in _CHECKSUM_KEYS if response.get(k)}


class MultipartProtocol:
    """S3 multipart operations for one s3fs filesystem (its session, loop and options)."""

    def __init__(self, fs: "S3FileSystem") -> None:
        self._fs = fs

    @property
    def endpoint(self) -> str:
        return str(self._fs.endpoint_url or self._fs.client_kwargs.get("endpoint_url") or "AWS S3")

    async def _call(self, operation: str, bucket: str, key: str = "", **kwargs: Any) -> Any:
        try:
            await self._fs.set_session()
            client = await self._fs.get_s3(bucket)
            method = getattr(client, operation)
            log.debug("%s s3://%s/%s %s", operation, bucket, key,
                      {k: v for k, v in kwargs.items() if k != "Body"})
            return await method(Bucket=bucket, **({"Key": key} if key else {}), **kwargs)
        except Exception as exc:
            raise map_error(exc, operation=_OPERATION_NAMES.get(operation, operation),
                            bucket=bucket, key=key, endpoint=self.endpoint) from exc

    # 1. start --------------------------------------------------------------------------
    async def create(self, bucket: str, key: str, *, metadata: Mapping[str, str] | None = None,
                     content_type: str | None = None, storage_class: str | None = None,
                     checksum_algorithm: str | None = None,
                     extra: Mapping[str, Any] | None = None) -> str:
        """CreateMultipartUpload; returns the upload id."""
        response = await self._call(
            "create_multipart_upload", bucket, key,
            **_object_args(metadata, content_type, storage_class, extra),
            **({"ChecksumAlgorithm": checksum_algorithm} if checksum_algorithm else {}))
        return str(response["UploadId"])

    # 2. upload part ----------------------------------------------------------------------
    async def upload_part(self, bucket: str, key: str, upload_id: str, number: int,
                          body: bytes | bytearray | memoryview, **checksum_args: Any) -> PartInfo:
        """UploadPart; re-sending the same number replaces that part."""
        S3_LIMITS.check_part_number(number)
        response = await self._call("upload_part", bucket, key, UploadId=upload_id,
                                    PartNumber=number, Body=PartBody(body),
                                    ContentLength=len(body), **checksum_args)
        return PartInfo(number, len(body), str(response.get("ETag", "")),
                        checksums=_checksums(response))

    # 3. copy part ------------------------------------------------------------------------
    async def upload_part_copy(self, bucket: str, key: str, upload_id: str, number: int,
                               source_bucket: str, source_key: str, *,
                               byte_range: tuple[int, int] | None = None,
                               source_version: str | None = None,
                               if_match: str | None = None) -> PartInfo:
        """UploadPartCopy of ``source[first:last+1]`` (inclusive range, as in HTTP).

        ``if_match``: the source's ETag; the copy fails if the source was replaced (a
        condition some servers ignore, Ceph RGW among them: callers re-check with HEAD).
        """
        S3_LIMITS.check_part_number(number)
        args = _copy_source(source_bucket, source_key, source_version, if_match)
        if byte_range is not None:
            args["CopySourceRange"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        response = await self._call("upload_part_copy", bucket, key, UploadId=upload_id,
                                    PartNumber=number, **args)
        result = response.get("CopyPartResult", {})
        size = byte_range[1] - byte_range[0] + 1 if byte_range else -1
        return PartInfo(number, size, str(result.get("ETag", "")),
                        result.get("LastModified"), _checksums(result))

    # 4. list parts -----------------------------------------------------------------------
    async def describe_upload(self, bucket: str, key: str, upload_id: str,
                              page_size: int = 1000) -> UploadParts:
        """ListParts, every page (PartNumberMarker), with the lifecycle abort date."""
        marker, parts, abort_date = 0, [], None
        while True:
            response = await self._call("list_parts", bucket, key, UploadId=upload_id,
                                        MaxParts=page_size, PartNumberMarker=marker)
            abort_date = abort_date or response.get("AbortDate")
            page = response.get("Parts", [])
            parts += [PartInfo(int(p["PartNumber"]), int(p["Size"]), str(p.get("ETag", "")),
                               p.get("LastModified"), _checksums(p)) for p in page]
            next_marker = int(response.get("NextPartNumberMarker") or 0)
            if not response.get("IsTruncated") or not page or next_marker <= marker:
                return UploadParts(parts, abort_date)
            marker = next_marker

    async def list_parts(self, bucket: str, key: str, upload_id: str,
                         page_size: int = 1000) -> list[PartInfo]:
        return (await self.describe_upload(bucket, key, upload_id, page_size)).parts

    # 5. abort ----------------------------------------------------------------------------
    async def abort(self, bucket: str, key: str, upload_id: str) -> None:
        """AbortMultipartUpload: deletes the parts stored so far."""
        await self._call("abort_multipart_upload", bucket, key, UploadId=upload_id)

    async def abort_until_clean(self, bucket: str, key: str, upload_id: str,
                                rounds: int = 3) -> bool:
        """Abort, then confirm with ListParts; repeat while parts are still listed.

        A part already on the wire when the abort ran can land afterwards: AWS advises
        repeating the abort until ListParts finds nothing. Returns False when the upload
        was already gone (completed, aborted or expired) before this call.
        """
        for round_ in range(1, rounds + 1):
            try:
                await self.abort(bucket, key, upload_id)
            except NoSuchUpload:
                return round_ > 1
            try:
                left = await self.list_parts(bucket, key, upload_id)
            except NoSuchUpload:
                return True
            if not left:
                return True
            log.warning("s3://%s/%s: %d part(s) landed after abort #%d of %s; aborting again",
                        bucket, key, len(left), round_, upload_id)
            await asyncio.sleep(0.2 * round_)
        raise UploadNotClean(f"s3://{bucket}/{key}: upload {upload_id} still has parts after "
                             f"{rounds} aborts; run `mpu abort` again later, or add a "
                             "lifecycle rule (`mpu lifecycle --set-days 7`)")

    # 6. complete -------------------------------------------------------------------------
    async def complete(self, bucket: str, key: str, upload_id: str,
                       parts: Sequence[PartInfo]) -> ObjectInfo:
        """CompleteMultipartUpload with exactly ``parts`` in ascending order.

        botocore already turns AWS's "200 OK with an error body" into an error.
        The returned ETag may be empty (Ceph RGW): confirm with :meth:`head`.
        """
        ordered = sorted(parts, key=lambda p: p.number)
        response = await self._call(
            "complete_multipart_upload", bucket, key, UploadId=upload_id,
            MultipartUpload={"Parts": [p.completion_entry() for p in ordered]})
        return ObjectInfo(bucket, key, str(response.get("ETag", "") or ""),
                          version_id=response.get("VersionId"))

    # 7. list uploads ---------------------------------------------------------------------
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

    async def list_buckets(self) -> list[str]:
        try:
            await self._fs.set_session()
            response = await (await self._fs.get_s3()).list_buckets()
        except Exception as exc:
            raise map_error(exc, operation="ListBuckets", endpoint=self.endpoint) from exc
        return [str(b["Name"]) for b in response.get("Buckets", [])]

    # lifecycle rules ---------------------------------------------------------------------
    async def get_lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        """The bucket's lifecycle rules; [] when it has none."""
        try:
            response = await self._call("get_bucket_lifecycle_configuration", bucket)
        except S3Error as exc:
            if exc.code == "NoSuchLifecycleConfiguration":
                return []
            raise
        return list(response.get("Rules", []))

    async def put_lifecycle_rules(self, bucket: str, rules: Sequence[Mapping[str, Any]]) -> None:
        if rules:
            await self._call("put_bucket_lifecycle_configuration", bucket,
                             LifecycleConfiguration={"Rules": list(rules)})
        else:
            await self._call("delete_bucket_lifecycle", bucket)

    # single-request objects and confirmation ----------------------------------------------
    async def put_object(self, bucket: str, key: str, body: bytes | bytearray, *,
                         metadata: Mapping[str, str] | None = None,
                         content_type: str | None = None, storage_class: str | None = None,
                         extra: Mapping[str, Any] | None = None,
                         **checksum_args: Any) -> ObjectInfo:
        """PutObject: objects smaller than one part go up in one request."""
        response = await self._call(
            "put_object", bucket, key, Body=PartBody(body), ContentLength=len(body),
            **_object_args(metadata, content_type, storage_class, extra), **checksum_args)
        return ObjectInfo(bucket, key, str(response.get("ETag", "")), len(body),
                          response.get("VersionId"))

    async def copy_object(self, bucket: str, key: str, source_bucket: str, source_key: str, *,
                          source_version: str | None = None, if_match: str | None = None,
                          replace: ObjectInfo | None = None,
                          storage_class: str | None = None) -> ObjectInfo:
        """CopyObject (sources up to 5 GiB): one request, the server copies the bytes.

        Without ``replace`` the source's metadata and headers are kept (COPY directive);
        with it, ``replace``'s metadata, content type and headers are set instead.
        """
        args = _copy_source(source_bucket, source_key, source_version, if_match)
        if replace is not None:
            args.update(_object_args(replace.metadata, replace.content_type, None,
                                     replace.headers), MetadataDirective="REPLACE")
        if storage_class:
            args["StorageClass"] = storage_class
        response = await self._call("copy_object", bucket, key, **args)
        result = response.get("CopyObjectResult", {})
        return ObjectInfo(bucket, key, str(result.get("ETag", "")),
                          version_id=response.get("VersionId"),
                          last_modified=result.get("LastModified"))

    async def get_range(self, bucket: str, key: str, first: int, last: int, *,
                        if_match: str | None = None) -> bytes:
        """GetObject of bytes ``first..last`` (inclusive); fails if the ETag is not
        ``if_match`` (the object was replaced)."""
        response = await self._call("get_object", bucket, key, Range=f"bytes={first}-{last}",
                                    **({"IfMatch": if_match} if if_match else {}))
        try:
            async with response["Body"] as stream:
                data: bytes = await stream.read()
        except Exception as exc:
            raise map_error(exc, operation="GetObject", bucket=bucket, key=key,
                            endpoint=self.endpoint) from exc
        if len(data) != last - first + 1:
            raise IntegrityError(f"s3://{bucket}/{key}: asked for bytes {first}-{last}, got "
                                 f"{len(data):,} bytes; the object may have been replaced")
        return data

    async def delete_object(self, bucket: str, key: str) -> None:
        await self._call("delete_object", bucket, key)

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        """HeadObject: size, ETag, user metadata and the headers a copy carries over."""
        response = await self._call("head_object", bucket, key)
        http_headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return ObjectInfo(bucket, key, str(response.get("ETag", "")),
                          int(response.get("ContentLength", 0)), response.get("VersionId"),
                          last_modified=response.get("LastModified"),
                          metadata=dict(response.get("Metadata") or {}),
                          content_type=response.get("ContentType"),
                          headers={k: response[k] for k in _COPIED_HEADERS if response.get(k)},
                          copies_by_reference="x-rgw-object-type" in http_headers)


_OPERATION_NAMES = {
    "create_multipart_upload": "CreateMultipartUpload", "upload_part": "UploadPart",
    "upload_part_copy": "UploadPartCopy", "list_parts": "ListParts",
    "abort_multipart_upload": "AbortMultipartUpload",
    "complete_multipart_upload": "CompleteMultipartUpload",
    "list_multipart_uploads": "ListMultipartUploads", "put_object": "PutObject",
    "head_object": "HeadObject", "get_bucket_lifecycle_configuration": "GetBucketLifecycle",
    "put_bucket_lifecycle_configuration": "PutBucketLifecycle",
    "delete_bucket_lifecycle": "DeleteBucketLifecycle", "copy_object": "CopyObject",
    "get_object": "GetObject", "delete_object": "DeleteObject",
}

#: HEAD fields that CreateMultipartUpload/CopyObject accept back: what a copy keeps.
_COPIED_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                   "Expires", "WebsiteRedirectLocation")


def _copy_source(bucket: str, key: str, version: str | None,
                 if_match: str | None) -> dict[str, Any]:
    source: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version:
        source["VersionId"] = version
    args: dict[str, Any] = {"CopySource": source}
    if if_match:
        args["CopySourceIfMatch"] = if_match
    return args


def _object_args(metadata: Mapping[str, str] | None, content_type: str | None,
                 storage_class: str | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    args: dict[str, Any] = dict(extra or {})
    if metadata:
        args["Metadata"] = {str(k): str(v) for k, v in metadata.items()}
    if content_type:
        args["ContentType"] = content_type
    if storage_class:
        args["StorageClass"] = storage_class
    return args


def _name(principal: Mapping[str, Any] | None) -> str | None:
    if not principal:
        return None
    return principal.get("DisplayName") or principal.get("ID")
