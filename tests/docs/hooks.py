"""docs/hooks/*.py (not a package: mkdocs loads them by path) imported by path for the tests."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

import pytest

HOOKS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "hooks"


def load(name: str, needs: str) -> ModuleType:
    """The hook module ``name``; a failure naming the extra when ``needs`` is not installed."""
    if importlib.util.find_spec(needs) is None:
        pytest.fail(f'{needs} is not installed: pip install -e ".[docs]"')
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HOOKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
