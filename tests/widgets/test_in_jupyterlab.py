"""UploadsBrowser in a real browser: JupyterLab + headless Chromium (system package) + Playwright.

Runs a small generated notebook (its own LocalS3 inside the kernel, three incomplete uploads),
drives the widget as a user does (filter, sort by a header, tick and shift-click, abort,
confirm; :func:`frontends.drive_uploads_browser`, shared with Notebook 7 and Voilà) and checks
the server's state with an independent boto3 client. Needs ``/usr/bin/chromium`` and the ``playwright``,
``jupyterlab`` packages; ``.ci/run`` installs them (never ``playwright install``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterator, Mapping

import pytest

from frontends import CHROMIUM, CHROMIUM_ARGS, TOKEN, need_browser, notebook_of  # noqa: F401


pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
sync_api = need_browser("jupyterlab", "psutil", "boto3")

from frontends import (DRIVE_UPLOADS, OUTPUT_ROOT, Frontend, browser_notebook,  # noqa: E402
                       browser_test, run_in_lab, serve)

Lab = Frontend  # the name other browser tests import with the fixture
OUTPUT = OUTPUT_ROOT / "jupyterlab"

def lab_command(port: int, dirs: Mapping[str, Path]) -> list[str]:
    return [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
            "--ServerApp.open_browser=False", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={dirs['root']}",
            "--LabApp.extension_manager=readonly", "--LabApp.news_url=",
            f"--LabApp.user_settings_dir={dirs['settings']}",
            f"--LabApp.workspaces_dir={dirs['workspaces']}"]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    with serve(tmp_path, lab_command, name="lab") as server:
        yield server


def test_uploads_browser_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    (lab.root / "browser-test.ipynb").write_text(
        json.dumps(browser_notebook(state, DRIVE_UPLOADS)))
    browser_test(state, OUTPUT, lambda page: run_in_lab(page, lab.base, "browser-test.ipynb"),
                 height=1400)
