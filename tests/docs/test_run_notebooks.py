"""docs/hooks/run_notebooks.py: the docs build's execution of the notebooks, in a kernel of this
interpreter, two at once. The executed copies hold the outputs and the widgets' state, the
sources are only read, and a cell that raises fails the run naming the notebook and the cell."""

from __future__ import annotations

import os
import pathlib
import sys

import nbformat
import pytest

from tests.docs.hooks import load

runner = load("run_notebooks", "nbclient")
pytestmark = pytest.mark.slow  # a kernel start per notebook: ~3 s each
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def notebook(folder: pathlib.Path, name: str, *cells: str) -> pathlib.Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_the_executed_copies_hold_the_outputs_and_widget_state_the_sources_none(
        tmp_path: pathlib.Path) -> None:
    sources = [
        notebook(tmp_path, "a.ipynb", "import os, sys; print(sys.executable); print(os.getcwd())",
                 "open('scratch.txt', 'w').write('x')"),
        notebook(tmp_path, "b.ipynb", "import ipywidgets; ipywidgets.IntSlider(value=7)"),
    ]
    before = [s.read_bytes() for s in sources]
    path_before = os.environ.get("JUPYTER_PATH")
    a, b = runner.execute_all(sources, tmp_path / "out")
    assert (a, b) == (tmp_path / "out" / "a.ipynb", tmp_path / "out" / "b.ipynb")
    assert [s.read_bytes() for s in sources] == before  # only read
    assert os.environ.get("JUPYTER_PATH") == path_before  # the kernelspec's entry removed

    printed = nbformat.read(a, as_version=4).cells[0].outputs[0].text.splitlines()
    assert printed[0] == sys.executable  # the kernel is this interpreter
    cwd = pathlib.Path(printed[1])  # a folder of its own, beside the copy, not the sources'
    assert cwd.parent == tmp_path / "out" and (cwd / "scratch.txt").is_file()
    assert not (tmp_path / "scratch.txt").exists()

    executed = nbformat.read(b, as_version=4)
    models = executed.metadata["widgets"][WIDGET_STATE]["state"].values()
    assert any(m["state"].get("value") == 7 for m in models)  # the slider's state, stored


def test_a_cell_that_raises_fails_the_run_naming_the_notebook_and_the_cell(
        tmp_path: pathlib.Path) -> None:
    sources = [notebook(tmp_path, "fine.ipynb", "print('ok')"),
               notebook(tmp_path, "broken.ipynb", "x = 1",
                        "# the store went away\nraise OSError('no route to the store')",
                        "print('never')"),
               notebook(tmp_path, "later.ipynb", "print('not started')")]
    with pytest.raises(runner.NotebookFailed) as failed:
        runner.execute_all(sources, tmp_path / "out", parallel=1)
    assert str(failed.value) == ("broken.ipynb: cell 2 ('# the store went away') raised "
                                 "OSError: no route to the store")
    assert (tmp_path / "out" / "fine.ipynb").is_file()  # ran before
    assert not (tmp_path / "out" / "broken.ipynb").exists()
    assert not (tmp_path / "out" / "later.ipynb").exists()  # never started after the failure
