"""UploadsBrowser in a real browser: JupyterLab + headless Chromium (system package) + Playwright.

Runs a small generated notebook (its own LocalS3 inside the kernel, two incomplete uploads),
selects one upload in the widget, aborts it through the confirmation and checks the server's
state with an independent boto3 client. Needs ``/usr/bin/chromium`` and the ``playwright``,
``jupyterlab`` packages; ``.ci/run`` installs them (never ``playwright install``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
TOKEN = "mpu-browser-test-token"
OUTPUT = Path(__file__).parent / "output" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

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

# The notebook the browser runs. It writes what the test needs to check server state.
SETUP_CELL = """\
import json, boto3
from mpu_toolkit.testing.local import LocalS3
s3 = LocalS3().start()
so = s3.storage_options
boto = boto3.client("s3", endpoint_url=so["endpoint_url"], aws_access_key_id=so["key"],
                    aws_secret_access_key=so["secret"], region_name="us-east-1")
bucket = "browser-test"
boto.create_bucket(Bucket=bucket)
ids = {}
for key in ("browser/a", "browser/b"):
    ids[key] = boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    boto.upload_part(Bucket=bucket, Key=key, UploadId=ids[key], PartNumber=1,
                     Body=b"x" * 1024)
with open(STATE, "w") as f:
    json.dump({"endpoint_url": so["endpoint_url"], "key": so["key"], "secret": so["secret"],
               "bucket": bucket, "upload_ids": ids}, f)
"""
WIDGET_CELL = """\
from mpu_toolkit.widgets import UploadsBrowser
UploadsBrowser(f"mpu://{bucket}", storage_options=so, min_age=None)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def notebook_of(*sources: str) -> dict[str, Any]:
    """A notebook (nbformat 4, this Python's kernel) of code cells with these sources."""
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                    "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                   "source": source} for source in sources],
    }


def _notebook(state: Path) -> dict[str, Any]:
    return notebook_of(f"STATE = {str(state)!r}\n" + SETUP_CELL, WIDGET_CELL)


def _settings(settings_dir: Path) -> None:
    """Every cell stays in the page; no news or update checks (offline, no toasts)."""
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, value in files.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _request(url: str, method: str = "GET", timeout: float = 2) -> bytes:
    req = urllib.request.Request(url, method=method,
                                 headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


class Lab:
    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.root, self.port, self.process = root, port, process
        self.base = f"http://127.0.0.1:{port}"

    def descendants(self) -> list[Any]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    root = tmp_path / "root"
    root.mkdir()
    dirs = {name: tmp_path / name for name in ("config", "data", "runtime", "settings",
                                                 "workspaces")}
    for d in dirs.values():
        d.mkdir()
    _settings(dirs["settings"])
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["config"]),
           "JUPYTER_DATA_DIR": str(dirs["data"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
           "JUPYTER_PLATFORM_DIRS": "1", "JUPYTER_NO_CONFIG": "1"}
    log = (tmp_path / "lab.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
         "--ServerApp.open_browser=False", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
         "--LabApp.extension_manager=readonly", "--LabApp.news_url=",
         f"--LabApp.user_settings_dir={dirs['settings']}",
         f"--LabApp.workspaces_dir={dirs['workspaces']}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    server = Lab(root, port, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail("jupyter lab exited:\n" + (tmp_path / "lab.log").read_text()[-3000:])
            try:
                _request(f"{server.base}/api/status")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield server
    finally:
        # kernels (and the moto server they started) run in their own process groups:
        # remember every PID under the server, shut down via REST, then make sure they are gone
        pids = {p.pid for p in server.descendants()}
        try:
            for kernel in json.loads(_request(f"{server.base}/api/kernels")):
                _request(f"{server.base}/api/kernels/{kernel['id']}", method="DELETE",
                         timeout=10)
        except (OSError, urllib.error.URLError, ValueError):
            pass
        pids |= {p.pid for p in server.descendants()}
        try:
            _request(f"{server.base}/api/shutdown", method="POST", timeout=5)
        except (OSError, urllib.error.URLError):
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        procs = []
        for pid in pids:
            try:
                procs.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        alive = procs
        for stop in (psutil.Process.terminate, psutil.Process.kill):
            for proc in alive:
                try:
                    stop(proc)
                except psutil.NoSuchProcess:
                    pass
            _, alive = psutil.wait_procs(alive, timeout=5)
        assert not alive, f"processes left behind: {[p.pid for p in alive]}"


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

    boto = boto3.client("s3", endpoint_url=info["endpoint_url"],
                        aws_access_key_id=info["key"], aws_secret_access_key=info["secret"],
                        region_name="us-east-1")
    alive = {u["Key"]: u["UploadId"]
             for u in boto.list_multipart_uploads(Bucket=info["bucket"]).get("Uploads", [])}
    assert "browser/a" not in alive
    assert alive.get("browser/b") == info["upload_ids"]["browser/b"]
    assert screenshot.stat().st_size > 0
