"""What ``mpu ls`` and ``mpu stat`` show: s3fs's listing entries as records (``--json``) and
as aligned lines in the manner of ``aws s3 ls`` (``PRE`` for a prefix)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, TextIO

from .._plan.sizing import format_size
from ..model import ObjectRef, location

__all__ = ["ObjectEntry", "entries", "print_entries", "print_stat", "when"]

_PARTS = re.compile(r'-(\d+)"?$')  # a multipart upload's ETag ends in -<parts>


@dataclass(frozen=True)
class ObjectEntry:
    """One line of a listing: an object (``file``), a prefix (``directory``) or a bucket."""

    bucket: str
    key: str  # a prefix's ends in "/"; a bucket's is ""
    type: str
    scheme: str = "mpu"
    size: int | None = None
    last_modified: datetime | None = None  # a bucket's: when it was created
    etag: str | None = None
    storage_class: str | None = None

    @property
    def url(self) -> str:
        return location(self.bucket, self.key, self.scheme)

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.bucket, self.key, scheme=self.scheme)

    @property
    def parts(self) -> int | None:
        """The number of parts of an object written by a multipart upload (from its ETag)."""
        match = _PARTS.search(self.etag or "")
        return int(match.group(1)) if match else None

    def record(self) -> dict[str, Any]:
        """The ``--json`` fields: times in ISO 8601, UTC."""
        return {"url": self.url, "bucket": self.bucket, "key": self.key, "type": self.type,
                "size": self.size, "last_modified": when(self.last_modified, iso=True),
                "etag": self.etag, "storage_class": self.storage_class,
                **({"parts": self.parts} if self.type == "file" else {})}


def entries(infos: Iterable[Mapping[str, Any]], scheme: str = "mpu") -> list[ObjectEntry]:
    """s3fs's ``ls`` / ``find`` / ``info`` dicts as entries, prefixes first, then by key."""
    found = []
    for info in infos:
        bucket, _, key = str(info["name"]).partition("/")
        if info.get("StorageClass") == "BUCKET" or not key:
            found.append(ObjectEntry(bucket, "", "bucket", scheme,
                                     last_modified=info.get("CreationDate")))
        elif info.get("type") == "directory":
            found.append(ObjectEntry(bucket, key.rstrip("/") + "/", "directory", scheme))
        else:
            found.append(ObjectEntry(bucket, key, "file", scheme, int(info.get("size") or 0),
                                     info.get("LastModified"), info.get("ETag"),
                                     info.get("StorageClass")))
    return sorted(found, key=lambda e: (e.type == "file", e.bucket, e.key))


def when(moment: datetime | None, iso: bool = False) -> str | None:
    """``moment`` in UTC: ISO 8601 for scripts, ``YYYY-MM-DD HH:MM:SS`` for people."""
    if moment is None:
        return None
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment
    return utc.isoformat() if iso else utc.strftime("%Y-%m-%d %H:%M:%S")


def print_entries(listed: list[ObjectEntry], base: str, long: bool, out: TextIO) -> None:
    """One line per entry, named relative to the key prefix ``base``; ``long`` adds the
    exact size, the time (UTC), storage class and ETag."""
    rows = []
    for entry in listed:
        name = entry.bucket if entry.type == "bucket" else entry.key[len(base):] or entry.key
        if entry.type == "bucket":
            rows.append([when(entry.last_modified) or "", "", "", "", name])
        elif entry.type == "directory":
            rows.append(["", "PRE", "", "", name])
        elif long:
            rows.append([when(entry.last_modified) or "", str(entry.size),
                         entry.storage_class or "", entry.etag or "", name])
        else:
            rows.append([when(entry.last_modified) or "", format_size(entry.size or 0), "",
                         "", name])
    shown = [i for i in range(4) if any(row[i] for row in rows)] + [4]
    widths = [max(len(row[i]) for row in rows) for i in range(4)] if rows else []
    for row in rows:
        cells = [row[i].rjust(widths[i]) if i == 1 else row[i].ljust(widths[i]) if i < 4
                 else row[i] for i in shown]
        out.write("  ".join(cells) + "\n")


def print_stat(record: Mapping[str, Any], out: TextIO) -> None:
    """``name: value`` lines; the size also in bytes, the metadata as ``key=value``."""
    shown = dict(record)
    if shown.get("size") is not None and shown.get("type") == "file":
        shown["size"] = f"{format_size(int(shown['size']))} ({int(shown['size']):,} bytes)"
    if shown.get("last_modified"):
        shown["last_modified"] = f"{when(datetime.fromisoformat(shown['last_modified']))} UTC"
    shown["metadata"] = " ".join(f"{k}={v}" for k, v in (record.get("metadata") or {}).items())
    width = max(len(name) for name in shown) + 1
    for name, value in shown.items():
        out.write(f"{(name + ':').ljust(width)} {'-' if value in (None, '') else value}\n")
