"""``mpu uploads``, ``parts``, ``du``, ``abort`` and ``lifecycle``: find, cost and clean up
incomplete uploads. Each command calls the library (:mod:`mpu_toolkit.uploads`) and renders
the DataFrame it returns: a table that fits 100 columns (``--wide``: every column) or JSON.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd

from .. import inventory as uploads
from .._plan.sizing import counted, format_size
from ..errors import ConfigurationError, MPUError
from ..fs import MPUFileSystem, filesystem
from ..inventory.accounting import parse_price
from ..inventory.lifecycle import RULE_ID, abort_days
from ..inventory.safe_abort import parse_age
from .parser import Adder
from .render import print_json, print_table, shorten

__all__ = ["register", "storage_options", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE",
           "EXIT_INTERRUPTED"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: the reader of stdout left (`mpu cat … | head`): what the shell reports for a process that
#: SIGPIPE ended (128 + 13), as for `cat`, so that `set -o pipefail` scripts see the same
EXIT_BROKEN_PIPE = 141
_URLS = "mpu://bucket/prefix (or s3://); none: every bucket the credentials can list"
_WIDTH = 100  # what the default table fits in
_ID = 12      # characters of an upload id shown by default (a prefix is enough to name one)


def register(add: Adder) -> None:
    cmd = add("uploads", "list incomplete uploads with their parts and bytes", cmd_uploads)
    cmd.add_argument("urls", nargs="*", metavar="URL", help=_URLS)
    cmd.add_argument("--no-sizes", action="store_true", help="skip ListParts (faster)")
    cmd.add_argument("--older-than", metavar="AGE",
                     help="only uploads at least this old (e.g. 1h, 7d)")
    cmd.add_argument("--wide", action="store_true",
                     help="every column, full upload ids (default: fits 100 columns)")

    cmd = add("parts", "list the parts of one incomplete upload", cmd_parts)
    cmd.add_argument("url", metavar="URL", help="mpu://bucket/key of the upload")
    cmd.add_argument("upload_id", metavar="UPLOAD_ID", nargs="?",
                     help="the upload's id or a unique prefix of it (may be left out when the "
                          "key has one incomplete upload)")

    cmd = add("du", "storage held by incomplete uploads", cmd_du)
    cmd.add_argument("urls", nargs="*", metavar="URL", help=_URLS)
    cmd.add_argument("--by", choices=["bucket", "prefix", "age", "storage-class", "started"],
                     default="bucket",
                     help="one row per bucket (default), top-level prefix, age band (with "
                          "abort_days and overdue_bytes: what the buckets' lifecycle rules "
                          "should have aborted already), storage class, or the day, week or "
                          "month the uploads started")
    cmd.add_argument("--objects", action="store_true",
                     help="also sum completed objects for each bucket's share (a full scan)")
    cmd.add_argument("--price", metavar="PRICE",
                     help="your storage price per GiB-month (e.g. 0.023): adds monthly_cost "
                          "(none is built in; see the provider's pricing page)")

    cmd = add("abort", "abort incomplete uploads safely (skips young ones)", cmd_abort)
    cmd.add_argument("urls", nargs="+", metavar="URL",
                     help="mpu://bucket/prefix (mpu:// for every bucket)")
    cmd.add_argument("--upload-id", action="append", metavar="ID",
                     help="only this upload (repeatable; a unique prefix of the id will do)")
    cmd.add_argument("--older-than", metavar="AGE", help="only uploads at least this old")
    cmd.add_argument("--min-age", default="1h", metavar="AGE",
                     help="skip uploads younger than this: they may be live (default 1h)")
    cmd.add_argument("--force", action="store_true", help="abort young uploads too")
    cmd.add_argument("--dry-run", action="store_true", help="show what would be aborted")
    cmd.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    cmd = add("lifecycle", "show or set the rule that aborts incomplete uploads after N days",
              cmd_lifecycle)
    cmd.add_argument("url", metavar="URL",
                     help="mpu://bucket[/prefix/] (the rule applies to keys under the prefix)")
    cmd.add_argument("--set-days", type=int, metavar="N",
                     help="abort uploads under the prefix N days after they start")
    cmd.add_argument("--remove", action="store_true", help="remove that rule")
    cmd.add_argument("--rule-id", default=RULE_ID, metavar="ID",
                     help=f"the rule to set or remove (default {RULE_ID}; other rules are "
                          "kept)")


def storage_options(args: argparse.Namespace) -> dict[str, Any]:
    """Endpoint, profile, region, provider, retries and timeouts from flags; credentials come
    the AWS way (environment variables, shared credentials/config files, profiles), never
    printed."""
    options: dict[str, Any] = {}
    if args.endpoint_url:
        options["endpoint_url"] = args.endpoint_url
    if args.profile:
        options["profile"] = args.profile
    if args.region:
        options["client_kwargs"] = {"region_name": args.region}
    if args.provider:
        options["provider"] = args.provider
    if args.max_attempts is not None:
        options["max_attempts"] = args.max_attempts
    timeouts = {"read_timeout": args.cli_read_timeout,
                "connect_timeout": args.cli_connect_timeout}
    if any(value is not None for value in timeouts.values()):
        options["config_kwargs"] = {k: v for k, v in timeouts.items() if v is not None}
    return options


def _fs(args: argparse.Namespace) -> MPUFileSystem:
    return filesystem(storage_options(args))


def _emit(args: argparse.Namespace, frame: Any, empty: str) -> None:
    if args.json:
        print_json(frame, sys.stdout)
    else:
        print_table(frame, sys.stdout, empty)


def cmd_uploads(args: argparse.Namespace) -> int:
    frame = uploads.list(args.urls or None, sizes=not args.no_sizes,
                         older_than=parse_age(args.older_than, "--older-than"), fs=_fs(args))
    _emit(args, frame if args.json or args.wide else _compact(frame), "no incomplete uploads")
    if not args.json and not frame.empty and not args.no_sizes:
        print(f"\n{counted(len(frame), 'incomplete upload')}, "
              f"{counted(int(frame['parts'].sum()), 'part')}, "
              f"{format_size(int(frame['bytes'].sum()))}")
    _notice(frame)
    return EXIT_OK


def _notice(listed: pd.DataFrame) -> None:
    """What the listing could not see (an exact-key store), on stderr: --json stays JSON."""
    if listed.attrs.get("notice"):
        print(f"mpu: {listed.attrs['notice']}", file=sys.stderr)


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """bucket, key, age, parts, size and the start of the upload id, in 100 columns."""
    view = frame[["bucket", "key", "age", "parts", "bytes", "upload_id"]].copy()
    view["upload_id"] = view["upload_id"].map(lambda i: shorten(str(i), _ID, "end"))
    others = sum(max(len(c), 9) + 2 for c in ("bucket", "age", "parts", "bytes", "upload_id"))
    room = max(12, _WIDTH - others - max((len(str(b)) for b in view["bucket"]), default=6))
    view["key"] = view["key"].map(lambda k: shorten(str(k), room, "middle"))
    return view


def cmd_parts(args: argparse.Namespace) -> int:
    fs = _fs(args)
    listed = uploads.list(args.url, fs=fs, sizes=False)
    key = fs.object_ref(args.url).key
    listed = listed[listed["key"] == key]
    if args.upload_id:
        listed, missing = _chosen(listed, [args.upload_id])
        if missing:
            raise MPUError(f"{args.url} has no incomplete upload {args.upload_id}: it was "
                           "completed, aborted or expired (or never existed); `mpu uploads` "
                           "lists the live ones")
    elif listed.empty:
        raise MPUError(f"{args.url} has no incomplete upload; `mpu uploads` lists them")
    elif len(listed) > 1:
        raise ConfigurationError(f"{args.url} has {counted(len(listed), 'incomplete upload')} "
                                 f"({', '.join(listed['upload_id'].astype(str))}): give "
                                 "UPLOAD_ID")
    upload_id = str(listed["upload_id"].iloc[0])
    _emit(args, uploads.parts(args.url, upload_id, fs=fs), "no parts")
    return EXIT_OK


def cmd_du(args: argparse.Namespace) -> int:
    price = parse_price(args.price, "--price")  # refused before any request
    fs = _fs(args)
    listed = uploads.list(args.urls or None, fs=fs)
    if args.by == "age":  # one lifecycle read per bucket: cheap next to the listing
        listed = listed.assign(abort_days=abort_days(listed, _rules_of(listed, fs)))
    frame = uploads.usage(by=args.by.replace("-", "_"), objects=args.objects, price=price,
                          uploads=listed, fs=fs)
    _emit(args, frame, "no incomplete uploads")
    _notice(listed)
    return EXIT_OK


def _rules_of(listed: pd.DataFrame, fs: MPUFileSystem) -> pd.DataFrame:
    """The lifecycle rules of the listed uploads' buckets; stderr names those left out."""
    skipped: list[str] = []
    found = uploads.lifecycles(listed["bucket"].astype(str), skipped=skipped, fs=fs)
    for why in skipped:
        print(f"mpu: lifecycle rules left out: {why}", file=sys.stderr)
    return found


