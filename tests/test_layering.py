"""The layering rule of ARCHITECTURE.md, checked on the code: every import in the package
points down the table of layers (or stays inside its own room), and no modules import each
other in a circle. A new import that breaks the rule fails here, naming both ends."""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "mpu_toolkit"

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
    {"formats", "inventory", "testing"},  # frames → files; incomplete uploads; local S3
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


def test_no_import_circles() -> None:
    graph = {m: {t for t in imports(p) if t in MODULES} for m, p in MODULES.items()}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import circle: " + " → ".join(path[path.index(module):]
                                                               + [module]))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_rule_catches_an_upward_import_and_a_sideways_one() -> None:
    """The check itself: the engine importing the CLI, formats importing the inventory."""
    engine = MODULES["mpu_toolkit._engine.upload"].read_text() + "\nfrom ..cli import main\n"
    assert upward("mpu_toolkit._engine.upload",
                  imports_of(engine, "mpu_toolkit._engine.upload", False)) == ["mpu_toolkit.cli"]
    frames = "from ..inventory import listing\nfrom ..fs import filesystem\n"
    assert upward("mpu_toolkit.formats.parquet",
                  imports_of(frames, "mpu_toolkit.formats.parquet", False)) == [
        "mpu_toolkit.inventory.listing"]
