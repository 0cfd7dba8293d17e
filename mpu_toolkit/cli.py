"""The ``mpu`` command: a thin layer over the library (aws-cli-like names, ``--json``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Sequence

from . import __version__
from .errors import MPUError
from .sizing import parse_size

log = logging.getLogger("mpu_toolkit.cli")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _storage_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """Endpoint and credentials from flags; keys otherwise come the AWS way (env, profile)."""
    if not args.endpoint_url:
        return None
    options: dict[str, Any] = {"endpoint_url": args.endpoint_url}
    if args.profile:
        options["profile"] = args.profile
    return options


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    report = run_demo(size=parse_size(args.size, "--size"),
                      storage_options=_storage_options(args),
                      out=sys.stderr if args.json else sys.stdout,
                      progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return EXIT_OK if report["ok"] else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mpu", description="Stream into S3 multipart uploads; inspect and abort "
                                "incomplete ones.")
    parser.add_argument("--version", action="version", version=f"mpu_toolkit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v info, -vv debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.add_argument("--endpoint-url", help="S3 endpoint (default: AWS, or the embedded "
                                                "local server for `demo`)")
        sub.add_argument("--profile", help="AWS profile for credentials")
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        return sub

    demo = add("demo", "stream bytes and a DataFrame through mpu:// on an embedded local S3")
    demo.add_argument("--size", default="64MiB", help="bytes to stream (default 64MiB)")
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args))
    except MPUError as exc:
        print(f"mpu: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("mpu: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
