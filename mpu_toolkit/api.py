"""The blocking entry points by URL: write, copy, compose, upload, download, start an upload.

>>> from mpu_toolkit import open_writer, copy, compose, upload_file, download  # doctest: +SKIP
>>> copy("mpu://a/big.bin", "mpu://b/big.bin", storage_options=so)        # server-side
>>> compose(["mpu://b/part-0.csv", "mpu://b/part-1.csv"], "mpu://b/all.csv",
...         storage_options=so)                                          # no download
>>> upload_file("big.bin", "mpu://b/big.bin", resume=True, storage_options=so)
>>> download("mpu://b/big.bin", "big.bin", storage_options=so)

Each call uses the :class:`~mpu_toolkit.MPUFileSystem` of ``storage_options`` (s3fs's
options, fsspec-cached) or ``fs=``; the same operations are ``fs.copy``, ``fs.compose``,
``fs.put`` and ``fs.get``. Each stops when interrupted (Ctrl-C, Jupyter's "Interrupt
kernel"): what was in flight is stopped, the upload aborted (or kept, when resuming was asked
for), and the exception's notes say which.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from typing_extensions import Unpack
from fsspec.callbacks import DEFAULT_CALLBACK, Callback

from ._engine.blocking import run_blocking
from ._engine.fileupload import FileUploadResult
from ._engine.servercopy import CopyResult
from ._engine.writer import MultipartWriter
from ._s3.errormap import map_error
from .errors import ConfigurationError, IntegrityError, MPUError, NoSuchKey, ObjectExists
from .fs import MPUFileSystem, filesystem
from .handle import UploadHandle
from .options import CopyKeywords, OpenWriterOptions, WriteOptionsDict
from .progress import ProgressCallback, ProgressEvent, make_progress

__all__ = ["open_writer", "copy", "compose", "upload_file", "download", "start_upload",
           "DownloadResult"]


def open_writer(url: str, *, storage_options: Mapping[str, Any] | None = None,
                autocommit: bool = True, fs: MPUFileSystem | None = None,
                **options: Unpack[OpenWriterOptions]) -> MultipartWriter:
    """Open a streaming multipart writer for ``url`` (``mpu://``, ``s3://`` or ``bucket/key``).

    ``storage_options`` are s3fs's (``endpoint_url``, ``key``, ``secret`` ...); ``options``
    are :class:`~mpu_toolkit.WriteOptions` fields — ``part_size``, ``part_size_policy``,
    ``size``, ``concurrency``, ``max_memory``, ``checksum``, ``keep_parts_on_error``,
    ``verify``, ``exclusive``, ``max_attempts``, ``metadata``, ``content_type``,
    ``storage_class``, ``progress`` — and CreateMultipartUpload parameters
    (``ServerSideEncryption``, ``ACL``, ``CacheControl``, ``Tagging`` ...); ``append=True``
    writes after the existing object's bytes.

    >>> with open_writer("mpu://bucket/big.bin", storage_options=so) as f:  # doctest: +SKIP
    ...     for chunk in source:
    ...         f.write(chunk)
    """
    return filesystem(storage_options, fs).open_writer(url, autocommit=autocommit, **options)


def copy(source: str, dest: str, *, storage_options: Mapping[str, Any] | None = None,
         metadata: Mapping[str, str] | None = None, content_type: str | None = None,
         copy_cutoff: int | str = "auto", part_size: int | str | None = None,
         fs: MPUFileSystem | None = None, **options: Unpack[CopyKeywords]) -> CopyResult:
    """Copy one object on the server, keeping its metadata unless ``metadata`` /
    ``content_type`` replace them. Objects above ``copy_cutoff`` are copied as concurrent
    UploadPartCopy ranges of ``part_size`` (default 64 MiB); ``options`` are writer options
    (``concurrency``, ``max_attempts``, ``storage_class``, ``exclusive``, ``verify``,
    ``progress`` ...) and CreateMultipartUpload parameters (``ServerSideEncryption`` ...)."""
    filesystem_ = filesystem(storage_options, fs)
    return run_blocking(filesystem_.loop, filesystem_._cp_file(
        source, dest, metadata=metadata, content_type=content_type, copy_cutoff=copy_cutoff,
        part_size=part_size, **options))


def compose(sources: Sequence[str], dest: str, *,
            storage_options: Mapping[str, Any] | None = None,
            metadata: Mapping[str, str] | None = None, content_type: str | None = None,
            part_size: int | str | None = None, fs: MPUFileSystem | None = None,
            **options: Unpack[CopyKeywords]) -> CopyResult:
    """Concatenate ``sources`` in order into ``dest``, byte-exact, on the server where the
    part rules allow (pieces under 5 MiB are downloaded and uploaded with a neighbour).
    ``options``: writer options and request parameters, as in :func:`copy`."""
    if isinstance(sources, str):
        raise TypeError("compose() takes a list of source URLs, not one string")
    return filesystem(storage_options, fs).compose(
        sources, dest, metadata=metadata, content_type=content_type, part_size=part_size,
        **options)


def upload_file(path: str | os.PathLike[str], dest: str, *, resume: bool = False,
                upload_id: str | None = None,
                storage_options: Mapping[str, Any] | None = None,
                fs: MPUFileSystem | None = None,
                **options: Unpack[WriteOptionsDict]) -> FileUploadResult:
    """Upload a local file in concurrent, MD5-checked parts.

    ``resume=True`` continues the key's interrupted upload (or ``upload_id``): stored parts
    are kept only when their ETag is the MD5 of the local bytes at their place; the rest
    are sent, so only what is missing or changed travels. If no upload is found a new one
    starts; if this one fails too (or is interrupted), its parts are kept for the next
    ``resume``, and the exception's notes name the upload. ``options``: writer options
    (``part_size``, ``concurrency``, ``checksum``, ``exclusive``, ``metadata``,
    ``content_type``, ``storage_class``, ``progress`` ...) and request parameters, as in
    :func:`open_writer`.
    """
    return filesystem(storage_options, fs).upload_file(path, dest, resume=resume,
                                                       upload_id=upload_id, **options)


def start_upload(url: str, *, storage_options: Mapping[str, Any] | None = None,
                 **options: Unpack[WriteOptionsDict]) -> UploadHandle:
    """CreateMultipartUpload for ``url`` now; ``options`` are writer options (``metadata``,
    ``content_type``, ``checksum``, ``max_attempts``, ``storage_class`` ...) and request
    parameters (``ServerSideEncryption``, ``Tagging`` ...) as in :func:`open_writer`,
    over those of ``storage_options``, validated here and used by every process that
    receives the :class:`~mpu_toolkit.UploadHandle`."""
    fs = filesystem(storage_options)
    upload = fs.multipart_upload(url, **options)  # bad options are refused before a request
    upload_id = run_blocking(fs.loop, upload.start())
    return UploadHandle(upload.url, upload_id, dict(storage_options or {}), dict(options))


@dataclass(frozen=True)
class DownloadResult:
    """What a download wrote."""

    url: str
    path: str
    size: int
    etag: str | None
    seconds: float


def download(url: str, path: str | os.PathLike[str], *,
             storage_options: Mapping[str, Any] | None = None,
             part_size: int | None = None, concurrency: int | None = None,
             progress: bool | ProgressCallback | None = None, exclusive: bool = False,
             fs: MPUFileSystem | None = None) -> DownloadResult:
    """Download one object to ``path`` (a directory takes the object's name).

    The bytes go to a temporary file beside ``path``, renamed once complete and of the
    object's size: ``path`` is never left partial, also when the download is interrupted.
    ``part_size`` / ``concurrency``: ranged GETs of that size, that many at once.
    ``exclusive``: never replace an existing ``path`` (ObjectExists, a FileExistsError).
    """
    started, filesystem_ = time.monotonic(), filesystem(storage_options, fs)
    if concurrency is not None and not 1 <= concurrency <= 64:
        raise ConfigurationError(f"concurrency={concurrency} must be from 1 to 64")
    with _read_errors(url):
        info = filesystem_.info(url)
    if info.get("type") != "file":
        raise ConfigurationError(f"{url} is not an object (a prefix?): give bucket/key; "
                                 "recursive copies are not supported")
    target = os.fspath(path)
    if os.path.isdir(target) or target.endswith(os.sep):
        target = os.path.join(target, os.path.basename(url.rstrip("/")))
    if exclusive:
        _refuse_existing(target)
    parent = os.path.dirname(os.path.abspath(target))
    partial = os.path.join(parent, f".{os.path.basename(target)}.{uuid.uuid4().hex[:8]}"
                                   ".mpu-download")
    with _local_errors(target):
        os.makedirs(parent, exist_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # umask
    try:
        with _read_errors(url):
            filesystem_.get_file(url, partial, callback=_progress_callback(
                progress, url, target, int(info["size"])),
                **({"chunksize": part_size} if part_size else {}),
                **({"max_concurrency": concurrency} if concurrency else {}))
        size = os.path.getsize(partial)
        if size != info["size"]:
            raise IntegrityError(f"{url}: downloaded {size:,} bytes, the object has "
                                 f"{info['size']:,}; download again")
        with _local_errors(target):
            if not exclusive:
                os.replace(partial, target)
            elif not _linked(partial, target):  # a link fails where rename would replace
                _refuse_existing(target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return DownloadResult(url, target, size, info.get("ETag"), time.monotonic() - started)


@contextlib.contextmanager
def _read_errors(url: str) -> Iterator[None]:
    """s3fs's reads raise built-in errors: make them ours (they say what to do)."""
    try:
        yield
    except MPUError:
        raise
    except FileNotFoundError:
        raise NoSuchKey(f"{url}: no such object — check the key; list the bucket to see "
                        "what exists") from None
    except OSError as exc:  # PermissionError (403), a full disk ...
        raise MPUError(f"downloading {url} failed: {exc}") from exc
    except Exception as exc:  # botocore's credential and connection errors
        raise MPUError(f"downloading {url} failed: {map_error(exc)}") from exc


@contextlib.contextmanager
def _local_errors(path: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise MPUError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _linked(source: str, target: str) -> bool:
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    return True


def _refuse_existing(path: str) -> None:
    if os.path.lexists(path):
        raise ObjectExists(f"{path} exists and an exclusive download never replaces it: "
                           "choose another path or delete it first")


def _progress_callback(progress: bool | ProgressCallback | None, url: str, path: str,
                       total: int) -> Callback:
    """fsspec's download callback, reporting :class:`ProgressEvent` s like the uploads."""
    maybe = make_progress(progress, os.path.basename(path), total)
    if maybe is None:
        return DEFAULT_CALLBACK
    show: ProgressCallback = maybe
    clock = time.monotonic()

    class Events(Callback):
        def call(self, *args: Any, **kwargs: Any) -> None:
            done = self.value >= total
            show(ProgressEvent(url=url, state="completed" if done else "writing",
                               bytes_written=self.value, bytes_uploaded=self.value,
                               parts_done=0, parts_in_flight=0,
                               elapsed=time.monotonic() - clock, total=total))

    return Events(size=total)
