"""The docs site (mkdocs.yml) builds with warnings as errors, and holds what it promises: an API
reference generated from the docstrings with every public name of ``mpu_toolkit``, each
notebook as a page with its outputs (executed by the build; the notebooks themselves stay
without), and the benchmark charts drawn from the published runs' JSON.

The build runs once per session, as ``.ci/run`` runs it: ``python -m mkdocs build --strict``
into a directory of its own."""

from __future__ import annotations

import html
import importlib.util
import json
import os
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
pytestmark = pytest.mark.slow  # the site built with the notebooks executed (~35 s), and without
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# a line each notebook prints once it has run (its values are in no cell's source)
PRINTED = {
    "01-stream-dataframes-to-parquet": "round-tripped rows: 1,000,000 (written: 1,000,000)",
    "02-find-cost-abort-incomplete-uploads": "incomplete uploads: 3, parts: 6, bytes: 31,457,280",
    "03-copy-compose-resume": "object matches the local file: True",
    "04-dask-many-workers-one-object": "byte-identical to pandas writing the whole frame: True",
    "05-know-your-store": "saved: local-moto.json",
}
WIDGET_VIEW = '<script type="application/vnd.jupyter.widget-view+json">'
WIDGET_STATE = '<script type="application/vnd.jupyter.widget-state+json">'


def build(out: pathlib.Path, **env: str) -> pathlib.Path:
    missing = [name for name in TOOLS if importlib.util.find_spec(name.split(".")[0]) is None
               or importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"the docs tooling is not installed ({', '.join(missing)}): "
                    'pip install -e ".[docs]"')
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                            "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                           timeout=600, env={**os.environ, **env})
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stderr[-6000:]}"
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return build(tmp_path_factory.mktemp("site"), MPU_DOCS_NOTEBOOK_OUTPUTS="1")  # the default


def text_of(page: pathlib.Path) -> str:
    """The page's text: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())


def printed(page: pathlib.Path) -> list[str]:
    """The text outputs (prints, a value's text/plain) shown on a notebook's page."""
    return [html.unescape(text) for text in re.findall(
        r'data-mime-type="text/plain"[^>]*>\s*<pre>(.*?)</pre>', page.read_text(), re.DOTALL)]


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
    assert NOTEBOOKS
    for notebook in NOTEBOOKS:
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


def test_each_notebook_page_shows_the_outputs_of_the_notebook_run_to_its_end(
        site: pathlib.Path) -> None:
    assert sorted(PRINTED) == [n.stem for n in NOTEBOOKS], "a marker for every notebook"
    for stem, line in PRINTED.items():
        page = site / "notebooks" / stem / "index.html"
        shown = printed(page)
        assert any(line in text for text in shown), f"{stem}: {line!r} not in {shown}"
        assert shown[-1].strip() == "stopped", f"{stem} did not run to its last cell"
    frames = (site / "notebooks" / "01-stream-dataframes-to-parquet" / "index.html").read_text()
    assert '<table border="1" class="dataframe">' in frames  # df.head(), as pandas' HTML
    assert any(t.startswith("FrameWriteResult(url='mpu://demo-frames/events.parquet'")
               for t in printed(site / "notebooks" / "01-stream-dataframes-to-parquet"
                                / "index.html"))
    store = (site / "notebooks" / "05-know-your-store" / "index.html").read_text()
    assert "if_none_match_complete" in store  # the doctor report's HTML


def test_the_widgets_are_on_the_page_with_their_state_and_requirejs(site: pathlib.Path) -> None:
    """The widgets' views and saved state, rendered in the browser by
    @jupyter-widgets/html-manager, an AMD module: RequireJS is on the page."""
    progress = (site / "notebooks" / "01-stream-dataframes-to-parquet" / "index.html").read_text()
    assert progress.count(WIDGET_VIEW) == 2  # the completed and the failed write
    state = progress.split(WIDGET_STATE, 1)[1].split("</script>", 1)[0]
    assert "mpu-progress-status" in state and "completed \\u2014" in state
    assert re.search(r'<script src="[^"]*require(\.min)?\.js"></script>', progress)
    assert "html-manager@" in progress
    browser = (site / "notebooks" / "02-find-cost-abort-incomplete-uploads" / "index.html")
    assert "mpu-uploads-browser" in browser.read_text().split(WIDGET_STATE, 1)[1]
    # the uploads table is an anywidget: RequireJS is told where its AMD build is
    assert ('requirejs.config({paths: {anywidget: new URL("../../javascripts/anywidget", '
            in browser.read_text())
    assert 'define(["@jupyter-widgets/base"]' in (site / "javascripts" / "anywidget.js").read_text()


def test_the_notebooks_themselves_stay_without_outputs(site: pathlib.Path) -> None:
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text())["cells"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in cells
                   if c["cell_type"] == "code"), f"{notebook.name} was written by the build"
        assert "widgets" not in json.loads(notebook.read_text())["metadata"]


def test_the_switch_builds_the_notebook_pages_without_running_them(
        tmp_path: pathlib.Path) -> None:
    quick = build(tmp_path / "site", MPU_DOCS_NOTEBOOK_OUTPUTS="0")
    for notebook in NOTEBOOKS:
        page = quick / "notebooks" / notebook.stem / "index.html"
        assert page.is_file() and printed(page) == [], notebook.name
        assert "requirejs.config" not in page.read_text()
    assert not (quick / "javascripts" / "anywidget.js").exists()


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
