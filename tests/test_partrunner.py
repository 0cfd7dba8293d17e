"""The bounded part runner: never more than `concurrency` jobs, first failure cancels all."""

from __future__ import annotations

import asyncio

import pytest

from mpu_toolkit._engine.transfer import TransferProgress, run_parts
from mpu_toolkit.model import PartInfo


def test_at_most_concurrency_jobs_run_and_results_keep_job_order():
    running, peak = 0, 0

    def job(n: int):
        async def run() -> PartInfo:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01 * (7 - n % 7))
            running -= 1
            return PartInfo(n, n * 10, f"e{n}")
        return run

    events = []
    progress = TransferProgress(events.append, "s3://b/k", total=sum(n * 10 for n in range(1, 21)),
                                interval=0)
    parts = asyncio.run(run_parts([job(n) for n in range(1, 21)], 3, progress))
    assert [p.number for p in parts] == list(range(1, 21))
    assert peak == 3
    assert events[-1].bytes_uploaded == events[-1].total and events[-1].parts_done == 20


def test_the_first_failure_cancels_the_jobs_still_running():
    cancelled: list[int] = []

    def job(n: int):
        async def run() -> PartInfo:
            try:
                if n == 2:
                    raise OSError("part 2 failed")
                await asyncio.sleep(10)
                return PartInfo(n, 1, "")
            except asyncio.CancelledError:
                cancelled.append(n)
                raise
        return run

    async def main() -> None:
        with pytest.raises(OSError, match="part 2"):
            await asyncio.wait_for(run_parts([job(n) for n in range(1, 6)], 2), 5)

    asyncio.run(main())
    assert 1 in cancelled  # was running beside the failing part; 3.. never held a slot long
