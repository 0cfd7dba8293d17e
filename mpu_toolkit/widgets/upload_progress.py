"""``UploadProgress``: a notebook view of one streaming write (core ipywidgets, no custom JS).

>>> from mpu_toolkit.widgets import UploadProgress     # doctest: +SKIP
>>> view = UploadProgress("mpu://bucket/big.bin", endpoint_url=so["endpoint_url"])
>>> display(view)
>>> with open_writer("mpu://bucket/big.bin", storage_options=so, progress=view) as f: ...

The view is a :class:`ProgressEvent` callback. The writer calls it from the producer's thread
and from fsspec's I/O thread, so an update only sets widget values under a lock (nothing is
re-created). :meth:`UploadProgress.display_new` is registered as the ``widget`` display
(entry point group ``mpu_toolkit.progress``): ``progress="widget"`` shows this view, and so
does ``progress=True`` inside a Jupyter kernel (a tqdm bar elsewhere).

Stable CSS classes for tests and styling: ``mpu-progress`` (the box), ``mpu-progress-title``,
``mpu-progress-bar``, ``mpu-progress-percent``, ``mpu-progress-stats``, ``mpu-progress-memory``,
``mpu-progress-status``, ``mpu-progress-object`` (the completed object's URL and link).
"""

from __future__ import annotations

import html
import threading
from urllib.parse import quote, urlsplit, urlunsplit

import ipywidgets as widgets

from ..progress import ProgressEvent
from .._plan.sizing import format_size

__all__ = ["UploadProgress"]

_FINAL = frozenset({"completed", "aborted", "failed", "kept"})
# Events come from two threads, so a snapshot can arrive late: an outcome is never replaced by
# "writing"/"completing", and "kept" (decided after the failure) is never replaced by the
# transient "failed" that an I/O-thread snapshot may carry while the upload is being kept.
_RANK = {"writing": 0, "completing": 0, "aborted": 1, "failed": 1, "kept": 2, "completed": 2}
_BAR_STYLE = {"completed": "success", "aborted": "danger", "failed": "danger", "kept": "warning"}
_COLOUR = {"completed": "#2e7d32", "aborted": "#c62828", "failed": "#c62828", "kept": "#ef6c00"}
_MAX_REASON = 500  # characters of an error shown in the status line


