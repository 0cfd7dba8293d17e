"""mpu_toolkit: stream bytes, DataFrames and Parquet into S3 multipart uploads.

Public names only; see the README for a tour.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Mapping

from .errors import (AccessDenied, ConfigurationError, CredentialsError, EndpointUnreachable,
                     IntegrityError, InvalidName, MPUError, NoSuchBucket, NoSuchUpload, S3Error,
                     SourceChanged, TooManyPartsError, TransientS3Error, UploadAborted,
                     WriterClosedError)
from .fs import MPUFileSystem
from ._plan.integrity import ChecksumMode
from .options import WriteOptions
from .progress import ProgressEvent
from ._engine.fileupload import FileUploadResult
from .handle import UploadHandle, start_upload
from .model import ObjectInfo, PartInfo, UploadInfo
from ._engine.servercopy import CopyResult
from .api import compose, copy, upload_file
from ._engine.writer import MultipartWriter

if TYPE_CHECKING:
    from .formats.frames import SchemaMismatchError
    from .formats.frameupload import FrameWriteResult
    from .formats.parquet import stream_parquet, write_parquet
    from .dask.single_object import to_single_object
    from .formats.text import write_csv, write_jsonl

# The frame writers need pandas and pyarrow: imported on first use, so that `mpu://` (loaded
# by fsspec's entry point in every process that opens such a URL) costs no more than s3fs.
_LAZY = {"write_parquet": "formats.parquet", "stream_parquet": "formats.parquet",
         "write_csv": "formats.text", "write_jsonl": "formats.text",
         "FrameWriteResult": "formats.frameupload", "SchemaMismatchError": "formats.frames",
         "to_single_object": "dask.single_object"}


def __getattr__(name: str) -> Any:
    if name == "uploads":  # the incomplete-uploads API (pandas): a module, loaded on use
        return importlib.import_module(".inventory", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'mpu_toolkit' has no attribute {name!r}")

__version__ = "0.1.0"

__all__ = [
    "open_writer", "copy", "compose", "upload_file", "CopyResult", "FileUploadResult",
    "SourceChanged", "InvalidName", "UploadHandle", "start_upload", "to_single_object",
    "MPUFileSystem", "MultipartWriter", "WriteOptions", "ChecksumMode",
    "ProgressEvent", "ObjectInfo", "PartInfo", "UploadInfo", "MPUError", "ConfigurationError",
    "TooManyPartsError", "WriterClosedError", "S3Error", "TransientS3Error", "NoSuchUpload",
    "NoSuchBucket",
    "AccessDenied", "CredentialsError", "EndpointUnreachable", "IntegrityError",
    "UploadAborted", "__version__",
    "write_parquet", "stream_parquet", "write_csv", "write_jsonl", "FrameWriteResult",
    "SchemaMismatchError",
]


def open_writer(url: str, *, storage_options: Mapping[str, Any] | None = None,
                autocommit: bool = True, **options: Any) -> MultipartWriter:
    """Open a streaming multipart writer for ``url`` (``mpu://``, ``s3://`` or ``bucket/key``).

    ``storage_options`` are s3fs's (``endpoint_url``, ``key``, ``secret`` ...); ``options``
    are :class:`WriteOptions` fields (``part_size``, ``concurrency``, ``size``, ``checksum``,
    ``keep_parts_on_error``, ``metadata``, ``content_type``, ``progress`` ...).

    >>> with open_writer("mpu://bucket/big.bin", storage_options=so) as f:  # doctest: +SKIP
    ...     for chunk in source:
    ...         f.write(chunk)
    """
    fs = MPUFileSystem(**dict(storage_options or {}))
    return fs.open_writer(url, autocommit=autocommit, **options)
