"""``mpu serve``'s watch over its server: stop signals, and what to say when the server dies.

SIGTERM and SIGHUP end ``mpu serve`` the way Ctrl-C does (:func:`stop_signals`), so that its
server is stopped and the port freed. :func:`wait_for_death` returns when the server process has
ended on its own; :func:`obituary` says how, with the likely cause when it was SIGKILLed.
"""

from __future__ import annotations

import contextlib
import signal
import time
from typing import Any, Iterator

from ..testing.local import LocalS3

__all__ = ["Stopped", "stop_signals", "wait_for_death", "obituary"]

_POLL = 0.5  # seconds between looks at the server process

#: the signals that stop ``mpu serve`` as Ctrl-C does (those this platform has)
STOP_SIGNALS = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                if s is not None]


class Stopped(Exception):
    """A stop signal (SIGTERM, SIGHUP) arrived."""


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within: SIGTERM and SIGHUP raise :class:`Stopped` (in the main thread)."""
    def stop(signum: int, _frame: Any) -> None:
        for s in STOP_SIGNALS:  # one is enough: the clean-up must not be cut short
            signal.signal(s, signal.SIG_IGN)
        raise Stopped(_signal_name(signum))

    before = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def wait_for_death(server: LocalS3) -> int:
    """Wait while the server runs; its exit status once it has ended."""
    while (code := server.returncode) is None:
        time.sleep(_POLL)
    return code


def obituary(pid: int | None, code: int, log_tail: str, data: str | None) -> str:
    """What to tell the user when the server process ended by itself."""
    what = f"mpu serve: its S3 server (pid {pid})"
    if code == -getattr(signal, "SIGKILL", 9):
        text = (f"{what} was killed by SIGKILL, most likely by the kernel's out-of-memory "
                "killer (see `dmesg` or `journalctl -k`). Start it again with --max-bytes SIZE "
                "to refuse writes past a cap, and --data DIR to keep the bytes on DIR's disk")
    elif code < 0:
        text = f"{what} was killed by {_signal_name(-code)}"
    else:
        text = f"{what} exited with code {code}" + (f":\n{log_tail}" if log_tail else "")
    lost = "the objects it held are lost" + (f" ({data} holds those of the last save)"
                                            if data else "")
    return f"{text}\n{lost}; nothing listens on its port now."
