"""The marimo notebook 02 in a real browser: ``marimo run`` + headless Chromium + Playwright.

Serves ``notebooks/02-find-cost-abort-incomplete-uploads.marimo.py`` as an app (it starts its
own LocalS3 and leaves seven uploads unfinished), filters the UploadsTable to ``logs/``,
sorts it by size, selects the three smallest logs with a click and a shift-click, presses
"Abort selected" and checks with an independent boto3 client that exactly those three
uploads are gone. Needs ``/usr/bin/chromium`` (Debian's package; never
``playwright install``) and the ``marimo``, ``playwright`` packages.
Screenshots of each state go to ``tests/output/marimo/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from helpers import with_sigint
from frontends import (alive_uploads, descendants, end_processes, free_port, launch,
                       need_browser)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02-find-cost-abort-incomplete-uploads.marimo.py"
OUTPUT = ROOT / "tests" / "output" / "marimo"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

sync_api = need_browser("marimo", "psutil", "boto3")


class App:
    def __init__(self, port: int, process: subprocess.Popen[bytes], state: Path) -> None:
        self.port, self.process, self.state = port, process, state
        self.base = f"http://127.0.0.1:{port}"

    def descendants(self) -> list[Any]:
        return descendants(self.process)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """``marimo run`` of the notebook, without a token, on a free port of 127.0.0.1."""
    state = tmp_path / "state.json"
    port = free_port()
    env = {**os.environ, "MPU_MARIMO_STATE": str(state),
           "MARIMO_SKIP_UPDATE_CHECK": "1", "HOME": str(tmp_path)}  # no update check, no config
    log_path = tmp_path / "marimo.log"
    log = log_path.open("wb")
    process = subprocess.Popen(with_sigint(  # stopped by SIGINT below
        [sys.executable, "-m", "marimo", "-y", "run", str(NOTEBOOK), "--headless",
         "--host", "127.0.0.1", "--port", str(port), "--no-token", "--no-sandbox",
         "--session-ttl", "0"]),
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    server = App(port, process, state)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail("marimo run exited:\n" + log_path.read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{server.base}/health", timeout=2) as resp:
                    resp.read()
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    pytest.fail("marimo run did not answer:\n" + log_path.read_text()[-3000:])
                time.sleep(0.2)
        yield server
    finally:
        # the notebook's LocalS3 (moto) is a child of the server: remember every PID under
        # it, stop the server gently (the notebook's atexit stops moto), then make sure
        pids = {p.pid for p in server.descendants()}
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        end_processes(pids)


def test_filter_sort_select_abort_in_marimo(app: App) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.png"):
        old.unlink()
    shots: list[Path] = []

    def shot(page: Any, name: str) -> None:
        path = OUTPUT / f"{len(shots) + 1}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        try:
            # tall: marimo scrolls inside its app, so a screenshot shows only the viewport
            page = browser.new_page(viewport={"width": 1280, "height": 3600})
            page.set_default_timeout(30_000)
            sync_api.expect.set_options(timeout=30_000)  # the app runs every cell first
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(app.base)

            # the table gets its rows from the kernel (a "ready" message, then a snapshot)
            rows = page.locator(".mpu-ut-row")
            # a cell of the notebook that re-runs whenever the kernel's `selection` changes
            python_sees = page.locator(".paragraph", has_text=re.compile(r"^\s*Python sees"))
            sync_api.expect(rows).to_have_count(7)
            sync_api.expect(python_sees).to_contain_text("0 selected")
            sync_api.expect(page.locator("svg[role='img']").first).to_be_visible()
            assert app.state.exists(), "the notebook did not write its state file"
            info = json.loads(app.state.read_text())
            sizes: dict[str, int] = info["sizes"]
            ids: dict[str, str] = info["upload_ids"]
            shot(page, "loaded")

            # type a key prefix: only the five logs stay
            page.locator(".mpu-ut-prefix").press_sequentially("logs/", delay=30)
            sync_api.expect(rows).to_have_count(5)
            sync_api.expect(page.locator(".mpu-ut-summary")).to_contain_text("5 shown")
            shot(page, "filtered")

            # sort by size (ascending): the order is not the keys' order
            page.locator("th[data-field='bytes']").click()
            sync_api.expect(page.locator("th[data-field='bytes']")).to_have_attribute(
                "data-dir", "asc")
            logs = sorted((k for k in sizes if k.startswith("logs/")), key=sizes.__getitem__)
            assert logs != sorted(logs), "the sizes should not sort like the keys"
            expected_order = [ids[k] for k in logs]
            deadline = time.monotonic() + 10
            while True:
                shown = rows.evaluate_all("rs => rs.map(r => r.dataset.uploadId)")
                if shown == expected_order or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert shown == expected_order
            shot(page, "sorted")

            # click the first row's box, shift-click the third: rows 1-3 as sorted
            boxes = page.locator(".mpu-ut-row .mpu-ut-row-check")
            boxes.nth(0).click()
            boxes.nth(2).click(modifiers=["Shift"])
            sync_api.expect(page.locator(".mpu-ut-summary")).to_contain_text("3 selected")
            sync_api.expect(page.locator(".mpu-ut-row.mpu-ut-selected")).to_have_count(3)
            chosen = set(logs[:3])
            # the kernel got them: the notebook's cell that mirrors `selection` re-ran
            sync_api.expect(python_sees).to_contain_text(
                f"3 selected uploads ({sum(sizes[k] for k in chosen) / 2**20:.2f} MiB)")
            shot(page, "selected")

            page.get_by_role("button", name="Abort selected").click()
            # the summary line: <strong>Abort finished</strong>: ... inside one paragraph
            finished = page.locator("strong", has_text="Abort finished").locator("xpath=..")
            sync_api.expect(finished).to_be_visible()
            sync_api.expect(finished).to_contain_text("3 selected, 3 aborted")
            sync_api.expect(finished).to_contain_text("the server still shows 0 of them")
            # the table was refreshed in place; the prefix filter still applies
            sync_api.expect(rows).to_have_count(2)
            remaining_shown = set(rows.evaluate_all("rs => rs.map(r => r.dataset.uploadId)"))
            assert remaining_shown == {ids[k] for k in logs[3:]}
            sync_api.expect(page.locator(".mpu-ut-summary")).to_contain_text("4 uploads")
            sync_api.expect(page.locator(".mpu-ut-summary")).to_contain_text("0 selected")
            sync_api.expect(python_sees).to_contain_text("0 selected")
            shot(page, "aborted")
            assert not errors, errors
        except Exception:
            if browser.contexts and browser.contexts[0].pages:
                shot(browser.contexts[0].pages[0], "failed")
            raise
        finally:
            browser.close()

    alive = alive_uploads(info)
    assert set(alive) == set(ids) - chosen
    assert all(alive[k] == ids[k] for k in alive)
    assert all(p.stat().st_size > 0 for p in shots)
