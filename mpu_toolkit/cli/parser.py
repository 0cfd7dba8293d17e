"""The ``mpu`` command line: subcommands, their arguments and the global options.

Global options (``--endpoint-url``, ``--profile``, ``--region``, ``--provider``,
``--max-attempts``, the timeouts, ``--json``, ``-v``) are accepted before or after the
subcommand, as aws-cli, mc and rclone users type them. Credentials come the AWS way
(environment variables, shared files, profiles) and are never arguments; ``AWS_ENDPOINT_URL``
is the endpoint when no flag (or ``--provider`` preset) gives one.
"""

from __future__ import annotations

import argparse
import difflib
import re
from typing import Any, Callable, Iterable

from .. import __version__
from .._s3.providers import PROVIDERS
from ..options import closest

__all__ = ["build_parser", "Adder"]

Adder = Callable[..., argparse.ArgumentParser]


_ENDPOINT_HELP = ("S3 endpoint, e.g. https://storage.yandexcloud.net (default: "
                  "$AWS_ENDPOINT_URL, else AWS)")


def _global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool,
                    endpoint_help: str = _ENDPOINT_HELP) -> None:
    """The options every subcommand takes. In a subcommand they default to "not given", so
    that one given before the subcommand is not reset by the subcommand's parser."""
    def default(value: Any) -> Any:
        return argparse.SUPPRESS if in_subcommand else value

    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument("--endpoint-url", default=default(None), metavar="URL",
                       help=endpoint_help)
    group.add_argument("--profile", default=default(None),
                       help="AWS profile for credentials (default: $AWS_PROFILE)")
    group.add_argument("--region", default=default(None), help="region name")
    group.add_argument("--provider", default=default(None), metavar="NAME",
                       help="the store's preset of endpoint, region, checksums and part rules: "
                            f"{', '.join(PROVIDERS)} (default: $MPU_PROVIDER, else generic)")
    group.add_argument("--max-attempts", type=int, default=default(None), metavar="N",
                       help="tries per request on transient errors (default 5)")
    group.add_argument("--cli-read-timeout", type=float, default=default(None),
                       metavar="SECONDS", help="seconds to wait for an answer (default 60)")
    group.add_argument("--cli-connect-timeout", type=float, default=default(None),
                       metavar="SECONDS", help="seconds to wait for a connection (default 60)")
    group.add_argument("--json", action="store_true", default=default(False),
                       help="machine-readable output on stdout")
    group.add_argument("-v", "--verbose", action="count", default=default(0),
                       help="log more (-v info, -vv debug)")


#: commands people type from other tools, and the ``mpu`` command that does it
_COMMAND_ALIASES = {"upload": "put", "download": "cp", "copy": "cp", "list": "ls",
                    "dir": "ls", "delete": "rm", "del": "rm", "remove": "rm", "head": "stat",
                    "info": "stat", "get": "cp", "mv": "cp"}


class _Parser(argparse.ArgumentParser):
    """argparse, plus a "did you mean" for a misspelled option or command (Python 3.11 has no
    ``suggest_on_error``), and an unknown option reported with its subcommand's usage."""

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # argparse would report them with the top-level usage
            chosen = _subcommand(self, getattr(parsed, "command", None)) or self
            chosen.error("unrecognized arguments: " + " ".join(extras))
        return parsed

    def error(self, message: str) -> Any:  # argparse's signature: NoReturn
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            known = _option_strings(self)
            words = [w.split("=")[0] for w in message[len(prefix):].split() if w[:2] == "--"]
            meant = {word: hint for word in words if (hint := closest(word, known))}
            if len(words) == 1 and meant:
                message += f" — did you mean {meant[words[0]]}?"
            elif meant:
                message += " — did you mean " + ", ".join(f"{hint} for {word}" for word, hint
                                                          in meant.items()) + "?"
        typed = re.search(r"invalid choice: '?([^'\s]+)'?", message)
        commands = _subcommands(self)
        if typed and typed.group(1) not in commands and commands:
            names = _close_commands(typed.group(1), commands)
            if names:
                message += " — did you mean " + " or ".join(names) + "?"
        super().error(message)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _subcommand(parser: argparse.ArgumentParser,
                name: str | None) -> argparse.ArgumentParser | None:
    return _subcommands(parser).get(name) if name else None


def _close_commands(typed: str, commands: Iterable[str]) -> list[str]:
    """The commands ``typed`` may have meant: the alias of another tool's name, then the
    closest spellings (``upload``: put, uploads; ``lss``: ls)."""
    names = sorted(commands)
    alias = _COMMAND_ALIASES.get(typed.lower())
    close = difflib.get_close_matches(typed.lower(), names, n=3, cutoff=0.6)
    if close:  # the closest, and others as close as it (ls/lss, not also ls/lifecycle)
        best = difflib.SequenceMatcher(None, typed.lower(), close[0]).ratio()
        close = [n for n in close
                 if difflib.SequenceMatcher(None, typed.lower(), n).ratio() >= best - 0.05]
    return list(dict.fromkeys(([alias] if alias in names else []) + close))[:3]


def _option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every long option of ``parser`` and of its subcommands."""
    names = {o for o in parser._option_string_actions if o.startswith("--")}
    for sub in _subcommands(parser).values():
        names |= _option_strings(sub)
    return names


def build_parser(register: Callable[[Adder], None]) -> argparse.ArgumentParser:
    """The parser; ``register(add)`` adds the subcommands, where ``add(name, help, run)``
    returns the new subcommand's parser."""
    parser = _Parser(
        prog="mpu", description="Copy, upload and compose S3 objects in multipart uploads; "
                                "find, cost and abort incomplete ones; serve a local S3.",
        epilog="Exit codes: 0 done, 1 an operation failed, 2 bad usage, 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"mpu_toolkit {__version__}")
    _global_options(parser, in_subcommand=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    def add(name: str, help_: str, run: object, description: str | None = None,
            endpoint_help: str = _ENDPOINT_HELP) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_, description=description or help_)
        _global_options(cmd, in_subcommand=True, endpoint_help=endpoint_help)
        cmd.set_defaults(run=run)
        return cmd

    register(add)
    return parser
