"""UploadsBrowser: find, cost and abort incomplete multipart uploads from a notebook.

Core ipywidgets only (no custom JavaScript), so it renders in JupyterLab, Notebook 7, Voilà,
VS Code and Colab. The table is one HTML widget per page; listing, aborting and scanning run
in a background thread so the notebook stays usable. Credentials are used once, to build the
filesystem; they never reach the widget's values, its repr or the log.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import ipywidgets as widgets
import pandas as pd

from .. import inventory as uploads
from .._plan.sizing import counted
from ..errors import MPUError
from ..fs import MPUFileSystem, filesystem
from ..inventory.accounting import Price, parse_price
from ..inventory.safe_abort import format_age, parse_age
from . import charts
from . import html_table as table
from .background import BackgroundWork
from .controls import UploadRef, button, styled, upload_ref, without_secrets
from .streamed_listing import StreamedListing, empty_uploads
from .browser_view import ALL, SORT_COLUMNS, confirm_text, filter_sort

__all__ = ["UploadsBrowser"]

class UploadsBrowser(widgets.VBox):
    """Incomplete uploads under ``urls`` (every bucket by default) as a browsable widget.

    ``min_age`` protects live writers: younger uploads are skipped by the abort buttons
    unless "force" is ticked. ``price`` per GiB-month adds monthly costs to the summary.
    Tests drive the sub-widgets (``refresh_button.click()`` ...), read :attr:`frame` and
    call :meth:`wait` to join the background work.
    """

    def __init__(self, urls: str | Sequence[str] | None = None,
                 storage_options: Mapping[str, Any] | None = None, *,
                 fs: MPUFileSystem | None = None, page_size: int = 50, price: Price | None = None,
                 min_age: str | pd.Timedelta | None = "1h", load: bool = True) -> None:
        self.price = parse_price(price)  # a bad price is refused before any request
        self._fs = filesystem(storage_options, fs)
        self._urls = urls
        self.min_age = parse_age(min_age, "min_age")
        self.page_size = max(1, int(page_size))
        self._all = empty_uploads()
        self._listing: StreamedListing | None = None
        self._frame = self._all
        self._share: pd.DataFrame | None = None
        self._selected: set[UploadRef] = set()
        self._pending: pd.DataFrame | None = None
        self._work = BackgroundWork("mpu-browser", self._set_busy,
                                    lambda text: self._say(self._clean(text), "error"))
        self._syncing = False
        self._filter_error = False
        self.page = 0
        self.result: pd.DataFrame | None = None
        self.parts_frame: pd.DataFrame | None = None
        self._build()
        children = self._layout()
        self._owned += [c for c in children if isinstance(c, widgets.Box)]
        super().__init__(children=children)
        self.add_class("mpu-uploads-browser")
        if load:
            self.refresh()

    # ----------------------------------------------------------------- construction
    def _build(self) -> None:
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
        self.bucket_filter = styled(widgets.Dropdown(options=[ALL], value=ALL,
                                                     description="bucket"), "mpu-filter-bucket")
        self.prefix_filter = styled(widgets.Text(description="key prefix", placeholder="logs/",
                                                 continuous_update=False), "mpu-filter-prefix")
        self.age_filter = styled(widgets.Text(description="min age", placeholder="e.g. 1d",
                                              continuous_update=False), "mpu-filter-age")
        self.sort_by = styled(widgets.Dropdown(options=list(SORT_COLUMNS), value="initiated",
                                               description="sort by"), "mpu-sort")
        self.ascending = styled(widgets.ToggleButton(value=True, description="ascending",
                                                     icon="sort-amount-asc"), "mpu-ascending")
        self.table = styled(widgets.HTML(), "mpu-table")
        self.prev_button = button("◀ prev", "mpu-prev")
        self.next_button = button("next ▶", "mpu-next")
        self.page_label = styled(widgets.HTML(), "mpu-page")
        self.select = styled(widgets.SelectMultiple(options=[], rows=8,
                                                    description="select",
                                                    layout=widgets.Layout(width="95%")),
                             "mpu-select")
        self.select_all = styled(widgets.Checkbox(value=False, description="select all filtered",
                                                  indent=False), "mpu-select-all")
        self.selection_label = styled(widgets.HTML(), "mpu-selection")
        young = format_age(self.min_age or pd.Timedelta(0))
        self.force = styled(widgets.Checkbox(value=False, indent=False, description="force "
                                             f"(also uploads younger than {young})"), "mpu-force")
        self.abort_button = button("Abort selected", "mpu-abort", button_style="danger",
                                   icon="trash")
        self.older_days = styled(widgets.IntText(value=7, description="older than (days)",
                                                 style={"description_width": "initial"},
                                                 layout=widgets.Layout(width="14em")),
                                 "mpu-older-days")
        self.abort_older_button = button("Abort older than N days", "mpu-abort-older",
                                         button_style="danger")
        self.confirm_message = styled(widgets.HTML(), "mpu-confirm-message")
        self.confirm_button = button("Confirm", "mpu-confirm", button_style="danger")
        self.cancel_button = button("Cancel", "mpu-cancel")
        self.confirm_box = styled(widgets.VBox(
            [self.confirm_message, widgets.HBox([self.confirm_button, self.cancel_button])],
            layout=widgets.Layout(display="none", border="1px solid #cf222e", padding="4px")),
            "mpu-confirm-box")
        self.result_html = styled(widgets.HTML(), "mpu-result")
        self.parts_select = styled(widgets.Dropdown(options=[], description="upload",
                                                    layout=widgets.Layout(width="60%")),
                                   "mpu-parts-select")
        self.parts_button = button("Show parts", "mpu-parts")
        self.parts_html = styled(widgets.HTML(), "mpu-parts-table")

        self.refresh_button.on_click(lambda _: self.refresh())
        self.stop_button.on_click(lambda _: self.stop())
        self.share_button.on_click(lambda _: self.compute_share())
        self.prev_button.on_click(lambda _: self._go(self.page - 1))
        self.next_button.on_click(lambda _: self._go(self.page + 1))
        for control in (self.bucket_filter, self.prefix_filter, self.age_filter, self.sort_by,
                        self.ascending):
            control.observe(lambda _: self._apply(reset_page=True), names="value")
        self.select.observe(self._on_select, names="value")
        self.select_all.observe(lambda _: self._show_selection(), names="value")
        self.abort_button.on_click(lambda _: self._ask_abort_selected())
        self.abort_older_button.on_click(lambda _: self._ask_abort_older())
        self.confirm_button.on_click(lambda _: self._confirmed())
        self.cancel_button.on_click(lambda _: self._cancelled())
        self.parts_button.on_click(lambda _: self.show_parts())
        # off while work runs; looking (filters, pages, selection) stays on during a listing
        self._controls = [self.refresh_button, self.share_button, self.abort_button,
                          self.abort_older_button, self.confirm_button, self.cancel_button,
                          self.parts_button, self.force, self.older_days, self.parts_select]
        looking = [self.prev_button, self.next_button, self.bucket_filter, self.prefix_filter,
                   self.age_filter, self.sort_by, self.ascending, self.select, self.select_all]
        self._owned = self._controls + looking + [self.stop_button, self.progress, self.space, self.status,
                                        self.busy_label, self.summary, self.table,
                                        self.page_label, self.selection_label,
                                        self.confirm_message, self.confirm_box,
                                        self.result_html, self.parts_html]

    def _layout(self) -> list[widgets.Widget]:
        return [
            widgets.HBox([self.refresh_button, self.stop_button, self.share_button,
                          self.busy_label]),
            self.progress, self.status, self.summary, self.space,
            widgets.HBox([self.bucket_filter, self.prefix_filter, self.age_filter]),
            widgets.HBox([self.sort_by, self.ascending]),
            self.table,
            widgets.HBox([self.prev_button, self.page_label, self.next_button]),
            self.select, widgets.HBox([self.select_all, self.selection_label]),
            widgets.HBox([self.abort_button, self.force]),
            widgets.HBox([self.older_days, self.abort_older_button]),
            self.confirm_box, self.result_html,
            widgets.HBox([self.parts_select, self.parts_button]), self.parts_html,
        ]

    def __repr__(self) -> str:
        return (f"UploadsBrowser(urls={self._urls!r}, uploads={len(self._all)}, "
                f"shown={len(self._frame)}, page={self.page + 1}/{self.pages})")

    # ----------------------------------------------------------------- public API
    @property
    def frame(self) -> pd.DataFrame:
        """The uploads after filters and sorting (every page)."""
        return self._frame

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self._frame) / self.page_size))

    @property
    def selected(self) -> pd.DataFrame:
        """The rows an "Abort selected" would abort."""
        if self.select_all.value:
            return self._frame
        refs = [upload_ref(r) for r in self._all.itertuples(index=False)]
        return self._all[[r in self._selected for r in refs]]

    def wait(self, timeout: float | None = 60) -> None:
        """Join the background work (listing, abort, scan), if any."""
        self._work.wait(timeout)

    @property
    def busy(self) -> bool:
        return self._work.busy

    def refresh(self) -> None:
        """List the uploads again, in the background: rows appear as the pages come, sizes
        as they are counted; :meth:`stop` keeps what was listed."""
        def work() -> None:
            self._listing = StreamedListing(
                self._fs, self._urls, self._set_listing,
                lambda p: setattr(self.progress, "value", f"<small>{table.esc(str(p))}</small>"))
            self.stop_button.disabled = False
            try:
                final = self._listing.run()
            finally:
                self.stop_button.disabled = True
            self._say("stopped: the table shows what was listed until then" if final.stopped
                      else "")
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

    def show_parts(self) -> None:
        ref = self.parts_select.value
        if not ref:
            self._say("choose an upload first", "error")
            return

        def work() -> None:
            bucket, key, upload_id = ref
            self.parts_frame = uploads.parts(f"{bucket}/{key}", upload_id, fs=self._fs)
            self.parts_html.value = table.parts_table(self.parts_frame, f"{bucket}/{key}")
            self._say("")
        self._start("listing parts", work)

    def close(self) -> None:
        """Close this widget and every widget it made (their state leaves the kernel)."""
        for child in getattr(self, "_owned", []):
            child.close()
        super().close()

    # ----------------------------------------------------------------- background work
    def _start(self, what: str, work: Callable[[], None]) -> None:
        if not self._work.start(what, work):
            self._say("busy: wait until the current work is done", "error")

    def _set_busy(self, busy: bool, what: str = "") -> None:
        for control in self._controls:
            control.disabled = busy
        self.busy_label.value = f"<i>working… ({table.esc(what)})</i>" if busy else ""

    def _clean(self, text: str) -> str:
        return without_secrets(text, getattr(self._fs, "storage_options", None))

    def _say(self, text: str, kind: str = "info") -> None:
        self.status.value = table.message_html(text, kind)

    def _load(self) -> None:
        self._set_listing(uploads.list(self._urls, fs=self._fs), True)

    def _set_listing(self, frame: pd.DataFrame, final: bool) -> None:
        self._all = frame
        self._share = None
        buckets = sorted(frame["bucket"].astype(str).unique())
        current = self.bucket_filter.value
        self._syncing = True
        try:
            self.bucket_filter.options = [ALL] + buckets
            self.bucket_filter.value = current if current in buckets else ALL
        finally:
            self._syncing = False
        if final and not (self._listing and self._listing.stopping):  # the rest may exist
            self._selected &= {upload_ref(r) for r in frame.itertuples(index=False)}
        self.summary.value = table.summary_html(frame, price=self.price)
        if final:  # after a listing, and after an abort's relisting (a background thread)
            rules = uploads.lifecycles(buckets, fs=self._fs)
            self.space.value = charts.space_pictures(frame, rules, self.price)
        self._apply(reset_page=False)

    # ----------------------------------------------------------------- filtering, paging
    def _filtered(self) -> pd.DataFrame:
        return filter_sort(self._all, bucket=self.bucket_filter.value,
                           prefix=self.prefix_filter.value, min_age=self.age_filter.value,
                           sort_by=self.sort_by.value, ascending=self.ascending.value)

    def _apply(self, reset_page: bool) -> None:
        if self._syncing:
            return
        try:
            self._frame = self._filtered()
        except MPUError as exc:
            self._filter_error = True
            self._say(self._clean(str(exc)), "error")
            return
        if self._filter_error:
            self._filter_error = False
            self._say("")
        self.ascending.description = "ascending" if self.ascending.value else "descending"
        self.ascending.icon = "sort-amount-asc" if self.ascending.value else "sort-amount-desc"
        self.select_all.description = f"select all {len(self._frame):,} filtered"
        self._go(0 if reset_page else self.page)

    def _go(self, page: int) -> None:
        self.page = min(max(0, page), self.pages - 1)
        start = self.page * self.page_size
        rows = self._frame.iloc[start:start + self.page_size]
        self.table.value = table.uploads_table(rows, sort_header=self.sort_by.value,
                                               ascending=self.ascending.value)
        options = [(f"{r.bucket}/{r.key} · {table.size_text(r.bytes)} · "
                    f"{table.age_text(r.age)} old · {table.short_id(r.upload_id)}", upload_ref(r))
                   for r in table.records(rows)]
        self._syncing = True
        try:
            self.select.options = options
            self.select.value = tuple(ref for _, ref in options if ref in self._selected)
            self.parts_select.options = options
        finally:
            self._syncing = False
        total = self._frame["bytes"].fillna(0).sum() if len(self._frame) else 0
        self.page_label.value = (f"page {self.page + 1} of {self.pages} · "
                                 f"{counted(len(self._frame), 'upload')}, "
                                 f"{table.esc(table.size_text(total))} after filters")
        self._update_nav()
        self._show_selection()

    def _update_nav(self) -> None:
        self.prev_button.disabled = self.page <= 0
        self.next_button.disabled = self.page >= self.pages - 1

    def _on_select(self, change: Mapping[str, Any]) -> None:
        if self._syncing:
            return
        on_page = {ref for _, ref in self.select.options}
        self._selected = (self._selected - on_page) | set(change["new"])
        self._show_selection()

    def _show_selection(self) -> None:
        rows = self.selected
        total = int(rows["bytes"].fillna(0).sum()) if len(rows) else 0
        self.selection_label.value = (f"{len(rows):,} selected "
                                      f"({table.esc(table.size_text(total))})")

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
        self._ask(self.selected, "all filtered" if self.select_all.value else "selected")

    def _ask_abort_older(self) -> None:
        days = self.older_days.value
        if days is None or days < 0:
            self._say("the number of days must be 0 or more", "error")
            return
        rows = self._frame[self._frame["age"] >= pd.Timedelta(days=days)]
        self._ask(rows, f"filtered, older than {days} day{'s' if days != 1 else ''}")

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
            self.result = uploads.abort(rows, min_age=self.min_age, force=force, fs=self._fs)
            self.result_html.value = table.result_table(self.result)
            self._selected -= {upload_ref(r) for r in self.result.itertuples(index=False)
                               if r.outcome in ("aborted", "gone")}
            counts = self.result["outcome"].value_counts()
            done = self.result[self.result["outcome"] == "aborted"]
            left = int(uploads.recheck(done, fs=self._fs)["present"].sum()) if len(done) else 0
            self._load()
            failed = int(counts.get("failed", 0)) + left
            self._say(f"{int(counts.get('aborted', 0))} aborted, {int(counts.get('failed', 0))} "
                      f"failed; re-checked on the server: {len(done) - left} of {len(done)} "
                      "gone; listing refreshed", "error" if failed else "ok")
        self._start("aborting", work)
