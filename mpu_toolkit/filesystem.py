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

from dataclasses import fields
from typing import Any

from s3fs import S3FileSystem

from .errors import ConfigurationError
from .options import WriteOptions
from .progress import make_progress
from .protocol import MultipartProtocol, ObjectInfo
from .upload import S3Upload
from .writer import MultipartWriter

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

    @property
    def multipart(self) -> MultipartProtocol:
        """The seven multipart operations (async) on this filesystem's client."""
        return self._protocol

    def open_writer(self, path: str, *, autocommit: bool = True,
                    **options: Any) -> MultipartWriter:
        """A streaming writer for ``path`` with these options over the filesystem's defaults."""
        bucket, key, version = self.split_path(path)
        if not key or version:
            raise ConfigurationError(f"cannot write to {path!r}: give a bucket and a key "
                                     "('bucket/key'), without a version id")
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
