"""Keep a local S3's buckets and objects in a folder across restarts (``mpu serve --data``).

moto keeps everything in memory; ``save`` writes every bucket and object (bytes, content type
and user metadata) into a folder, ``restore`` puts them back into a fresh server. Incomplete
uploads live only as long as the server: they are not saved.

Layout: ``DIR/<bucket>/index.json`` maps each key to its file (``DIR/<bucket>/<n>``), content
type and metadata, so that any key (``a`` and ``a/b`` alike) has a place.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib

from .._plan.sizing import counted
from ..fs import MPUFileSystem

log = logging.getLogger(__name__)

__all__ = ["save", "restore"]

_INDEX = "index.json"


def save(fs: MPUFileSystem, directory: str | os.PathLike[str]) -> int:
    """Write every bucket's objects into ``directory`` (replacing what it held); the count."""
    root = pathlib.Path(directory)
    saved = 0
    for bucket in sorted(b.rstrip("/") for b in fs.ls("", refresh=True)):
        folder = root / bucket
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
        index = {}
        for number, (path, info) in enumerate(sorted(fs.find(bucket, detail=True).items())):
            key = path.split("/", 1)[1]
            (folder / str(number)).write_bytes(fs.cat_file(path))
            head = fs.info(path)
            index[key] = {"file": str(number), "content_type": head.get("ContentType"),
                          "metadata": fs.metadata(path)}
            saved += 1
        (folder / _INDEX).write_text(json.dumps(index, indent=1))
    log.info("saved %s into %s", counted(saved, "object"), root)
    return saved


def restore(fs: MPUFileSystem, directory: str | os.PathLike[str]) -> list[str]:
    """Create the buckets saved in ``directory`` and put their objects back; the buckets."""
    root = pathlib.Path(directory)
    buckets = []
    for index_file in sorted(root.glob(f"*/{_INDEX}")):
        bucket = index_file.parent.name
        fs.mkdir(bucket)
        for key, entry in json.loads(index_file.read_text()).items():
            data = (index_file.parent / entry["file"]).read_bytes()
            with fs.open(f"{bucket}/{key}", "wb", metadata=entry["metadata"] or {},
                         content_type=entry["content_type"]) as f:
                f.write(data)
        buckets.append(bucket)
    return buckets
