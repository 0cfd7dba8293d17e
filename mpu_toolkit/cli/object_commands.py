"""``mpu ls``, ``stat``, ``cat`` and ``rm``: the shell's habits (``aws s3``, ``mc``, ``rclone``)
on objects, through the filesystem's own reads and listings (s3fs's, paginated), so their
errors are the library's: a missing bucket or key says so and names the ``mpu ls`` that shows
what exists.

* ``ls [URL]``: the objects and prefixes ("directories") under URL, human sizes (``--long``:
  bytes, last modified in UTC, storage class and ETag; ``--recursive``: every object under
  it); no URL: the buckets.
* ``stat URL``: an object's size, last modified, ETag, parts (of a multipart upload), content
  type, storage class, version id and user metadata.
* ``cat URL``: the object's bytes on stdout, binary-safe, in ranged reads of ``CHUNK`` bytes
  (memory stays bounded whatever the object's size); ``--range START-END``.
* ``rm URL``: delete an object; a prefix only with ``--recursive`` (else exit 2), never the
  bucket; ``--dry-run`` says what would be deleted. One DeleteObject per key, a bounded
  number at once (``DeleteObjects`` is not implemented by every store, e.g. GCS).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, BinaryIO

from .. import hints
from .._engine.blocking import run_blocking
from .._engine.gather import bounded_gather
from .._plan.sizing import counted, format_size
from .._s3.client import S3Client
from ..errors import ConfigurationError
from ..fs import MPUFileSystem
from .commands import EXIT_OK, _fs
from .listing import ObjectEntry, entries, print_entries, print_stat
from .parser import Adder
from .render import print_json
from .transfer_commands import is_remote

__all__ = ["register", "cmd_ls", "cmd_stat", "cmd_cat", "cmd_rm", "CHUNK"]

CHUNK = 8 * 1024 * 1024  #: bytes per ranged read of ``mpu cat``
_URL = "mpu://bucket/key (or s3://)"


def register(add: Adder) -> None:
    cmd = add("ls", "list objects and prefixes under a URL (no URL: the buckets)", cmd_ls)
    cmd.add_argument("url", nargs="?", metavar="URL",
                     help="mpu://bucket[/prefix] (or s3://); none: the buckets")
    cmd.add_argument("-l", "--long", action="store_true",
                     help="sizes in bytes, last modified (UTC), storage class and ETag")
    cmd.add_argument("-r", "--recursive", action="store_true",
                     help="every object under the prefix, not only its top level")

    cmd = add("stat", "show an object's size, last modified, ETag, parts, content type, "
                      "metadata and version", cmd_stat)
    cmd.add_argument("url", metavar="URL", help=_URL)

    cmd = add("cat", "write an object's bytes to stdout (binary-safe, streamed)", cmd_cat)
    cmd.add_argument("url", metavar="URL", help=_URL)
    cmd.add_argument("--range", metavar="START-END",
                     help="only bytes START to END, counted from 0, END included (START-: "
                          "to the end)")

    cmd = add("rm", "delete an object (--recursive: every object under a prefix; never the "
                    "bucket)", cmd_rm)
    cmd.add_argument("url", metavar="URL", help=f"{_URL}, or mpu://bucket/prefix/ with "
                                                "--recursive")
    cmd.add_argument("-r", "--recursive", action="store_true",
                     help="delete every object under the prefix")
    cmd.add_argument("--dry-run", action="store_true",
                     help="list what would be deleted, delete nothing")


def _remote(url: str, command: str) -> str:
    if not is_remote(url):
        raise ConfigurationError(f"mpu {command} {url}: give an mpu:// or s3:// URL, e.g. "
                                 f"mpu://bucket/{'key' if command != 'ls' else 'prefix/'}")
    return url


def cmd_ls(args: argparse.Namespace) -> int:
    fs = _fs(args)
    url = _remote(args.url, "ls") if args.url else None
    if url is None or not fs.split_path(url)[0]:
        listed = entries(fs.ls("", detail=True), scheme=_scheme(url))
    elif args.recursive:
        found = fs.find(url, detail=True)
        if not found:
            fs.info(url)  # nothing under it: say whether the bucket or the path is missing
        listed = entries(found.values(), scheme=_scheme(url))
    else:
        listed = entries(fs.ls(url, detail=True), scheme=_scheme(url))
    if args.json:
        print_json([entry.record() for entry in listed], sys.stdout)
    else:
        print_entries(listed, base=_base(fs, url, listed), long=args.long, out=sys.stdout)
    return EXIT_OK


def _scheme(url: str | None) -> str:
    """The scheme the user wrote, for the URLs printed back."""
    return (url or "mpu://").partition("://")[0].lower()


def _base(fs: MPUFileSystem, url: str | None, listed: list[ObjectEntry]) -> str:
    """The key prefix names are shown relative to: the listed prefix (a lone object: its
    parent's)."""
    if url is None:
        return ""
    key = fs.split_path(url)[1]
    if len(listed) == 1 and listed[0].type == "file" and listed[0].key == key:
        key = key.rpartition("/")[0]
    return key.rstrip("/") + "/" if key else ""


def cmd_stat(args: argparse.Namespace) -> int:
    fs = _fs(args)
    url = _remote(args.url, "stat")
    info = fs.info(url)
    entry = entries([info], scheme=_scheme(url))[0]
    record = entry.record()
    if entry.type == "file":
        record.update(content_type=info.get("ContentType"), version_id=info.get("VersionId"),
                      metadata=dict(fs.metadata(url)))
    else:  # a prefix or a bucket: nothing more to say than that it is one
        record = {name: record[name] for name in ("url", "bucket", "key", "type")}
    if args.json:
        print_json(record, sys.stdout)
    else:
        print_stat(record, sys.stdout)
    return EXIT_OK


def cmd_cat(args: argparse.Namespace) -> int:
    fs = _fs(args)
    url = _remote(args.url, "cat")
    info = fs.info(url)
    if info.get("type") != "file":
        raise ConfigurationError(f"{url} is a prefix (a \"directory\"), not an object: "
                                 f"`{hints.list_objects(url)}` lists what is in it")
    size = int(info["size"])
    first, last = _byte_range(args.range, size)
    out: BinaryIO = sys.stdout.buffer
    # no read-ahead cache: each read() is one ranged GET of at most CHUNK bytes
    with fs.open(url, "rb", cache_type="none", size=size) as source:
        source.seek(first)
        left = last - first + 1
        while left > 0:
            data = source.read(min(CHUNK, left))
            if not data:
                break
            _write_all(out, data)
            left -= len(data)
    out.flush()
    return EXIT_OK


def _write_all(out: BinaryIO, data: bytes) -> None:
    """All of ``data``: a pipe whose reader left takes part of a write and reports the part
    (the error comes with the next write), which would end ``cat`` as if all went out."""
    view = memoryview(data)
    while view:
        view = view[out.write(view):]


_RANGE = re.compile(r"^(\d+)-(\d*)$")


def _byte_range(text: str | None, size: int) -> tuple[int, int]:
    """``--range START-END`` as the first and last byte to send (END clipped to the size)."""
    if text is None:
        return 0, size - 1
    match = _RANGE.match(text.strip())
    if not match:
        raise ConfigurationError(f"--range {text!r} is not START-END: e.g. --range 0-1023 "
                                 "(the first KiB) or --range 1024- (all after it)")
    first = int(match.group(1))
    last = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
    if first > last and size:
        raise ConfigurationError(f"--range {text}: the object has {size:,} bytes "
                                 f"(0-{size - 1})")
    return first, last


def cmd_rm(args: argparse.Namespace) -> int:
    fs = _fs(args)
    url = _remote(args.url, "rm")
    info = fs.info(url)  # a missing key or bucket fails here, naming what exists
    scheme = _scheme(url)
    if info.get("type") == "file":
        doomed = entries([info], scheme=scheme)
    elif not args.recursive:
        raise ConfigurationError(
            f"{url} is a prefix (a \"directory\" of objects), not an object: "
            f"`{hints.remove(url, recursive=True)}` deletes every object under it (see them "
            "first with --dry-run)")
    else:
        doomed = entries(fs.find(url, detail=True).values(), scheme=scheme)
    if not args.dry_run:
        _delete(fs, doomed)
    outcome = "would-delete" if args.dry_run else "deleted"
    if args.json:
        print_json([{**entry.record(), "outcome": outcome} for entry in doomed], sys.stdout)
        return EXIT_OK
    for entry in doomed:
        print(f"{'would delete' if args.dry_run else 'deleted'} {entry.url}")
    total = format_size(sum(entry.size or 0 for entry in doomed))
    print(f"{counted(len(doomed), 'object')} ({total}) "
          f"{'would be deleted' if args.dry_run else 'deleted'}", file=sys.stderr)
    return EXIT_OK


def _delete(fs: MPUFileSystem, doomed: list[ObjectEntry]) -> None:
    """DeleteObject for each, at most the filesystem's ``concurrency`` at once; the first
    failure stops the rest (and fails the command)."""
    client = S3Client(fs)

    def job(entry: ObjectEntry) -> Any:
        return lambda: client.delete_object(entry.ref)

    try:
        run_blocking(fs.loop, bounded_gather([job(e) for e in doomed],
                                             fs.write_options.concurrency))
    finally:
        for entry in doomed:
            fs.invalidate_cache(f"{entry.bucket}/{entry.key}")

