"""``mpu cp``, ``mpu put`` and ``mpu compose``: copy, upload, download and concatenate by URL.

A thin layer over :func:`mpu_toolkit.copy`, :func:`~mpu_toolkit.upload_file`,
:func:`~mpu_toolkit.compose` and :func:`~mpu_toolkit.download`: each command parses its flags into the
library's keyword arguments, runs one operation and prints a one-line summary (or, with
``--json``, the result's fields as one JSON object).
"""

from __future__ import annotations

import argparse
import dataclasses
import mimetypes
import os
import sys
from typing import Any, Callable

from .._plan.integrity import ChecksumMode
from .._plan.sizing import counted, format_size, parse_size
from ..api import compose, copy, download, upload_file
from ..errors import ConfigurationError
from ..model import ObjectInfo
from .commands import EXIT_OK, _fs
from .render import print_json

__all__ = ["register", "cmd_cp", "cmd_put", "cmd_compose", "parse_metadata"]

_REMOTE_SCHEMES = ("mpu://", "s3://", "s3a://")


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``cp``, ``put`` and ``compose`` with ``build_parser``'s ``add`` helper."""
    url = "mpu://bucket/key or s3://bucket/key"
    cmd = add("cp", "copy an object or a file: server-side between URLs, upload a local "
                    "file to a URL, or download a URL to a local path", cmd_cp)
    cmd.add_argument("src", metavar="SRC", help=f"{url}, or a local file")
    cmd.add_argument("dst", metavar="DST", help=f"{url}, or a local path (a URL ending in "
                                                "'/' or a local directory takes SRC's name)")
    _object_options(cmd)
    _transfer_options(cmd)
    cmd.add_argument("--copy-cutoff", default="auto", metavar="SIZE",
                     help="URL to URL only: largest object copied with one CopyObject; "
                          "larger ones are copied in UploadPartCopy parts (default: auto)")
    _resume_options(cmd)

    cmd = add("put", "upload a local file in concurrent, MD5-checked parts (or resume an "
                     "interrupted upload of it)", cmd_put)
    cmd.add_argument("file", metavar="FILE", help="local file")
    cmd.add_argument("url", metavar="URL", help=f"{url} (ending in '/': FILE's name is added)")
    _object_options(cmd)
    _transfer_options(cmd)
    _resume_options(cmd)

    cmd = add("compose", "concatenate objects, in order, into a new object on the server",
              cmd_compose)
    cmd.add_argument("sources", nargs="+", metavar="SRC", help=f"source objects, in order "
                                                                f"({url})")
    cmd.add_argument("dest", metavar="DST", help="the new object")
    _object_options(cmd)
    cmd.add_argument("--part-size", metavar="SIZE",
                     help="copy part size, e.g. 64MiB (default 64MiB)")
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _object_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--metadata", action="append", metavar="KEY=VALUE",
                     help="user metadata of the new object (repeatable); replaces the "
                          "source's")
    cmd.add_argument("--content-type", metavar="TYPE", help="Content-Type of the new object")
    cmd.add_argument("--no-clobber", action="store_true",
                     help="fail (exit 1) if the destination exists; never replace it")


def _transfer_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--part-size", metavar="SIZE", help="part size, e.g. 16MiB")
    cmd.add_argument("--concurrency", type=int, metavar="N", help="parts in flight at once")
    cmd.add_argument("--max-memory", metavar="SIZE", help="uploads: part buffers held at "
                                                          "once, at most (default 128MiB)")
    cmd.add_argument("--checksum", choices=[mode.value for mode in ChecksumMode],
                     metavar="MODE", help="uploads: what protects each part: "
                     + ", ".join(mode.value for mode in ChecksumMode) + " (default auto: the "
                     "mode the store is known to verify, by --provider or a saved doctor "
                     "report, else md5)")
    cmd.add_argument("--no-progress", action="store_true", help="no progress bar on stderr "
                                                                "(shown only on a terminal)")


def _resume_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--resume", action="store_true",
                     help="upload: continue the key's interrupted upload, sending only "
                          "missing or changed parts")
    cmd.add_argument("--upload-id", metavar="ID",
                     help="upload: the interrupted upload to continue (implies --resume)")


# -- commands ---------------------------------------------------------------------------------
def cmd_cp(args: argparse.Namespace) -> int:
    src_remote, dst_remote = is_remote(args.src), is_remote(args.dst)
    if not (src_remote or dst_remote):
        raise ConfigurationError(f"cp {args.src} {args.dst}: both are local paths; one of "
                                 "SRC and DST must be an mpu:// or s3:// URL (copy local "
                                 "files with the shell's cp)")
    if args.copy_cutoff != "auto" and not (src_remote and dst_remote):
        raise ConfigurationError("--copy-cutoff is for URL-to-URL copies only")
    if args.checksum and (src_remote or not dst_remote):
        raise ConfigurationError("--checksum is for uploads (local SRC, URL DST) only: a copy "
                                 "on the server sends no bytes, a download checks what it "
                                 "reads by its size and ETag")
    if (args.resume or args.upload_id) and (src_remote or not dst_remote):
        raise ConfigurationError("--resume and --upload-id are for uploads (local SRC, URL "
                                 "DST) only; a server-side copy or download starts over")
    if not dst_remote:
        return _download(args)
    if not src_remote:
        return _upload(args, args.src, args.dst)
    dest = _into(args.dst, args.src)
    cutoff = args.copy_cutoff if args.copy_cutoff == "auto" else parse_size(args.copy_cutoff,
                                                                            "--copy-cutoff")
    result = copy(args.src, dest, copy_cutoff=cutoff, fs=_fs(args), **_options(args))
    _report(args, f"copied {args.src} → {result.url}: {_sizes(result)}", result,
            source=args.src)
    return EXIT_OK


