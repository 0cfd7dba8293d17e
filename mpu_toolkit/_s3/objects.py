"""Single-object requests (PUT, HEAD, ranged GET, COPY, DELETE), object and bucket listings,
and lifecycle rules: the requests around the multipart operations."""

from __future__ import annotations

from typing import Any, AsyncIterator, Mapping, Sequence

from ..errors import IntegrityError, NoSuchKey, S3Error
from .._plan.integrity import PartDigest
from ..model import ObjectAttributes, ObjectInfo, ObjectRef
from .errormap import map_error
from .providers import copies_by_reference
from .request import Requester, body_args, check_answer, copy_source, version
from .retry import Attempts, RetryPolicy

__all__ = ["ObjectRequests"]

#: HEAD fields that CreateMultipartUpload/CopyObject accept back: what a copy keeps.
_COPIED_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                   "Expires", "WebsiteRedirectLocation")


class ObjectRequests(Requester):
    """Requests on whole objects, listings and bucket configuration."""

    async def iter_objects(self, bucket: str, prefix: str = "",
                           page_size: int = 1000) -> AsyncIterator[tuple[str, int]]:
        """ListObjectsV2, every page: ``(key, size)`` of each object under ``prefix``."""
        token: dict[str, Any] = {}
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
                         attributes: ObjectAttributes, *, digest: PartDigest = PartDigest(),
                         exclusive: bool = False, attempts: Attempts | None = None
                         ) -> ObjectInfo:
        """PutObject: an object smaller than one part in one request. Safe to repeat (the
        same bytes again); ``digest`` is sent and checked as in :meth:`upload_part`.
        ``exclusive`` sends ``If-None-Match: *``: an existing key fails with ObjectExists."""
        response = await self._call(
            "put_object", ref, attempts=attempts, **body_args(body, digest),
            **attributes.request_args(), **({"IfNoneMatch": "*"} if exclusive else {}))
        etag = check_answer(response, digest, ref.url)
        return ObjectInfo(ref.bucket, ref.key, etag, len(body), response.get("VersionId"))

    async def copy_object(self, ref: ObjectRef, source: ObjectRef, *,
                          if_match: str | None = None, replace: ObjectAttributes | None = None,
                          storage_class: str | None = None,
                          attempts: Attempts | None = None) -> ObjectInfo:
        """CopyObject (sources up to 5 GiB): one request, the server copies. Safe to repeat.

        Without ``replace`` the source's metadata and headers are kept (COPY directive);
        with it, its metadata, content type and headers are set instead.
        """
        args = copy_source(source, if_match)
        if replace is not None:
            args.update(replace.request_args(), MetadataDirective="REPLACE")
        if storage_class:
            args["StorageClass"] = storage_class
        response = await self._call("copy_object", ref, attempts=attempts,
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
            conditions: dict[str, Any] = {**version(ref),
                                          **({"IfMatch": if_match} if if_match else {})}
            response = await self._call("get_object", ref,
                                        Range=f"bytes={first}-{last}", **conditions)
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
        await self._call("delete_object", ref, **version(ref))

    async def head_if_exists(self, ref: ObjectRef) -> ObjectInfo | None:
        """:meth:`head`, or None when there is no such object."""
        try:
            return await self.head(ref)
        except NoSuchKey:
            return None

    async def head(self, ref: ObjectRef) -> ObjectInfo:
        """HeadObject: size, ETag, user metadata and the headers a copy carries over."""
        response = await self._call("head_object", ref, **version(ref))
        http_headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return ObjectInfo(ref.bucket, ref.key, str(response.get("ETag", "")),
                          int(response.get("ContentLength", 0)), response.get("VersionId"),
                          last_modified=response.get("LastModified"),
                          metadata=dict(response.get("Metadata") or {}),
                          content_type=response.get("ContentType"),
                          headers={k: response[k] for k in _COPIED_HEADERS if response.get(k)},
                          copies_by_reference=copies_by_reference(http_headers))
