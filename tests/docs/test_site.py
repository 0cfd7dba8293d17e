"""The docs site (mkdocs.yml) builds with warnings as errors, and holds what it promises: an API
reference generated from the docstrings with every public name of ``mpu_toolkit``, each
notebook as a page, and the benchmark charts drawn from the published runs' JSON.

The build runs once per session, as ``.ci/run`` runs it: ``python -m mkdocs build --strict``
into a directory of its own."""

from __future__ import annotations

import html
import importlib.util
import json
import pathlib
import re
import subprocess
import sys
from urllib.parse import quote

import pytest

import mpu_toolkit

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python",
         "mkdocs_jupyter", "matplotlib")
pytestmark = pytest.mark.slow  # a build of the whole site: ~15 s


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    missing = [name for name in TOOLS if importlib.util.find_spec(name.split(".")[0]) is None
               or importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"the docs tooling is not installed ({', '.join(missing)}): "
                    'pip install -e ".[docs]"')
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                            "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stderr[-6000:]}"
    return out


def text_of(page: pathlib.Path) -> str:
    """The page's text: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())


def anchors(site: pathlib.Path) -> set[str]:
    return {found for page in (site / "reference").rglob("*.html")
            for found in re.findall(r'id="(mpu_toolkit[\w.]*)"', page.read_text())}


def test_the_reference_shows_write_parquet_and_mpufilesystem_with_their_signatures(
        site: pathlib.Path) -> None:
    frames = text_of(site / "reference" / "dataframes" / "index.html")
    signature = frames.replace(" ", "")  # however the signature is wrapped and highlighted
    assert ("write_parquet(frames:Frames,url:str,*,storage_options:Mapping[str,Any]|None=None,"
            in signature), "write_parquet's signature is not on the DataFrames page"
    assert "row_group_size:int|str=" in signature
    assert "Stream frames as one Parquet object" in frames  # its docstring
    fs = text_of(site / "reference" / "filesystem" / "index.html")
    assert "MPUFileSystem(*args:Any," in fs.replace(" ", ""), "MPUFileSystem's signature"
    assert "Bases: S3FileSystem" in fs


def test_the_reference_documents_every_public_name(site: pathlib.Path) -> None:
    found = anchors(site)
    public = {f"mpu_toolkit.{name}" for name in mpu_toolkit.__all__ if name != "__version__"}
    asked = {"mpu_toolkit.uploads.list", "mpu_toolkit.uploads.abort",
             "mpu_toolkit.uploads.usage", "mpu_toolkit.uploads.lifecycle",
             "mpu_toolkit.widgets.UploadsBrowser", "mpu_toolkit.testing.LocalS3"}
    assert not (public | asked) - found, f"not in the API reference: {(public | asked) - found}"


def test_each_notebook_is_a_page_with_its_saved_cells(site: pathlib.Path) -> None:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.is_file(), f"{notebook.name} has no page"
        cells = json.loads(notebook.read_text())["cells"]
        heading = "".join(cells[0]["source"]).splitlines()[0].lstrip("# ").replace("`", "")
        code = next("".join(c["source"]).strip().splitlines()[0] for c in cells
                    if c["cell_type"] == "code" and "".join(c["source"]).strip())
        shown = text_of(page).replace(" ", "")
        assert heading.replace(" ", "") in shown, f"{notebook.name}: {heading}"
        assert code.replace(" ", "") in shown, f"{notebook.name}: {code}"
        assert (page.parent / notebook.name).is_file()  # the .ipynb to download


def test_the_benchmark_charts_are_drawn_from_the_published_runs(site: pathlib.Path) -> None:
    runs = sorted((ROOT / "docs" / "bench-data").glob("*.json"))
    assert runs, "no published benchmark run in docs/bench-data/"
    page = (site / "benchmarks" / "index.html").read_text()
    for run in runs:
        charts = sorted((site / "bench-charts").glob(f"{run.stem}*.svg"))
        assert charts, f"{run.name} has no chart"
        assert f"bench-data/{quote(run.name)}" in page  # a row of the runs table
        drawn = " ".join(chart.read_text() for chart in charts)
        result = json.loads(run.read_text())
        for row in result.get("summary") or result["rows"]:
            assert f"{row['mb_per_s']:,.0f}" in drawn, (run.name, row["writer"])
    for chart in (site / "bench-charts").glob("*.svg"):
        assert chart.read_text().lstrip().startswith("<?xml")
        assert f"bench-charts/{quote(chart.name)}" in page, f"{chart.name} is on no page"
