"""The ``mpu`` command: a thin layer over the library, with aws-cli-like names and ``--json``.

Commands: ``cp``, ``put`` and ``compose`` move objects and files (server-side copies,
resumable uploads, downloads; see :mod:`.transfer_commands`); ``uploads``, ``parts``, ``du``,
``abort`` and ``lifecycle`` find, cost and clean up incomplete uploads; ``demo`` runs on an
embedded local S3.

Exit codes: 0 success; 1 an operation failed (an upload could not be aborted, a server
error); 2 bad usage (unknown option, invalid value, a refused unconfirmed abort); 130
interrupted (Ctrl-C: the work in flight is stopped, and what was aborted or kept is said).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from .. import __version__
from ..errors import ConfigurationError, MPUError
from . import commands
from . import transfer_commands
from .commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mpu", description="Copy, upload and compose S3 objects in multipart uploads; "
                                "find, cost and abort incomplete ones.")
    parser.add_argument("--version", action="version", version=f"mpu_toolkit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str, run: object) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_, description=help_)
        cmd.add_argument("--endpoint-url", help="S3 endpoint (default: AWS)")
        cmd.add_argument("--profile", help="AWS profile for credentials")
        cmd.add_argument("--region", help="region name")
        cmd.add_argument("--max-attempts", type=int, metavar="N",
                         help="tries per request on transient errors (default 5)")
        cmd.add_argument("--cli-read-timeout", type=float, metavar="SECONDS",
                         help="seconds to wait for an answer (default 60), as in aws-cli")
        cmd.add_argument("--cli-connect-timeout", type=float, metavar="SECONDS",
                         help="seconds to wait for a connection (default 60), as in aws-cli")
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        cmd.set_defaults(run=run)
        return cmd

    transfer_commands.register(add)

    urls_help = "mpu://bucket/prefix (or s3://); none: every bucket the credentials list"
    cmd = add("uploads", "list incomplete uploads with their parts and bytes",
              commands.cmd_uploads)
    cmd.add_argument("urls", nargs="*", metavar="URL", help=urls_help)
    cmd.add_argument("--no-sizes", action="store_true", help="skip ListParts (faster)")
    cmd.add_argument("--older-than", metavar="AGE", help="only uploads at least this old "
                                                         "(e.g. 1h, 7d)")

    cmd = add("parts", "list the parts of one incomplete upload", commands.cmd_parts)
    cmd.add_argument("url", metavar="URL", help="mpu://bucket/key")
    cmd.add_argument("upload_id", metavar="UPLOAD_ID")

    cmd = add("du", "storage held by incomplete uploads", commands.cmd_du)
    cmd.add_argument("urls", nargs="*", metavar="URL", help=urls_help)
    cmd.add_argument("--by", choices=["bucket", "prefix", "age"], default="bucket")
    cmd.add_argument("--objects", action="store_true",
                     help="also sum completed objects for each bucket's share (a full scan)")

    cmd = add("abort", "abort incomplete uploads safely (skips young ones)",
              commands.cmd_abort)
    cmd.add_argument("urls", nargs="+", metavar="URL",
                     help="mpu://bucket/prefix (mpu:// for every bucket)")
    cmd.add_argument("--upload-id", action="append", metavar="ID",
                     help="only this upload (repeatable)")
    cmd.add_argument("--older-than", metavar="AGE", help="only uploads at least this old")
    cmd.add_argument("--min-age", default="1h", metavar="AGE",
                     help="skip uploads younger than this: they may be live (default 1h)")
    cmd.add_argument("--force", action="store_true", help="abort young uploads too")
    cmd.add_argument("--dry-run", action="store_true", help="show what would be aborted")
    cmd.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    cmd = add("lifecycle", "show or set the rule that aborts incomplete uploads after N days",
              commands.cmd_lifecycle)
    cmd.add_argument("url", metavar="URL", help="mpu://bucket[/prefix]")
    cmd.add_argument("--set-days", type=int, metavar="N",
                     help="abort uploads under the prefix N days after they start")
    cmd.add_argument("--remove", action="store_true", help="remove that rule")
    cmd.add_argument("--rule-id", default="mpu-abort-incomplete-uploads")

    cmd = add("demo", "stream bytes and a DataFrame through mpu:// on an embedded local S3",
              commands.cmd_demo)
    cmd.add_argument("--size", default="64MiB", help="bytes to stream (default 64MiB)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except ConfigurationError as exc:
        print(f"mpu: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MPUError as exc:
        print(f"mpu: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as interrupt:  # Ctrl-C: the work was stopped; say what is left
        notes = getattr(interrupt, "__notes__", [])
        print("mpu: interrupted" + "".join(f"\n  {note}" for note in notes), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `mpu uploads --json | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
