"""Requests on the wire, against the real server: what round trips each one costs."""

from __future__ import annotations

import os
from typing import Any

from mpu_toolkit._engine.blocking import run_blocking
from mpu_toolkit._plan.sizing import MiB
from mpu_toolkit.fs import MPUFileSystem


def test_parts_go_without_waiting_for_100_continue_a_single_put_still_asks(
        storage_options: dict[str, Any], bucket: str, key: str) -> None:
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    sent: list[tuple[str, str | None]] = []

    def record(request: Any, event_name: str, **_: Any) -> None:
        expect = request.headers.get("Expect")  # botocore keeps it as bytes
        sent.append((event_name.rsplit(".", 1)[-1],
                     expect.decode() if isinstance(expect, bytes) else expect))

    client = run_blocking(fs.loop, fs.set_session())
    client.meta.events.register("before-send.s3", record)
    with fs.open(f"{bucket}/{key}", "wb", part_size=5 * MiB) as f:
        f.write(os.urandom(11 * MiB))  # three parts
    with fs.open(f"{bucket}/{key}.small", "wb") as f:
        f.write(b"small")  # one PutObject
    parts = [expect for op, expect in sent if op == "UploadPart"]
    assert len(parts) == 3 and parts == [None] * 3, sent
    assert [expect for op, expect in sent if op == "PutObject"] == ["100-continue"], sent
    assert fs.cat(f"{bucket}/{key}.small") == b"small"
