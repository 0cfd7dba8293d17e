"""UploadsBrowser in a real browser: JupyterLab + headless Chromium (system package) + Playwright.

Runs a small generated notebook (its own LocalS3 inside the kernel, two incomplete uploads),
selects one upload in the widget, aborts it through the confirmation and checks the server's
state with an independent boto3 client. Needs ``/usr/bin/chromium`` and the ``playwright``,
``jupyterlab`` packages; ``.ci/run`` installs them (never ``playwright install``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest

from frontends import CHROMIUM, CHROMIUM_ARGS, TOKEN, notebook_of  # noqa: F401 (re-exported)

OUTPUT = Path(__file__).parent / "output" / "browser"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (.ci/run installs Debian's chromium with apt)",
                allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is missing (.ci/run installs it via the 'test' extra; no browser download)")
pytest.importorskip("jupyterlab", reason="jupyterlab is missing (.ci/run installs it via the "
                    "'test' extra)")
psutil = pytest.importorskip("psutil")
boto3 = pytest.importorskip("boto3")

from frontends import Frontend, alive_uploads, browser_notebook, serve  # noqa: E402

Lab = Frontend  # the name other browser tests import with the fixture

# two incomplete uploads of one 1 KiB part each
UPLOADS = {"browser/a": 1024, "browser/b": 1024}


def _notebook(state: Path) -> dict[str, Any]:
    return browser_notebook(state, UPLOADS)


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


def test_abort_one_upload_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    (lab.root / "browser-test.ipynb").write_text(json.dumps(_notebook(state)))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT / "uploads-browser.png"
    screenshot.unlink(missing_ok=True)

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.set_default_timeout(20_000)
            page.goto(f"{lab.base}/lab/tree/browser-test.ipynb?token={TOKEN}")
            # kernel-ready race: wait for the kernel's name *and* Idle in the status bar
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
            page.locator('#jp-MainMenu li[role="menuitem"]', has_text="Run").first.click()
            page.locator('[data-command="runmenu:run-all"]').click()

            option = page.locator(".mpu-select option", has_text="browser-test/browser/a")
            option.wait_for()
            page.locator(".mpu-select option", has_text="browser-test/browser/b").wait_for()
            assert state.exists(), "the notebook did not write its state file"
            info = json.loads(state.read_text())
            # rows show while their sizes are counted; the abort waits for the listing's end
            sync_api.expect(page.locator(".mpu-progress")).to_contain_text("done: 2 uploads")

            option.click()
            selection = page.locator(".mpu-selection")
            sync_api.expect(selection).to_contain_text("1 selected")

            page.locator(".mpu-abort").click()
            message = page.locator(".mpu-confirm-message")
            sync_api.expect(message).to_contain_text("Abort 1 upload ")
            sync_api.expect(message).to_contain_text("(selected)")
            page.locator(".mpu-confirm").click()

            status = page.locator(".mpu-status")
            sync_api.expect(status).to_contain_text("1 aborted, 0 failed", timeout=20_000)
            sync_api.expect(page.locator(".mpu-result")).to_contain_text("browser/a")
            # the refreshed listing no longer offers browser/a
            sync_api.expect(page.locator(".mpu-select option")).to_have_count(1)
            page.locator(".mpu-uploads-browser").scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    alive = alive_uploads(info)
    assert "browser/a" not in alive
    assert alive.get("browser/b") == info["upload_ids"]["browser/b"]
    assert screenshot.stat().st_size > 0
