"""Progress events of a transfer, and the displays that show them.

A writer (or copy, compose, file upload) calls its progress callback with a
:class:`ProgressEvent` snapshot whenever bytes are accepted, a part finishes, or the upload
ends. Callbacks run on the producer's thread or on a part's thread, so they must be quick
(update a widget, a bar, a metric); one transfer never calls its callback concurrently, and its
events arrive in order.

``progress=`` chooses the display (:func:`make_progress`), explicitly:

* ``"tqdm"`` — a ``tqdm.auto`` bar (text in a terminal, tqdm's own widget in Jupyter);
* ``"widget"`` — the notebook view :class:`mpu_toolkit.widgets.UploadProgress`;
* ``True`` — ``"widget"`` inside a Jupyter kernel, ``"tqdm"`` anywhere else;
* a callable — receives the events; ``False`` / ``None`` — no display.

Displays other than tqdm are found through the ``mpu_toolkit.progress`` entry point group
(the widgets layer registers ``widget`` in ``pyproject.toml``), so the choice never depends
on what happens to have been imported, and this module never imports the widgets layer.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable, Literal, Union

from ._plan.sizing import counted, format_size
from .errors import ConfigurationError

__all__ = ["feeding_callback", "ProgressEvent", "ProgressCallback", "ProgressOption", "deliver", "TqdmProgress",
           "make_progress", "check_option", "in_kernel", "DISPLAYS"]

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
    rows: int | None = None  #: rows taken from the producer so far, for frame writes (write_parquet ...)
    memory_in_use: int = 0  #: bytes of part buffers the writer holds now (see max_memory)

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
    """A tqdm bar of uploaded bytes (``tqdm.auto``: a widget bar in Jupyter, text elsewhere),
    in the units used everywhere else: sizes in MiB / GiB, rates in MB/s."""

    def __init__(self, desc: str, total: int | None = None, **tqdm_kwargs: Any) -> None:
        from tqdm.auto import tqdm

        # tqdm puts ", " before the postfix: the facts follow the name, the bar comes last
        layout = "{desc}{postfix} |{bar}| {percentage:3.0f}%" if total else "{desc}{postfix}"
        self._bar = tqdm(total=total, desc=desc, bar_format=layout, dynamic_ncols=True,
                         **tqdm_kwargs)
        self._shown = 0

    def __call__(self, event: ProgressEvent) -> None:
        bar = self._bar
        if event.bytes_uploaded > self._shown:
            bar.update(event.bytes_uploaded - self._shown)
            self._shown = event.bytes_uploaded
        sent = format_size(event.bytes_uploaded) + (
            f" of {format_size(event.total)}" if event.total else "")
        facts = [sent, f"{event.rate / 1e6:.1f} MB/s", counted(event.parts_done, "part"),
                 f"{event.parts_in_flight} in flight", f"{event.elapsed:.0f} s"]
        if event.rows is not None:
            facts.insert(1, counted(event.rows, "row"))
        bar.set_postfix_str(", ".join(facts), refresh=False)
        if event.state in ("completed", "aborted", "failed", "kept"):
            if event.state != "completed":
                bar.set_description_str(f"{bar.desc} [{event.state}]", refresh=False)
                if hasattr(bar, "colour"):
                    bar.colour = "red"
            bar.close()


ProgressOption = Union[bool, str, ProgressCallback, None]
DISPLAYS = ("tqdm", "widget")  #: the names ``progress=`` takes
_ENTRY_POINTS = "mpu_toolkit.progress"


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


def check_option(option: Any) -> ProgressOption:
    """``option`` if ``progress=`` can take it, else a ConfigurationError with the choices."""
    if option is None or isinstance(option, bool) or option in DISPLAYS or (
            callable(option) and not isinstance(option, str)):
        return option
    raise ConfigurationError(f"progress={option!r}: use True (a widget in Jupyter, else a tqdm "
                             "bar), 'tqdm', 'widget', a callable receiving ProgressEvents, or "
                             "False")


def make_progress(option: ProgressOption, desc: str,
                  total: int | None) -> ProgressCallback | None:
    """The callback for ``progress=option`` (see the module's docstring); ``None`` for none."""
    option = check_option(option)
    if not option:
        return None
    if option is True:  # auto: the notebook view in a kernel, where it can be shown
        factory = _display("widget") if in_kernel() else None
        if factory is not None:
            try:
                return factory(desc, total)
            except Exception:  # a display problem must not stop the upload
                log.exception("notebook progress display failed; using tqdm")
        option = "tqdm"
    if option == "tqdm":
        return TqdmProgress(desc, total)
    if isinstance(option, str):
        factory = _display(option)
        if factory is None:
            raise ConfigurationError(f"progress={option!r} needs the notebook widgets: pip "
                                     "install 'mpu_toolkit[notebook]', or use 'tqdm'")
        return factory(desc, total)
    return option


def _display(name: str) -> Callable[[str, int | None], ProgressCallback] | None:
    """The display registered as ``name`` in the ``mpu_toolkit.progress`` entry points
    (None when it is not installed: the widget needs the ``notebook`` extra)."""
    for entry_point in entry_points(group=_ENTRY_POINTS, name=name):
        try:
            return entry_point.load()
        except ImportError:
            return None
    return None


class Clock:
    """Monotonic seconds since creation (injectable for tests)."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self._start


def feeding_callback(callback: Any) -> ProgressCallback:
    """Events fed to an fsspec ``Callback`` (``set_size`` / ``relative_update``), for
    ``put_file(..., callback=)``."""
    seen = {"bytes": 0}

    def on_event(event: ProgressEvent) -> None:
        if event.total is not None:
            callback.set_size(event.total)
        callback.relative_update(event.bytes_uploaded - seen["bytes"])
        seen["bytes"] = event.bytes_uploaded

    return on_event
