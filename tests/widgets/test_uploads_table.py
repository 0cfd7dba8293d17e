"""UploadsTable driven from Python: what travels to the browser (rows as columns, sizes,
parts, selection) and how the browser's messages are handled. No kernel, no S3: the widget's
comm is a dummy whose ``send`` is recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pytest

pytest.importorskip("anywidget")

from mpu_toolkit.widgets.uploads_table import UploadsTable, encode_rows  # noqa: E402
from table_messages import Recorded, from_browser  # noqa: E402


def uploads(n: int, start: int = 0, sized: bool = True) -> pd.DataFrame:
    ids = [f"upload-{i:06d}" for i in range(start, start + n)]
    size = pd.array([(i + 1) * 1024 if sized else None for i in range(start, start + n)],
                    dtype="Int64")
    return pd.DataFrame({
        "bucket": pd.array([f"bucket-{i % 2}" for i in range(start, start + n)], dtype="string"),
        "key": pd.array([f"logs/{i:06d}.bin" for i in range(start, start + n)], dtype="string"),
        "upload_id": pd.array(ids, dtype="string"),
        "initiated": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
            range(start, start + n), unit="h"),
        "age": pd.to_timedelta([3600 * (i + 1) for i in range(start, start + n)], unit="s"),
        "storage_class": pd.array(["STANDARD"] * n, dtype="string"),
        "parts": pd.array([1 if sized else None] * n, dtype="Int64"),
        "bytes": size,
    })


def rows_of(messages: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The columns of consecutive "rows" messages, concatenated (codes decoded)."""
    out: dict[str, list[Any]] = {}
    for m in messages:
        for name, col in m["columns"].items():
            values = ([None if c < 0 else col["values"][c] for c in col["codes"]]
                      if isinstance(col, dict) else col)
            out.setdefault(name, []).extend(values)
    return out


@pytest.fixture
def table() -> Iterator[UploadsTable]:
    t = UploadsTable()
    yield t
    t.close()


def test_columnar_encoding_keeps_missing_sizes_as_null() -> None:
    frame = uploads(4)
    frame.loc[[1, 3], "bytes"] = pd.NA
    frame.loc[2, "storage_class"] = pd.NA
    frame.loc[3, "initiated"] = pd.NaT
    encoded = encode_rows(frame)
    assert encoded["bytes"] == [1024, None, 3072, None]
    assert encoded["bucket"] == {"codes": [0, 1, 0, 1], "values": ["bucket-0", "bucket-1"]}
    assert encoded["storage_class"] == {"codes": [0, 0, -1, 0], "values": ["STANDARD"]}
    assert encoded["initiated"][0] == 1767225600000 and encoded["initiated"][3] is None
    assert encoded["age"][:2] == [3600.0, 7200.0]
    assert all(isinstance(v, int) for v in encoded["parts"])
    json.dumps(encoded)
    # columns, not one dict per row: each column is one list as long as the frame
    assert {len(v) if isinstance(v, list) else len(v["codes"]) for v in encoded.values()} == {4}


def test_set_rows_sends_every_row_in_chunks(table: UploadsTable, monkeypatch) -> None:
    monkeypatch.setattr("mpu_toolkit.widgets.uploads_table.CHUNK_ROWS", 4)
    sent = Recorded(table)
    table.set_rows(uploads(10))
    rows = sent.custom("rows")
    assert [(m["reset"], m["chunk"], m["chunks"]) for m in rows] == [
        (True, 0, 3), (True, 1, 3), (True, 2, 3)]
    assert rows_of(rows)["upload_id"] == [f"upload-{i:06d}" for i in range(10)]
    assert len(table.frame) == 10


def test_append_rows_sends_only_the_new_rows(table: UploadsTable) -> None:
    table.set_rows(uploads(3))
    sent = Recorded(table)
    table.append_rows(uploads(2, start=3, sized=False))
    table.append_rows(uploads(0))
    (message,) = sent.custom("rows")
    assert message["reset"] is False
    assert message["columns"]["upload_id"] == ["upload-000003", "upload-000004"]
    assert message["columns"]["bytes"] == [None, None]
    assert list(table.frame["upload_id"]) == [f"upload-{i:06d}" for i in range(5)]


def test_ready_gets_a_snapshot_of_every_row(table: UploadsTable) -> None:
    table.set_rows(uploads(2))
    table.append_rows(uploads(1, start=2))
    sent = Recorded(table)
    from_browser(table, {"type": "ready"})
    rows = sent.custom("rows")
    assert rows[0]["reset"] is True
    assert rows_of(rows)["upload_id"] == ["upload-000000", "upload-000001", "upload-000002"]


def test_update_sizes_fills_missing_sizes(table: UploadsTable) -> None:
    table.set_rows(uploads(3, sized=False))
    sent = Recorded(table)
    table.update_sizes({"upload-000001": 5000, "not-listed": 1})
    table.update_sizes(pd.DataFrame({"upload_id": ["upload-000002"], "bytes": [7],
                                     "parts": [2]}))
    assert sent.custom("sizes") == [
        {"type": "sizes", "upload_id": ["upload-000001"], "bytes": [5000]},
        {"type": "sizes", "upload_id": ["upload-000002"], "bytes": [7], "parts": [2]}]
    assert table.frame["bytes"].tolist()[1:] == [5000, 7]
    assert table.frame["bytes"].isna().tolist() == [True, False, False]
    assert table.frame["parts"].tolist()[2] == 2


