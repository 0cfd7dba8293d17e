"""Writers still open when the interpreter exits are aborted, not left as orphaned uploads.

A script that ends (or calls ``sys.exit``) with a writer never closed must not leave an
incomplete upload that costs storage until someone notices it. Every writer registers here
(weakly); at exit the unfinished ones abort.

Why CPython's private ``threading._register_atexit`` and not :mod:`atexit`: the abort needs
thread pools (aiohttp's DNS lookups, hashing), and :mod:`concurrent.futures` shuts its pools
down in a *threading* exit hook, which runs before any :mod:`atexit` handler; pools refuse
new work afterwards. Threading exit hooks run last-registered first, so a hook registered
after ``concurrent.futures.thread`` (imported below for that reason) runs while the pools
still work. Where the private hook is missing (another Python), :mod:`atexit` is used and an
abort at exit may fail: the upload is then left, and ``mpu uploads`` lists it.
"""

from __future__ import annotations

import atexit
import concurrent.futures.thread  # noqa: F401  (its exit hook must be registered before ours)
import threading
import weakref
from typing import Protocol

__all__ = ["track"]


class _Abandonable(Protocol):
    @property
    def state(self) -> str: ...

    def _abandon(self, why: str) -> None: ...


_live: "weakref.WeakSet[_Abandonable]" = weakref.WeakSet()


def track(writer: _Abandonable) -> None:
    """Abort ``writer`` at interpreter exit if it is still unfinished then."""
    _live.add(writer)


def _abort_unfinished() -> None:
    for writer in list(_live):
        if writer.state in ("writing", "closed"):
            writer._abandon("still open at interpreter exit")


getattr(threading, "_register_atexit", atexit.register)(_abort_unfinished)
