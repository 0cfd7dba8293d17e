"""Find, cost and abort incomplete multipart uploads: the marimo version of notebook 02.

Run it as an app (``marimo run notebooks/02-find-cost-abort-incomplete-uploads.marimo.py``)
or open it to edit (``marimo edit ...``). It starts its own S3 server on 127.0.0.1 (moto,
objects in memory), so nothing here touches a real account. Needs the ``notebook`` and
``local`` extras and marimo.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import atexit
    import json
    import os

    import marimo as mo

    import mpu_toolkit as mpu
    from mpu_toolkit import uploads
    from mpu_toolkit.testing.local import LocalS3
    from mpu_toolkit.widgets import UploadsTable
    from mpu_toolkit.widgets.charts import space_pictures

    return LocalS3, UploadsTable, atexit, json, mo, mpu, os, space_pictures, uploads


@app.cell
def _(mo):
    mo.md(r"""
    # Incomplete uploads: find them, see what they cost, abort them

    A multipart upload that is never completed or aborted keeps its parts on the
    server, **billed like any other object, but invisible** in a normal listing.
    This notebook

    1. starts a local S3 server and leaves a few uploads unfinished in it,
    2. lists them with `uploads.list` (one row per upload, as a pandas frame),
    3. draws the space they hold (by age, by prefix, by storage class),
    4. shows them in a table you can filter, sort and select from, and
    5. aborts the uploads you selected, then asks the server again whether they are gone.
    """)
    return


@app.cell
def _(LocalS3, atexit, mpu):
    # A local S3 endpoint (moto in a child process). Against a real account you would pass
    # your own storage_options (s3fs's: key, secret, endpoint_url, profile ...) instead.
    s3 = LocalS3().start()
    atexit.register(s3.stop)  # the server stops when the notebook's kernel (or app) exits
    so = s3.storage_options

    BUCKET = "datalake"
    KiB, MiB = 2**10, 2**20

    # Every upload below is started and given parts, but never completed: exactly what a
    # crashed writer leaves behind. key -> sizes of its parts (all but the last >= 5 MiB).
    LEFT_BEHIND = {
        "logs/2026-11-01.jsonl.gz": [256 * KiB],
        "logs/2026-11-02.jsonl.gz": [2 * MiB],
        "logs/2026-11-03.jsonl.gz": [512 * KiB],
        "logs/2026-11-04.jsonl.gz": [4 * MiB],
        "logs/2026-11-05.jsonl.gz": [1 * MiB],
        "backups/db-2026-11.dump": [5 * MiB, 3 * MiB],
        "exports/report.parquet": [64 * KiB],
    }

    fs = mpu.MPUFileSystem(**so)
    fs.mkdir(BUCKET)
    started = {}
    for key, sizes in LEFT_BEHIND.items():
        handle = mpu.start_upload(f"mpu://{BUCKET}/{key}", storage_options=so)
        for number, size in enumerate(sizes, start=1):
            handle.upload_part(number, b"x" * size)
        started[key] = handle.upload_id
    return BUCKET, LEFT_BEHIND, s3, so, started


@app.cell
def _(BUCKET, LEFT_BEHIND, json, os, s3, so, started):
    # For automated tests only: tell a test where the server is and what was started, so it
    # can check the server's state with its own client. Does nothing unless the variable is set.
    _state_path = os.environ.get("MPU_MARIMO_STATE")
    if _state_path:
        with open(_state_path, "w") as _f:
            json.dump({"endpoint_url": s3.endpoint_url, "key": so["key"], "secret": so["secret"],
                       "bucket": BUCKET, "upload_ids": started,
                       "sizes": {k: sum(v) for k, v in LEFT_BEHIND.items()}}, _f)
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## 1. List them

    `uploads.list(url, storage_options=...)` returns one row per incomplete upload:
    bucket, key, upload id, when it was initiated and how old it is, its storage class,
    and (one ListParts call per upload) how many parts and bytes it holds.

    We also give `logs/` a lifecycle rule that aborts uploads 7 days after they start:
    the age picture marks that cut-off.
    """)
    return


@app.cell
def _(BUCKET, so, uploads):
    uploads.set_lifecycle(f"mpu://{BUCKET}/logs/", days=7, storage_options=so)
    rules = uploads.lifecycles([BUCKET], storage_options=so)
    frame = uploads.list(f"mpu://{BUCKET}", storage_options=so)
    frame[["key", "age", "parts", "bytes", "storage_class"]]
    return frame, rules


