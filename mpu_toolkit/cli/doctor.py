"""``mpu doctor``: what the store honours, measured under a prefix of its own (and removed);
``--save`` keeps the facts as a user preset that ``--provider NAME`` finds."""

from __future__ import annotations

import argparse
import sys

from ..doctor import DoctorReport, doctor
from ..errors import ConfigurationError
from ..fs import filesystem
from .commands import EXIT_FAILED, EXIT_OK, storage_options
from .parser import Adder
from .render import print_json

__all__ = ["register", "cmd_doctor"]

_MARKS = {True: "yes", False: "no", None: "?"}


def register(add: Adder) -> None:
    cmd = add("doctor", "measure what the store honours (checksums, conditional writes, "
                        "listings, lifecycle ...), leaving nothing behind", cmd_doctor)
    cmd.add_argument("url", nargs="?", metavar="URL",
                     help="mpu://BUCKET[/PREFIX]: where it may write and delete its probes "
                          "(under PREFIX/.mpu-doctor-<id>/)")
    cmd.add_argument("--save", nargs="?", const="", metavar="NAME",
                     help="keep the facts as the user preset NAME (default: from the "
                          "endpoint's host), for --provider NAME")


def cmd_doctor(args: argparse.Namespace) -> int:
    if not args.url:
        raise ConfigurationError("mpu doctor needs a bucket it may write to: "
                                 "mpu doctor mpu://BUCKET[/PREFIX]")
    report = doctor(args.url, fs=filesystem(storage_options(args)))
    saved = report.save(args.save or None) if args.save is not None else None
    if args.json:
        print_json({**report.to_dict(), **({"saved": str(saved)} if saved else {})},
                   sys.stdout)
    else:
        _print(report)
        if saved:
            print(f"saved as {saved}: --provider {saved.stem}")
    return EXIT_FAILED if any(report.left_behind.values()) else EXIT_OK


def _print(report: DoctorReport) -> None:
    width = max(map(len, report.capabilities))
    print(f"{report.endpoint} {report.bucket} (provider: {report.provider or 'unknown'})")
    for name, found in report.capabilities.items():
        print(f"  {name:<{width}}  {_MARKS[found.supported]:<3}  {found.evidence}")
    print(f"UploadPart via: {report.part_route}")
    print("recommended: " + ", ".join(f"{k}={v}" for k, v in report.recommended.items()))
    left = report.left_behind
    print(f"left behind: {left.get('objects', 0)} objects, {left.get('uploads', 0)} uploads "
          f"({report.seconds:.1f} s)")
