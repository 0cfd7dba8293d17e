"""The ``mpu`` subcommands: each parses nothing, calls the library, renders the result."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import inventory as uploads
from ..errors import ConfigurationError
from ..fs import MPUFileSystem, filesystem
from ..inventory.safe_abort import parse_age
from .._plan.sizing import format_size, parse_size
from .render import print_json, print_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def storage_options(args: argparse.Namespace) -> dict[str, Any]:
    """Endpoint, profile and region from flags; credentials come the AWS way (environment
    variables, shared credentials/config files, profiles) and are never printed."""
    options: dict[str, Any] = {}
    if args.endpoint_url:
        options["endpoint_url"] = args.endpoint_url
    if args.profile:
        options["profile"] = args.profile
    if args.region:
        options["client_kwargs"] = {"region_name": args.region}
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
    _emit(args, frame, "no incomplete uploads")
    if not args.json and not frame.empty and not args.no_sizes:
        print(f"\n{len(frame)} incomplete upload(s), {int(frame['parts'].sum())} parts, "
              f"{format_size(int(frame['bytes'].sum()))}")
    return EXIT_OK


def cmd_parts(args: argparse.Namespace) -> int:
    _emit(args, uploads.parts(args.url, args.upload_id, fs=_fs(args)), "no parts")
    return EXIT_OK


def cmd_du(args: argparse.Namespace) -> int:
    frame = uploads.usage(args.urls or None, by=args.by, objects=args.objects, fs=_fs(args))
    _emit(args, frame, "no incomplete uploads")
    return EXIT_OK


def _confirm(plan: Any) -> bool:
    todo = plan[plan["outcome"] == "would-abort"]
    held = format_size(int(todo["bytes"].fillna(0).sum()))
    if todo.empty:
        return True
    if not sys.stdin.isatty():
        raise ConfigurationError(f"refusing to abort {len(todo)} upload(s) ({held}) without "
                                 "--yes; preview with --dry-run")
    answer = input(f"Abort {len(todo)} incomplete upload(s), freeing {held}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def cmd_abort(args: argparse.Namespace) -> int:
    fs = _fs(args)
    options = dict(min_age=None if args.force else parse_age(args.min_age, "--min-age"),
                   older_than=parse_age(args.older_than, "--older-than"), force=args.force,
                   fs=fs)
    target: Any = args.urls
    if args.upload_id:
        listed = uploads.list(args.urls, fs=fs)
        target = listed[listed["upload_id"].isin(args.upload_id)]
        missing = set(args.upload_id) - set(target["upload_id"])
        if missing:
            print(f"mpu: not found under {' '.join(args.urls)}: {', '.join(sorted(missing))}",
                  file=sys.stderr)
    if not args.dry_run and not args.yes:
        preview = uploads.abort(target, dry_run=True, **options)
        if not _confirm(preview):
            print("nothing aborted", file=sys.stderr)
            return EXIT_OK
    result = uploads.abort(target, dry_run=args.dry_run, **options)
    _emit(args, result, "nothing to abort")
    failed = result["outcome"].eq("failed").sum()
    if not args.json:
        counts = result["outcome"].value_counts()
        print("\n" + ", ".join(f"{n} {o}" for o, n in counts.items()) if len(counts) else "")
    return EXIT_FAILED if failed else EXIT_OK


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


def cmd_demo(args: argparse.Namespace) -> int:
    import json

    from .demo import run_demo

    report = run_demo(size=parse_size(args.size, "--size"),
                      storage_options=storage_options(args) if args.endpoint_url else None,
                      out=sys.stderr if args.json else sys.stdout,
                      progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return EXIT_OK if report["ok"] else EXIT_FAILED
