"""mpu_toolkit: stream bytes, DataFrames and Parquet into S3 multipart uploads.

Public names only; see the README for a tour and ARCHITECTURE.md for the layers behind them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._engine.fileupload import FileUploadResult
from ._engine.servercopy import CopyResult
from ._engine.writer import MultipartWriter
from ._plan.integrity import ChecksumMode
from .api import (DownloadResult, compose, copy, download, open_writer, start_upload,
                  upload_file)
from .doctor import DoctorReport, doctor
from .errors import (AccessDenied, ConfigurationError, CredentialsError, EndpointUnreachable,
                     IntegrityError, InvalidName, MPUError, NoSuchBucket, NoSuchKey,
                     NoSuchUpload, ObjectExists, S3Error, SourceChanged, TooManyPartsError,
                     TransientS3Error, UploadAborted, WriterClosedError)
from .fs import MPUFileSystem
from .handle import UploadHandle
from .model import ObjectInfo, ObjectRef, PartInfo, UploadInfo
from .options import CopyOptions, WriteOptions
from .progress import ProgressEvent
from .s3_protocol import register_s3

if TYPE_CHECKING:
    from . import inventory as uploads
    from .dask.dataset import DatasetResult, to_dataset
    from .dask.single_object import to_single_object
    from .formats.frames import SchemaMismatchError
    from .formats.frameupload import FrameWriteResult
    from .formats.parquet import stream_parquet, write_parquet
    from .formats.text import write_csv, write_jsonl

# The frame writers need pandas and pyarrow, the inventory pandas: imported on first use, so
# that `mpu://` (loaded by fsspec's entry point in every process that opens such a URL)
# costs no more than s3fs.
_LAZY = {"write_parquet": "formats.parquet", "stream_parquet": "formats.parquet",
         "write_csv": "formats.text", "write_jsonl": "formats.text",
         "FrameWriteResult": "formats.frameupload", "SchemaMismatchError": "formats.frames",
         "to_single_object": "dask.single_object", "to_dataset": "dask.dataset",
         "DatasetResult": "dask.dataset"}


def __getattr__(name: str) -> Any:
    if name == "uploads":  # the incomplete-uploads API (pandas): a module, loaded on use
        return importlib.import_module(".inventory", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'mpu_toolkit' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    # writing, copying, moving
    "open_writer", "copy", "compose", "upload_file", "download", "start_upload", "register_s3",
    "MPUFileSystem", "MultipartWriter", "UploadHandle", "to_single_object", "to_dataset",
    "write_parquet", "stream_parquet", "write_csv", "write_jsonl",
    # incomplete uploads: mpu_toolkit.uploads.list / usage / parts / abort / lifecycle ...
    "uploads",
    # options and results
    "WriteOptions", "CopyOptions", "ChecksumMode", "ProgressEvent", "CopyResult",
    "FileUploadResult", "DownloadResult", "FrameWriteResult", "DatasetResult", "ObjectInfo",
    "ObjectRef", "PartInfo", "UploadInfo",
    # what a store honours, measured
    "doctor", "DoctorReport",
    # errors
    "MPUError", "ConfigurationError", "TooManyPartsError", "WriterClosedError", "S3Error",
    "TransientS3Error", "NoSuchUpload", "NoSuchBucket", "NoSuchKey", "AccessDenied",
    "CredentialsError", "EndpointUnreachable", "IntegrityError", "InvalidName",
    "SourceChanged", "ObjectExists", "UploadAborted", "SchemaMismatchError",
    "__version__",
]
