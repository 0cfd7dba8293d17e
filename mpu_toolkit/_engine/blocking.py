"""Blocking calls into the event loop that stop when the caller is interrupted.

The engine runs on fsspec's I/O thread; a blocking entry point (``upload_file``, ``compose``,
``uploads.abort``, the writer's ``close()`` ...) waits for it in the caller's thread.
fsspec's own ``sync()`` lets a ``KeyboardInterrupt`` (Ctrl-C, Jupyter's "Interrupt kernel")
reach the caller while the coroutine goes on — and may publish the object seconds later.
:func:`run_blocking` instead cancels the coroutine, waits until its cleanup has run (parts
cancelled, the upload aborted or kept), puts the notes that say what happened on the
interrupt, and only then re-raises it. A second interrupt stops the waiting.

Requests that publish an object (Complete, a single PUT or CopyObject) are not cut in half:
:func:`settle` lets such a request finish, so that its outcome is known and reported, rather
than an object appearing after the caller has seen the interrupt.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any, Awaitable, Coroutine, TypeVar

from .. import hints
from ..errors import add_note

__all__ = ["run_blocking", "settle", "make_interruptible"]

T = TypeVar("T")
_POLL = 0.5  # seconds between checks while waiting (a wait is interruptible anyway)


def run_blocking(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on ``loop`` (another thread's) and return its result here.

    An interrupt while waiting cancels ``coro``; once its cleanup is done, the interrupt is
    re-raised carrying the notes of the cancelled work (e.g. "aborted, nothing published").
    """
    try:
        if asyncio.get_running_loop() is loop:
            coro.close()
            raise NotImplementedError("a blocking call from the event loop's own thread would "
                                      "wait for itself; await the async method instead")
    except RuntimeError:  # no loop running in this thread: the usual case
        pass
    finished = threading.Event()
    outcome: dict[str, Any] = {}

    async def runner() -> None:
        try:
            outcome["value"] = await coro
        except BaseException as error:  # CancelledError included: it carries the notes
            outcome["error"] = error
        finally:
            finished.set()

    future = asyncio.run_coroutine_threadsafe(runner(), loop)
    try:
        while not finished.wait(_POLL):
            pass
    except BaseException as interrupt:
        future.cancel()  # cancels the task on the loop; its except/finally blocks run
        _wait_for_cleanup(finished, interrupt)
        for note in getattr(outcome.get("error"), "__notes__", []):
            add_note(interrupt, note)
        raise
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def _wait_for_cleanup(finished: threading.Event, interrupt: BaseException) -> None:
    try:
        while not finished.wait(_POLL):
            pass
    except BaseException:
        add_note(interrupt, "interrupted again while cleaning up: stopped waiting, so an "
                            f"incomplete upload may be left; `{hints.list_uploads()}` lists "
                            f"them and `{hints.abort()}` removes them")


async def settle(request: Awaitable[T]) -> T:
    """Await ``request`` to its end even if the caller is cancelled meanwhile.

    For requests that publish an object: cut off, they could still take effect on the server
    after the caller has seen the cancellation. A cancellation that arrives meanwhile is
    re-raised once the request has ended (its result is then known to the caller's cleanup).
    """
    task = asyncio.ensure_future(request)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the caller's cleanup reads the outcome elsewhere
        raise


def make_interruptible(cls: type) -> None:
    """Replace every fsspec blocking wrapper of ``cls``'s coroutine methods (``ls`` for
    ``_ls`` ...) by one that :func:`run_blocking` stops on an interrupt. fsspec's own let a
    KeyboardInterrupt reach the caller while the coroutine runs on, and may publish later."""
    from fsspec.asyn import async_methods
    from fsspec.spec import AbstractFileSystem

    def is_fsspec_sync(function: Any) -> bool:
        """fsspec's default blocking form (mirrored at instantiation) or one made with
        ``sync_wrapper`` (s3fs's ``mkdir``, ``makedirs`` ...)."""
        if not inspect.isfunction(function):
            return False
        return (function is getattr(AbstractFileSystem, function.__name__, None)
                or inspect.iscoroutinefunction(getattr(function, "__wrapped__", None)))

    def blocking(name: str) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return run_blocking(self.loop, getattr(self, f"_{name}")(*args, **kwargs))

        method.__name__ = method.__qualname__ = name
        method.__doc__ = getattr(getattr(cls, name, None), "__doc__", None)
        return method

    private = {n for n in dir(cls) if n.startswith("_") and not n.startswith("__")}
    for async_name in sorted(set(async_methods) | private):
        name = async_name[1:]
        if (inspect.iscoroutinefunction(getattr(cls, async_name, None))
                and name not in cls.__dict__ and is_fsspec_sync(getattr(cls, name, None))):
            setattr(cls, name, blocking(name))
