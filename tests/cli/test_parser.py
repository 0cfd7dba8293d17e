"""The ``mpu`` parser's answers to a mistyped option or command (cli/parser.py): the
subcommand's own usage, and the closest real names (Python 3.11's argparse has no
``suggest_on_error``)."""

from __future__ import annotations

import pytest

from mpu_toolkit.cli import build_parser


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(list(argv))
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_a_mistyped_option_prints_its_subcommands_usage_and_the_closest_option(capsys):
    err = refused(capsys, "uploads", "--wdie")
    assert err.startswith("usage: mpu uploads ")
    assert err.rstrip().endswith("mpu uploads: error: unrecognized arguments: --wdie — did "
                                 "you mean --wide?")
    err = refused(capsys, "--json", "rm", "mpu://b/k", "--recursve", "--dryrun")
    assert err.startswith("usage: mpu rm ") and "--recursive for --recursve" in err
    assert "--dry-run for --dryrun" in err


def test_an_option_unknown_everywhere_gets_no_guess(capsys):
    err = refused(capsys, "ls", "mpu://b/", "--zzz")
    assert err.startswith("usage: mpu ls ") and "did you mean" not in err


@pytest.mark.parametrize("typed, meant", [
    ("upload", "put or uploads"),  # another tool's name first, then the closest spelling
    ("lss", "ls"),
    ("delete", "rm"),
    ("stats", "stat"),
    ("abrot", "abort"),
])
def test_a_mistyped_command_gets_the_closest_commands(capsys, typed, meant):
    err = refused(capsys, typed, "mpu://b/k")
    assert err.startswith("usage: mpu ")
    assert err.rstrip().endswith(f"— did you mean {meant}?")


def test_a_command_like_no_other_gets_no_guess(capsys):
    assert "did you mean" not in refused(capsys, "zebra")
