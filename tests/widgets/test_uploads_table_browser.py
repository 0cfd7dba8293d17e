"""UploadsTable in a real browser: JupyterLab + headless Chromium (system package) + Playwright.

A generated notebook shows a table of 250 generated uploads (no S3: the parts callback
answers with a generated parts frame). The test types filters, sorts by clicking a header,
selects with a click and a shift-click and checks the kernel's ``selection`` (the kernel
writes it to a file on every change), opens a row's parts and copies an upload id. One
screenshot per state goes to tests/output/uploads_table/. Reuses the JupyterLab fixture of
test_in_jupyterlab.py (same requirements: /usr/bin/chromium, playwright, jupyterlab).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("anywidget", reason="anywidget is missing (the 'notebook' extra has it)")
from test_in_jupyterlab import (CHROMIUM, CHROMIUM_ARGS, TOKEN, Lab, lab,  # noqa: E402,F401
                                notebook_of, sync_api)
from frontends import launch, run_in_lab  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

OUTPUT = Path(__file__).resolve().parents[1] / "output" / "uploads_table"

# runs in the kernel and here: the same 250 rows on both sides
ROWS = """\
import pandas as pd
n = 250
ages = [pd.Timedelta(hours=(i * 37) % (30 * 24)) for i in range(n)]
frame = pd.DataFrame({
    "bucket": ["alpha" if i % 3 else "beta" for i in range(n)],
    "key": [f"logs/{i:03d}.bin" if i % 2 else f"tmp/{i:03d}.bin" for i in range(n)],
    "upload_id": [f"id-{i:03d}-" + "u" * 40 for i in range(n)],
    "initiated": pd.Timestamp("2026-11-30", tz="UTC") - pd.Series(ages),
    "age": ages,
    "storage_class": ["STANDARD"] * n,
    "parts": pd.array([None if i % 11 == 0 else i % 4 + 1 for i in range(n)], dtype="Int64"),
    "bytes": pd.array([None if i % 11 == 0 else (i * 7919) % 100000 for i in range(n)],
                      dtype="Int64"),
})
"""
SETUP_CELL = ROWS + """\
import json
import ipywidgets as widgets
from mpu_toolkit.widgets.uploads_table import UploadsTable

table = UploadsTable(frame.iloc[:200])
table.append_rows(frame.iloc[200:])  # the second page of a "listing"
table.update_sizes({frame.upload_id[0]: 123456})
table.mark_rows({frame.upload_id[2]: "abort failed: AccessDenied"})  # an abort's failure
mirror = widgets.HTML("selection: []")
mirror.add_class("mpu-mirror")

def on_selection(change):
    with open(STATE, "w") as f:
        json.dump(change["new"], f)
    mirror.value = f"selection: {len(change['new'])}"
table.observe(on_selection, names="selection")

def on_parts(upload_id):
    parts = pd.DataFrame({"number": [1, 2, 3], "size": [5 * 2**20, 5 * 2**20, 1000],
                          "etag": ['"e1"', '"e2"', '"e3"'],
                          "last_modified": pd.to_datetime(["2026-11-29"] * 3, utc=True)})
    table.show_parts(upload_id, parts)
