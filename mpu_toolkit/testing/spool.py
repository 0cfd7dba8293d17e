"""Where the local S3 keeps object bytes: a spool directory of its own, and what disk it is on.

moto keeps each object and each upload part in a ``SpooledTemporaryFile``: in memory up to
``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE`` bytes, in a file of ``TMPDIR`` past it. The server process
gets a fresh directory as its ``TMPDIR`` (in the system's temporary folder, or the one asked
for), and its log beside; the directory is deleted when the server stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .._plan.sizing import format_size

__all__ = ["IN_MEMORY_UP_TO", "make", "remove", "describe"]

#: objects and parts up to this size stay in the server's memory; larger ones go to the spool
IN_MEMORY_UP_TO = 1 << 20


def make(parent: str | os.PathLike[str] | None = None) -> Path:
    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".mpu-local-s3-" if parent else "mpu-local-s3-",
                                 dir=parent))


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def _filesystem(path: Path) -> str | None:
    """The type of the filesystem ``path`` is on (Linux's /proc/mounts), or None."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return None
    real = str(path.resolve())
    fitting = [(point, kind) for point, kind in mounts
               if real == point or real.startswith(point.rstrip("/") + "/")]
    return max(fitting, key=lambda mount: len(mount[0]))[1] if fitting else None


def describe(directory: Path, tmpfs_hint: str = "") -> str:
    """One line on where the bytes go, warning (and hinting) when the folder is in memory."""
    line = (f"bytes: objects and parts up to {format_size(IN_MEMORY_UP_TO)} in memory, larger "
            f"ones on disk in {directory} (deleted when it stops)")
    if _filesystem(directory) in ("tmpfs", "ramfs"):
        line += "; that folder is a tmpfs, in memory too" + (f": {tmpfs_hint}" if tmpfs_hint else "")
    return line
