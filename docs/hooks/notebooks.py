"""MkDocs hook: notebooks/*.ipynb as pages of the site, with their outputs.

mkdocs-jupyter renders only files of the docs' collection, and that collection is docs/: this
hook adds each notebook of the repository's notebooks/ folder to it as
``notebooks/<name>.ipynb`` (the nav names them by that path), before mkdocs-jupyter's own
``on_files`` turns them into pages. The notebooks are kept without outputs, so the hook first
executes each one (``run_notebooks.py``: a kernel of this interpreter, two at once, the
widgets' state kept) into a temporary folder, and the pages render those executed copies; the
sources in notebooks/ are only read. A cell that raises fails the build, naming the notebook
and the cell. ``MPU_DOCS_NOTEBOOK_OUTPUTS=0`` skips the execution (pages of the cells as
saved, for quick local iteration on the docs).

The widgets render in the browser from their saved state (``include_requirejs`` in
mkdocs.yml): @jupyter-widgets/html-manager loads the core ipywidgets itself, and asks RequireJS
for any other module; an anywidget (the uploads table) needs ``anywidget``, whose npm package
is an ES module RequireJS cannot load. The site gets anywidget's own AMD build (its classic
notebook extension, from the installed package) as ``javascripts/anywidget.js``, and each
notebook page tells RequireJS where it is.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pathlib
import tempfile
import time

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from run_notebooks import NotebookFailed, execute_all

FOLDER = "notebooks"
SWITCH = "MPU_DOCS_NOTEBOOK_OUTPUTS"  # "0": pages without outputs, nothing executed
ANYWIDGET = "javascripts/anywidget.js"
log = logging.getLogger(f"mkdocs.hooks.{__name__}")
_executed: list[tempfile.TemporaryDirectory[str]] = []  # this build's executed copies


@event_priority(100)  # before mkdocs-jupyter's on_files (priority 0)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    top = pathlib.Path(config.config_file_path).parent
    notebooks = sorted((top / FOLDER).glob("*.ipynb"))
    src_dir = top
    if _outputs():
        src_dir = _execute(notebooks)
        files.append(File.generated(config, ANYWIDGET, abs_src_path=_anywidget_amd()))
    for notebook in notebooks:
        files.append(File(f"{FOLDER}/{notebook.name}", src_dir=str(src_dir),
                          dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls))
    return files


def _execute(notebooks: list[pathlib.Path]) -> pathlib.Path:
    """A folder holding ``notebooks/<name>`` executed, for mkdocs-jupyter to render."""
    scratch = tempfile.TemporaryDirectory(prefix="mpu-docs-notebooks-")
    _executed.append(scratch)
    started = time.monotonic()
    try:
        execute_all(notebooks, pathlib.Path(scratch.name, FOLDER))
    except NotebookFailed as failed:
        raise PluginError(f"executing a notebook for its page failed: {failed}") from failed
    log.info("executed %d notebooks in %.0f s (%s=0 skips it)", len(notebooks),
             time.monotonic() - started, SWITCH)
    return pathlib.Path(scratch.name)


def _outputs() -> bool:
    return os.environ.get(SWITCH, "1") != "0"


def _anywidget_amd() -> str:
    """anywidget's AMD build: its classic notebook extension, in the installed package."""
    spec = importlib.util.find_spec("anywidget")
    found = spec and spec.origin and pathlib.Path(spec.origin).parent / "nbextension" / "index.js"
    if not (found and found.is_file()):
        raise PluginError("anywidget's AMD build (anywidget/nbextension/index.js) is not "
                          'installed: pip install -e ".[docs]"')
    return str(found)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if not (_outputs() and page.file.src_uri.startswith(f"{FOLDER}/")):
        return html
    module = get_relative_url(ANYWIDGET, page.file.url).removesuffix(".js")
    return html + ('<script>window.requirejs && requirejs.config({paths: {anywidget: '
                   f'new URL("{module}", document.baseURI).href}}}});</script>')


def on_post_build(config: MkDocsConfig) -> None:
    _remove_executed()


def on_build_error(error: Exception) -> None:
    _remove_executed()


def _remove_executed() -> None:
    while _executed:
        _executed.pop().cleanup()
