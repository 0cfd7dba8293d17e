"""Execute every notebook in notebooks/ top to bottom in a real kernel (nbclient).

The notebooks start their own embedded LocalS3, so these tests need no session server. The
kernel is this interpreter, as in the docs build (docs/hooks/run_notebooks.py: a temporary
``python3`` kernelspec pointing at ``sys.executable``, first on JUPYTER_PATH), and the first
executed cell checks ``sys.executable``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs.hooks import load

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
runner = load("run_notebooks", "nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

pytestmark = pytest.mark.slow  # a kernel start and a moto server: ~5-10 s per notebook


@pytest.fixture
def this_python_kernel() -> Iterator[str]:
    with runner.this_python_kernel() as name:
        yield name


def run(name: str, kernel_name: str) -> Any:
    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    runner.client(nb, kernel_name, NOTEBOOKS).execute()
    assert _text(nb.cells[0]).strip() == sys.executable  # the kernel is this environment
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    return nb


def _text(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _all_text(nb: Any) -> str:
    return "\n".join(_text(c) for c in nb.cells if c.cell_type == "code")


def _widget_models(nb: Any) -> list[dict[str, Any]]:
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return [model["state"] for model in state.values()]


def _progress_statuses(nb: Any) -> list[str]:
    """The final text of every UploadProgress widget the notebook displayed."""
    return [m["value"] for m in _widget_models(nb)
            if "mpu-progress-status" in m.get("_dom_classes", ())]


def _displayed_widgets(nb: Any) -> int:
    return sum(WIDGET_VIEW in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs)


def test_stream_dataframes_to_parquet(this_python_kernel: str) -> None:
    nb = run("01-stream-dataframes-to-parquet.ipynb", this_python_kernel)
    text = _all_text(nb)
    assert "round-tripped rows: 1,000,000 (written: 1,000,000)" in text
    assert "producer failed: the source database went away" in text
    assert "object exists: False" in text
    assert "incomplete uploads left: 0" in text
    assert "stopped" in text
    # progress=True showed UploadProgress (not tqdm) in the kernel: green, then red
    assert _displayed_widgets(nb) >= 2
    statuses = _progress_statuses(nb)
    assert any(re.search(r"completed — [0-9.]+ [KMG]?i?B, ETag", s) for s in statuses), statuses
    assert any("aborted —" in s or "failed —" in s for s in statuses), statuses
    bars = [m["bar_style"] for m in _widget_models(nb)
            if "mpu-progress-bar" in m.get("_dom_classes", ())]
    assert sorted(bars) == ["danger", "success"]
    # the FrameWriteResult is the cell's displayed value
    assert any("FrameWriteResult(" in o.get("data", {}).get("text/plain", "")
               for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_find_cost_abort_incomplete_uploads(this_python_kernel: str) -> None:
    nb = run("02-find-cost-abort-incomplete-uploads.ipynb", this_python_kernel)
    text = _all_text(nb)
    # 16 MiB → 3 parts of 5 MiB kept, 11 MiB → 2, 6 MiB → 1 (the unsent tail is never uploaded)
    assert f"incomplete uploads: 3, parts: 6, bytes: {6 * 5 * 1024 * 1024:,}" in text
    assert re.search(r"held: 31,457,280 bytes, 0\.000674 USD a month", text), text
    assert "monthly_cost" in "".join(
        o.get("data", {}).get("text/plain", "") for c in nb.cells if c.cell_type == "code"
        for o in c.outputs)
    assert "incomplete uploads left: 0" in text
    assert "stopped" in text
    assert any("mpu-uploads-browser" in m.get("_dom_classes", ()) for m in _widget_models(nb))


def test_copy_compose_resume(this_python_kernel: str) -> None:
    nb = run("03-copy-compose-resume.ipynb", this_python_kernel)
    text = _all_text(nb)
    assert "copy: UploadPartCopy, 3 parts, 25,165,824 bytes copied by the server, 0 through" in text
    assert "metadata kept: {'source': 'sensor-7'}" in text
    assert "'stage': 'validated'" in text
    assert "rows in the composed object: 406,200 (shards: 406,200)" in text
    assert "child killed: -9" in text
    kept = re.search(r"kept (\d+) parts, sent (\d+), replaced \[\]", text)
    assert kept and int(kept.group(1)) >= 5 and sum(map(int, kept.groups())) == 12, text
    assert "object matches the local file: True" in text
    assert "appended: 25,165,839 bytes, parts [(1, 25165824), (2, 15)]" in text
    assert "after the append, metadata: {'source': 'sensor-7'}" in text
    assert "run 1: wrote the report" in text and "run 2: ObjectExists" in text
    assert "b'run,1\\n'" in text
    assert "incomplete uploads left: 0" in text and "stopped" in text
    statuses = _progress_statuses(nb)
    assert any(re.search(r"completed — [0-9.]+ [KMG]?i?B, ETag", s) for s in statuses), statuses


def test_dask_many_workers_one_object(this_python_kernel: str) -> None:
    pytest.importorskip("distributed")
    nb = run("04-dask-many-workers-one-object.ipynb", this_python_kernel)
    text = _all_text(nb)
    assert "workers: 2" in text and "8 partitions, 1200000 rows" in text
    assert "rows read back: 1200000" in text
    assert "byte-identical to pandas writing the whole frame: True" in text
    assert "failed: bad partition" in text and "object exists: False" in text
    assert "incomplete uploads left: 0" in text
    assert "one file: 1,200,000 rows in 24 row groups" in text  # 8 x 150,000 / 50,000
    assert "every row once, in order: True" in text
    assert "('Amsterdam', " in text  # DuckDB's GROUP BY through the mpu filesystem
    assert "_SUCCESS written: True" in text and "rows read back: 1200000" in text
    assert "objects under broken-sales/: 0" in text
    assert text.count("incomplete uploads left: 0") == 2
    assert "-3 size 15728640" in text.replace('"', "")  # the handle's three 5 MiB parts
    assert "UploadHandle(url=" in text and "storage_options=" not in text  # no credentials
    assert "stopped" in text


def test_know_your_store(this_python_kernel: str) -> None:
    nb = run("05-know-your-store.ipynb", this_python_kernel)
    text = _all_text(nb)
    assert re.search(r"2[0-9] capabilities in [0-9.]+ s; left behind: 0 objects, 0 uploads",
                     text), text
    assert "saved: local-moto.json" in text
    assert "checksum: md5 (auto: no faster mode is verified by this store)" in text
    for mode in ("md5", "sha256-payload", "crc32c", "crc64nvme", "none"):
        assert f"checksum: {mode} " in text
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells
                   if c.cell_type == "code" for o in c.outputs)
    assert "if_none_match_complete" in html and "sha256_payload_verified" in html
    assert "stopped" in text
