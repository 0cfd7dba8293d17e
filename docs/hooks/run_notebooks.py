"""Executing notebooks/*.ipynb in a kernel of this interpreter: by the docs build, to show their
outputs (docs/hooks/notebooks.py), and by tests/test_notebooks.py.

The kernel is ``sys.executable``: a ``python3`` kernelspec pointing at it is put first on
JUPYTER_PATH (a user-installed ``python3`` kernel of another Python cannot shadow it). Not a
hook of its own: ``notebooks.py`` imports it (mkdocs puts this folder on ``sys.path`` while it
loads a hook), the tests load it by path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import nbformat
from nbclient import NotebookClient

KERNEL = "python3"  # the notebooks' own kernelspec name (their metadata)
CELL_TIMEOUT = 120  # seconds: a cell that hangs fails the run instead of the build hanging


@contextlib.contextmanager
def this_python_kernel() -> Iterator[str]:
    """A kernelspec of ``sys.executable``, first on JUPYTER_PATH while inside; its name."""
    with tempfile.TemporaryDirectory(prefix="mpu-kernel-") as top:
        spec = pathlib.Path(top, "kernels", KERNEL)
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python"}))
        before = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [top, before]))
        try:
            yield KERNEL
        finally:
            if before is None:
                del os.environ["JUPYTER_PATH"]
            else:
                os.environ["JUPYTER_PATH"] = before


def client(nb: Any, kernel: str, cwd: pathlib.Path) -> NotebookClient:
    """The client that executes ``nb`` in ``cwd``, keeping its widgets' state in its metadata
    (what a static page renders them from)."""
    return NotebookClient(nb, kernel_name=kernel, timeout=CELL_TIMEOUT, store_widget_state=True,
                          resources={"metadata": {"path": str(cwd)}})


class NotebookFailed(Exception):
    """A notebook's cell raised (or the kernel died): the message names the notebook and cell."""


async def _execute(source: pathlib.Path, target: pathlib.Path, kernel: str,
                   slots: asyncio.Semaphore, stop: asyncio.Event) -> None:
    nb = nbformat.read(source, as_version=4)
    cwd = target.parent / f".{target.stem}"  # files a notebook writes stay out of notebooks/
    cwd.mkdir()
    log = cwd / "kernel.log"  # the kernel's own output (and its children's: Dask's workers)
    async with slots:
        if stop.is_set():  # another one failed: not started
            return
        with log.open("wb") as output:
            try:
                await client(nb, kernel, cwd).async_execute(stdout=output, stderr=output)
            except Exception as exc:
                stop.set()
                raise NotebookFailed(f"{source.name}: {_where(nb, exc, log)}") from exc
    nbformat.write(nb, target)


def _where(nb: Any, exc: Exception, log: pathlib.Path) -> str:
    """The failing cell (1-based, among all cells), its first line and the error; else (a
    timeout, a dead kernel) the exception and the end of the kernel's log."""
    for number, cell in enumerate(nb.cells, 1):
        errors = [o for o in cell.get("outputs", ()) if o.get("output_type") == "error"]
        if errors:
            first = next(iter(cell.source.strip().splitlines()), "")
            return f"cell {number} ({first!r}) raised {errors[0].ename}: {errors[0].evalue}"
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    return f"{type(exc).__name__}: {exc}\nthe kernel's last lines:\n{tail}"


def execute_all(notebooks: Sequence[pathlib.Path], into: pathlib.Path,
                parallel: int = 2) -> list[pathlib.Path]:
    """Execute ``notebooks`` (at most ``parallel`` at once), each written with its outputs as
    ``into/<its name>``; the sources are only read. When one fails, those running finish (a
    kernel is never left behind), the rest are not started, and :class:`NotebookFailed` is
    raised for the first in order that failed."""
    into.mkdir(parents=True, exist_ok=True)
    targets = [into / source.name for source in notebooks]

    async def run_all(kernel: str) -> None:
        slots, stop = asyncio.Semaphore(parallel), asyncio.Event()
        ended = await asyncio.gather(*(_execute(source, target, kernel, slots, stop)
                                       for source, target in zip(notebooks, targets)),
                                     return_exceptions=True)
        for end in ended:
            if isinstance(end, BaseException):
                raise end

    with this_python_kernel() as kernel:
        asyncio.run(run_all(kernel))
    return targets