table.on_parts_requested(on_parts)
"""
SHOW_CELL = "display(table, mirror)\n"


def notebook(state: Path) -> dict[str, Any]:
    return notebook_of(f"STATE = {str(state)!r}\n" + SETUP_CELL, SHOW_CELL)


def expected_frame() -> pd.DataFrame:
    scope: dict[str, Any] = {}
    exec(ROWS, scope)
    frame: pd.DataFrame = scope["frame"]
    frame.loc[0, "bytes"] = 123456
    return frame


def shown_ids(page: Any) -> list[str]:
    return page.locator(".mpu-ut-row").evaluate_all(
        "rows => rows.map(r => r.dataset.uploadId)")


def test_filter_sort_select_and_parts_in_jupyterlab(lab: Lab,  # noqa: F811 (the fixture)
                                                    tmp_path: Path) -> None:
    state = tmp_path / "selection.json"
    (lab.root / "table-test.ipynb").write_text(json.dumps(notebook(state)))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.png"):
        old.unlink()
    frame = expected_frame()

    def shot(name: str) -> None:
        page.locator(".mpu-uploads-table").scroll_into_view_if_needed()
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)

    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1200},
                                          permissions=["clipboard-read", "clipboard-write"])
            page = context.new_page()
            page.set_default_timeout(20_000)
            # the browser's errors land in the captured output of a failing run
            page.on("console", lambda m: print("console:", m.type, m.text))
            page.on("pageerror", lambda e: print("page error:", e))
            run_in_lab(page, lab.base, "table-test.ipynb")

            summary = page.locator(".mpu-ut-summary")
            sync_api.expect(summary).to_contain_text("250 uploads · 250 shown · 0 selected")
            sync_api.expect(page.locator(".mpu-ut-row")).to_have_count(100)  # one page
            assert shown_ids(page) == list(frame["upload_id"][:100])
            sizes = page.locator(".mpu-ut-row td:nth-child(8)")
            sync_api.expect(sizes.first).to_have_text("120.6 KiB")  # update_sizes
            sync_api.expect(sizes.nth(11)).to_have_text("?")  # not sized yet (NA)
            failed = page.locator(".mpu-ut-row.mpu-ut-failed")  # red, with its reason
            sync_api.expect(failed).to_have_count(1)
            sync_api.expect(failed).to_have_attribute("data-upload-id", frame["upload_id"][2])
            sync_api.expect(failed.locator(".mpu-ut-reason")).to_have_text(
                "✗ abort failed: AccessDenied")
            shot("1-loaded")

            # filters: typed, applied in the browser as you type
            page.locator(".mpu-ut-prefix").press_sequentially("logs/")
            page.locator(".mpu-ut-age").press_sequentially(">7d")
            page.locator(".mpu-ut-bucket").select_option("alpha")
            matching = frame[frame["key"].str.startswith("logs/")
                             & (frame["age"] > pd.Timedelta(days=7))
                             & (frame["bucket"] == "alpha")]
            sync_api.expect(summary).to_contain_text(f"250 uploads · {len(matching)} shown")
            assert shown_ids(page) == list(matching["upload_id"][:100])
            page.locator(".mpu-ut-age").fill("<2x")  # not an age: marked, filter ignored
            sync_api.expect(page.locator(".mpu-ut-age")).to_have_class("mpu-ut-age mpu-ut-invalid")
            page.locator(".mpu-ut-age").fill(">7d")
            shot("2-filtered")

            # sort: numeric by size, missing sizes last; a second click: descending
            size_header = page.locator("th[data-field=bytes]")
            size_header.click()
            by_size = matching.sort_values("bytes", na_position="last", kind="stable")
            sync_api.expect(size_header).to_have_attribute("data-dir", "asc")
            assert shown_ids(page) == list(by_size["upload_id"][:100])
            size_header.click()
            sync_api.expect(size_header).to_have_attribute("data-dir", "desc")
            by_size_desc = matching.sort_values("bytes", ascending=False, na_position="last",
                                                kind="stable")
            assert shown_ids(page) == list(by_size_desc["upload_id"][:100])
            shot("3-sorted")

            # "select all filtered", then none again: the kernel sees both
            all_box = page.locator(".mpu-ut-all")
            all_box.click()
            sync_api.expect(page.locator(".mpu-mirror")).to_contain_text(
                f"selection: {len(matching)}")
            assert sorted(json.loads(state.read_text())) == sorted(matching["upload_id"])
            all_box.click()
            sync_api.expect(page.locator(".mpu-mirror")).to_contain_text("selection: 0")

            # a click and a shift-click select the range between them
            boxes = page.locator(".mpu-ut-row-check")
            boxes.nth(1).click()
            boxes.nth(5).click(modifiers=["Shift"])
            sync_api.expect(page.locator(".mpu-mirror")).to_contain_text("selection: 5")
            picked = list(by_size_desc["upload_id"][1:6])
            assert sorted(json.loads(state.read_text())) == sorted(picked)
            sync_api.expect(summary).to_contain_text("5 selected")
            shot("4-selected")

            # a row's parts, asked from the kernel and shown under the row
            first = page.locator(".mpu-ut-row").first
            first_id = first.get_attribute("data-upload-id")
            first.locator(".mpu-ut-expand").click()
            parts = page.locator(f'.mpu-ut-parts-row[data-parts-of="{first_id}"]')
            sync_api.expect(parts).to_contain_text("3 parts, 10.0 MiB")
            sync_api.expect(parts.locator(".mpu-ut-parts-table tbody tr")).to_have_count(3)

            # the full id on hover, copied on click
            id_cell = first.locator(".mpu-ut-id")
            sync_api.expect(id_cell).to_have_attribute("title", f"{first_id} (click to copy)")
            id_cell.click()
            sync_api.expect(id_cell).to_have_text("copied ✓")
            assert page.evaluate("() => navigator.clipboard.readText()") == first_id
            shot("5-parts")
        finally:
            browser.close()
    assert all((OUTPUT / f"{name}.png").stat().st_size > 0
               for name in ("1-loaded", "2-filtered", "3-sorted", "4-selected", "5-parts"))
