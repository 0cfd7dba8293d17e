"""UploadsBrowser: find, cost and abort incomplete multipart uploads from a notebook.

The table is an :class:`~.uploads_table.UploadsTable` (an anywidget: select with checkboxes
and shift-click, sort by a header, filter as you type, parts under a row, all in the browser);
the rest is core ipywidgets, so it renders wherever anywidget does: JupyterLab, Notebook 7,
Voilà, VS Code and Colab. Listing, aborting and scanning run in a background thread so the
notebook stays usable. Credentials are used once, to build the filesystem; they never reach
the widget's values, its repr or the log.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Sequence

import ipywidgets as widgets
import pandas as pd

from .. import inventory as uploads
from ..errors import MPUError
from ..fs import MPUFileSystem, filesystem
from ..inventory.accounting import Price, parse_price
from ..inventory.safe_abort import format_age, parse_age
from . import charts
from . import html_table as table
from .background import BackgroundWork
from .browser_view import confirm_text
from .controls import button, styled, without_secrets
from .streamed_listing import StreamedListing, empty_uploads
from .uploads_table import UploadsTable

__all__ = ["UploadsBrowser"]


class UploadsBrowser(widgets.VBox):
    """Incomplete uploads under ``urls`` (every bucket by default) as a browsable widget.

    ``min_age`` protects live writers: younger uploads are skipped by the abort buttons
    unless "force" is ticked. ``price`` per GiB-month adds monthly costs to the summary and
    the pictures. Tests drive the sub-widgets (``refresh_button.click()``, ``table.selection
    = [...]`` ...), read :attr:`frame` and call :meth:`wait` to join the background work.
    """

    def __init__(self, urls: str | Sequence[str] | None = None,
                 storage_options: Mapping[str, Any] | None = None, *,
                 fs: MPUFileSystem | None = None, page_size: int = 100, price: Price | None = None,
                 min_age: str | pd.Timedelta | None = "1h", load: bool = True) -> None:
        self.price = parse_price(price)  # a bad price is refused before any request
        self._fs = filesystem(storage_options, fs)
        self._urls = urls
        self.min_age = parse_age(min_age, "min_age")
        self._all = empty_uploads()
        self._listing: StreamedListing | None = None
        self._share: pd.DataFrame | None = None
        self._pending: pd.DataFrame | None = None
        self._work = BackgroundWork("mpu-browser", self._set_busy,
                                    lambda text: self._say(self._clean(text), "error"))
        self.result: pd.DataFrame | None = None
        self.parts_frame: pd.DataFrame | None = None
        self._build(page_size)
        super().__init__(children=self._layout())
        self.add_class("mpu-uploads-browser")
        if load:
            self.refresh()

    # ----------------------------------------------------------------- construction
    def _build(self, page_size: int) -> None:
        self.status = styled(widgets.HTML(), "mpu-status")
        self.busy_label = styled(widgets.HTML(""), "mpu-busy")
        self.summary = styled(widgets.HTML("<i>uploads not listed yet</i>"), "mpu-summary")
        self.space = styled(widgets.HTML(), "mpu-space-pictures")  # where the bytes are
        self.share_button = button("compute share of space", "mpu-share", icon="pie-chart",
                                   tooltip="lists every object of the buckets (a scan)")
        self.refresh_button = button("Refresh", "mpu-refresh", icon="refresh")
        self.stop_button = button("Stop", "mpu-stop", icon="stop", disabled=True,
                                  tooltip="stop listing; keep what was listed")
        self.progress = styled(widgets.HTML(), "mpu-progress")
        self.table = UploadsTable(page_size=page_size)
        self.table.on_parts_requested(self.show_parts)
        young = format_age(self.min_age or pd.Timedelta(0))
        self.force = styled(widgets.Checkbox(  # without min_age, nothing to force: hidden
            value=False, indent=False, description=f"force (also uploads younger than {young})",
            layout=widgets.Layout(width="auto", display=None if self.min_age else "none")),
            "mpu-force")
        self.abort_button = button("Abort selected", "mpu-abort", button_style="danger",
                                   icon="trash")
        self.older_days = styled(widgets.IntText(value=7, description="older than (days)",
                                                 style={"description_width": "initial"},
                                                 layout=widgets.Layout(width="12em")),
                                 "mpu-older-days")
        self.abort_older_button = button("Abort every upload older than N days",
                                         "mpu-abort-older", button_style="danger")
        self.confirm_message = styled(widgets.HTML(), "mpu-confirm-message")
        self.confirm_button = button("Confirm", "mpu-confirm", button_style="danger")
        self.cancel_button = button("Cancel", "mpu-cancel")
        self.confirm_box = styled(widgets.VBox(
            [self.confirm_message, widgets.HBox([self.confirm_button, self.cancel_button])],
            layout=widgets.Layout(display="none", border="1px solid #cf222e", padding="4px")),
            "mpu-confirm-box")
        self.result_html = styled(widgets.HTML(), "mpu-result")
        self.recheck_button = button("Re-check on the server", "mpu-recheck", icon="check",
                                     disabled=True, tooltip="list again: are the aborted "
                                     "uploads gone?")

        self.refresh_button.on_click(lambda _: self.refresh())
        self.stop_button.on_click(lambda _: self.stop())
        self.share_button.on_click(lambda _: self.compute_share())
        self.abort_button.on_click(lambda _: self._ask_abort_selected())
        self.abort_older_button.on_click(lambda _: self._ask_abort_older())
        self.confirm_button.on_click(lambda _: self._confirmed())
        self.cancel_button.on_click(lambda _: self._cancelled())
        self.recheck_button.on_click(lambda _: self.recheck())
        # off while work runs; looking (the table: filters, sorting, selection, parts) stays on
        self._controls = [self.refresh_button, self.share_button, self.abort_button,
                          self.abort_older_button, self.confirm_button, self.cancel_button,
                          self.force, self.older_days, self.recheck_button]

    def _layout(self) -> list[widgets.Widget]:
        return [
            widgets.HBox([self.refresh_button, self.stop_button, self.share_button,
                          self.busy_label]),
            self.progress, self.status, self.summary,
            self.table,
            widgets.HBox([self.abort_button, self.force]),
            widgets.HBox([self.older_days, self.abort_older_button]),
            self.confirm_box, self.result_html, widgets.HBox([self.recheck_button]),
            self.space,  # below the table: the table is what one acts in
        ]

    def __repr__(self) -> str:
        return (f"UploadsBrowser(urls={self._urls!r}, uploads={len(self._all)}, "
                f"selected={len(self.table.selection)})")

    # ----------------------------------------------------------------- public API
    @property
    def frame(self) -> pd.DataFrame:
        """Every upload listed (the table filters and sorts them in the browser)."""
        return self._all

    @property
    def selected(self) -> pd.DataFrame:
        """The rows an "Abort selected" would abort (ticked in the table)."""
        return self.table.selected

    def wait(self, timeout: float | None = 60) -> None:
        """Join the background work (listing, abort, scan), if any."""
        self._work.wait(timeout)

    @property
    def busy(self) -> bool:
        return self._work.busy

    def refresh(self) -> None:
        """List the uploads again, in the background: rows appear as the pages come, sizes
        as they are counted; :meth:`stop` keeps what was listed. The selection keeps the
        uploads that still exist."""
        def work() -> None:
            self._listing = StreamedListing(
                self._fs, self._urls, self._set_listing,
                lambda p: setattr(self.progress, "value", f"<small>{table.esc(str(p))}</small>"))
            self.stop_button.disabled = False
            try:
                final = self._listing.run()
            finally:
                self.stop_button.disabled = True
            said = ["stopped: the table shows what was listed until then" if final.stopped
                    else "", final.notice or ""]  # what an exact-key store left unseen
            self._say(". ".join(filter(None, said)), "error" if final.notice else "info")
        self._start("listing uploads", work)

    def stop(self) -> None:
        """Stop a listing in progress (what was listed stays)."""
        if self._listing is not None:
            self._listing.stop()

    def compute_share(self) -> None:
        """Scan the buckets' objects to show each bucket's share held by uploads."""
        def work() -> None:
            frame = self._all
            self._share = (uploads.usage(uploads=frame, objects=True, fs=self._fs)
                           if len(frame) else None)
            self.summary.value = table.summary_html(self._all, self._share, self.price)
            self._say("share of space computed (a scan of every object in these buckets)", "ok")
        self._start("scanning objects", work)

    def show_parts(self, upload_id: str) -> threading.Thread:
        """List one upload's parts in a thread (a listing may run meanwhile) and show them
        under its row; returns the thread (tests join it)."""
        rows = self._all[self._all["upload_id"] == upload_id]

        def work() -> None:
            if rows.empty:
                self.table.show_parts(upload_id, None, error="not in the listing any more")
                return
            row = rows.iloc[0]
            try:
                self.parts_frame = uploads.parts(f"{row['bucket']}/{row['key']}", upload_id,
                                                 fs=self._fs)
            except Exception as exc:  # shown under the row, never a traceback
                text = str(exc) if isinstance(exc, MPUError) else f"{type(exc).__name__}: {exc}"
                self.table.show_parts(upload_id, None, error=self._clean(text))
                return
            self.table.show_parts(upload_id, self.parts_frame)
        thread = threading.Thread(target=work, name="mpu-browser-parts", daemon=True)
        thread.start()
        return thread

    def recheck(self) -> None:
        """List the uploads of the last abort again, on the server: are they gone?"""
        result = self.result
        if result is not None:
            self._start("re-checking", lambda: self._recheck(result))

    def close(self) -> None:
        """Close this widget and every widget it made (their state leaves the kernel)."""
        for child in _descendants(self):
            child.close()
        super().close()

    # ----------------------------------------------------------------- background work
    def _start(self, what: str, work: Callable[[], None]) -> None:
        if not self._work.start(what, work):
            self._say("busy: wait until the current work is done", "error")

    def _set_busy(self, busy: bool, what: str = "") -> None:
        for control in self._controls:
            control.disabled = busy
        self.recheck_button.disabled = busy or self.result is None
        self.busy_label.value = f"<i>working… ({table.esc(what)})</i>" if busy else ""

    def _clean(self, text: str) -> str:
        return without_secrets(text, getattr(self._fs, "storage_options", None))

    def _say(self, text: str, kind: str = "info") -> None:
        self.status.value = table.message_html(text, kind)

    def _set_listing(self, frame: pd.DataFrame, final: bool) -> None:
        self._all = frame
        self._share = None
        stopped = self._listing is not None and self._listing.stopping
        self.table.sync_rows(frame, complete=final and not stopped)  # the rest may exist
        if final or len(frame):  # an empty partial listing says nothing about what is held
            self.summary.value = table.summary_html(frame, price=self.price)
        if final:  # after a listing, and after an abort's relisting (a background thread)
            buckets = sorted(frame["bucket"].astype(str).unique())
            rules = uploads.lifecycles(buckets, fs=self._fs)
            self.space.value = charts.space_pictures(frame, rules, self.price)

    # ----------------------------------------------------------------- aborting
    def _ask(self, rows: pd.DataFrame, what: str) -> None:
        if rows.empty:
            self._say(f"nothing to abort: {what}", "error")
            return
        self._pending = rows.reset_index(drop=True)
        text = confirm_text(rows, what, min_age=self.min_age, force=self.force.value,
                            price=self.price)
        self.confirm_message.value = f"<b>{table.esc(text)}</b> This cannot be undone."
        self.confirm_box.layout.display = "flex"

    def _ask_abort_selected(self) -> None:
        self._ask(self.selected, "selected")

    def _ask_abort_older(self) -> None:
        days = self.older_days.value
        if days is None or days < 0:
            self._say("the number of days must be 0 or more", "error")
            return
        rows = self._all[(self._all["age"] >= pd.Timedelta(days=days)).fillna(False)]
        self._ask(rows, f"every upload listed older than {days} day{'s' if days != 1 else ''}")

    def _cancelled(self) -> None:
        self._pending = None
        self.confirm_box.layout.display = "none"
        self._say("cancelled: nothing was aborted")

    def _confirmed(self) -> None:
        rows, self._pending = self._pending, None
        self.confirm_box.layout.display = "none"
        if rows is None:
            return
        force = self.force.value

        def work() -> None:
            self.table.mark_rows({})
            self.result = result = uploads.abort(rows, min_age=self.min_age, force=force,
                                                 fs=self._fs)
            self.result_html.value = table.result_table(result)
            failed = result[result["outcome"] == "failed"]
            self.table.mark_rows({r.upload_id: f"abort failed: {self._clean(str(r.reason))}"
                                  for r in failed.itertuples(index=False)})
            self._recheck(result)
        self._start("aborting", work)

    def _recheck(self, result: pd.DataFrame) -> None:
        """List the aborted uploads again (ListParts each), then the table; say what holds."""
        done = result[result["outcome"] == "aborted"]
        left = int(uploads.recheck(done, fs=self._fs)["present"].sum()) if len(done) else 0
        self._set_listing(uploads.list(self._urls, fs=self._fs), True)
        failed = int((result["outcome"] == "failed").sum())
        self._say(f"{len(done)} aborted, {failed} failed; re-checked on the server: "
                  f"{len(done) - left} of {len(done)} gone; listing refreshed",
                  "error" if failed or left else "ok")


def _descendants(box: widgets.Box) -> list[widgets.Widget]:
    """Every widget inside ``box`` (its children's children too)."""
    found: list[widgets.Widget] = []
    for child in box.children:
        found.append(child)
        if isinstance(child, widgets.Box):
            found += _descendants(child)
    return found
