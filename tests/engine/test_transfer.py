"""PlannedTransfer, the skeleton of copy / compose / file upload, against an instrumented
fake upload: parts bounded, sources checked before Complete, and on any failure or
cancellation the upload is aborted (or kept) with a note saying which."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from mpu_toolkit._engine.transfer import PlannedTransfer
from mpu_toolkit.model import ObjectInfo, ObjectRef, PartInfo
from mpu_toolkit.options import WriteOptions


@dataclass
class FakeUpload:
    ref: ObjectRef = ObjectRef("b", "k")
    upload_id: str | None = "up-1"
    finished: list[PartInfo] | None = None
    cancelled: list[tuple[bool, str | None]] = field(default_factory=list)
    published: ObjectInfo | None = None

    @property
    def url(self) -> str:
        return self.ref.url

    async def finish(self, parts: list[PartInfo]) -> ObjectInfo:
        self.finished = parts
        self.published = ObjectInfo("b", "k", "etag-1", sum(p.size for p in parts))
        return self.published

    async def cancel(self, keep_parts: bool = False, source: str | None = None) -> str:
        self.cancelled.append((keep_parts, source))
        return "kept for resuming" if keep_parts else "aborted, nothing published"


def part_job(n: int, fail: bool = False, sleep: float = 0.0):
    async def run() -> PartInfo:
        await asyncio.sleep(sleep)
        if fail:
            raise OSError(f"part {n} failed")
        return PartInfo(n, 10, f"e{n}")
    return run


def transfer(upload: FakeUpload, events: list, **kw) -> PlannedTransfer:
    options = WriteOptions(concurrency=2, progress=events.append)
    return PlannedTransfer(upload, options, 50, **kw)  # type: ignore[arg-type]


def test_completes_with_the_kept_parts_and_the_parts_sent_after_the_check():
    upload, events, order = FakeUpload(), [], []

    async def check() -> None:
        order.append(("check", upload.finished))

    kept = [PartInfo(1, 10, "e1")]
    info, sent = asyncio.run(transfer(upload, events).run(
        [part_job(n) for n in range(2, 6)], kept=kept, check=check))
    assert order == [("check", None)]  # before Complete
    assert [p.number for p in upload.finished] == [1, 2, 3, 4, 5]
    assert [p.number for p in sent] == [2, 3, 4, 5] and info.etag == "etag-1"
    assert [e.state for e in events][-2:] == ["completing", "completed"]
    assert upload.cancelled == []


@pytest.mark.parametrize("keep", [False, True])
def test_a_failing_part_aborts_or_keeps_and_notes_which(keep):
    upload, events = FakeUpload(), []
    with pytest.raises(OSError, match="part 3") as info:
        asyncio.run(transfer(upload, events, keep_on_error=keep, source="big.bin").run(
            [part_job(n, fail=n == 3) for n in range(1, 6)]))
    assert upload.finished is None
    assert upload.cancelled == [(keep, "big.bin")]
    assert info.value.__notes__ == ["kept for resuming" if keep else "aborted, nothing published"]
    assert events[-1].state == ("kept" if keep else "failed")


def test_a_source_that_changed_aborts_before_complete():
    upload = FakeUpload()

    async def check() -> None:
        raise ValueError("source replaced")

    with pytest.raises(ValueError, match="replaced"):
        asyncio.run(transfer(upload, []).run([part_job(1)], check=check))
    assert upload.finished is None and upload.cancelled == [(False, None)]


def test_cancellation_stops_the_parts_and_aborts_with_a_note():
    upload, events = FakeUpload(), []

    async def main() -> None:
        task = asyncio.ensure_future(transfer(upload, events).run(
            [part_job(n, sleep=10) for n in range(1, 6)]))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        assert info.value.__notes__ == ["aborted, nothing published"]

    asyncio.run(main())
    assert upload.cancelled == [(False, None)] and events[-1].state == "aborted"
