"""UploadsTable: incomplete uploads as a table you act in (select, sort, filter, open parts).

An anywidget (a standard ipywidgets comm plus the ES module ``uploads_table.js``): the rows go
to the browser once, as columns, and sorting, filtering and paging run there, so 100,000
uploads stay responsive and a keystroke never waits for the kernel. The kernel owns the rows
and ``selection``; rows travel as custom messages (a synced trait would resend every row on
each appended page). Only upload listings reach the browser: never a filesystem or credential.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Mapping

import anywidget
import pandas as pd
import traitlets

from ..inventory.listing import COLUMNS

__all__ = ["UploadsTable", "encode_rows", "encode_parts"]

_HERE = Path(__file__).parent
_REQUIRED = ("bucket", "key", "upload_id")
CHUNK_ROWS = 20_000  # rows per message: a snapshot of 100k rows is a few messages, not one

PartsCallback = Callable[[str], object]  # what it returns is ignored


def _values(series: pd.Series) -> list[Any]:
    """A column as JSON values, NA as None."""
    return series.astype(object).where(series.notna(), None).tolist()


def _dictionary(series: pd.Series) -> dict[str, list[Any]]:
    """A repetitive string column as ``codes`` into ``values`` (-1: missing)."""
    codes, uniques = pd.factorize(series.astype("string"), use_na_sentinel=True)
    return {"codes": codes.tolist(), "values": [str(v) for v in uniques]}


def _epoch_ms(series: pd.Series) -> list[Any]:
    stamps = pd.to_datetime(series, utc=True)
    millis = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    return _values(millis.astype("Int64"))


def _seconds(series: pd.Series) -> list[Any]:
    return _values(pd.to_timedelta(series).dt.total_seconds())


def _integers(series: pd.Series) -> list[Any]:
    return _values(pd.to_numeric(series).astype("Int64"))


def encode_rows(frame: pd.DataFrame) -> dict[str, Any]:
    """Uploads as JSON columns: bucket and storage class dictionary-encoded, times as epoch
    milliseconds, ages in seconds, missing values (an unsized upload's bytes) as None."""
    n = len(frame)

    def column(name: str) -> pd.Series:
        return frame[name] if name in frame else pd.Series([None] * n, index=frame.index)
    return {
        "bucket": _dictionary(column("bucket")),
        "key": _values(column("key").astype("string")),
        "upload_id": _values(column("upload_id").astype("string")),
        "initiated": _epoch_ms(column("initiated")),
        "age": _seconds(column("age")),
        "storage_class": _dictionary(column("storage_class")),
        "parts": _integers(column("parts")),
        "bytes": _integers(column("bytes")),
    }


def encode_parts(parts: pd.DataFrame) -> dict[str, list[Any]]:
    """One upload's parts (``inventory.parts``' frame) as JSON columns."""
    return {"number": _integers(parts["number"]), "size": _integers(parts["size"]),
            "etag": _values(parts["etag"].astype("string")),
            "last_modified": _epoch_ms(parts["last_modified"])}


def _checked(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in frame]
    if missing:
        raise ValueError(f"the uploads frame needs the columns {missing}")
    return frame.reset_index(drop=True)


class UploadsTable(anywidget.AnyWidget):
    """Incomplete uploads (``inventory.list``' frame) as a table in the browser.

    ``set_rows`` replaces the rows, ``append_rows`` adds a page of a streaming listing and
    ``update_sizes`` fills in sizes found later. ``selection`` holds the selected upload ids
    (set it to select from Python). Opening a row's parts calls the ``on_parts_requested``
    callbacks with the upload id; answer with :meth:`show_parts`.
    """

    _esm = _HERE / "uploads_table.js"
    _css = _HERE / "uploads_table.css"
    selection = traitlets.List(traitlets.Unicode()).tag(sync=True)
    page_size = traitlets.Int(100).tag(sync=True)
    #: upload id -> why an action on it failed: the row shows red with the reason
    marks = traitlets.Dict(value_trait=traitlets.Unicode()).tag(sync=True)

    def __init__(self, frame: pd.DataFrame | None = None, *, page_size: int = 100) -> None:
        self._lock = threading.RLock()  # rows may arrive from a listing thread
        self._frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})
        self._generation = 0  # bumped by set_rows: the browser's row positions change
        self._parts_callbacks: list[PartsCallback] = []
        super().__init__(page_size=max(1, int(page_size)))
        self.on_msg(self._on_message)
        if frame is not None:
            self.set_rows(frame)

    def __repr__(self) -> str:
        return f"UploadsTable(rows={len(self._frame)}, selected={len(self.selection)})"

    # ----------------------------------------------------------------- public API
    @property
    def frame(self) -> pd.DataFrame:
        """Every row, in the order they arrived."""
        return self._frame

    @property
    def selected(self) -> pd.DataFrame:
        """The rows whose upload id is in ``selection``."""
        return self._frame[self._frame["upload_id"].isin(self.selection)]

    def set_rows(self, frame: pd.DataFrame) -> None:
        """Replace every row; the selection keeps the ids still present."""
        frame = _checked(frame)
        with self._lock:
            self._frame = frame
            self._generation += 1
            self._send_snapshot()
            ids = set(frame["upload_id"].astype(str))
            self.selection = [i for i in self.selection if i in ids]

    def append_rows(self, frame: pd.DataFrame) -> None:
        """Add rows (the next page of a listing); only the new rows travel."""
        frame = _checked(frame)
        if frame.empty:
            return
        with self._lock:
            self._frame = (frame if self._frame.empty else
                           pd.concat([self._frame, frame], ignore_index=True))
            for start in range(0, len(frame), CHUNK_ROWS):
                self.send({"type": "rows", "reset": False, "chunk": 0, "chunks": 1,
                           "generation": self._generation,
                           "columns": encode_rows(frame.iloc[start:start + CHUNK_ROWS])})

    def sync_rows(self, frame: pd.DataFrame, *, complete: bool) -> None:
        """Show ``frame`` with the least traffic: new rows appended, changed sizes updated.
        ``complete`` (a finished listing): rows no longer in ``frame`` go, which resends
        every row once; while a listing runs, rows not listed yet again stay."""
        frame = _checked(frame)
        with self._lock:
            shown = self._frame
            ids = frame["upload_id"].astype(str)
            if complete and set(ids) != set(shown["upload_id"].astype(str)):
                self.set_rows(frame)
                return
            self.append_rows(frame[~ids.isin(shown["upload_id"].astype(str))])
            before = shown.set_index("upload_id")[["parts", "bytes"]]
            now = frame.set_index("upload_id")[["parts", "bytes"]]
            now = now[now.index.isin(before.index) & now["bytes"].notna()]
            changed = now[(now.astype("Int64") != before.loc[now.index].astype("Int64"))
                          .fillna(True).any(axis=1)]
            if len(changed):
                self.update_sizes(changed.reset_index())

    def update_sizes(self, sizes: pd.DataFrame | Mapping[str, int | None]) -> None:
        """Fill in sizes by upload id: a frame with ``upload_id`` and ``bytes`` and/or
        ``parts`` columns, or a mapping of upload id to bytes. Unknown ids are ignored."""
        given = (sizes if isinstance(sizes, pd.DataFrame) else
                 pd.DataFrame({"upload_id": list(sizes), "bytes": list(sizes.values())}))
        columns = [c for c in ("bytes", "parts") if c in given]
        by_id = given.drop_duplicates("upload_id", keep="last").set_index("upload_id")
        with self._lock:
            frame = self._frame.copy()
            known = frame["upload_id"].isin(by_id.index)
            for name in columns:
                current = frame[name] if name in frame else pd.Series(None, index=frame.index)
                new = pd.to_numeric(frame["upload_id"].map(by_id[name])).astype("Int64")
                frame[name] = pd.to_numeric(current).astype("Int64").where(~known, new)
            self._frame = frame
            found = by_id[by_id.index.isin(frame["upload_id"])]
            message: dict[str, Any] = {"type": "sizes",
                                       "upload_id": [str(i) for i in found.index]}
            for name in columns:
                message[name] = _integers(found[name])
            self.send(message)

    def mark_rows(self, reasons: Mapping[str, str]) -> None:
        """Show these rows red with their reason (upload id -> reason), and no others:
        ``mark_rows({})`` clears the marks."""
        self.marks = {str(k): str(v) for k, v in reasons.items()}

    def on_parts_requested(self, callback: PartsCallback, remove: bool = False) -> None:
        """Call ``callback(upload_id)`` when the user opens a row's parts (``remove=True``
        unregisters it). It runs in the kernel's message handler: start slow work elsewhere."""
        if remove:
            self._parts_callbacks.remove(callback)
        else:
            self._parts_callbacks.append(callback)

    def show_parts(self, upload_id: str, parts: pd.DataFrame | None, *,
                   error: str | None = None) -> None:
        """Show ``parts`` (``inventory.parts``' frame) under the row of ``upload_id``, or
        ``error`` when they could not be listed."""
        if error is None and parts is None:
            error = "no parts listed"
        columns = encode_parts(parts) if error is None and parts is not None else None
        self.send({"type": "parts", "upload_id": str(upload_id), "columns": columns,
                   "error": error})

    # ----------------------------------------------------------------- the browser's messages
    def _send_snapshot(self) -> None:
        frame, chunks = self._frame, max(1, -(-len(self._frame) // CHUNK_ROWS))
        for chunk in range(chunks):
            rows = frame.iloc[chunk * CHUNK_ROWS:(chunk + 1) * CHUNK_ROWS]
            self.send({"type": "rows", "reset": True, "chunk": chunk, "chunks": chunks,
                       "generation": self._generation, "columns": encode_rows(rows)})

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ready":  # a new front end: it needs every row
            with self._lock:
                self._send_snapshot()
        elif kind == "select":
            self._select(content)
        elif kind == "parts" and isinstance(content.get("upload_id"), str):
            for callback in list(self._parts_callbacks):
                callback(content["upload_id"])

    def _select(self, content: Mapping[str, Any]) -> None:
        """The browser's selection, as row positions (compact for "select all 100k")."""
        with self._lock:
            if content.get("generation") == self._generation:
                ids = self._frame["upload_id"]
                rows = [r for r in content.get("rows", []) if isinstance(r, int)
                        and 0 <= r < len(ids)]
                self.selection = [str(i) for i in ids.iloc[rows]]
            # always answer: the browser waits for it before trusting `selection` again
            self.send({"type": "ack", "n": content.get("n"), "view": content.get("view")})