def cmd_put(args: argparse.Namespace) -> int:
    if is_remote(args.file) or not is_remote(args.url):
        raise ConfigurationError(f"put {args.file} {args.url}: give a local FILE and an "
                                 "mpu:// or s3:// URL (server-side copies: mpu cp URL URL)")
    return _upload(args, args.file, args.url)


def cmd_compose(args: argparse.Namespace) -> int:
    sources, dest = args.sources, args.dest
    local = [p for p in [*sources, dest] if not is_remote(p)]
    if local:
        raise ConfigurationError(f"compose works on objects only: {', '.join(local)} is not "
                                 "an mpu:// or s3:// URL (upload it first with mpu put)")
    result = compose(sources, dest, fs=_fs(args), **_options(args))
    via_client = (f"; {format_size(result.bytes_uploaded)} through this client"
                  if result.bytes_uploaded else "")
    _report(args, f"composed {counted(len(sources), 'object')} → {result.url}: "
                  f"{_sizes(result, via_client)}", result, sources=sources)
    return EXIT_OK


# -- the three directions ---------------------------------------------------------------------
def _upload(args: argparse.Namespace, path: str, url: str) -> int:
    """``cp FILE URL`` and ``put FILE URL``: one code path."""
    options = _options(args)
    if args.checksum:
        options["checksum"] = args.checksum
    if "content_type" not in options:  # as aws-cli does: guess from the file name
        options["content_type"] = mimetypes.guess_type(path)[0]
    result = upload_file(path, _into(url, path), resume=args.resume or bool(args.upload_id),
                         upload_id=args.upload_id, fs=_fs(args), **options)
    summary = (f"uploaded {path} → {result.url}: {format_size(result.size)} in "
               f"{counted(result.parts, 'part')}")
    if result.upload_id is None:
        summary += " (PutObject)"
    if result.resumed:
        summary += (f"; resumed upload {result.upload_id}: kept {result.parts_kept}, "
                    f"sent {result.parts_sent}")
        if result.parts_replaced:
            summary += (", replaced part" + ("s " if len(result.parts_replaced) > 1 else " ")) + ", ".join(
                map(str, result.parts_replaced))
    _report(args, f"{summary}, {result.seconds:.1f} s", result, source=path)
    return EXIT_OK


def _download(args: argparse.Namespace) -> int:
    """``cp URL PATH``: PATH is never left partial (see :func:`mpu_toolkit.download`)."""
    if args.metadata or args.content_type:
        raise ConfigurationError("--metadata and --content-type set a new object's "
                                 "attributes; a download to a local path has none")
    if args.max_memory:
        raise ConfigurationError("--max-memory is for uploads; a download's memory is "
                                 "--concurrency x --part-size")
    result = download(args.src, args.dst, fs=_fs(args), concurrency=args.concurrency,
                      part_size=parse_size(args.part_size, "--part-size") if args.part_size
                      else None, progress=sys.stderr.isatty() and not args.no_progress,
                      exclusive=args.no_clobber)
    _report(args, f"downloaded {args.src} → {result.path}: {format_size(result.size)}, "
                  f"{result.seconds:.1f} s", dataclasses.asdict(result))
    return EXIT_OK


# -- flags → library keywords -----------------------------------------------------------------
def is_remote(path: str) -> bool:
    return path.lower().startswith(_REMOTE_SCHEMES)


def parse_metadata(pairs: list[str] | None) -> dict[str, str] | None:
    """``["owner=data", "run=7"]`` → ``{"owner": "data", "run": "7"}``; ``None`` (no flag)
    keeps the library's default."""
    if pairs is None:
        return None
    metadata: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--metadata {pair!r} is not KEY=VALUE: write it as "
                                     "--metadata owner=data-team (repeat the flag for more)")
        metadata[name.strip()] = value
    return metadata


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments the flags give, only those set (the library's defaults stay)."""
    options: dict[str, Any] = {"progress": sys.stderr.isatty() and not args.no_progress}
    metadata = parse_metadata(args.metadata)
    if metadata is not None:
        options["metadata"] = metadata
    if getattr(args, "no_clobber", False):
        options["exclusive"] = True
    if args.content_type:
        options["content_type"] = args.content_type
    if args.part_size:
        options["part_size"] = parse_size(args.part_size, "--part-size")
    if getattr(args, "concurrency", None) is not None:
        options["concurrency"] = args.concurrency
    if getattr(args, "max_memory", None):
        options["max_memory"] = parse_size(args.max_memory, "--max-memory")
    return options


def _into(dest: str, source: str) -> str:
    """``s3://b/dir/`` + ``x/data.bin`` → ``s3://b/dir/data.bin`` (aws-cli's rule)."""
    if dest.endswith("/"):
        return dest + os.path.basename(source.rstrip("/"))
    return dest


# -- output -----------------------------------------------------------------------------------
def _report(args: argparse.Namespace, summary: str, result: Any, **extra: Any) -> None:
    if args.json:
        print_json({**extra, **(result if isinstance(result, dict) else result_record(result))},
                   sys.stdout)
    else:
        print(summary)


def result_record(result: Any) -> dict[str, Any]:
    """A result dataclass as JSON-ready fields: the object as its etag, size and version;
    tuples as lists; properties such as ``CopyResult.size`` included."""
    record: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        if isinstance(value, ObjectInfo):
            value = {"etag": value.etag, "size": value.size, "version_id": value.version_id}
        elif isinstance(value, tuple):
            value = list(value)
        record[field.name] = value
    record.setdefault("size", getattr(result, "size", None))
    return record


def _sizes(result: Any, detail: str = "") -> str:
    return (f"{format_size(result.size)}, {counted(result.parts, 'part')} "
            f"({result.method}{detail}), {result.seconds:.1f} s")