def test_sync_rows_while_listing_appends_new_rows_and_sends_changed_sizes(
        table: UploadsTable) -> None:
    table.set_rows(uploads(3, sized=False))
    table.selection = ["upload-000000"]
    sent = Recorded(table)
    listed = pd.concat([uploads(2, sized=False), uploads(2, start=3, sized=False)],
                       ignore_index=True)  # a relisting under way: 000002 not seen yet
    listed.loc[1, ["parts", "bytes"]] = [1, 2048]
    table.sync_rows(listed, complete=False)
    (rows,) = sent.custom("rows")
    assert rows["reset"] is False and rows["columns"]["upload_id"] == ["upload-000003",
                                                                       "upload-000004"]
    assert sent.custom("sizes") == [{"type": "sizes", "upload_id": ["upload-000001"],
                                     "parts": [1], "bytes": [2048]}]
    assert "upload-000002" in set(table.frame["upload_id"])  # not listed yet: kept
    sent.messages.clear()
    table.sync_rows(listed, complete=False)  # nothing new: nothing sent
    assert sent.custom("rows") == [] and sent.custom("sizes") == []
    table.sync_rows(listed, complete=True)  # the listing ended: 000002 is gone
    assert [m["reset"] for m in sent.custom("rows")] == [True]
    assert sorted(table.frame["upload_id"]) == sorted(listed["upload_id"])
    assert table.selection == ["upload-000000"]  # kept: it still exists


def test_marks_show_failed_rows_and_are_replaced_whole(table: UploadsTable) -> None:
    table.set_rows(uploads(3))
    sent = Recorded(table)
    table.mark_rows({"upload-000001": "abort failed: AccessDenied"})
    assert {"marks": {"upload-000001": "abort failed: AccessDenied"}} in sent.states()
    table.mark_rows({})
    assert table.marks == {}


def test_selection_from_python_syncs_and_filters_to_known_rows(table: UploadsTable) -> None:
    table.set_rows(uploads(4))
    sent = Recorded(table)
    table.selection = ["upload-000001", "upload-000003"]
    assert {"selection": ["upload-000001", "upload-000003"]} in sent.states()
    assert list(table.selected["key"]) == ["logs/000001.bin", "logs/000003.bin"]
    table.set_rows(uploads(2))  # upload-000003 is gone
    assert table.selection == ["upload-000001"]


def test_selection_from_the_browser_arrives_as_positions(table: UploadsTable) -> None:
    table.set_rows(uploads(5))
    table.append_rows(uploads(2, start=5))  # appending keeps positions
    generation = table._generation
    sent = Recorded(table)
    from_browser(table, {"type": "select", "generation": generation, "rows": [0, 4, 6, 99],
                         "n": 1, "view": "v1"})
    assert table.selection == ["upload-000000", "upload-000004", "upload-000006"]
    assert {"selection": table.selection} in sent.states()
    assert sent.custom("ack") == [{"type": "ack", "n": 1, "view": "v1"}]
    # positions of older rows (before a set_rows) are refused, but still acknowledged
    from_browser(table, {"type": "select", "generation": generation - 1, "rows": [1], "n": 2,
                         "view": "v1"})
    assert table.selection == ["upload-000000", "upload-000004", "upload-000006"]
    assert sent.custom("ack")[-1] == {"type": "ack", "n": 2, "view": "v1"}


def test_parts_request_reaches_the_callback_and_show_parts_answers(table: UploadsTable) -> None:
    table.set_rows(uploads(2))
    asked: list[str] = []
    table.on_parts_requested(asked.append)
    sent = Recorded(table)
    from_browser(table, {"type": "parts", "upload_id": "upload-000001"})
    from_browser(table, {"type": "parts", "upload_id": 5})  # not an id: ignored
    assert asked == ["upload-000001"]
    parts = pd.DataFrame({"number": [1, 2], "size": [5 * 2**20, 1024],
                          "etag": pd.array(['"a"', '"b"'], dtype="string"),
                          "last_modified": pd.to_datetime(["2026-01-01", "2026-01-02"],
                                                          utc=True)})
    table.show_parts("upload-000001", parts)
    table.show_parts("upload-000000", None, error="NoSuchUpload: gone")
    shown, failed = sent.custom("parts")
    assert shown["upload_id"] == "upload-000001" and shown["error"] is None
    assert shown["columns"]["size"] == [5 * 2**20, 1024]
    assert shown["columns"]["last_modified"] == [1767225600000, 1767312000000]
    assert failed == {"type": "parts", "upload_id": "upload-000000", "columns": None,
                      "error": "NoSuchUpload: gone"}
    table.on_parts_requested(asked.append, remove=True)
    from_browser(table, {"type": "parts", "upload_id": "upload-000000"})
    assert asked == ["upload-000001"]


def test_state_holds_no_rows_and_no_credentials(table: UploadsTable) -> None:
    table.set_rows(uploads(3))
    state = table.get_state()
    assert set(state) >= {"selection", "page_size", "_esm", "_css"}
    text = json.dumps({k: v for k, v in state.items() if k not in ("_esm", "_css")})
    assert "upload-000000" not in text  # rows travel as messages, not as synced state


def test_assets_ship_next_to_the_module() -> None:
    folder = Path(__file__).resolve().parents[2] / "mpu_toolkit" / "widgets"
    esm = (folder / "uploads_table.js").read_text()
    assert "export default" in esm
    assert not any(line.startswith("import ") for line in esm.splitlines())  # no CDN imports
    table = UploadsTable()
    assert table._esm == esm and "mpu-uploads-table" in table._css
    table.close()


def test_bad_frames_are_refused(table: UploadsTable) -> None:
    with pytest.raises(ValueError, match="upload_id"):
        table.set_rows(pd.DataFrame({"bucket": ["b"], "key": ["k"]}))
