"""Where a Dask job runs: the active ``distributed.Client``, unless Dask is told otherwise."""

from __future__ import annotations

from typing import Any

__all__ = ["distributed_client"]

#: ``dask.config`` schedulers that run a job without the distributed client
_LOCAL_SCHEDULERS = frozenset({"sync", "synchronous", "single-threaded", "threads",
                               "threading", "processes", "multiprocessing"})


def distributed_client() -> Any:
    """The active ``distributed.Client``, or None: distributed missing, no client, or a local
    scheduler chosen explicitly (``dask.config.set(scheduler="sync")`` wins over a client
    that happens to be running, as it does for Dask's own ``compute``)."""
    try:
        import dask
        from distributed import get_client
    except ImportError:
        return None
    if dask.config.get("scheduler", None) in _LOCAL_SCHEDULERS:
        return None
    try:
        return get_client()
    except ValueError:  # no client is running
        return None
