"""One exception hierarchy for everything mpu_toolkit raises.

Every error says what went wrong *and what to do about it*. Server errors keep the S3
error code, HTTP status and request id for support tickets. botocore/aiohttp errors are
translated in one place, the wire layer's :mod:`mpu_toolkit._s3.errormap` (server quirks
included), so callers never branch on server names.

The classes also inherit the matching built-in (``FileNotFoundError``, ``PermissionError``,
``ValueError``, ``ConnectionError``) so generic ``except OSError`` code keeps working.
"""

from __future__ import annotations

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
    "ObjectExists",
    "InvalidName",
    "IntegrityError",
    "UploadAborted",
    "UploadNotClean",
    "add_note",
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


class ObjectExists(S3Error, FileExistsError):
    """An exclusive write (mode ``"xb"``, ``exclusive=True``, ``--no-clobber``) found the key
    taken: nothing was published over it, and the upload was aborted."""


def add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)`` on Python 3.11+, the same attribute before."""
    notes = getattr(error, "__notes__", None)
    if notes is not None and note in notes:
        return
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # pragma: no cover - Python 3.10
        error.__notes__ = [*(notes or []), note]  # type: ignore[attr-defined]