@app.cell
def _(mo):
    mo.md(r"""
    ## 2. What they cost

    `space_pictures` draws four static SVG pictures (no JavaScript): the bytes held by
    age, by when the uploads started, by top-level prefix and by storage class, with a
    monthly cost at the price you
    give (per GiB-month; 0.023 is S3 Standard in us-east-1). `mo.Html` shows them inline,
    so their text follows marimo's theme.
    """)
    return


@app.cell
def _(frame, mo, rules, space_pictures):
    PRICE = 0.023
    mo.Html(space_pictures(frame, rules, price=PRICE))
    return (PRICE,)


@app.cell
def _(mo):
    mo.md(r"""
    ## 3. Choose what to abort

    `UploadsTable` is an [anywidget](https://anywidget.dev); `mo.ui.anywidget` runs it in
    marimo. Filtering (bucket, key prefix, age such as `>7d`), sorting (click a header)
    and paging happen in the browser. Tick a row's box to select it; **shift-click**
    another box to select every row between the two, as the table is sorted and filtered.

    The selection travels to Python as a message and lands in the widget's `selection`
    trait (upload ids); `table.selected` is those rows of the frame. A widget message
    re-runs no cell by itself, so the cell below mirrors the trait into `mo.state` to show
    what Python sees; the abort button reads `table.selected` when you press it.
    """)
    return


@app.cell
def _(UploadsTable, frame, mo):
    table = UploadsTable(frame)

    # The selection reaches Python as a message, which re-runs no cell by itself. Mirror the
    # `selection` trait into marimo state: cells that read get_selection() re-run on change.
    get_selection, set_selection = mo.state(list(table.selection))
    table.observe(lambda change: set_selection(list(change["new"])), names="selection")

    mo.ui.anywidget(table)
    return get_selection, table


@app.cell
def _(frame, get_selection, mo):
    # Re-runs on every selection change (through the state above): what Python sees now.
    _picked = frame[frame["upload_id"].isin(get_selection())]
    _held = int(_picked["bytes"].fillna(0).sum())
    mo.md(f"Python sees **{len(_picked)} selected** "
          f"upload{'' if len(_picked) == 1 else 's'} ({_held / 2**20:.2f} MiB).")
    return


@app.cell
def _(mo):
    abort_button = mo.ui.run_button(label="Abort selected", kind="danger")
    abort_button
    return (abort_button,)


@app.cell
def _(
    BUCKET,
    PRICE,
    abort_button,
    mo,
    rules,
    so,
    space_pictures,
    table,
    uploads,
):
    mo.stop(not abort_button.value,
            mo.md("_Select uploads in the table, then press **Abort selected**._"))

    chosen = table.selected
    mo.stop(chosen.empty, mo.md("**Nothing is selected**: tick at least one row first."))

    # min_age=None aborts whatever you selected. The default ("1h") skips uploads younger
    # than an hour, which may belong to writers still running: keep it against a real account.
    outcome = uploads.abort(chosen, min_age=None, storage_options=so)

    # Ask the server again, one upload at a time: `outcome` is what the abort was answered,
    # `present` whether the server still lists the upload now (False: really gone).
    check = uploads.recheck(outcome, storage_options=so)
    report = outcome.merge(check[["upload_id", "present"]], on="upload_id", how="left")
    still_there = int(report["present"].fillna(True).astype(bool).sum())

    # What is left: the table shows it in place (the same widget, new rows), and the
    # pictures are drawn again below.
    remaining = uploads.list(f"mpu://{BUCKET}", storage_options=so)
    table.set_rows(remaining)

    counts = report["outcome"].value_counts().to_dict()
    mo.vstack([
        mo.md(f"**Abort finished**: {len(report)} selected, "
              + ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
              + f"; the server still shows {still_there} of them."),
        mo.ui.table(report[["key", "outcome", "reason", "present", "upload_id"]],
                    selection=None, label="Outcome per upload"),
        mo.md(f"**Still held** ({len(remaining)} uploads):"),
        mo.Html(space_pictures(remaining, rules, price=PRICE)),
    ])
    return


@app.cell
def _(mo):
    mo.md(r"""
    ## Housekeeping

    The local server stops when the notebook's kernel exits (`atexit`, in the cell that
    starts it). Against a real account, prefer a lifecycle rule
    (`uploads.set_lifecycle(url, days=7)`) to aborting by hand: the provider then cleans
    up for you.
    """)
    return


if __name__ == "__main__":
    app.run()
