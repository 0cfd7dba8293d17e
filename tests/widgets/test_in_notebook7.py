"""UploadsBrowser in a real browser: Jupyter Notebook 7 + headless Chromium + Playwright.

Opens a generated notebook (its own LocalS3 inside the kernel, three incomplete uploads),
runs all cells from the Run menu, then drives the widget as a user would: filters by key
prefix, sorts by size, selects two uploads (click, shift-click), aborts them through the
confirmation and checks the server with an independent boto3 client. One screenshot per
state goes to tests/output/notebook7/. Needs ``/usr/bin/chromium`` and the ``playwright``,
``notebook`` (7.x) packages (never ``playwright install``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

from frontends import need_browser

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

sync_api = need_browser("boto3")
notebook = pytest.importorskip("notebook", reason="notebook (Jupyter Notebook 7) is missing "
                               "(the \'test\' extra has it)")
if int(notebook.__version__.split(".")[0]) < 7:
    pytest.skip(f"Jupyter Notebook 7 is needed, not {notebook.__version__}",
                allow_module_level=True)
pytest.importorskip("boto3")

from frontends import (DRIVE_UPLOADS, OUTPUT_ROOT, TOKEN, Frontend,  # noqa: E402
                       browser_notebook, browser_test, run_all, serve, wait_for_kernel)

OUTPUT = OUTPUT_ROOT / "notebook7"


def notebook7_command(port: int, dirs: Mapping[str, Path]) -> list[str]:
    return [sys.executable, "-m", "notebook", "--allow-root", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={dirs['root']}",
            f"--JupyterNotebookApp.user_settings_dir={dirs['settings']}",
            f"--JupyterNotebookApp.workspaces_dir={dirs['workspaces']}"]


@pytest.fixture
def nb7(tmp_path: Path) -> Iterator[Frontend]:
    with serve(tmp_path, notebook7_command, name="notebook7") as server:
        yield server


def test_uploads_browser_in_notebook7(nb7: Frontend, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    (nb7.root / "browser-test.ipynb").write_text(
        json.dumps(browser_notebook(state, DRIVE_UPLOADS)))

    def open_notebook(page: Any) -> None:
        page.goto(f"{nb7.base}/notebooks/browser-test.ipynb?token={TOKEN}")
        # kernel-ready race: the server's kernel idle with this page connected, and the
        # toolbar's indicator idle too (it says so before any kernel is there)
        wait_for_kernel(nb7)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
        run_all(page)
    browser_test(state, OUTPUT, open_notebook, not_ours=notebook7s_own)


def notebook7s_own(error: str) -> bool:
    """Notebook 7 (7.6) itself raises this while loading its settings in a fresh settings
    directory, before any cell runs: inside its own bundle, not in a widget."""
    return "reading 'schema'" in error and "/static/notebook/notebook_core." in error
