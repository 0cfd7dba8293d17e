"""One piece of background work at a time for a widget, so the notebook stays usable.

Listing, aborting and scanning can take seconds to minutes; they run in a daemon thread.
Failures never escape as tracebacks: an :class:`~mpu_toolkit.MPUError` is shown as its
message (which says what to do), anything else as its type and message.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from ..errors import MPUError

log = logging.getLogger(__name__)

__all__ = ["BackgroundWork"]


class BackgroundWork:
    """Runs ``work`` in a thread; reports busy/idle and failures through callbacks."""

    def __init__(self, name: str, on_busy: Callable[[bool, str], None],
                 on_error: Callable[[str], None]) -> None:
        self._name, self._on_busy, self._on_error = name, on_busy, on_error
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = 60) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def start(self, what: str, work: Callable[[], None]) -> bool:
        """Start ``work`` unless something is still running (then return False)."""
        if self.busy:
            return False
        self._on_busy(True, what)

        def run() -> None:
            try:
                work()
            except MPUError as exc:
                self._on_error(str(exc))
            except Exception as exc:  # the widget must survive anything; no traceback shown
                log.debug("%s: %s failed", self._name, what, exc_info=True)
                self._on_error(f"{what} failed: {type(exc).__name__}: {exc}")
            finally:
                self._on_busy(False, "")

        self._thread = threading.Thread(target=run, name=f"{self._name}-{what}", daemon=True)
        self._thread.start()
        return True
