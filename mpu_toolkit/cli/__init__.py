"""The ``mpu`` command: a thin layer over the library, with aws-cli-like names and ``--json``.

Commands: ``ls``, ``stat``, ``cat`` and ``rm`` list, show, read and delete objects
(:mod:`.object_commands`); ``cp``, ``put`` and ``compose`` move objects and files
(server-side copies, resumable uploads, downloads; :mod:`.transfer_commands`); ``uploads``, ``parts``, ``du``,
``abort`` and ``lifecycle`` find, cost and clean up incomplete uploads (:mod:`.commands`);
``doctor`` measures what the store honours (:mod:`.doctor`);
``demo`` runs the main job (:mod:`.demo`) and ``serve`` a local S3 (:mod:`.serve`). The
arguments and global options are in :mod:`.parser`.

Exit codes: 0 success; 1 an operation failed (an upload could not be aborted, a server
error, a missing key); 2 bad usage (unknown option, invalid value, a refused unconfirmed
abort, ``rm`` of a prefix without ``--recursive``); 130 interrupted (Ctrl-C: the work in
flight is stopped, and what was aborted or kept is said).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from ..errors import ConfigurationError, MPUError
from . import commands, demo, doctor, object_commands, parser, serve, transfer_commands
from .commands import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from .parser import Adder

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    def register(add: Adder) -> None:
        object_commands.register(add)
        transfer_commands.register(add)
        commands.register(add)
        doctor.register(add)
        demo.register(add)
        serve.register(add)

    return parser.build_parser(register)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
