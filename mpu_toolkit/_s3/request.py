"""The single call point of every request mpu_toolkit makes itself: :class:`Requester`.

One method, :meth:`Requester._call`, sends a request on the filesystem's aiobotocore client
inside a retry :func:`~.retry.scope` (the policy and lost-answer count of the caller) and
turns any failure into :mod:`mpu_toolkit.errors`, naming the request and the object. The
request families build on it: :mod:`.objects` (single objects, listings, lifecycle) and
:mod:`.client` (the multipart operations).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Mapping, TypeVar

from .._plan.integrity import PartDigest, checksum_problem, etag_problem
from ..errors import IntegrityError
from ..model import ObjectRef, location
from .errormap import map_error
from .part_path import PartPath
from .payload import PartBody
from .providers import GENERIC, Provider
from .retry import Attempts, RetryPolicy, scope

if TYPE_CHECKING:
    from s3fs import S3FileSystem

log = logging.getLogger(__name__)
_R = TypeVar("_R", bound="Requester")

__all__ = ["Requester"]

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


class Requester:
    """Requests on one s3fs filesystem's client (its session, loop and options).

    ``policy`` overrides the filesystem's retry policy for this client's requests (a write's
    ``max_attempts``); ``None`` keeps the filesystem's.
    """

    def __init__(self, fs: "S3FileSystem", policy: RetryPolicy | None = None) -> None:
        self._fs = fs
        self._policy = policy

    def with_policy(self: _R, policy: RetryPolicy) -> _R:
        return type(self)(self._fs, policy)

    @property
    def provider(self) -> Provider:
        """What the store is known to honour (the filesystem's ``provider=``)."""
        return getattr(self._fs, "provider", None) or GENERIC

    @property
    def endpoint(self) -> str:
        """The endpoint as messages name it (botocore reads AWS_ENDPOINT_URL when none is
        given)."""
        return str(self._fs.endpoint_url or self._fs.client_kwargs.get("endpoint_url")
                   or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
                   or "AWS S3")

    async def _call(self, method: str, target: ObjectRef | str, *,
                    attempts: Attempts | None = None, **params: Any) -> Any:
        """``method`` on ``target`` (an object, or a bucket's name; "" for the service)."""
        name = _S3_NAMES[method]
        if isinstance(target, ObjectRef):
            bucket, key, scheme = target.bucket, target.key, target.scheme
        else:
            bucket, key, scheme = target, "", "mpu"
        where = location(bucket, key, scheme)
        number = params.get("PartNumber")
        what = f"{name} {number} of {where}" if number else f"{name} {where}"
        with scope(self._policy, attempts, what):
            try:
                await self._fs.set_session()
                client = await self._fs.get_s3(bucket or None)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s", what, {k: v for k, v in params.items() if k != "Body"})
                if method == "upload_part":
                    path = PartPath.of(client)
                    if path is not None and path.takes(params):
                        return await path.upload_part(bucket, key, params)
                call = getattr(client, method)
                return await call(**({"Bucket": bucket} if bucket else {}),
                                  **({"Key": key} if key else {}), **params)
            except Exception as exc:
                raise map_error(exc, operation=name, bucket=bucket, key=key,
                                endpoint=self.endpoint, scheme=scheme) from exc


def check_answer(response: Mapping[str, Any], digest: PartDigest, what: str) -> str:
    """After the retries: an answer that still does not confirm the bytes (ETag, echoed
    checksum) is an error. Returns the ETag."""
    etag = str(response.get("ETag", "") or "")
    content_md5 = digest.content_md5
    problem = ((etag_problem(etag, content_md5) if content_md5 else None)
               or checksum_problem(digest.checksum, response))
    if problem:
        error = IntegrityError(f"{what}: {problem}; the server may have stored other bytes")
        error.transient = False
        raise error
    return etag


def body_args(body: bytes | bytearray | memoryview, digest: PartDigest) -> dict[str, Any]:
    """The body of an UploadPart/PutObject and what protects it: Content-MD5, a flexible
    checksum's value, or the payload hash to sign (see :mod:`.signing`)."""
    args: dict[str, Any] = {"Body": PartBody(body, digest.payload_sha256),
                            "ContentLength": len(body)}
    if digest.content_md5:
        args["ContentMD5"] = digest.content_md5
    if digest.checksum:
        args[digest.checksum[0]] = digest.checksum[1]
    return args


def checksums(response: Mapping[str, Any]) -> dict[str, str]:
    return {k: response[k] for k in _CHECKSUM_KEYS if response.get(k)}


def version(ref: ObjectRef) -> dict[str, Any]:
    return {"VersionId": ref.version_id} if ref.version_id else {}


def copy_source(source: ObjectRef, if_match: str | None) -> dict[str, Any]:
    copy_source: dict[str, str] = {"Bucket": source.bucket, "Key": source.key, **version(source)}
    args: dict[str, Any] = {"CopySource": copy_source}
    if if_match:
        args["CopySourceIfMatch"] = if_match
    return args



