"""One way into the engine: above ``_engine/``, an upload (``S3Upload``) is built in one
module only, :meth:`MPUFileSystem.multipart_upload`, which resolves the options over the
filesystem's; every other layer asks it. Checked on the code, as the layering is."""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "mpu_toolkit"
BELOW = {"_engine", "_s3", "_plan"}  #: the engine and what it stands on


def constructions(tree: ast.AST, name: str) -> int:
    """Calls of ``name(...)`` or ``something.name(...)`` in ``tree``."""
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == name)
        or (isinstance(node.func, ast.Attribute) and node.func.attr == name)))


def modules_building(name: str) -> dict[str, int]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in BELOW:
            continue
        count = constructions(ast.parse(path.read_text()), name)
        if count:
            found[str(relative)] = count
    return found


def test_s3upload_is_built_above_the_engine_in_one_place() -> None:
    assert modules_building("S3Upload") == {"fs.py": 1}


def test_the_grep_sees_a_construction() -> None:
    tree = ast.parse("u = S3Upload(client, loop, ref, opts)\nv = upload.S3Upload(c, l, r, o)")
    assert constructions(tree, "S3Upload") == 2
