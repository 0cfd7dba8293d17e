"""The layering rule of ARCHITECTURE.md, checked on the code: every import in the package
points down the table of layers (or stays inside its own room), and no modules import each
other in a circle. A new import that breaks the rule fails here, naming both ends."""

from __future__ import annotations

import ast
import pathlib
from typing import Mapping, TypeVar

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "mpu_toolkit"
T = TypeVar("T")

#: rooms, bottom to top (the same table as ARCHITECTURE.md). A module may import its own room
#: and any room of a lower layer; rooms of one layer are independent of each other.
LAYERS: list[set[str]] = [
    {"errors", "model", "hints"},    # the records every layer shares; the commands hints name
    {"_plan"},                       # pure planners: sizes, digests, layouts
    {"_s3"},                         # the wire: requests, retries, error mapping
    {"progress"},                    # progress events and displays
    {"options"},                     # validated options
    {"_engine"},                     # one upload, the writer, planned transfers, concurrency
    {"fs"},                          # the fsspec adapter (mpu://)
    {"handle"},                      # the upload that travels between processes
    {"api", "s3_protocol"},          # the blocking entry points by URL; s3:// (opt-in)
    {"formats", "inventory", "testing", "doctor"},  # frames → files; incomplete uploads;
                                                   # local S3; what a store honours
    {"dask"},                        # many workers → one object; job-committed datasets
    {"cli", "widgets"},              # front ends
]
FACADES = {"mpu_toolkit/__init__.py", "mpu_toolkit/cli/__main__.py"}
LAYER_OF = {room: number for number, rooms in enumerate(LAYERS) for room in rooms}


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str:
    return module.split(".")[1]


def imports(path: pathlib.Path) -> set[str]:
    """The package's modules that ``path`` imports (anywhere in it), resolved."""
    return imports_of(path.read_text(), module_name(path), path.name == "__init__.py")


def imports_of(text: str, here: str, is_package: bool) -> set[str]:
    package = here if is_package else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found |= {n for n in names if module_file(n)} or {target}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m.startswith("mpu_toolkit.") and m != here}


def module_file(name: str) -> pathlib.Path | None:
    base = PACKAGE.parent / name.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
           if str(p.relative_to(PACKAGE.parent)) not in FACADES}


def test_every_room_has_a_layer() -> None:
    assert {room(m) for m in MODULES if "." in m} <= set(LAYER_OF)


def upward(module: str, imported: set[str]) -> list[str]:
    """The imports of ``module`` that break the rule."""
    source = room(module)
    return [target for target in sorted(imported)
            if room(target) != source and LAYER_OF[room(target)] >= LAYER_OF[source]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module: str) -> None:
    wrong = upward(module, imports(MODULES[module]))
    assert not wrong, (f"{module} (layer {LAYER_OF[room(module)]}: {room(module)}) imports "
                       f"{wrong}: a room may import only rooms of lower layers — see "
                       "ARCHITECTURE.md")


def circle(graph: Mapping[T, set[T]]) -> list[T] | None:
    """A path of imports that comes back to its start, if ``graph`` has one."""
    done: set[T] = set()

    def visit(node: T, path: list[T]) -> list[T] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for target in sorted(graph[node], key=str):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for node in sorted(graph, key=str):
        found = visit(node, [])
        if found:
            return found
    return None


def test_no_import_circles() -> None:
    graph = {m: {t for t in imports(p) if t in MODULES} for m, p in MODULES.items()}
    found = circle(graph)
    assert not found, "import circle: " + " → ".join(found or [])


# -- the whole repository: bench/ and tests/ import their neighbours by name (sys.path) --------
REPOSITORY = PACKAGE.parent
SKIPPED = {".git", ".venv", "build", "dist", "node_modules", "__pycache__"}


def repository_files() -> list[pathlib.Path]:
    return sorted(p for p in REPOSITORY.rglob("*.py")
                  if not SKIPPED & set(p.relative_to(REPOSITORY).parts[:-1])
                  and not p.relative_to(REPOSITORY).parts[0].startswith("."))


def script_imports(path: pathlib.Path) -> set[pathlib.Path]:
    """The repository's files that ``path`` imports, anywhere in it (functions included): the
    package's modules, and a script's or test's neighbours, which it finds on ``sys.path``
    (its own folder, tests/ where conftest.py is, the repository)."""
    if PACKAGE in path.parents:
        return {MODULES_BY_NAME[m] for m in imports(path) if m in MODULES_BY_NAME}
    found: set[pathlib.Path] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            for folder in (path.parent, REPOSITORY / "tests", REPOSITORY):
                base = folder / name.replace(".", "/")
                found |= {c for c in (base.with_suffix(".py"), base / "__init__.py")
                          if c.exists() and c != path}
    return found


MODULES_BY_NAME = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_no_import_circles_anywhere_in_the_repository() -> None:
    """bench/'s scripts and tests/' helpers too: a circle there is as hard to follow."""
    graph = {p: script_imports(p) for p in repository_files()}
    assert any("bench" in p.parts for p in graph) and any("tests" in p.parts for p in graph)
    found = circle(graph)
    assert not found, "import circle: " + " → ".join(
        str(p.relative_to(REPOSITORY)) for p in found or [])


def test_the_repository_check_catches_a_circle_between_scripts() -> None:
    assert circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert circle({"a": {"b"}, "b": set()}) is None


def test_the_rule_catches_an_upward_import_and_a_sideways_one() -> None:
    """The check itself: the engine importing the CLI, formats importing the inventory."""
    engine = MODULES["mpu_toolkit._engine.upload"].read_text() + "\nfrom ..cli import main\n"
    assert upward("mpu_toolkit._engine.upload",
                  imports_of(engine, "mpu_toolkit._engine.upload", False)) == ["mpu_toolkit.cli"]
    frames = "from ..inventory import listing\nfrom ..fs import filesystem\n"
    assert upward("mpu_toolkit.formats.parquet",
                  imports_of(frames, "mpu_toolkit.formats.parquet", False)) == [
        "mpu_toolkit.inventory.listing"]


def test_every_test_module_has_its_own_basename() -> None:
    """The tests' folders are not packages (rootdir imports): two ``test_x.py`` in different
    folders cannot be collected in one session ("import file mismatch"), which a run of a few
    files never shows and the whole suite does."""
    tests = pathlib.Path(__file__).resolve().parent
    by_name: dict[str, list[str]] = {}
    for path in tests.rglob("*.py"):
        if "output" not in path.relative_to(tests).parts:
            by_name.setdefault(path.name, []).append(str(path.relative_to(tests)))
    shared = {name: paths for name, paths in by_name.items()
              if len(paths) > 1 and name not in ("__init__.py", "conftest.py")}
    assert not shared, f"rename one of each: {shared}"
