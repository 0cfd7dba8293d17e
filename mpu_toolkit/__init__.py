"""mpu_toolkit: stream bytes, DataFrames and Parquet into S3 multipart uploads.

Public names only; see the README for a tour.
"""

from __future__ import annotations

from typing import Any, Mapping

from .errors import (AccessDenied, ConfigurationError, CredentialsError, EndpointUnreachable,
                     IntegrityError, MPUError, NoSuchBucket, NoSuchUpload, S3Error,
                     TooManyPartsError, TransientS3Error, UploadAborted, WriterClosedError)
from .filesystem import MPUFileSystem
from .frames import SchemaMismatchError
from .frameupload import FrameWriteResult
from .integrity import ChecksumMode
from .options import WriteOptions
from .parquet import stream_parquet, write_parquet
from .progress import ProgressEvent
from .protocol import ObjectInfo, PartInfo, UploadInfo
from .textformats import write_csv, write_jsonl
from .writer import MultipartWriter

__version__ = "0.1.0"

__all__ = [
    "open_writer", "MPUFileSystem", "MultipartWriter", "WriteOptions", "ChecksumMode",
    "ProgressEvent", "ObjectInfo", "PartInfo", "UploadInfo", "MPUError", "ConfigurationError",
    "TooManyPartsError", "WriterClosedError", "S3Error", "TransientS3Error", "NoSuchUpload", "NoSuchBucket",
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
