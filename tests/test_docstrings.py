"""Every ``mpu_toolkit.…`` name the package's docstrings and comments mention exists: a module
renamed or moved leaves no reference behind (three once named ``mpu_toolkit.upload`` and
``mpu_toolkit.writer`` long after those modules had moved into ``_engine/``)."""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import re

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "mpu_toolkit"
DOTTED = re.compile(r"(?<![\w.])(mpu_toolkit(?:\.\w+)+)")


def resolves(name: str) -> bool:
    """``name`` is a module, or attributes of the longest module it starts with."""
    parts = name.split(".")
    for length in range(len(parts), 0, -1):
        module = ".".join(parts[:length])
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            value: object = importlib.import_module(module)
            for attribute in parts[length:]:
                if not hasattr(value, attribute):
                    return False
                value = getattr(value, attribute)
            return True
    return False


def test_every_dotted_name_in_the_package_resolves() -> None:
    stale = sorted({f"{path.relative_to(PACKAGE.parent)}: {name}"
                    for path in PACKAGE.rglob("*.py")
                    for name in DOTTED.findall(path.read_text())
                    if not resolves(name)})
    assert not stale, "names of modules or objects that do not exist:\n" + "\n".join(stale)


def test_the_check_sees_a_stale_name() -> None:
    assert resolves("mpu_toolkit._engine.upload.S3Upload")
    assert not resolves("mpu_toolkit.upload.S3Upload")
    assert not resolves("mpu_toolkit.MultipartWriter.no_such_method")
