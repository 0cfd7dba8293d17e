"""Opt-in: mpu_toolkit's filesystem for ``s3://`` (and ``s3a://``) URLs too.

Some pipeline tools handle only protocols they know — Kedro, for one, drops the bucket from
an ``mpu://`` path — so they can use the safe writer only under ``s3://``. Two ways, both
explicit, neither done by importing mpu_toolkit:

* in your process: ``mpu_toolkit.register_s3()``;
* in processes you do not control (Dask workers, schedulers, a tool's subprocesses): set
  ``MPU_TOOLKIT_S3=1`` in their environment. fsspec resolves ``s3://`` through this module
  (mpu_toolkit's ``fsspec.specs`` entry point), which gives s3fs's own filesystem unless the
  variable is set.
"""

from __future__ import annotations

import os

import fsspec
from s3fs import S3FileSystem as _S3FS

from .fs import MPUFileSystem

__all__ = ["register_s3", "S3FileSystem", "ENVIRONMENT_VARIABLE"]

ENVIRONMENT_VARIABLE = "MPU_TOOLKIT_S3"
PROTOCOLS = ("s3", "s3a")


def register_s3(*protocols: str) -> None:
    """Make fsspec (pandas, pyarrow, Dask, Kedro, UPath ...) open ``s3://`` and ``s3a://``
    URLs (or ``protocols``) with :class:`~mpu_toolkit.MPUFileSystem` in this process."""
    for protocol in protocols or PROTOCOLS:
        fsspec.register_implementation(protocol, MPUFileSystem, clobber=True)


def _chosen() -> type[_S3FS]:
    if os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on"):
        return MPUFileSystem
    return _S3FS


#: what fsspec's entry point for ``s3://`` resolves to: s3fs's, unless MPU_TOOLKIT_S3 is set
S3FileSystem = _chosen()
