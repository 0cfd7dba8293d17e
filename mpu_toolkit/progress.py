"""Progress events of a streaming write, and the tqdm bar that shows them.

A writer calls its progress callback with a :class:`ProgressEvent` snapshot whenever bytes
are accepted, a part finishes, or the upload ends. Callbacks run on the producer's thread or
on fsspec's I/O thread, so they must be quick and thread-safe (update a widget, a bar, a
metric); notebook widgets subscribe to the same events.

``progress=True`` picks the display (:func:`make_progress`): inside a Jupyter kernel, the
notebook view registered with :func:`register_notebook_progress` (importing
``mpu_toolkit.widgets`` registers its ``UploadProgress``); otherwise, or when none is
registered, a ``tqdm.auto`` bar. This module never imports the widgets layer itself.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal

__all__ = ["ProgressEvent", "ProgressCallback", "deliver", "TqdmProgress", "make_progress",
           "register_notebook_progress", "in_kernel"]

log = logging.getLogger(__name__)

State = Literal["writing", "completing", "completed", "aborted", "failed", "kept"]


@dataclass(frozen=True)
class ProgressEvent:
    """A snapshot of one write."""

    url: str
    state: State
    bytes_written: int       #: accepted from the producer so far
    bytes_uploaded: int      #: confirmed stored by the server (parts done)
    parts_done: int
    parts_in_flight: int
    elapsed: float           #: seconds since the writer was opened
    total: int | None = None  #: the declared size, when known
    upload_id: str | None = None
    etag: str | None = None
    error: str | None = None
    rows: int | None = None  #: rows encoded so far, for frame writes (write_parquet ...)

    @property
    def rate(self) -> float:
        """Bytes uploaded per second so far."""
        return self.bytes_uploaded / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


def deliver(callback: ProgressCallback, event: ProgressEvent) -> None:
    """Hand ``event`` to ``callback``; a broken display must not break the upload."""
    try:
        callback(event)
    except Exception:
        log.exception("progress callback failed for %s", event.url)


class TqdmProgress:
    """A tqdm bar of uploaded bytes (``tqdm.auto``: a widget bar in Jupyter, text elsewhere)."""

    def __init__(self, desc: str, total: int | None = None, **tqdm_kwargs: Any) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                         dynamic_ncols=True, **tqdm_kwargs)
        self._shown = 0

    def __call__(self, event: ProgressEvent) -> None:
        bar = self._bar
        if event.bytes_uploaded > self._shown:
            bar.update(event.bytes_uploaded - self._shown)
            self._shown = event.bytes_uploaded
        rows = {} if event.rows is None else {"rows": f"{event.rows:,}"}
        bar.set_postfix(**rows, parts=event.parts_done, in_flight=event.parts_in_flight,
                        refresh=False)
        if event.state in ("completed", "aborted", "failed", "kept"):
            if event.state != "completed":
                bar.set_description_str(f"{bar.desc} [{event.state}]", refresh=False)
                if hasattr(bar, "colour"):
                    bar.colour = "red"
            bar.close()


#: ``factory(desc, total) -> callback`` used by ``progress=True`` inside a Jupyter kernel;
#: set by :func:`register_notebook_progress` (``mpu_toolkit.widgets`` does it on import).
_notebook_factory: Callable[[str, int | None], ProgressCallback] | None = None


def register_notebook_progress(
        factory: Callable[[str, int | None], ProgressCallback] | None) -> None:
    """Make ``progress=True`` call ``factory(desc, total)`` when running in a Jupyter kernel.

    The factory creates, displays and returns the callback (``None`` unregisters). The
    library never imports a widgets module: the notebook layer registers itself instead.
    """
    global _notebook_factory
    _notebook_factory = factory


def in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython's shell has a ``kernel``); never imports IPython."""
    ipython = sys.modules.get("IPython")  # not imported yet: certainly not a kernel
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:  # pragma: no cover - a broken IPython install is not a kernel
        return False
    return getattr(shell, "kernel", None) is not None


def make_progress(option: bool | ProgressCallback | None, desc: str,
                  total: int | None) -> ProgressCallback | None:
    """``progress=True`` → the registered notebook view inside a Jupyter kernel (see
    :func:`register_notebook_progress`), else a tqdm bar; a callable is used as is; falsy →
    none."""
    if not option:
        return None
    if option is True:
        factory = _notebook_factory
        if factory is not None and in_kernel():
            try:
                return factory(desc, total)
            except Exception:  # a display problem must not stop the upload
                log.exception("notebook progress display failed; using tqdm")
        return TqdmProgress(desc, total)
    if callable(option):
        return option
    raise TypeError(f"progress must be True, False or a callable, not {option!r}")


class Clock:
    """Monotonic seconds since creation (injectable for tests)."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self._start
