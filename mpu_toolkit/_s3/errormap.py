"""botocore / aiohttp / asyncio failures → the :mod:`mpu_toolkit.errors` hierarchy.

One place decides what a failure means: its class (``NoSuchUpload``, ``TransientS3Error``
...), whether repeating the request may help (``transient``), and the advice in its message.
Server quirks are folded into the AWS meaning here (Ceph RGW answers ListParts on an aborted
upload with NoSuchKey, and Complete on one with a 500), so no caller branches on servers.
"""

from __future__ import annotations

import asyncio
import re

from .. import hints
from ..errors import (AccessDenied, ConfigurationError, CredentialsError, EndpointUnreachable,
                      EntityTooSmall, InvalidName, InvalidPart, InvalidPartOrder, MPUError,
                      NoSuchBucket, NoSuchKey, NoSuchUpload, NotSupportedByServer, ObjectExists,
                      S3Error, SourceChanged, TransientS3Error)
from ..model import location

__all__ = ["map_error", "error_class", "missing_bucket", "precondition_failed"]


_ADVICE = {
    NoSuchUpload: "the upload was completed, aborted or expired; start a new upload "
    "(list live ones with mpu_toolkit's uploads inventory)",
    NoSuchBucket: "create the bucket first (e.g. fs.mkdir('{bucket}')) or check the bucket "
    f"name and endpoint_url (`{hints.list_objects()}` lists the buckets there)",
    NoSuchKey: "check the key: `{listing}` shows what exists",
    AccessDenied: "these credentials may not do it: ask for {permission} on this bucket, or "
    "use other credentials",
    CredentialsError: "the server refused the credentials: check key= and secret= (in a "
    "shell: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the profile in use) and that "
    "endpoint_url is the server they belong to",
    EntityTooSmall: "every part but the last must be at least 5 MiB: raise part_size",
    InvalidPart: "a listed part is missing or its ETag differs; list the parts and retry "
    "complete with exactly those (RGW needs every uploaded part listed); a store that needs "
    "all parts but the last of one size (Cloudflare R2) says so too: name it, provider='r2' "
    "(or part_size_policy='equal')",
    InvalidPartOrder: "list parts in ascending part-number order",
    TransientS3Error: "the server is overloaded or failing; retry later or lower concurrency",
    InvalidName: "bucket names are 3-63 characters of lowercase letters, digits, dots and "
    "hyphens, starting and ending with a letter or digit; keys are 1 to 1,024 bytes of UTF-8",
    ObjectExists: "an exclusive write never replaces an object: choose another key, or "
                  "delete the object first (or write without exclusive / --no-clobber)",
    SourceChanged: "the source was replaced while it was being read; run the operation "
    "again once the writer of the source is done",
    NotSupportedByServer: "this S3-compatible server does not implement it; use the "
    f"server's own tools, or clean up with `{hints.abort()}` on a schedule",
}

#: what to do about one error code, where it says more than its class's advice
_CODE_ADVICE = {
    "InvalidAccessKeyId": "the server does not know this access key id: check key= (in a "
    "shell: AWS_ACCESS_KEY_ID, or the profile in use) and that endpoint_url is the server it "
    "belongs to",
    "SignatureDoesNotMatch": "the secret does not match the access key id: check secret= (in "
    "a shell: AWS_SECRET_ACCESS_KEY, or the profile in use)",
    "ExpiredToken": "the session token has expired: get a new one (token=, or "
    "AWS_SESSION_TOKEN in a shell)",
    "InvalidToken": "the session token is not valid: check token= (or AWS_SESSION_TOKEN)",
    "RequestTimeTooSkewed": "this machine's clock is more than 15 minutes off the server's: "
    "set it right (NTP)",
    # botocore >= 1.36 sends flexible checksums as aws-chunked trailers over HTTPS
    "XAmzContentSHA256Mismatch": "the body the server read is not the one signed: either it "
    "was changed on its way, or the store does not take the aws-chunked checksum trailers "
    "botocore sends over HTTPS (Yandex Object Storage, Cloudflare R2, Ceph RGW 16): write with "
    "checksum='md5' and request_checksum_calculation='when_required' in config_kwargs (the "
    "generic default), or name the store's provider=",
}
#: a checksum algorithm the store does not implement (R2 and CRC64NVME)
_NO_SUCH_CHECKSUM = ("the store does not implement this checksum algorithm: write with "
                     "checksum='md5' (Content-MD5, verified everywhere) or one the store "
                     "supports")
