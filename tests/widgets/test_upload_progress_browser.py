"""UploadProgress in a real browser: JupyterLab + headless Chromium (system package) + Playwright.

A generated notebook starts its own LocalS3 with random credentials and writes a slow stream
(30 chunks of 1 MiB, 0.15 s apart: six 5 MiB parts in about 4.5 s) with an UploadProgress
given the endpoint, so the "writing" state stays on screen long enough to be looked at. The
test checks, in the rendered page, the bar, the parts in flight and the memory while writing,
then the green final state and the link to the object (which answers with the object's size),
and that neither credential appears in the page's HTML or in the kernel's widget state.
Screenshots: tests/output/upload_progress/. Reuses the JupyterLab fixture of
test_in_jupyterlab.py (same requirements: /usr/bin/chromium, playwright, jupyterlab).
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from test_in_jupyterlab import (CHROMIUM, CHROMIUM_ARGS, TOKEN, Lab, lab,  # noqa: F401
                                notebook_of, sync_api)
from frontends import launch, run_in_lab  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

OUTPUT = Path(__file__).resolve().parents[1] / "output" / "upload_progress"
MiB = 1024 * 1024
SIZE = 30 * MiB
KEY = "slow/stream.bin"

# random credentials (moto takes any): a leak would be one of these exact strings
SETUP_CELL = """\
import json, secrets, time
import boto3
from mpu_toolkit.testing.local import LocalS3
s3 = LocalS3().start()
so = dict(s3.storage_options, key="AKIA" + secrets.token_hex(8).upper(),
          secret=secrets.token_urlsafe(30))
bucket = "progress-test"
boto3.client("s3", endpoint_url=so["endpoint_url"], aws_access_key_id=so["key"],
             aws_secret_access_key=so["secret"],
             region_name="us-east-1").create_bucket(Bucket=bucket)
with open(STATE, "w") as f:
    json.dump({"endpoint_url": so["endpoint_url"], "key": so["key"], "secret": so["secret"],
               "bucket": bucket}, f)
"""
WRITE_CELL = """\
from mpu_toolkit import open_writer
from mpu_toolkit.widgets import UploadProgress
MiB = 2**20
url = f"mpu://{bucket}/KEY"
view = UploadProgress(url, total=SIZE, endpoint_url=so["endpoint_url"])
display(view)

def slow_stream():
    for i in range(SIZE // MiB):
        time.sleep(0.15)
        yield bytes([i]) * MiB

with open_writer(url, storage_options=so, part_size="5MiB", concurrency=2, size=SIZE,
                 progress=view) as f:
    for chunk in slow_stream():
        f.write(chunk)
""".replace("KEY", KEY).replace("SIZE", str(SIZE))
# every widget's state in the kernel, for the test to search for the credentials
STATE_CELL = """\
import ipywidgets
with open(WIDGETS, "w") as f:
    json.dump(ipywidgets.Widget.get_manager_state(drop_defaults=False), f, default=repr)
"""


def notebook(state: Path, widgets: Path) -> dict[str, Any]:
    return notebook_of(f"STATE = {str(state)!r}\nWIDGETS = {str(widgets)!r}\n" + SETUP_CELL,
                       WRITE_CELL, STATE_CELL)


def test_slow_write_shows_progress_then_links_the_object(lab: Lab,  # noqa: F811 (fixture)
                                                         tmp_path: Path) -> None:
    state, widget_state = tmp_path / "state.json", tmp_path / "widgets.json"
    (lab.root / "progress-test.ipynb").write_text(json.dumps(notebook(state, widget_state)))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.png"):
        old.unlink()
    expect = sync_api.expect

    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda e: print("page error:", e))
            run_in_lab(page, lab.base, "progress-test.ipynb")

            view = page.locator(".mpu-progress")
            status = view.locator(".mpu-progress-status")
            memory = view.locator(".mpu-progress-memory")
            # writing: a part done (so MB/s means something) and the next one filling
            expect(status).to_have_text("writing", timeout=60_000)
            expect(view.locator(".mpu-progress-stats")).to_contain_text(
                "1 part done", timeout=10_000)
            expect(view.locator(".mpu-progress-bar")).to_be_visible()
            expect(view.locator(".mpu-progress-percent")).to_have_text(
                re.compile(r"^\d+%$"))
            expect(view.locator(".mpu-progress-stats")).to_contain_text("in flight")
            expect(view.locator(".mpu-progress-stats")).to_contain_text("MB/s")
            expect(memory).to_be_visible()
            expect(memory).to_contain_text("memory ")
            expect(memory).to_contain_text("MiB (peak ")
            expect(view.locator(".mpu-progress-object")).to_be_hidden()
            view.scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / "1-writing.png"))
            assert status.inner_text() == "writing", "the write ended before the screenshot"

            # completed: green, the size and ETag, the URL as given and a link to the object
            expect(status).to_contain_text("completed — 30 MiB, ETag", timeout=60_000)
            expect(status.locator("span")).to_have_css("color", "rgb(46, 125, 50)")
            expect(view.locator(".mpu-progress-bar .progress-bar-success")).to_be_visible()
            expect(view.locator(".mpu-progress-percent")).to_have_text("100%")
            expect(view.locator(".mpu-progress-stats")).to_contain_text(
                "30 MiB / 30 MiB")
            expect(view.locator(".mpu-progress-stats")).to_contain_text(
                "6 parts done, 0 in flight")
            expect(memory).to_contain_text("peak memory ")
            obj = view.locator(".mpu-progress-object")
            expect(obj.locator("code")).to_have_text("mpu://progress-test/" + KEY)
            info = json.loads(state.read_text())
            href = f"{info['endpoint_url'].rstrip('/')}/{info['bucket']}/{KEY}"
            expect(obj.locator("a")).to_have_attribute("href", href)
            expect(obj.locator("a")).to_be_visible()
            view.scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / "2-completed.png"))
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=30_000)
            html = page.content()
        finally:
            browser.close()

    # the link is the object (moto answers an unsigned request; a real store would not)
    with urllib.request.urlopen(urllib.request.Request(href, method="HEAD"), timeout=10) as r:
        assert int(r.headers["Content-Length"]) == SIZE
    # no credential in the page, nor in any widget's state in the kernel
    assert "mpu://progress-test/" + KEY in html
    states = widget_state.read_text()
    assert "mpu://progress-test/" + KEY in states  # the state file is the real one
    for secret in (info["key"], info["secret"]):
        assert secret not in html
        assert secret not in states
    assert all((OUTPUT / f"{name}.png").stat().st_size > 0
               for name in ("1-writing", "2-completed"))
