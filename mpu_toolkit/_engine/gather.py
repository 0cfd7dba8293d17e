"""Bounded concurrency for awaitables known up front: at most ``limit`` run at once.

The streaming writer bounds its parts by backpressure on the producer; everything else that
fans out (the parts of a planned transfer, ListParts per upload, HEAD per source, aborts)
comes here: a semaphore bounds what runs (and holds a buffer or a connection) at once, and
the first failure cancels the rest, so the caller can clean up with nothing in flight.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Sequence, TypeVar

__all__ = ["bounded_gather"]

T = TypeVar("T")


async def bounded_gather(jobs: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Await every ``job()``, at most ``limit`` at a time; results in job order.

    A failure (or the caller's cancellation) cancels the jobs still running or waiting, waits
    for them to end, then raises.
    """
    gate = asyncio.Semaphore(max(1, limit))

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    tasks = [asyncio.ensure_future(one(job)) for job in jobs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
