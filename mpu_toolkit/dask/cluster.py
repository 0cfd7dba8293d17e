"""Where a Dask job runs: the active ``distributed.Client``, if there is one."""

from __future__ import annotations

from typing import Any

__all__ = ["distributed_client"]


def distributed_client() -> Any:
    """The active ``distributed.Client``, or None (distributed missing, or no client)."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:  # no client is running
        return None
