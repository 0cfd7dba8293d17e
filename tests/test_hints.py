"""The commands that messages suggest (mpu_toolkit/hints.py) are real: each parses with the
CLI's own parser, none would stop at a confirmation a script cannot give (every command that
takes ``--yes`` is suggested with it), and no message below the CLI writes an ``mpu`` command
of its own."""

from __future__ import annotations

import ast
import pathlib
import re
import shlex

import pytest

from mpu_toolkit import hints
from mpu_toolkit.cli import build_parser

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "mpu_toolkit"
URL = "mpu://bucket/a key/with 'quotes'.bin"

HINTS = {
    "abort": hints.abort(),
    "abort one": hints.abort(URL, "2~abc", young=True),
    "abort kept": hints.abort(URL, "ID"),
    "uploads": hints.list_uploads(),
    "uploads of": hints.list_uploads(URL),
    "resume": hints.resume_put("/tmp/my file.bin", URL, "2~abc"),
    "lifecycle": hints.lifecycle(),
    "lifecycle of": hints.lifecycle("mpu://bucket", days=3),
    "serve": hints.serve("9000"),
    "doctor": hints.doctor(),
    "doctor saved": hints.doctor(URL, save="my-store"),
    "ls": hints.list_objects(),
    "ls of": hints.list_objects(URL),
    "rm": hints.remove(),
    "rm recursive": hints.remove("mpu://bucket/a prefix/", recursive=True),
}


@pytest.mark.parametrize("name", sorted(HINTS))
def test_every_hint_parses_with_the_cli(name: str) -> None:
    words = shlex.split(HINTS[name])
    assert words[0] == "mpu"
    args = build_parser().parse_args(words[1:])  # an unknown command or flag exits 2
    assert callable(args.run)


@pytest.mark.parametrize("name", sorted(HINTS))
def test_no_hint_stops_for_a_confirmation(name: str) -> None:
    """A command that asks before it acts (``--yes``) exits 2 when no one can answer: a hint
    for one carries ``--yes``, so that pasted into a script it runs."""
    words = shlex.split(HINTS[name])
    command = build_parser()._subparsers._group_actions[0].choices[words[1]]  # type: ignore
    if "--yes" in command._option_string_actions:
        assert build_parser().parse_args(words[1:]).yes, HINTS[name]


def test_the_abort_hint_runs_unattended_and_keeps_the_values() -> None:
    args = build_parser().parse_args(shlex.split(hints.abort(URL, "2~abc", young=True))[1:])
    assert args.yes and args.force and args.upload_id == ["2~abc"] and args.urls == [URL]
    assert not build_parser().parse_args(shlex.split(hints.abort(URL))[1:]).force


def test_the_resume_hint_names_the_file_and_the_upload() -> None:
    args = build_parser().parse_args(shlex.split(hints.resume_put("/tmp/my file.bin", URL,
                                                                  "2~abc"))[1:])
    assert (args.file, args.url, args.resume) == ("/tmp/my file.bin", URL, True)


def test_a_wrong_flag_would_be_caught() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["abort", URL, "--yess"])


def strings(tree: ast.AST) -> list[str]:
    """The string constants of a module, docstrings left out."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings]


COMMAND = re.compile(r"\bmpu (?:abort|uploads|put|lifecycle|serve|cp|compose|parts|du|demo|doctor"
                     r"|ls|stat|cat|rm)\b")


def test_no_message_below_the_cli_writes_a_command_itself() -> None:
    written = [f"{path.relative_to(PACKAGE.parent)}: {text!r}"
               for path in sorted(PACKAGE.rglob("*.py"))
               if path.parent.name != "cli" and path.name != "hints.py"
               for text in strings(ast.parse(path.read_text()))
               if COMMAND.search(text)]
    assert not written, "use mpu_toolkit.hints for these:\n" + "\n".join(written)
