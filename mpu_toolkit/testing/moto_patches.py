"""Two changes to moto, made inside the local server's own process (never in a client).

* **Real ages.** moto answers ListMultipartUploads with a fixed ``Initiated`` of 2010 for every
  upload, so age filters and ``min_age`` mean nothing there. The time of each
  CreateMultipartUpload is recorded on its ``FakeMultipart`` and put in the listing.
* **A completed upload's parts are released.** moto keeps the parts beside the object it joined
  them into (each in its own spooled file), so an object written in parts was held twice.
* **A part racing its upload's abort is NoSuchUpload**, as on S3, not a 500: moto's threads
  read the part's closed file or its deleted upload (``ValueError``/``KeyError``), which the
  client logged as a server error and retried. The abort itself disposes a snapshot of the
  parts: moto iterated the live dict, which a racing part grew (``RuntimeError``, a 500 on the
  abort).

Both wrap moto's methods and check what they rely on: if moto's internals change, the server
fails at start or answers the listing with an error, instead of showing 2010 dates again.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Callable

__all__ = ["install"]

_MARK = "_mpu_patched"


def install() -> None:
    """Patch moto's S3 models and responses (once per process)."""
    from moto.s3.models import FakeMultipart, S3Backend
    from moto.s3.responses import S3Response

    for owner, name in ((FakeMultipart, "__init__"), (S3Response, "list_multipart_uploads"),
                        (S3Backend, "complete_multipart_upload"), (S3Response, "upload_part"),
                        (S3Backend, "abort_multipart_upload"), (FakeMultipart, "dispose")):
        if not callable(getattr(owner, name, None)):
            raise RuntimeError(f"moto changed: {owner.__name__}.{name} is gone; mpu_toolkit's "
                               "local server cannot report real upload dates")
    if getattr(S3Response.list_multipart_uploads, _MARK, False):
        return
    for owner, name, wrap in ((FakeMultipart, "__init__", _recording_start),
                              (S3Response, "list_multipart_uploads", _dated_listing),
                              (S3Backend, "complete_multipart_upload", _releasing_parts),
                              (S3Response, "upload_part", _gone_upload_is_no_such_upload),
                              (S3Backend, "abort_multipart_upload",
                               _gone_upload_is_no_such_upload),
                              (FakeMultipart, "dispose", _disposing_a_snapshot)):
        setattr(owner, name, wrap(getattr(owner, name)))


def _marked(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    setattr(wrapper, _MARK, True)
    return wrapper


def _recording_start(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.mpu_initiated = datetime.datetime.now(datetime.timezone.utc)
    return _marked(__init__)


def _iso(when: datetime.datetime) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def _dated_listing(listing: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The listing, its result's ``Initiated`` replaced by each upload's recorded start."""
    @functools.wraps(listing)
    def list_multipart_uploads(self: Any) -> Any:
        serialize = self.serialized
        dated = []

        def serialized(action_result: Any) -> Any:
            live = self.backend.list_multipart_uploads(self.bucket_name)
            for upload in action_result.result["Uploads"]:
                if upload["UploadId"] in live:  # not aborted meanwhile, by another thread
                    upload["Initiated"] = _iso(live[upload["UploadId"]].mpu_initiated)
            dated.append(True)
            return serialize(action_result)

        self.serialized = serialized
        try:
            answer = listing(self)
        finally:
            del self.serialized
        if not dated:
            raise RuntimeError("moto changed: its ListMultipartUploads no longer goes through "
                               "S3Response.serialized, so mpu_toolkit cannot date uploads")
        return answer
    return _marked(list_multipart_uploads)


def _releasing_parts(complete: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(complete)
    def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str,
                                  *args: Any, **kwargs: Any) -> Any:
        multipart = self.get_bucket(bucket_name).multiparts.get(multipart_id)
        key = complete(self, bucket_name, multipart_id, *args, **kwargs)
        if key is not None and multipart is not None:
            multipart.dispose()  # closes each part's spooled file
            multipart.parts.clear()
        return key
    return _marked(complete_multipart_upload)


def _disposing_a_snapshot(dispose: Callable[[Any], None]) -> Callable[[Any], None]:
    """Dispose of the parts present now; a part that a racing request adds meanwhile is dropped
    with its (already unlisted) upload, instead of failing the abort with ``RuntimeError``."""
    @functools.wraps(dispose)
    def wrapper(self: Any) -> None:
        for part in list(self.parts.values()):
            part.dispose()
    return _marked(wrapper)


def _gone_upload_is_no_such_upload(request: Callable[..., Any]) -> Callable[..., Any]:
    """``request`` (a part's upload, an abort), failing as S3 does when another thread aborted
    the upload under it."""
    @functools.wraps(request)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return request(self, *args, **kwargs)
        except (ValueError, KeyError) as error:
            from moto.s3.exceptions import NoSuchUpload

            backend, bucket_name, upload_id = ((self.backend, self.bucket_name,
                                                self._get_param("uploadId")) if not args
                                               else (self, args[0], args[1]))
            if upload_id in backend.get_bucket(bucket_name).multiparts:
                raise  # a real failure, not the race
            raise NoSuchUpload(upload_id=upload_id) from error
    return _marked(wrapper)
