"""UploadsBrowser in a real browser: Voilà + headless Chromium + Playwright.

Voilà executes a generated notebook (its own LocalS3 inside the kernel, three incomplete
uploads) when the page loads and shows only its outputs. The test waits for the widget,
then drives it as a user would: filters by key prefix, sorts by size, selects two uploads
(click, shift-click), aborts them through the confirmation and checks the server with an
independent boto3 client. One screenshot per state goes to tests/output/voila/. Needs
``/usr/bin/chromium`` and the ``playwright``, ``voila`` packages (never ``playwright
install``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

from frontends import need_browser

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

sync_api = need_browser("voila", "boto3")

from frontends import (DRIVE_UPLOADS, OUTPUT_ROOT, TOKEN, Frontend,  # noqa: E402
                       browser_notebook, browser_test, serve)

OUTPUT = OUTPUT_ROOT / "voila"
NOTEBOOK = "browser-test.ipynb"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


@pytest.fixture
def voila(tmp_path: Path, state: Path) -> Iterator[Frontend]:
    def command(port: int, dirs: Mapping[str, Path]) -> list[str]:
        # Voilà serves this one notebook (it must exist when it starts)
        (dirs["root"] / NOTEBOOK).write_text(json.dumps(browser_notebook(state, DRIVE_UPLOADS)))
        return [sys.executable, "-m", "voila", NOTEBOOK, "--no-browser", f"--port={port}",
                "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", f"--Voila.token={TOKEN}",
                "--VoilaConfiguration.show_tracebacks=True"]

    # any path but Voilà's own renders the notebook (a kernel): probe a static file
    with serve(tmp_path, command, name="voila", ready_path="/voila/static/voila.js",
               jupyter_api=False) as server:
        yield server


def test_uploads_browser_in_voila(voila: Frontend, state: Path) -> None:
    def open_notebook(page: Any) -> None:
        # the page executes the notebook: the kernel starts a LocalS3, lists, renders
        page.goto(f"{voila.base}/?token={TOKEN}")
        page.locator(".mpu-uploads-browser").wait_for(timeout=90_000)
    browser_test(state, OUTPUT, open_notebook)
