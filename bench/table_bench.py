"""UploadsTable in Chromium: how long 100,000 uploads take to render, filter and sort.

    python bench/table_bench.py [--rows 100000] [--repeat 3] [--chromium /usr/bin/chromium]

Generates the rows in Python and encodes them with the widget's own code (the messages
``UploadsTable.set_rows`` sends), then loads ``uploads_table.js`` into headless Chromium
(Playwright, Debian's chromium: never ``playwright install``) with a stand-in for the
widget model: no kernel and no JupyterLab, so the figures are the front end's alone. Times,
measured in the page with ``performance.now()`` up to the next frame with layout done:

* first render: the row messages handed to the model (already parsed) → first page drawn;
* filter keystroke: one character typed into the key-prefix filter → the page redrawn;
* sort click: a click on the "size" header (numeric, then again: descending) → redrawn.

It also prints the size of the messages as JSON and how long ``JSON.parse`` takes on them
(the part of the transfer the browser pays for).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import pandas as pd

from mpu_toolkit.widgets.uploads_table import UploadsTable

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]

# a stand-in for the anywidget model: get/set/on/off/send, "msg:custom" delivered by hand
HARNESS = """
async ([esm, css]) => {
  class Model {
    constructor(state) { this.state = state; this.handlers = {}; this.sent = []; }
    get(k) { return this.state[k]; }
    set(k, v) { this.state[k] = v; this.trigger("change:" + k); }
    on(e, f) { (this.handlers[e] ||= []).push(f); }
    off(e, f) { this.handlers[e] = (this.handlers[e] || []).filter((g) => g !== f); }
    trigger(e, ...a) { for (const f of this.handlers[e] || []) f(...a); }
    send(msg) { this.sent.push(msg); }
    save_changes() {}
  }
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  window.nextFrame = () => new Promise((r) => requestAnimationFrame(() => r()));
  window.settled = async () => { await nextFrame(); document.body.offsetHeight; };
  window.mount = async (messages) => {
    document.body.replaceChildren();
    const model = new Model({ selection: [], page_size: 100 });
    const el = document.createElement("div");
    document.body.append(el);
    widget.render({ model, el });
    await settled();
    const t0 = performance.now();
    for (const m of messages) model.trigger("msg:custom", m);
    await settled();
    window.model = model;
    return performance.now() - t0;
  };
}
"""


def generate(n: int) -> pd.DataFrame:
    now = pd.Timestamp.now(tz="UTC")
    age = pd.to_timedelta([(i * 7919) % (90 * 86400) for i in range(n)], unit="s")
    sizes = pd.array([None if i % 10 == 0 else (i * 104729) % (5 * 2**30) for i in range(n)],
                     dtype="Int64")
    return pd.DataFrame({
        "bucket": [f"bucket-{i % 7}" for i in range(n)],
        "key": [f"logs/{i % 1000:04d}/part-{i:07d}.parquet" for i in range(n)],
        "upload_id": [f"{i:08d}-" + "x" * 96 for i in range(n)],  # AWS ids are this long
        "initiated": now - age, "age": age,
        "storage_class": ["STANDARD" if i % 5 else "STANDARD_IA" for i in range(n)],
        "parts": pd.array([None if i % 10 == 0 else i % 50 + 1 for i in range(n)],
                          dtype="Int64"),
        "bytes": sizes,
    })


def messages(frame: pd.DataFrame) -> list[dict[str, Any]]:
    table = UploadsTable()
    sent: list[dict[str, Any]] = []
    table.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data)
    table.set_rows(frame)
    table.close()
    return [m["content"] for m in sent if m.get("method") == "custom"]


def timed(page: Any, script: str) -> float:
    return float(page.evaluate(f"async () => {{ const t0 = performance.now(); {script}; "
                               "await settled(); return performance.now() - t0; }"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    frame = generate(args.rows)
    started = time.perf_counter()
    msgs = messages(frame)
    encoded = time.perf_counter() - started
    payload = json.dumps(msgs)
    print(f"{args.rows:,} rows → {len(msgs)} messages, {len(payload) / 2**20:.1f} MiB of JSON "
          f"(set_rows encodes them in {encoded:.2f} s in Python)")
    folder = Path(__file__).resolve().parents[1] / "mpu_toolkit" / "widgets"
    assets = [(folder / "uploads_table.js").read_text(), (folder / "uploads_table.css").read_text()]
    figures: dict[str, list[float]] = {"JSON.parse": [], "first render": [],
                                       "filter keystroke": [], "sort click (asc)": [],
                                       "sort click (desc)": [], "clear filter": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_content("<!doctype html><html><head></head><body></body></html>")
        page.evaluate(HARNESS, assets)
        page.evaluate("(text) => { window.payload = text; }", payload)
        for _ in range(args.repeat):
            figures["JSON.parse"].append(timed(page, "window.msgs = JSON.parse(payload)"))
            figures["first render"].append(float(page.evaluate("() => mount(window.msgs)")))
            shown = page.locator(".mpu-ut-row").count()
            assert shown == 100, f"{shown} rows drawn, expected one page of 100"
            # one keystroke: "logs/000" → "logs/0001" (1,000 → 100 rows match)
            page.evaluate("() => { const i = document.querySelector('.mpu-ut-prefix');"
                          "i.value = 'logs/000'; i.dispatchEvent(new Event('input')); }")
            page.evaluate("() => settled()")
            figures["filter keystroke"].append(timed(
                page, "const i = document.querySelector('.mpu-ut-prefix'); i.value += '1';"
                      "i.dispatchEvent(new Event('input'))"))
            summary = page.locator(".mpu-ut-summary").inner_text()
            assert "100,000 uploads · 100 shown" in summary, summary
            figures["clear filter"].append(timed(
                page, "const i = document.querySelector('.mpu-ut-prefix'); i.value = '';"
                      "i.dispatchEvent(new Event('input'))"))
            header = "document.querySelector('th[data-field=bytes]').click()"
            figures["sort click (asc)"].append(timed(page, header))
            figures["sort click (desc)"].append(timed(page, header))
            first = page.locator(".mpu-ut-row").first.get_attribute("data-pos")
            assert first is not None
        browser.close()
    print(f"Chromium, {args.rows:,} uploads, {args.repeat} runs (ms: median [min–max]):")
    for name, values in figures.items():
        print(f"  {name:<18} {statistics.median(values):8.1f}  "
              f"[{min(values):.1f}–{max(values):.1f}]")


if __name__ == "__main__":
    main()