#: a HEAD answer has no body, so a 403 to it does not say which of the two it is
_BARE_403 = ("a HEAD answer carries no reason, so it is one of two: the secret does not match "
             "the access key id (check secret=, or AWS_SECRET_ACCESS_KEY in a shell), or these "
             "credentials may not do it (ask for {permission} on this bucket)")
_NO_CREDENTIALS = ("no credentials were found: in Python pass key= and secret= in "
                   "storage_options; in a shell set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                   "or AWS_PROFILE for a profile of ~/.aws/credentials")
#: the IAM permission each request needs, for AccessDenied's advice
_PERMISSIONS = {
    "HeadObject": "s3:GetObject", "GetObject": "s3:GetObject", "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "UploadPartCopy": "s3:GetObject on the source and s3:PutObject",
    "CopyObject": "s3:GetObject on the source and s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket",
    "DeleteObject": "s3:DeleteObject", "ListBuckets": "s3:ListAllMyBuckets",
    "GetBucketLifecycle": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycle": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
}

_CONDITIONAL_WRITES = ("PutObject", "CompleteMultipartUpload")
_CODE_CLASSES: dict[str, type[S3Error]] = {
    "NoSuchUpload": NoSuchUpload,
    "NoSuchBucket": NoSuchBucket,
    "NoSuchKey": NoSuchKey,
    "404": NoSuchKey,
    "AccessDenied": AccessDenied,
    "403": AccessDenied,
    "AllAccessDisabled": AccessDenied,
    "InvalidAccessKeyId": CredentialsError,
    "SignatureDoesNotMatch": CredentialsError,
    "ExpiredToken": CredentialsError,
    "InvalidToken": CredentialsError,
    "EntityTooSmall": EntityTooSmall,
    "InvalidPart": InvalidPart,
    "InvalidPartOrder": InvalidPartOrder,
    "SlowDown": TransientS3Error,
    "RequestTimeout": TransientS3Error,
    "InternalError": TransientS3Error,
    "ServiceUnavailable": TransientS3Error,
    "Throttling": TransientS3Error,
    "ThrottlingException": TransientS3Error,
    "RequestTimeTooSkewed": CredentialsError,
    "NotImplemented": NotSupportedByServer,
    "MethodNotAllowed": NotSupportedByServer,
    "PreconditionFailed": SourceChanged,
    "InvalidBucketName": InvalidName,
    "KeyTooLongError": InvalidName,
    "412": SourceChanged,
}


def error_class(code: str, status: int | None, operation: str, message: str) -> type[S3Error]:
    """The exception class of an error answer, server quirks folded into the AWS meaning."""
    # RGW answers ListParts on an aborted upload with NoSuchKey (AWS: NoSuchUpload).
    if code in ("NoSuchKey", "404") and operation == "ListParts":
        return NoSuchUpload
    # RGW answers Complete on an aborted upload with 500 "completion already in progress".
    if operation == "CompleteMultipartUpload" and "already in progress" in message.lower():
        return NoSuchUpload
    # A failed If-None-Match: * (the only condition mpu_toolkit puts on a write) = key taken.
    if operation in _CONDITIONAL_WRITES and (code == "PreconditionFailed" or status == 412):
        return ObjectExists
    # A HEAD's 404 has no body: to HeadBucket it means the bucket, not a key.
    if operation == "HeadBucket" and status == 404:
        return NoSuchBucket
    if code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if status == 501:
        return NotSupportedByServer
    if status is not None and (status >= 500 or status == 429):
        return TransientS3Error
    if status == 404:
        return NoSuchKey
    if status == 403:
        return AccessDenied
    if status == 412:
        return SourceChanged
    return S3Error


def precondition_failed(exc: BaseException) -> bool:
    """A botocore answer 412: the condition of the request (If-Match ...) did not hold."""
    response = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") in ("PreconditionFailed", "412")


_S3_BUCKET_NAME = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def map_error(exc: BaseException, *, operation: str = "", bucket: str = "", key: str = "",
              endpoint: str | None = None, scheme: str = "mpu") -> MPUError:
    """Translate a botocore/aiohttp/asyncio exception into the mpu_toolkit hierarchy."""
    if isinstance(exc, MPUError):
        return exc
    from botocore import exceptions as bce  # deferred: keeps `import mpu_toolkit.errors` cheap

    where = location(bucket, key, scheme)
    op = operation or "request"
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code", ""))
        status = meta.get("HTTPStatusCode")
        message = str(error.get("Message", "") or "")
        cls = error_class(code, status, operation, message)
        advice = _CODE_ADVICE.get(code) or _ADVICE.get(cls, "see the server's message")
        if code == "403" and operation.startswith("Head"):
            advice = _BARE_403
        if cls is NotSupportedByServer and "checksum" in message.lower():
            advice = _NO_SUCH_CHECKSUM
        if cls is NoSuchBucket and not _S3_BUCKET_NAME.match(bucket):
            cls, advice = InvalidName, f"{bucket!r} is not a valid name: " + _ADVICE[InvalidName]
        permission = _PERMISSIONS.get(operation, f"s3:{operation or 'the action'}")
        text = (f"{op} on {where} failed: {code or status} {message}".rstrip() + " — "
                + advice.format(bucket=bucket, permission=permission,
                                listing=_listing(bucket, key, scheme)))
        return cls(text, code=code, status=status, operation=operation, bucket=bucket,
                   key=key, request_id=str(meta.get("RequestId", "")))
    if isinstance(exc, bce.ParamValidationError) and "bucket" in str(exc).lower():
        return InvalidName(f"{op} on {where}: {exc} — " + _ADVICE[InvalidName],
                           operation=operation, bucket=bucket, key=key)
    if isinstance(exc, bce.ParamValidationError):
        return ConfigurationError(f"{op} on {where}: {exc}")
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return CredentialsError(f"{op} on {where}: {_NO_CREDENTIALS}", operation=operation,
                                bucket=bucket, key=key)
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError)):
        return EndpointUnreachable(
            f"{op} on {where}: cannot connect to {endpoint or 'the endpoint'} — check "
            "endpoint_url and that the server is running and reachable")
    if isinstance(exc, (bce.ReadTimeoutError, bce.ConnectionClosedError,
                        asyncio.TimeoutError, ConnectionError)) or _is_aiohttp_error(exc):
        return TransientS3Error(f"{op} on {where}: connection lost or timed out ({exc!r}) — "
                                "retrying may help", operation=operation, bucket=bucket,
                                key=key)
    return MPUError(f"{op} on {where} failed: {exc!r}")


