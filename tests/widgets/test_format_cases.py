"""Python's formatters and the uploads table's JS ones (uploads_table.js re-implements them to
format 100k rows in the browser) agree on one table of cases, format_cases.json: sizes, ages,
and the age filter's parsing. The JS side runs in node (format_cases.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mpu_toolkit.errors import ConfigurationError
from mpu_toolkit.inventory.safe_abort import parse_age
from mpu_toolkit.widgets.html_table import age_text, size_text

HERE = Path(__file__).resolve().parent
CASES: dict[str, Any] = json.loads((HERE / "format_cases.json").read_text())
SCRIPT = HERE.parents[1] / "mpu_toolkit" / "widgets" / "uploads_table.js"


@pytest.mark.parametrize("n, text", CASES["size"])
def test_python_sizes(n: int | None, text: str) -> None:
    assert size_text(n) == text


@pytest.mark.parametrize("seconds, text", CASES["age"])
def test_python_ages(seconds: float | None, text: str) -> None:
    assert age_text(None if seconds is None else pd.Timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("text, seconds", CASES["parse_age"])
def test_python_parses_ages(text: str, seconds: float | None) -> None:
    if seconds is None:
        with pytest.raises(ConfigurationError):
            parse_age(text)
    else:
        parsed = parse_age(text)
        assert parsed is not None and parsed.total_seconds() == seconds


def test_the_js_formatters_agree_on_every_case(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is needed to run the widget's JS (.ci/run installs it)"
    module = tmp_path / "uploads_table.mjs"  # the anywidget ESM, as node loads ES modules
    shutil.copyfile(SCRIPT, module)
    run = subprocess.run([node, str(HERE / "format_cases.mjs"), str(module),
                          str(HERE / "format_cases.json")], capture_output=True, text=True,
                         timeout=60)
    assert run.stdout, run.stderr
    report = json.loads(run.stdout)
    assert report["failures"] == [] and run.returncode == 0, report
    assert report["checked"] == sum(len(CASES[k]) for k in ("size", "age", "parse_age"))
