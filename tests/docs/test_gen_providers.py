"""docs/providers.md is what docs/gen_providers.py writes from the presets now (so it cannot go
stale), and it shows every value of every preset with its provenance: documented (a link to
the preset's sources), measured (a link to how), a default, or unknown."""

from __future__ import annotations

import importlib.util
import pathlib
import re
from dataclasses import fields
from types import ModuleType

import pytest

from mpu_toolkit._s3.provider_presets import PRESETS
from mpu_toolkit._s3.providers import PROVIDERS, Provider

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "providers.md"
#: Provider's fields that are not values of the store: names, links, prose, provenance, and
#: the payload-signing setting every preset shares (tests/s3/test_providers.py)
NOT_VALUES = {"name", "title", "console", "pricing", "quirks", "sources", "measured",
              "s3_config"}
MARKS = re.compile(r"\[(doc|measured|default)\]\(#([a-z0-9-]+)\)")


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_providers",
                                                  ROOT / "docs" / "gen_providers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return generator()


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_file_is_what_the_generator_writes_now(gen: ModuleType, doc: str) -> None:
    written: list[str] = []
    gen.main(written.append)
    assert "".join(written) == doc, ("docs/providers.md is stale: run "
                                     "`python docs/gen_providers.py > docs/providers.md`")


def test_every_value_of_a_preset_is_a_column(gen: ModuleType) -> None:
    shown = [name for _, columns in gen.FAMILIES for name, _ in columns]
    assert len(shown) == len(set(shown))
    assert set(shown) == {f.name for f in fields(Provider)} - NOT_VALUES


def rows(doc: str, gen: ModuleType) -> dict[tuple[str, str], str]:
    """(provider, field) -> the cell of the tables."""
    cells = {}
    for title, columns in gen.FAMILIES:
        table = doc.split(f"### {title}\n", 1)[1].strip().split("\n\n", 1)[0]
        for line in table.splitlines()[2:]:
            row = [c.strip() for c in line.strip("|").split(" | ")]
            name = re.fullmatch(r"\[`([a-z0-9-]+)`\]\(#[a-z0-9-]+\)", row[0])
            assert name, line
            for (field, _), cell in zip(columns, row[1:], strict=True):
                cells[name[1], field] = cell
    return cells


@pytest.mark.parametrize("provider", list(PROVIDERS.values()), ids=list(PROVIDERS))
def test_every_value_shows_its_provenance(provider: Provider, gen: ModuleType,
                                          doc: str) -> None:
    record = next(r for r in PRESETS if r["name"] == provider.name)
    cells = rows(doc, gen)
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', doc))
    assert provider.name in anchors and "defaults" in anchors
    for field in {f.name for f in fields(Provider)} - NOT_VALUES:
        cell, value = cells[provider.name, field], getattr(provider, field)
        marks = MARKS.findall(cell)
        if value is None:
            assert marks == [] and cell.startswith(("?", "—")), (provider.name, field, cell)
            continue
        assert len(marks) == 1, (provider.name, field, cell)
        (mark, target), = marks
        assert target in anchors, (provider.name, field, cell)
        if field in provider.measured:
            assert mark == "measured", (provider.name, field, cell)
            line = doc.split(f'<a id="{target}"></a>', 1)[1].splitlines()[0]
            assert line.endswith(provider.measured[field])
        elif field in record:
            assert (mark, target) == ("doc", provider.name), (provider.name, field, cell)
        else:
            assert mark == "default", (provider.name, field, cell)
    section = doc.split(f'<a id="{provider.name}"></a>', 1)[1].split("\n### ", 1)[0]
    for source in provider.sources:
        assert source.partition(" ")[0] in section


def test_each_preset_field_the_doctor_sets_is_in_its_mapping(doc: str) -> None:
    from mpu_toolkit.doctor import NAMES

    mapping = doc.split("## Correct it with `mpu doctor`", 1)[1]
    for field in ("checksum", "if_none_match_put", "if_none_match_complete", "if_match",
                  "copy_source_if_match", "list_uploads_by_prefix", "lifecycle",
                  "equal_parts", "addressing"):
        assert f"| `{field}` |" in mapping
    assert all(f"`{name}`" in mapping for name in NAMES)
    assert "--save" in mapping and "provider" in mapping and "issue" in mapping


def test_a_changed_value_makes_the_file_stale(gen: ModuleType, doc: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The freshness check can fail: a preset measured differently writes another file."""
    ceph = PROVIDERS["ceph"]
    changed = Provider(**{**{f.name: getattr(ceph, f.name) for f in fields(Provider)},
                          "if_none_match_complete": True})
    monkeypatch.setattr(gen, "PROVIDERS", {**PROVIDERS, "ceph": changed})
    written: list[str] = []
    gen.main(written.append)
    assert "".join(written) != doc