def _is_aiohttp_error(exc: BaseException) -> bool:
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiohttp comes with s3fs
        return False
    return isinstance(exc, aiohttp.ClientError)


def missing_bucket(bucket: str, endpoint: str) -> S3Error:
    """The error for a bucket that does not exist (or a name no bucket can have)."""
    if not _S3_BUCKET_NAME.match(bucket):
        return InvalidName(f"{bucket!r} is not a valid bucket name: " + _ADVICE[InvalidName],
                           code="InvalidBucketName", bucket=bucket)
    return NoSuchBucket(f"{location(bucket)} does not exist at {endpoint} — "
                        + _ADVICE[NoSuchBucket].format(bucket=bucket), code="NoSuchBucket",
                        status=404, bucket=bucket)


def missing_path(bucket: str, key: str, endpoint: str, scheme: str = "mpu") -> S3Error:
    """The error for a read of a path that is neither an object nor a prefix."""
    return NoSuchKey(f"{location(bucket, key, scheme)} does not exist at {endpoint} (no object "
                     "and no prefix of that name) — "
                     + _ADVICE[NoSuchKey].format(listing=_listing(bucket, key, scheme)),
                     code="NoSuchKey", status=404, bucket=bucket, key=key)


def _listing(bucket: str, key: str, scheme: str) -> str:
    """The ``mpu ls`` of the prefix that holds ``key``: where a mistyped name shows up."""
    parent = key.rstrip("/").rpartition("/")[0]
    return hints.list_objects(f"{scheme}://{bucket}/{parent + '/' if parent else ''}"
                              if bucket else None)


def object_exists(bucket: str, key: str, endpoint: str, scheme: str = "mpu") -> ObjectExists:
    """The error of an exclusive write whose key is taken (found by HEAD, not by the store)."""
    return ObjectExists(f"{location(bucket, key, scheme)} already exists at {endpoint} — "
                        + _ADVICE[ObjectExists], code="PreconditionFailed", status=412,
                        bucket=bucket, key=key)
