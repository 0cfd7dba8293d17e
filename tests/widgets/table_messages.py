"""What an UploadsTable sends to the browser, recorded; and messages as the browser sends
them. Shared by the table's and the uploads browser's tests (no kernel: the comm is a dummy)."""

from __future__ import annotations

import json
from typing import Any

from mpu_toolkit.widgets.uploads_table import UploadsTable


class Recorded:
    """The messages a table sent to the browser: custom ones and state updates."""

    def __init__(self, table: UploadsTable) -> None:
        self.messages: list[dict[str, Any]] = []
        table.comm.send = self.record

    def record(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        json.dumps(data)  # everything sent must be plain JSON (no numpy, no NA)
        self.messages.append(data)

    def custom(self, kind: str) -> list[dict[str, Any]]:
        return [m["content"] for m in self.messages
                if m.get("method") == "custom" and m["content"]["type"] == kind]

    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.messages if m.get("method") in ("update", "echo_update")]


def from_browser(table: UploadsTable, content: dict[str, Any]) -> None:
    """A custom message as the front end sends it (the comm's message shape)."""
    table._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                       "buffers": []})
