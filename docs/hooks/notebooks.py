"""MkDocs hook: notebooks/*.ipynb as pages of the site, read where they are.

mkdocs-jupyter renders only files of the docs' collection, and that collection is docs/: this
hook adds each notebook of the repository's notebooks/ folder to it as
``notebooks/<name>.ipynb`` (its source stays in notebooks/, nothing is copied into git), before
mkdocs-jupyter's own ``on_files`` turns them into pages. The nav names them by that path.
"""

from __future__ import annotations

import pathlib

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

FOLDER = "notebooks"


@event_priority(100)  # before mkdocs-jupyter's on_files (priority 0)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    top = pathlib.Path(config.config_file_path).parent
    for notebook in sorted((top / FOLDER).glob("*.ipynb")):
        files.append(File(f"{FOLDER}/{notebook.name}", src_dir=str(top),
                          dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls))
    return files