def _confirm(plan: Any) -> bool:
    todo = plan[plan["outcome"] == "would-abort"]
    held = format_size(int(todo["bytes"].fillna(0).sum()))
    if todo.empty:
        return True
    if not sys.stdin.isatty():
        raise ConfigurationError(f"refusing to abort {counted(len(todo), 'upload')} ({held}) "
                                 "without --yes; preview with --dry-run")
    answer = input(f"Abort {counted(len(todo), 'incomplete upload')}, freeing {held}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _chosen(listed: pd.DataFrame, wanted: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The uploads ``wanted`` names (whole ids, or prefixes naming one upload each), and the
    names that match none; a prefix matching several is refused."""
    ids = listed["upload_id"].astype(str)
    keep = pd.Series(False, index=listed.index)
    missing = []
    for name in wanted:
        match = ids == name
        if not match.any():
            match = ids.str.startswith(name)
        if match.sum() > 1:
            raise ConfigurationError(f"--upload-id {name} matches {int(match.sum())} uploads: "
                                     "give more of the id (mpu uploads --wide shows them whole)")
        if not match.any():
            missing.append(name)
        keep |= match
    return listed[keep], missing


def cmd_abort(args: argparse.Namespace) -> int:
    fs = _fs(args)
    options = dict(min_age=None if args.force else parse_age(args.min_age, "--min-age"),
                   older_than=parse_age(args.older_than, "--older-than"), force=args.force,
                   fs=fs)
    target: Any = args.urls
    missing: list[str] = []
    if args.upload_id:
        target, missing = _chosen(uploads.list(args.urls, fs=fs), args.upload_id)
        if missing:
            print(f"mpu: not found under {' '.join(args.urls)}: {', '.join(missing)}",
                  file=sys.stderr)
    if not args.dry_run and not args.yes:
        preview = uploads.abort(target, dry_run=True, **options)
        if not _confirm(preview):
            print("nothing aborted", file=sys.stderr)
            return EXIT_OK
    result = uploads.abort(target, dry_run=args.dry_run, **options)
    _emit(args, result, "nothing to abort")
    _notice(result)
    failed = result["outcome"].eq("failed").sum()
    if not args.json:
        counts = result["outcome"].value_counts()
        print("\n" + ", ".join(f"{n} {o}" for o, n in counts.items()) if len(counts) else "")
    return EXIT_FAILED if failed or missing else EXIT_OK


def cmd_lifecycle(args: argparse.Namespace) -> int:
    fs = _fs(args)
    if args.set_days is not None and args.remove:
        raise ConfigurationError("use either --set-days or --remove")
    if args.set_days is not None:
        frame = uploads.set_lifecycle(args.url, args.set_days, rule_id=args.rule_id, fs=fs)
    elif args.remove:
        frame = uploads.remove_lifecycle(args.url, rule_id=args.rule_id, fs=fs)
    else:
        frame = uploads.lifecycle(args.url, fs=fs)
    _emit(args, frame, "no lifecycle rules")
    return EXIT_OK
