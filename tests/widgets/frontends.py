"""What the real-browser tests of the notebook widgets share: a Jupyter-like server
(JupyterLab, Notebook 7, Voilà) started in a private config on 127.0.0.1 with a token and
torn down with every process it started (kernels and the S3 servers they run), the generated
notebook, and headless Chromium through Playwright. Not a test module: the ``test_in_*``
modules skip first (chromium, playwright, the front end's package) and then import this.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import pytest

psutil = pytest.importorskip("psutil")

CHROMIUM = "/usr/bin/chromium"
TOKEN = "mpu-browser-test-token"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
#: screenshots per front end (git-ignored): tests/output/<frontend>/
OUTPUT_ROOT = Path(__file__).resolve().parents[1] / "output"

# The notebook's first cell: its own LocalS3, one incomplete upload per UPLOADS entry (key ->
# bytes of its one part), and a state file for the test's independent boto3 client.
SETUP_CELL = """\
import json, secrets, boto3
from mpu_toolkit.testing.local import LocalS3
s3 = LocalS3().start()
# credentials found nowhere else (moto takes any): the page must never show them
so = dict(s3.storage_options, key="AKIA" + secrets.token_hex(8).upper(),
          secret=secrets.token_urlsafe(30))
boto = boto3.client("s3", endpoint_url=so["endpoint_url"], aws_access_key_id=so["key"],
                    aws_secret_access_key=so["secret"], region_name="us-east-1")
bucket = "browser-test"
boto.create_bucket(Bucket=bucket)
ids = {}
for key, size in UPLOADS.items():
    ids[key] = boto.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    boto.upload_part(Bucket=bucket, Key=key, UploadId=ids[key], PartNumber=1,
                     Body=b"x" * size)
with open(STATE, "w") as f:
    json.dump({"endpoint_url": so["endpoint_url"], "key": so["key"], "secret": so["secret"],
               "bucket": bucket, "upload_ids": ids}, f)
"""
WIDGET_CELL = """\
from mpu_toolkit.widgets import UploadsBrowser
UploadsBrowser(f"mpu://{bucket}", storage_options=so, min_age=None)
"""


def need_browser(*packages: str) -> Any:
    """Skip the calling test module unless Debian's chromium, playwright and ``packages``
    (the front end's, boto3 ...) are there; returns ``playwright.sync_api``."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (.ci/run installs Debian's chromium with apt)",
                    allow_module_level=True)
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is missing (the 'test' extra has it; no browser download)")
    for package in packages:
        pytest.importorskip(package, reason=f"{package} is missing (the 'test' extra has it)")
    return sync_api


def free_port() -> int:
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


def browser_notebook(state: Path, uploads: Mapping[str, int]) -> dict[str, Any]:
    """The setup cell (LocalS3, ``uploads``, state file at ``state``) and an UploadsBrowser."""
    return notebook_of(f"STATE = {str(state)!r}\nUPLOADS = {dict(uploads)!r}\n" + SETUP_CELL,
                       WIDGET_CELL)


def write_lab_settings(settings_dir: Path) -> None:
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


def request(url: str, method: str = "GET", timeout: float = 2) -> bytes:
    req = urllib.request.Request(url, method=method,
                                 headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


class Frontend:
    """A running server: where its files are, its URL, its process."""

    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes],
                 dirs: Mapping[str, Path]) -> None:
        self.root, self.port, self.process, self.dirs = root, port, process, dict(dirs)
        self.base = f"http://127.0.0.1:{port}"

    def descendants(self) -> list[Any]:
        return descendants(self.process)


def descendants(process: subprocess.Popen[bytes]) -> list[Any]:
    """Every process under ``process`` (kernels, their moto servers), or none if it is gone."""
    try:
        return psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def jupyter_dirs(tmp_path: Path) -> dict[str, Path]:
    """A private root, config, data, runtime, settings and workspaces directory each."""
    dirs = {name: tmp_path / name for name in ("root", "config", "data", "runtime",
                                                 "settings", "workspaces")}
    for d in dirs.values():
        d.mkdir(exist_ok=True)
    write_lab_settings(dirs["settings"])
    return dirs


