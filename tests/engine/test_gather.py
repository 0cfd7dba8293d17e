"""bounded_gather: never more than `limit` jobs at once, results in order, the first failure
(or the caller's cancellation) cancels the rest before it is raised."""

from __future__ import annotations

import asyncio

import pytest

from mpu_toolkit._engine.gather import bounded_gather


def test_at_most_limit_jobs_run_and_results_keep_job_order():
    running, peak = 0, 0

    def job(n: int):
        async def run() -> int:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01 * (7 - n % 7))
            running -= 1
            return n * 10
        return run

    results = asyncio.run(bounded_gather([job(n) for n in range(1, 21)], 3))
    assert results == [n * 10 for n in range(1, 21)]
    assert peak == 3


def _sleepers(cancelled: list[int], failing: int | None = None):
    def job(n: int):
        async def run() -> int:
            try:
                if n == failing:
                    raise OSError(f"job {n} failed")
                await asyncio.sleep(10)
                return n
            except asyncio.CancelledError:
                cancelled.append(n)
                raise
        return run
    return [job(n) for n in range(1, 6)]


def test_the_first_failure_cancels_the_jobs_still_running():
    cancelled: list[int] = []

    async def main() -> None:
        with pytest.raises(OSError, match="job 2"):
            await asyncio.wait_for(bounded_gather(_sleepers(cancelled, failing=2), 2), 5)

    asyncio.run(main())
    assert 1 in cancelled  # was running beside the failing job


def test_cancelling_the_caller_cancels_every_job_before_it_returns():
    cancelled: list[int] = []

    async def main() -> None:
        task = asyncio.ensure_future(bounded_gather(_sleepers(cancelled), 5))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert sorted(cancelled) == [1, 2, 3, 4, 5]  # all ended before the caller saw it
