"""Typed surfaces: every public write function types its ``**options`` (so IDEs, mypy and
Jupyter's signature help show the writer options), and mypy holds a program to them — a
correct one passes, a misspelled option is reported by name."""

from __future__ import annotations

import inspect
import pathlib
from typing import Any, Callable, Iterator

import pytest

import mpu_toolkit
from mpu_toolkit import MPUFileSystem

ROOT = pathlib.Path(__file__).resolve().parents[1]
USAGE = ROOT / "tests" / "typing"

#: fsspec's and s3fs's own signatures, overridden: their keywords are fsspec's to define; and
#: the loose merge of keywords the library builds (validated at run time, as from_kwargs)
LOOSE_BY_DESIGN = {"MPUFileSystem.__init__", "MPUFileSystem.open", "MPUFileSystem.set_session",
                   "WriteOptions.updated"}


def public_callables() -> Iterator[tuple[str, Callable[..., Any]]]:
    """mpu_toolkit's public functions, and the public methods its classes define (not the
    interruptible wrappers of fsspec's methods that ``fs.py`` generates)."""
    for name in mpu_toolkit.__all__:
        value = getattr(mpu_toolkit, name)
        if inspect.isfunction(value):
            yield name, value
        elif inspect.isclass(value) and value.__module__.startswith("mpu_toolkit"):
            for attribute, member in vars(value).items():
                if (inspect.isfunction(member) and member.__qualname__.startswith(value.__name__)
                        and (not attribute.startswith("_") or attribute == "__init__")):
                    yield f"{name}.{attribute}", member


def loose_keywords(function: Callable[..., Any]) -> list[str]:
    """``function``'s ``**keywords`` typed ``Any`` (or not typed at all)."""
    return [p.name for p in inspect.signature(function).parameters.values()
            if p.kind is p.VAR_KEYWORD and p.annotation in (Any, "Any", p.empty)]


def test_the_write_functions_are_among_those_inspected() -> None:
    names = dict(public_callables())
    assert {"write_parquet", "write_csv", "write_jsonl", "upload_file", "copy", "compose",
            "start_upload", "to_single_object", "to_dataset", "open_writer",
            "MPUFileSystem.open_writer", "MPUFileSystem.upload_file",
            "MPUFileSystem.compose"} <= set(names)
    assert loose_keywords(MPUFileSystem.open) == ["kwargs"]  # the check sees an Any


@pytest.mark.parametrize("name, function", list(public_callables()))
def test_no_public_function_takes_keywords_typed_any(name: str,
                                                     function: Callable[..., Any]) -> None:
    if name in LOOSE_BY_DESIGN:
        return
    assert not loose_keywords(function), (
        f"{name}(**{loose_keywords(function)[0]}: Any): type them, e.g. "
        "**options: Unpack[WriteOptionsDict] (mpu_toolkit/options.py)")


def test_the_signature_help_names_the_typed_options() -> None:
    """What Jupyter's Shift-Tab shows: the TypedDict, and the options in the docstring."""
    signature = str(inspect.signature(mpu_toolkit.open_writer))
    assert "**options: 'Unpack[OpenWriterOptions]'" in signature
    assert "part_size" in (mpu_toolkit.open_writer.__doc__ or "")
    assert "ServerSideEncryption" in (mpu_toolkit.write_parquet.__doc__ or "")


def test_mypy_passes_the_typed_usage_and_reports_a_misspelled_option(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    monkeypatch.chdir(ROOT)  # mypy finds this checkout's mpu_toolkit first, and the config
    report, errors, status = mypy_api.run([
        "--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary",
        "tests/typing/usage_ok.py", "tests/typing/usage_misspelled.py"])
    lines = [line for line in report.splitlines() if ": error: " in line]
    assert status == 1 and not errors, report + errors
    assert not [line for line in lines if "usage_ok.py" in line], report
    assert any('usage_misspelled.py:11: error: Unexpected keyword argument "part_sise" for '
               '"open_writer"; did you mean "part_size"?' in line for line in lines), report
    assert any('Unexpected keyword argument "concurency" for "write_parquet"' in line
               for line in lines), report
    assert any('usage_misspelled.py:14: error: Argument "checksum" to "write_parquet" has '
               'incompatible type' in line for line in lines), report
    assert len(lines) == 3, report