@contextmanager
def serve(tmp_path: Path, command: Callable[[int, Mapping[str, Path]], Sequence[str]], *,
          name: str, ready_path: str = "/api/status",
          jupyter_api: bool = True) -> Iterator[Frontend]:
    """Run ``command(port, dirs)`` (a Jupyter-based server) in ``dirs["root"]`` with private
    Jupyter directories until ``ready_path`` answers; on exit shut it
    down (through the Jupyter server's REST API if ``jupyter_api``, else SIGTERM) and end
    every process it started (kernels run in their own process groups, the moto servers they
    start too), failing if any is left behind."""
    dirs = jupyter_dirs(tmp_path)
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["config"]),
           "JUPYTER_DATA_DIR": str(dirs["data"]), "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
           "JUPYTER_PLATFORM_DIRS": "1", "JUPYTER_NO_CONFIG": "1"}
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(list(command(port, dirs)), stdout=log, stderr=subprocess.STDOUT,
                               env=env, cwd=dirs["root"])
    server = Frontend(dirs["root"], port, process, dirs)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited:\n" + log_path.read_text()[-3000:])
            try:
                request(f"{server.base}{ready_path}")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield server
    finally:
        _stop(server, jupyter_api)
        log.close()


def wait_for_kernel(server: Frontend, timeout: float = 60) -> None:
    """Until a kernel of ``server`` is idle with a page connected (the REST API's view: a
    front end's own "idle" may show before its kernel is there)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            kernels = json.loads(request(f"{server.base}/api/kernels"))
        except (OSError, urllib.error.URLError, ValueError):
            kernels = []
        if any(k.get("execution_state") == "idle" and k.get("connections", 0) > 0
               for k in kernels):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"no idle, connected kernel after {timeout}s: {kernels}")
        time.sleep(0.2)


def _stop(server: Frontend, jupyter_api: bool) -> None:
    # remember every PID under the server, shut down via REST, then make sure they are gone.
    # Voilà serving one notebook has neither API: every other path renders the notebook
    # (a new kernel), so it only gets SIGTERM
    process = server.process
    pids = {p.pid for p in server.descendants()}
    grace = 0.0
    if jupyter_api:
        try:
            for kernel in json.loads(request(f"{server.base}/api/kernels")):
                request(f"{server.base}/api/kernels/{kernel['id']}", method="DELETE",
                        timeout=10)
        except (OSError, urllib.error.URLError, ValueError):
            pass
        pids |= {p.pid for p in server.descendants()}
        try:
            request(f"{server.base}/api/shutdown", method="POST", timeout=5)
            grace = 10.0
        except (OSError, urllib.error.URLError):
            pass
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    end_processes(pids)


def end_processes(pids: set[int]) -> None:
    """Terminate, then kill, whatever of ``pids`` still runs (kernels, their moto servers);
    fail if any survives."""
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


# ----------------------------------------------------------------- the UploadsBrowser drive
#: three incomplete uploads of one part each; by size: logs/b < data/c < logs/a
DRIVE_UPLOADS = {"logs/a": 3072, "logs/b": 1024, "data/c": 2048}
BY_SIZE = ["logs/b", "data/c", "logs/a"]
#: what the drive selects (a click and a shift-click: a range of two in size order), aborts
SELECTED = BY_SIZE[:2]
KEPT = BY_SIZE[2]


def launch(pw: Any) -> Any:
    """Debian's chromium, headless (never ``playwright install``)."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def run_all(page: Any) -> None:
    """Run every cell through the menu, as a user does (JupyterLab and Notebook 7)."""
    page.locator('#jp-MainMenu li[role="menuitem"]', has_text="Run").first.click()
    page.locator('[data-command="runmenu:run-all"]').click()


def run_in_lab(page: Any, base: str, notebook: str) -> None:
    """Open ``notebook`` in JupyterLab at ``base`` and run it once its kernel is idle."""
    page.goto(f"{base}/lab/tree/{notebook}?token={TOKEN}")
    # kernel-ready race: wait for the kernel's name *and* Idle in the status bar
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
    run_all(page)


