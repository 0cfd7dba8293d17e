"""``mpu://``: s3fs for everything, except that ``open(path, "wb")`` streams a multipart upload.

Reading, listing and ``storage_options`` are s3fs's (this is a subclass of
``s3fs.S3FileSystem``); writing returns a :class:`~mpu_toolkit.writer.MultipartWriter`.
Registered with fsspec through the ``fsspec.specs`` entry point, so ``"mpu://bucket/key"``
works in pandas, pyarrow and Dask without importing mpu_toolkit.

Client defaults differ from s3fs's in three ways, each for the upload path:
botocore's own retries are off (the writer retries parts itself, and a wrong endpoint fails
fast), flexible checksums are only sent when asked (many S3-compatible stores reject them),
and payload SHA-256 signing is off over plain HTTP (Content-MD5 protects each part instead).
Pass ``config_kwargs`` to override any of them.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import fields
from typing import Any, Sequence

from fsspec.asyn import sync
from fsspec.callbacks import DEFAULT_CALLBACK, Callback
from s3fs import S3FileSystem

from ._s3 import redact as logredact
from .errors import ConfigurationError, InvalidName
from ._engine.fileupload import FileUploadResult, upload_local_file
from .options import WriteOptions
from .progress import ProgressEvent, make_progress
from ._s3.client import MultipartProtocol
from .model import ObjectInfo
from ._engine.servercopy import CopyResult, CopySettings, compose_objects, copy_object
from ._engine.upload import S3Upload
from ._engine.writer import MultipartWriter

__all__ = ["MPUFileSystem"]

_WRITE_OPTION_NAMES = frozenset(f.name for f in fields(WriteOptions)) - {"size", "limits"}
_READ_ONLY_OPEN_ARGS = ("cache_type", "fill_cache", "cache_options", "requester_pays")


class MPUFileSystem(S3FileSystem):
    """s3fs with a streaming, concurrent, never-partial multipart writer.

    Takes every s3fs argument (``endpoint_url``, ``key``, ``secret``, ``client_kwargs``,
    ``config_kwargs`` ...) plus the writer options of :class:`~mpu_toolkit.WriteOptions`
    (``part_size``, ``concurrency``, ``checksum``, ``keep_parts_on_error`` ...), which become
    the defaults of every ``open(..., "wb")``.
    """

    protocol = ("mpu", "s3", "s3a")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in _WRITE_OPTION_NAMES}
        self.write_options = WriteOptions.from_kwargs(**options)
        config = dict(kwargs.pop("config_kwargs", None) or {})
        config.setdefault("request_checksum_calculation", "when_required")
        config.setdefault("response_checksum_validation", "when_required")
        config.setdefault("retries", {"total_max_attempts": 1})
        config.setdefault("max_pool_connections", max(10, self.write_options.concurrency + 4))
        config["s3"] = {"payload_signing_enabled": False, **(config.get("s3") or {})}
        super().__init__(*args, config_kwargs=config, **kwargs)
        self._protocol = MultipartProtocol(self)
        logredact.install()

    @property
    def multipart(self) -> MultipartProtocol:
        """The seven multipart operations (async) on this filesystem's client."""
        return self._protocol

    def open_writer(self, path: str, *, autocommit: bool = True,
                    **options: Any) -> MultipartWriter:
        """A streaming writer for ``path`` with these options over the filesystem's defaults."""
        bucket, key, _ = self._location(path, write=True)
        opts = self.write_options.updated(**options) if options else self.write_options
        upload = S3Upload(self._protocol, self.loop, bucket, key, opts)
        url = f"s3://{bucket}/{key}"

        def invalidate(_: ObjectInfo) -> None:
            self.invalidate_cache(f"{bucket}/{key}")

        return MultipartWriter(
            upload, opts.sizer(), url=url, concurrency=opts.concurrency,
            keep_parts_on_error=opts.keep_parts_on_error, autocommit=autocommit,
            size=opts.size, progress=make_progress(opts.progress, key, opts.size),
            on_commit=invalidate)

    # -- server-side copy and compose --------------------------------------------------------
    async def _cp_file(self, path1: str, path2: str, preserve_etag: bool | None = None,
                       **kwargs: Any) -> CopyResult:
        """Copy on the server: CopyObject, or concurrent UploadPartCopy for large objects
        (see :class:`~mpu_toolkit.servercopy.CopySettings` for ``copy_cutoff``, ``part_size``,
        ``metadata``, ``content_type``)."""
        if preserve_etag:  # s3fs's part-for-part copy reproduces the source's ETag
            return await super()._cp_file(path1, path2, preserve_etag=True, **kwargs)
        settings = CopySettings.from_kwargs(self.write_options, **kwargs)
        result = await copy_object(self._protocol, self.loop, self._location(path1),
                                   self._location(path2, write=True), settings)
        self.invalidate_cache(path2)
        return result

    async def _compose(self, paths: Sequence[str], path: str, **kwargs: Any) -> CopyResult:
        settings = CopySettings.from_kwargs(self.write_options, **kwargs)
        result = await compose_objects(self._protocol, self.loop,
                                       [self._location(p) for p in paths],
                                       self._location(path, write=True), settings)
        self.invalidate_cache(path)
        return result

    def compose(self, paths: Sequence[str], path: str, **kwargs: Any) -> CopyResult:
        """Concatenate objects ``paths`` (in order) into ``path`` on the server; only the
        pieces under 5 MiB that cannot be parts of their own go through this client."""
        return sync(self.loop, self._compose, list(paths), path, **kwargs)

    # -- local files ---------------------------------------------------------------------------
    async def _put_file(self, lpath: str, rpath: str, callback: Callback = DEFAULT_CALLBACK,
                        chunksize: int | None = None, max_concurrency: int | None = None,
                        mode: str = "overwrite", **kwargs: Any) -> Any:
        """Upload a local file in concurrent, verified parts; ``resume=True`` continues
        the key's interrupted upload, sending only missing or changed parts."""
        if os.path.isdir(lpath) or mode == "create":  # directories; If-None-Match writes
            return await super()._put_file(lpath, rpath, callback=callback, chunksize=chunksize,
                                           max_concurrency=max_concurrency, mode=mode, **kwargs)
        resume, upload_id = kwargs.pop("resume", False), kwargs.pop("upload_id", None)
        if chunksize:
            kwargs.setdefault("part_size", chunksize)
        if max_concurrency:
            kwargs.setdefault("concurrency", max_concurrency)
        if not (kwargs.get("content_type") or kwargs.get("ContentType")):
            kwargs["content_type"] = mimetypes.guess_type(lpath)[0]
        if callback is not DEFAULT_CALLBACK and "progress" not in kwargs:
            kwargs["progress"] = _callback_progress(callback)
        result = await self._upload_file(lpath, rpath, resume=resume, upload_id=upload_id,
                                         **kwargs)
        while rpath:
            self.invalidate_cache(rpath)
            rpath = self._parent(rpath)
        return result

    async def _upload_file(self, lpath: str, rpath: str, *, resume: bool = False,
                           upload_id: str | None = None, **options: Any) -> FileUploadResult:
        opts = self.write_options.updated(**options) if options else self.write_options
        bucket, key, _ = self._location(rpath, write=True)
        return await upload_local_file(self._protocol, self.loop, lpath, bucket, key, opts,
                                       resume=resume, upload_id=upload_id)

    def upload_file(self, lpath: str | os.PathLike[str], rpath: str, *, resume: bool = False,
                    upload_id: str | None = None, **options: Any) -> FileUploadResult:
        """Upload one local file (see :func:`mpu_toolkit.upload_file`)."""
        result = sync(self.loop, self._upload_file, os.fspath(lpath), rpath, resume=resume,
                      upload_id=upload_id, **options)
        self.invalidate_cache(rpath)
        return result

    def _location(self, path: str, write: bool = False) -> tuple[str, str, str | None]:
        bucket, key, version = self.split_path(path)
        if not key or (write and version):
            raise ConfigurationError(f"{path!r} is not an object: give 'bucket/key'"
                                     + (" without a version id" if write else ""))
        if len(key.encode("utf-8")) > 1024:
            raise InvalidName(f"the key of {path[:60]!r}... is {len(key.encode()):,} bytes; S3 "
                              "keys are at most 1,024 bytes of UTF-8: shorten it")
        return bucket, key, version

    def _open(self, path: str, mode: str = "rb", block_size: Any = None,
              autocommit: bool = True, **kwargs: Any) -> Any:
        if "r" in mode and "+" not in mode:
            return super()._open(path, mode, block_size=block_size, autocommit=autocommit,
                                 **kwargs)
        if mode != "wb":
            raise ConfigurationError(
                f"mode {mode!r} is not supported for {path!r}: S3 objects are written whole "
                "('wb') or read ('rb'); to add to an object, write a new one")
        if kwargs.pop("version_id", None):
            raise ConfigurationError("version_id is for reading; a write creates a new version")
        for name in _READ_ONLY_OPEN_ARGS:
            kwargs.pop(name, None)
        if block_size is not None:
            kwargs.setdefault("part_size", block_size)
        return self.open_writer(path, autocommit=autocommit, **kwargs)


def _callback_progress(callback: Callback) -> Any:
    """fsspec's callback protocol (``set_size`` / ``relative_update``) fed from events."""
    seen = {"bytes": 0}

    def on_event(event: ProgressEvent) -> None:
        if event.total is not None:
            callback.set_size(event.total)
        callback.relative_update(event.bytes_uploaded - seen["bytes"])
        seen["bytes"] = event.bytes_uploaded

    return on_event
