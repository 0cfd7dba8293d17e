"""Copy, compose and upload local files by URL: the public face of the planned transfers.

>>> from mpu_toolkit import copy, compose, upload_file                   # doctest: +SKIP
>>> copy("mpu://a/big.bin", "mpu://b/big.bin", storage_options=so)        # server-side
>>> compose(["mpu://b/part-0.csv", "mpu://b/part-1.csv"], "mpu://b/all.csv",
...         storage_options=so)                                          # no download
>>> upload_file("big.bin", "mpu://b/big.bin", resume=True, storage_options=so)

Each call opens an :class:`~mpu_toolkit.MPUFileSystem` from ``storage_options`` (s3fs's),
or uses ``fs=``; the same operations are ``fs.copy``, ``fs.compose`` and ``fs.put``.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from .fs import MPUFileSystem
from ._engine.fileupload import FileUploadResult
from ._engine.servercopy import CopyResult

__all__ = ["copy", "compose", "upload_file"]


def _fs(storage_options: Mapping[str, Any] | None, fs: MPUFileSystem | None) -> MPUFileSystem:
    return fs if fs is not None else MPUFileSystem(**dict(storage_options or {}))


def copy(source: str, dest: str, *, storage_options: Mapping[str, Any] | None = None,
         metadata: Mapping[str, str] | None = None, content_type: str | None = None,
         copy_cutoff: int | str = "auto", part_size: int | str | None = None,
         fs: MPUFileSystem | None = None, **options: Any) -> CopyResult:
    """Copy one object on the server, keeping its metadata unless ``metadata`` /
    ``content_type`` replace them. Objects above ``copy_cutoff`` are copied as concurrent
    UploadPartCopy ranges of ``part_size`` (default 64 MiB); ``options`` are writer options
    (``concurrency``, ``storage_class``, ``progress`` ...)."""
    filesystem = _fs(storage_options, fs)
    return filesystem.cp_file(source, dest, metadata=metadata, content_type=content_type,
                              copy_cutoff=copy_cutoff, part_size=part_size, **options)


def compose(sources: Sequence[str], dest: str, *,
            storage_options: Mapping[str, Any] | None = None,
            metadata: Mapping[str, str] | None = None, content_type: str | None = None,
            part_size: int | str | None = None, fs: MPUFileSystem | None = None,
            **options: Any) -> CopyResult:
    """Concatenate ``sources`` in order into ``dest``, byte-exact, on the server where the
    part rules allow (pieces under 5 MiB are downloaded and uploaded with a neighbour)."""
    if isinstance(sources, str):
        raise TypeError("compose() takes a list of source URLs, not one string")
    return _fs(storage_options, fs).compose(sources, dest, metadata=metadata,
                                            content_type=content_type, part_size=part_size,
                                            **options)


def upload_file(path: str | os.PathLike[str], dest: str, *, resume: bool = False,
                upload_id: str | None = None,
                storage_options: Mapping[str, Any] | None = None,
                fs: MPUFileSystem | None = None, **options: Any) -> FileUploadResult:
    """Upload a local file in concurrent, MD5-checked parts.

    ``resume=True`` continues the key's interrupted upload (or ``upload_id``): stored parts
    are kept only when their ETag is the MD5 of the local bytes at their place; the rest
    are sent, so only what is missing or changed travels. If no upload is found a new one
    starts; if this one fails too, its parts are kept for the next ``resume``.
    """
    return _fs(storage_options, fs).upload_file(path, dest, resume=resume, upload_id=upload_id,
                                                **options)