def drive_uploads_browser(page: Any, state: Path, shots: Path,
                          listed_timeout: float = 60_000) -> dict[str, Any]:
    """Drive a rendered UploadsBrowser (the notebook of :func:`browser_notebook` with
    :data:`DRIVE_UPLOADS`) like a user: wait for the listing, type a key prefix, sort by
    clicking the size header, tick one upload and shift-click another, abort them through
    the confirmation. One screenshot per state into ``shots``. Returns the notebook's state
    file (for a boto3 check).
    """
    from playwright.sync_api import expect

    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()

    def shot(name: str, locator: Any) -> None:
        locator.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        html = page.content()  # what the screenshot shows, and what it hides
        assert info["key"] not in html and info["secret"] not in html, f"a secret in {name}"

    browser = page.locator(".mpu-uploads-browser")
    table = browser.locator(".mpu-uploads-table")
    keys = table.locator(".mpu-ut-row td:nth-child(4)")
    summary = table.locator(".mpu-ut-summary")

    # listed: rows show while their sizes are counted; wait for the listing's end
    expect(page.locator(".mpu-progress")).to_contain_text(
        f"done: {len(DRIVE_UPLOADS)} uploads", timeout=listed_timeout)
    assert state.exists(), "the notebook did not write its state file"
    info = json.loads(state.read_text())
    expect(keys).to_have_count(len(DRIVE_UPLOADS))
    expect(summary).to_contain_text(f"{len(DRIVE_UPLOADS)} uploads")
    shot("listed", browser)

    # filtered: as you type, in the browser
    prefix = table.locator(".mpu-ut-prefix")
    prefix.press_sequentially("logs/")
    expect(keys).to_have_count(2)
    expect(summary).to_contain_text("2 shown")
    assert sorted(keys.all_inner_texts()) == ["logs/a", "logs/b"]
    shot("filtered", browser)
    prefix.fill("")
    expect(keys).to_have_count(len(DRIVE_UPLOADS))

    # sorted: a click on the size header, ascending
    size_header = table.locator("th[data-field=bytes]")
    size_header.click()
    expect(size_header).to_have_attribute("data-dir", "asc")
    expect(keys).to_have_text(BY_SIZE)
    shot("sorted", browser)

    # selected: tick the first, shift-click the second (a range)
    boxes = table.locator(".mpu-ut-row-check")
    boxes.nth(0).click()
    expect(summary).to_contain_text("1 selected")
    boxes.nth(1).click(modifiers=["Shift"])
    expect(summary).to_contain_text("2 selected")
    expect(table.locator(".mpu-ut-row.mpu-ut-selected")).to_have_count(2)
    shot("selected", table)

    # confirming: the kernel has the selection the browser shows
    page.locator(".mpu-abort").click()
    message = page.locator(".mpu-confirm-message")
    expect(message).to_contain_text("Abort 2 uploads (selected)")
    expect(message).to_contain_text(f"({sum(DRIVE_UPLOADS[k] for k in SELECTED):,} bytes)")
    expect(page.locator(".mpu-confirm-box")).to_be_visible()
    shot("confirming", page.locator(".mpu-confirm-box"))

    # aborted: outcome per upload, re-checked on the server, the table relisted
    page.locator(".mpu-confirm").click()
    expect(page.locator(".mpu-status")).to_contain_text("2 aborted, 0 failed", timeout=30_000)
    expect(page.locator(".mpu-status")).to_contain_text("re-checked on the server: 2 of 2 gone")
    expect(page.locator(".mpu-confirm-box")).to_be_hidden()
    result = page.locator(".mpu-result")
    for key in SELECTED:
        expect(result).to_contain_text(key)
    expect(keys).to_have_text([KEPT])
    expect(summary).to_contain_text("1 upload · 1 shown · 0 selected")
    shot("aborted", page.locator(".mpu-result"))
    return info


STATES = ["listed", "filtered", "sorted", "selected", "confirming", "aborted"]


def browser_test(state: Path, shots: Path, open_notebook: Callable[[Any], None],
                 height: int = 1600, not_ours: Callable[[str], bool] = lambda error: False,
                 ) -> None:
    """One front end's whole test: Chromium opens the notebook (``open_notebook(page)``: go
    there and run it), :func:`drive_uploads_browser` drives it, no page error happens (but
    the front end's own, which ``not_ours`` recognises from the message and stack), the
    server is checked with boto3 and every state has its screenshot in ``shots``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": height})
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
            open_notebook(page)
            info = drive_uploads_browser(page, state, shots)
            assert not [e for e in errors if not not_ours(e)], errors
        finally:
            browser.close()
    check_server(info)
    assert sorted(p.stem for p in shots.glob("*.png")) == sorted(STATES)


def check_server(info: Mapping[str, Any]) -> None:
    """An independent boto3 client: the selected uploads are gone, the other one is there."""
    alive = alive_uploads(info)
    assert alive == {KEPT: info["upload_ids"][KEPT]}, alive


def alive_uploads(info: Mapping[str, Any]) -> dict[str, str]:
    """Key -> upload id of the incomplete uploads in ``info``'s bucket, as an independent
    boto3 client sees them (``info``: the endpoint, keys and bucket the notebook wrote)."""
    import boto3

    boto = boto3.client("s3", endpoint_url=info["endpoint_url"],
                        aws_access_key_id=info["key"], aws_secret_access_key=info["secret"],
                        region_name="us-east-1")
    return {u["Key"]: u["UploadId"]
            for u in boto.list_multipart_uploads(Bucket=info["bucket"]).get("Uploads", [])}
