"""Numbered parts sent in the background, a bounded number at a time (one pump for all).

Rust object_store's ``WriteMultipart`` in Python: :meth:`PartPump.put_part` hands a numbered
part to ``submit`` (which returns a future at once) after waiting until fewer than ``limit``
are in flight, so a producer keeps filling the next part while these travel; :meth:`finish`
waits for all and returns their :class:`PartInfo` in number order; a failed part's error is
raised by the next of these calls. :meth:`abort` cancels what is in flight and waits for it.
With a :class:`~.buffers.BufferPool`, :meth:`take_buffer` also waits until the next part's
buffer fits in the memory budget, and each finished part's buffer goes back to the pool.

The streaming writer, :class:`~mpu_toolkit.handle.PartsInFlight` and Dask's pending files
all send their parts through it. Used from one producer thread; only the done-callbacks run
on other threads.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Callable, Generic, Iterable, Sequence, TypeVar, Union

from ..model import PartInfo
from .buffers import BufferPool

__all__ = ["PartPump", "Data", "Submit"]

Data = Union[bytes, bytearray, memoryview]
D = TypeVar("D", bound=Data)
#: starts uploading part ``number`` and returns at once; ``data`` stays untouched until done
Submit = Callable[[int, D], "Future[PartInfo]"]


class PartPump(Generic[D]):
    """At most ``limit`` parts in flight through ``submit``; the parts ``done`` (given ones
    first, e.g. an append's copy of the object) and those ``in_flight``, by number."""

    def __init__(self, submit: Submit[D], limit: int, *, buffers: BufferPool | None = None,
                 on_settled: Callable[["Future[PartInfo]"], object] | None = None,
                 done: Sequence[PartInfo] = ()) -> None:
        if limit < 1:
            raise ValueError(f"limit={limit!r}: at least one part must be allowed in flight")
        self.limit = limit
        self._submit = submit
        self._buffers = buffers
        self._on_settled = on_settled
        self.done: dict[int, PartInfo] = {p.number: p for p in done}
        #: number → (future, the data or buffer it holds until it is done)
        self.in_flight: dict[int, tuple[Future[PartInfo], D | bytearray]] = {}
        self.sent = 0  #: parts handed to ``submit``, counted before ``on_settled`` can run

    def put_part(self, number: int, data: D, buffer: bytearray | None = None) -> None:
        """Send part ``number`` once fewer than ``limit`` are in flight. ``buffer`` (default:
        ``data``) is what ``data`` lives in: given back to the pool when the part is done."""
        self.wait_for_capacity(self.limit - 1)
        future = self._submit(number, data)
        self.in_flight[number] = (future, data if buffer is None else buffer)
        self.sent += 1
        if self._on_settled is not None:
            future.add_done_callback(self._on_settled)

    def put_parts(self, items: Iterable[tuple[int, D]]) -> None:
        for number, data in items:
            self.put_part(number, data)

    def wait_for_capacity(self, max_in_flight: int) -> None:
        """Block until at most ``max_in_flight`` parts are in flight; raise a part's error."""
        self._harvest()
        while len(self.in_flight) > max_in_flight:
            self._wait_for_one()

    def finish(self) -> list[PartInfo]:
        """Wait for every part; all parts done, in number order."""
        self.wait_for_capacity(0)
        return [self.done[n] for n in sorted(self.done)]

    def take_buffer(self, size: int) -> bytearray:
        """A buffer for the next part, once it fits in the pool's budget beside those held."""
        assert self._buffers is not None, "take_buffer needs a BufferPool"
        self._harvest()
        return self._buffers.take(size, busy=lambda: bool(self.in_flight),
                                  wait_for_one=self._wait_for_one)

    def snapshot(self) -> list[PartInfo]:
        """Every part handed over, in number order; those not uploaded (yet) have no ETag."""
        known = dict(self.done)
        for n, (future, data) in self.in_flight.items():
            ok = future.done() and not future.cancelled() and future.exception() is None
            known[n] = future.result() if ok else PartInfo(n, len(data), "")
        return [known[n] for n in sorted(known)]

    def abort(self) -> None:
        """Cancel the parts in flight and wait until every one has stopped."""
        futures = [future for future, _ in self.in_flight.values()]
        for future in futures:
            future.cancel()
        wait(futures)
        self.in_flight.clear()

    def forget(self) -> None:
        """Let go of the parts in flight without waiting: the upload's own abort stops them
        (or lets them finish, to keep them for resuming)."""
        self.in_flight.clear()

    def _wait_for_one(self) -> None:
        wait([future for future, _ in self.in_flight.values()], return_when=FIRST_COMPLETED)
        self._harvest()

    def _harvest(self) -> None:
        for number, (future, data) in list(self.in_flight.items()):
            if future.done():
                del self.in_flight[number]
                self.done[number] = future.result()  # raises the part's error
                if self._buffers is not None and isinstance(data, bytearray):
                    self._buffers.give_back(data)  # the sink is done with it
