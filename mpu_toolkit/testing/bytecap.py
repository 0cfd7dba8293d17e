"""A cap on the bytes the local S3 holds (``mpu serve --max-bytes``), in its own process.

:class:`ByteCap` wraps moto's WSGI application. A request that adds bytes — PutObject,
UploadPart, CopyObject, UploadPartCopy — is refused with a 400 ``EntityTooLarge`` naming the cap
when the bytes held (objects, every version, and upload parts, counted in moto's backend) plus
the requests already admitted plus its own would pass the cap. Nothing of
a refused request is stored; deletes and aborts, which free bytes, are never refused.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote, urlparse
from xml.sax.saxutils import escape

from .._plan.sizing import format_size

__all__ = ["ByteCap", "held_bytes"]

Environ = dict[str, Any]
_ERROR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>EntityTooLarge</Code>'
          "<Message>{}</Message><RequestId>mpu-local-cap</RequestId></Error>")


def _buckets() -> list[Any]:
    from moto.s3.models import s3_backends
    return [bucket for account in list(s3_backends.values())
            for backend in list(account.values()) for bucket in list(backend.buckets.values())]


def held_bytes() -> int:
    """Bytes held by moto's S3: every object version, and every upload's parts (incomplete
    ones, and those moto keeps beside a completed object unless they were released)."""
    from moto.s3.models import FakeKey
    held, uploads = 0, dict[int, Any]()
    for bucket in _buckets():
        for _, versions in bucket.keys.iterlists():
            objects = [v for v in versions if isinstance(v, FakeKey)]
            held += sum(v.size for v in objects)
            uploads.update((id(v.multipart), v.multipart) for v in objects if v.multipart)
        uploads.update((id(u), u) for u in list(bucket.multiparts.values()))
    return held + sum(part.size for u in uploads.values() for part in list(u.parts.values()))


def _object_size(bucket_name: str, key: str) -> int:
    for bucket in _buckets():
        if bucket.name == bucket_name:
            found = bucket.keys.get(key)
            return int(found.size) if found is not None else 0
    return 0


def _copy_size(environ: Environ) -> int:
    """What a CopyObject / UploadPartCopy adds: its range, else the whole source."""
    ranged = environ.get("HTTP_X_AMZ_COPY_SOURCE_RANGE", "").split("bytes=")[-1]
    if "-" in ranged:
        first, last = ranged.split("-", 1)
        return int(last) - int(first) + 1
    source = unquote(urlparse(environ["HTTP_X_AMZ_COPY_SOURCE"]).path).lstrip("/")
    bucket, _, key = source.partition("/")
    return _object_size(bucket, key)


def _adds(environ: Environ) -> int:
    """The bytes a request would store: 0 unless it writes an object or a part."""
    segments = environ.get("PATH_INFO", "").lstrip("/").split("/", 1)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if environ.get("REQUEST_METHOD") != "PUT" or len(segments) < 2 or not segments[1]:
        return 0
    if set(query) - {"partNumber", "uploadId", "x-id"}:  # ?tagging, ?acl ...: no bytes
        return 0
    if "HTTP_X_AMZ_COPY_SOURCE" in environ:
        return _copy_size(environ)
    return int(environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH")
               or environ.get("CONTENT_LENGTH") or 0)


def _drain(environ: Environ) -> None:
    """Read the refused request's body, so that the client reads the answer, not a reset."""
    left = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)


class ByteCap:
    """moto's WSGI app, refusing writes that would hold more than ``cap`` bytes."""

    def __init__(self, app: Callable[..., Iterable[bytes]], cap: int, flag: str = "--max-bytes",
                 held: Callable[[], int] = held_bytes) -> None:
        self.app, self.cap, self.flag, self._held = app, cap, flag, held
        self._admitted = 0  # bytes of writes let through and not yet answered
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        adds = _adds(environ)
        if not adds:
            return self.app(environ, start_response)
        with self._lock:
            held = self._held() + self._admitted
            if held + adds > self.cap:
                return self._refuse(environ, start_response, held, adds)
            self._admitted += adds
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._admitted -= adds

    def _refuse(self, environ: Environ, start_response: Callable[..., Any], held: int,
                adds: int) -> Iterable[bytes]:
        _drain(environ)
        message = (f"the local S3 holds {format_size(held)}; this write of {format_size(adds)} "
                   f"would pass its cap of {format_size(self.cap)} ({self.flag}): delete "
                   f"objects or abort uploads, or restart it with a larger {self.flag}")
        body = _ERROR.format(escape(message)).encode()
        start_response("400 Bad Request", [("Content-Type", "application/xml"),
                                           ("Content-Length", str(len(body)))])
        return [body]
