"""One exception hierarchy for everything mpu_toolkit raises.

Every error says what went wrong *and what to do about it*. Server errors keep the S3
error code, HTTP status and request id for support tickets; botocore/aiohttp errors are
translated here, in one place, including the quirks of S3-compatible servers (Ceph RGW,
moto) so that callers never branch on server names.

The classes also inherit the matching built-in (``FileNotFoundError``, ``PermissionError``,
``ValueError``, ``ConnectionError``) so generic ``except OSError`` code keeps working.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

__all__ = [
    "MPUError",
    "ConfigurationError",
    "TooManyPartsError",
    "WriterClosedError",
    "S3Error",
    "TransientS3Error",
    "NoSuchUpload",
    "NoSuchBucket",
    "NoSuchKey",
    "AccessDenied",
    "CredentialsError",
    "EntityTooSmall",
    "InvalidPart",
    "InvalidPartOrder",
    "EndpointUnreachable",
    "NotSupportedByServer",
    "SourceChanged",
    "InvalidName",
    "IntegrityError",
    "UploadAborted",
    "UploadNotClean",
    "map_error",
]


class MPUError(Exception):
    """Base class of every error raised by mpu_toolkit."""

    #: True when repeating the same request may succeed (5xx, SlowDown, resets, timeouts).
    transient: bool = False


class ConfigurationError(MPUError, ValueError):
    """An option or argument is out of range or of the wrong kind."""


class TooManyPartsError(MPUError, ValueError):
    """The stream needs more parts than S3 allows (10,000) with the chosen part sizes."""


class WriterClosedError(MPUError, ValueError):
    """The writer was closed, committed, aborted or failed; it takes no more data."""


class IntegrityError(MPUError):
    """What the server stored does not match what was sent (size, MD5, ETag)."""

    transient = True  # a corrupted transfer is worth one more try of the same bytes


class UploadAborted(MPUError):
    """The upload was aborted (by the caller, or because the producer failed)."""


class UploadNotClean(MPUError):
    """Parts kept appearing after repeated aborts (a writer may still be sending them)."""


class S3Error(MPUError, OSError):
    """The S3 server refused a request.

    Attributes carry the server's words: ``code`` (e.g. ``"NoSuchUpload"``), ``status``
    (HTTP status), ``operation`` (botocore operation name), ``bucket``, ``key`` and
    ``request_id``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        operation: str = "",
        bucket: str = "",
        key: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.request_id = request_id

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> Any:  # picklable across processes (Dask, multiprocessing)
        return (_rebuild, (type(self), str(self), self.__dict__))


def _rebuild(cls: type[S3Error], message: str, state: dict[str, Any]) -> S3Error:
    err = cls(message)
    err.__dict__.update(state)
    return err


class TransientS3Error(S3Error):
    """A 5xx, SlowDown or timeout answer: the same request may succeed later."""

    transient = True


class NoSuchUpload(S3Error):
    """The upload id is unknown: it was completed, aborted, or expired by a lifecycle rule."""


class NoSuchBucket(S3Error, FileNotFoundError):
    """The bucket does not exist (or is not visible with these credentials)."""


class NoSuchKey(S3Error, FileNotFoundError):
    """The object does not exist."""


class AccessDenied(S3Error, PermissionError):
    """The credentials are valid but not allowed to do this."""


class CredentialsError(S3Error, PermissionError):
    """The credentials are missing or wrong."""


class EntityTooSmall(S3Error):
    """A part other than the last is smaller than the server's minimum (5 MiB on S3)."""


class InvalidPart(S3Error):
    """Complete named a part the server does not have, or with a different ETag."""


class InvalidPartOrder(S3Error):
    """Complete listed the parts out of ascending order."""


class NotSupportedByServer(S3Error):
    """The server does not implement this S3 feature (e.g. lifecycle rules)."""


class EndpointUnreachable(MPUError, ConnectionError):
    """No connection to the endpoint (refused, DNS failure, connect timeout)."""


class InvalidName(S3Error, ValueError):
    """The bucket name or key is not one S3 accepts."""