def format_duration(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03`` (as tqdm shows times)."""
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class UploadProgress(widgets.VBox):
    """Bytes uploaded, parts done / in flight, rows, MB/s, memory, elapsed, ETA, final state.

    Call it with :class:`ProgressEvent` snapshots (pass it as ``progress=``). The bar shows a
    percentage when the total size is known; otherwise it appears at the end, coloured by the
    outcome: green (completed), red (aborted or failed), orange (kept for resume).

    Memory is the writer's part buffers (``ProgressEvent.memory_in_use``, bounded by
    ``max_memory``) and the peak seen; at the end, when the buffers are freed, only the peak.

    Completed, the view links the object: its URL as given (``mpu://bucket/key``, selectable
    text to copy), size and ETag, and, with ``endpoint_url``, an ``<a>`` to the object's plain
    path-style URL on that endpoint (``{endpoint_url}/{bucket}/{key}``). The link carries no
    signature (never a presigned URL: it would show the access key id), so opening it works
    where the object is readable without one; the endpoint's user info, query and fragment
    are dropped, and only ``http(s)`` endpoints give a link. ``progress="widget"`` has no
    endpoint: the URL text, size and ETag, no link.
    """

    def __init__(self, title: str = "upload", total: int | None = None, *,
                 endpoint_url: str | None = None, **kwargs: object) -> None:
        self._lock = threading.Lock()
        self._final = False
        self._rank = 0
        self._uploaded = 0  # events from two threads may arrive out of order: never go back
        self._parts_done = 0
        self._rows: int | None = None
        self._memory_peak = 0
        self._endpoint = _plain_endpoint(endpoint_url)
        self.title = widgets.HTML(f"<b>{html.escape(title)}</b>")
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=float(total or 1),
                                         bar_style="info")
        self.percent = widgets.Label("")
        self.uploaded = widgets.Label("0 B uploaded")
        self.parts = widgets.Label("0 parts done, 0 in flight")
        self.rows = widgets.Label("")
        self.rate = widgets.Label("")
        self.elapsed = widgets.Label("")
        self.eta = widgets.Label("")
        self.memory = widgets.Label("")
        self.status = widgets.HTML("waiting for data")
        self.object = widgets.HTML("")
        self.stats = widgets.HBox([self.uploaded, self.parts, self.rows, self.rate,
                                   self.memory, self.elapsed, self.eta])
        self.header = widgets.HBox([self.title, self.bar, self.percent])
        for widget, css in ((self, "mpu-progress"), (self.title, "mpu-progress-title"),
                            (self.bar, "mpu-progress-bar"), (self.percent, "mpu-progress-percent"),
                            (self.stats, "mpu-progress-stats"),
                            (self.memory, "mpu-progress-memory"),
                            (self.status, "mpu-progress-status"),
                            (self.object, "mpu-progress-object")):
            widget.add_class(css)
        self.stats.layout.grid_gap = "1em"
        self.stats.layout.flex_flow = "row wrap"
        for label in (self.rows, self.eta, self.memory, self.object):
            label.layout.display = "none"  # shown when there is something to show
        self._show_bar(total is not None)
        super().__init__([self.header, self.stats, self.status, self.object], **kwargs)

    @classmethod
    def display_new(cls, title: str, total: int | None = None) -> "UploadProgress":
        """Create, display (in the current output) and return a view: the notebook factory
        that ``progress=True`` uses (see :func:`mpu_toolkit.progress.make_progress`)."""
        from IPython.display import display

        view = cls(title, total)
        display(view)
        return view

    @property
    def state(self) -> str | None:
        """The last state shown (``None`` before the first event)."""
        return getattr(self, "_state", None)

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            rank = _RANK.get(event.state, 0)
            if self._final and rank < self._rank:  # a late snapshot: the outcome stands
                return
            self._state = event.state
            self._rank = rank
            self._final = event.state in _FINAL
            self._uploaded = max(self._uploaded, event.bytes_uploaded)
            self._parts_done = max(self._parts_done, event.parts_done)
            if event.rows is not None:
                self._rows = max(self._rows or 0, event.rows)
            self._update_stats(event)
            self._update_bar(event)
            self._update_status(event)

    # -- updates (under the lock; values only) ----------------------------------------------
    def _update_stats(self, event: ProgressEvent) -> None:
        uploaded = self._uploaded
        self.uploaded.value = (f"{format_size(uploaded)} uploaded" if event.total is None
                               else f"{format_size(uploaded)} / {format_size(event.total)}")
        in_flight = 0 if self._final else event.parts_in_flight
        self.parts.value = (f"{self._parts_done} part{'s' * (self._parts_done != 1)} done, "
                            f"{in_flight} in flight")
        if self._rows is not None:
            self.rows.value = f"{self._rows:,} rows"
            self.rows.layout.display = None
        self._update_memory(0 if self._final else event.memory_in_use)
        rate = uploaded / event.elapsed if event.elapsed > 0 else 0.0
        self.rate.value = f"{rate / 1e6:.1f} MB/s"
        self.elapsed.value = f"elapsed {format_duration(event.elapsed)}"
        eta = None
        if event.total is not None and not self._final and rate > 0:
            eta = max(0, event.total - uploaded) / rate
        self.eta.value = "" if eta is None else f"ETA {format_duration(eta)}"
        self.eta.layout.display = "none" if eta is None else None

    def _update_memory(self, in_use: int) -> None:
        self._memory_peak = max(self._memory_peak, in_use)
        peak = format_size(self._memory_peak)
        self.memory.value = (f"peak memory {peak}" if self._final else
                             f"memory {format_size(in_use)} (peak {peak})")
        self.memory.layout.display = None if self._memory_peak else "none"

    def _update_bar(self, event: ProgressEvent) -> None:
        bar = self.bar
        with bar.hold_sync():  # value, max and style in one message
            if event.total is not None:
                bar.max = float(max(event.total, 1))
                bar.value = float(min(self._uploaded, event.total))
                self.percent.value = f"{100 * bar.value / bar.max:.0f}%"
            elif self._final:  # unknown size: a full bar that carries the outcome's colour
                bar.max = float(max(self._uploaded, 1))
                bar.value = bar.max if event.state == "completed" else float(self._uploaded)
            if self._final:
                bar.bar_style = _BAR_STYLE[event.state]
        self._show_bar(event.total is not None or self._final)

    def _show_bar(self, visible: bool) -> None:
        self.bar.layout.display = None if visible else "none"
        self.percent.layout.display = None if visible and self.percent.value else "none"

    def _update_status(self, event: ProgressEvent) -> None:
        state = event.state
        if state == "completed":
            text = f"completed — {format_size(self._uploaded)}, ETag {event.etag or '?'}"
        elif state == "kept":
            text = f"kept for resume — upload id {event.upload_id or '?'}"
            if event.error:
                text += f" ({_shorten(event.error)})"
        elif state in ("aborted", "failed"):
            text = f"{state} — {_shorten(event.error or 'no reason given')}"
        else:
            text = state  # writing / completing
        colour = _COLOUR.get(state)
        body = html.escape(text)
        self.status.value = (f'<span style="color:{colour}">{body}</span>' if colour else body)
        if state == "completed":
            self.object.value = self._object_html(event.url)
            self.object.layout.display = None

    def _object_html(self, url: str) -> str:
        """The object's URL as given (selected whole on a click) and, with an endpoint, a link
        to its plain path-style URL there."""
        text = (f'<code style="user-select:all" title="the object (click to select)">'
                f'{html.escape(url)}</code>')
        href = object_href(self._endpoint, url)
        if href is None:
            return text
        link = html.escape(href, quote=True)
        return (f'{text} · <a href="{link}" target="_blank" rel="noopener noreferrer" '
                f'style="text-decoration:underline">{html.escape(href)}</a>')


def _plain_endpoint(endpoint_url: str | None) -> str | None:
    """``scheme://host[:port][/path]`` of an http(s) endpoint: no user info, query or fragment
    (nothing that could carry a credential), or None."""
    if not endpoint_url:
        return None
    parts = urlsplit(endpoint_url)
    try:
        port = parts.port
    except ValueError:  # not a number
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), "", ""))


def object_href(endpoint: str | None, url: str) -> str | None:
    """The plain path-style URL of ``url`` (``scheme://bucket/key``) on ``endpoint``, or None
    (no endpoint, or no bucket and key)."""
    _, sep, rest = url.partition("://")
    bucket, _, key = (rest if sep else url).partition("/")
    if endpoint is None or not bucket or not key:
        return None
    return f"{endpoint}/{quote(bucket, safe='')}/{quote(key, safe='/~')}"


def _shorten(reason: str) -> str:
    return reason if len(reason) <= _MAX_REASON else reason[:_MAX_REASON - 1] + "…"