class SourceChanged(S3Error):
    """A copy's source object was replaced (or a local file changed) while it was read."""


_ADVICE = {
    NoSuchUpload: "the upload was completed, aborted or expired; start a new upload "
    "(list live ones with mpu_toolkit's uploads inventory)",
    NoSuchBucket: "create the bucket first (e.g. fs.mkdir('{bucket}')) or check the bucket "
    "name and endpoint_url",
    NoSuchKey: "check the key; list the bucket to see what exists",
    AccessDenied: "ask for s3:PutObject / s3:AbortMultipartUpload / s3:ListMultipartUploadParts "
    "on this bucket, or use other credentials",
    CredentialsError: "pass key= and secret= in storage_options, or set AWS_ACCESS_KEY_ID / "
    "AWS_SECRET_ACCESS_KEY or an AWS profile",
    EntityTooSmall: "every part but the last must be at least 5 MiB: raise part_size",
    InvalidPart: "a listed part is missing or its ETag differs; list the parts and retry "
    "complete with exactly those (RGW needs every uploaded part listed)",
    InvalidPartOrder: "list parts in ascending part-number order",
    TransientS3Error: "the server is overloaded or failing; retry later or lower concurrency",
    InvalidName: "bucket names are 3-63 characters of lowercase letters, digits, dots and "
    "hyphens, starting and ending with a letter or digit; keys are 1 to 1,024 bytes of UTF-8",
    SourceChanged: "the source was replaced while it was being read; run the operation "
    "again once the writer of the source is done",
    NotSupportedByServer: "this S3-compatible server does not implement it; use the "
    "server's own tools, or clean up with `mpu abort` on a schedule",
}

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


def _classify(code: str, status: int | None, operation: str, message: str) -> type[S3Error]:
    """Pick the exception class, folding server quirks into the AWS meaning."""
    # RGW answers ListParts on an aborted upload with NoSuchKey (AWS: NoSuchUpload).
    if code in ("NoSuchKey", "404") and operation == "ListParts":
        return NoSuchUpload
    # RGW answers Complete on an aborted upload with 500 "completion already in progress".
    if operation == "CompleteMultipartUpload" and "already in progress" in message.lower():
        return NoSuchUpload
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


_S3_BUCKET_NAME = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _where(bucket: str, key: str) -> str:
    if bucket and key:
        return f"s3://{bucket}/{key}"
    return f"s3://{bucket}" if bucket else "S3"


def map_error(exc: BaseException, *, operation: str = "", bucket: str = "", key: str = "",
              endpoint: str | None = None) -> MPUError:
    """Translate a botocore/aiohttp/asyncio exception into the mpu_toolkit hierarchy."""
    if isinstance(exc, MPUError):
        return exc
    from botocore import exceptions as bce  # deferred: keeps `import mpu_toolkit.errors` cheap

    where = _where(bucket, key)
    op = operation or "request"
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code", ""))
        status = meta.get("HTTPStatusCode")
        message = str(error.get("Message", "") or "")
        cls = _classify(code, status, operation, message)
        advice = _ADVICE.get(cls, "see the server's message")
        if cls is NoSuchBucket and not _S3_BUCKET_NAME.match(bucket):
            cls, advice = InvalidName, f"{bucket!r} is not a valid name: " + _ADVICE[InvalidName]
        text = (f"{op} on {where} failed: {code or status} {message}".rstrip()
                + f" — {advice.format(bucket=bucket)}")
        return cls(text, code=code, status=status, operation=operation, bucket=bucket,
                   key=key, request_id=str(meta.get("RequestId", "")))
    if isinstance(exc, bce.ParamValidationError) and "bucket" in str(exc).lower():
        return InvalidName(f"{op} on {where}: {exc} — " + _ADVICE[InvalidName],
                           operation=operation, bucket=bucket, key=key)
    if isinstance(exc, bce.ParamValidationError):
        return ConfigurationError(f"{op} on {where}: {exc}")
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError)):
        return CredentialsError(f"{op} on {where}: no usable credentials — "
                                + _ADVICE[CredentialsError], operation=operation,
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
