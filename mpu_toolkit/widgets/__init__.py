"""Notebook widgets (ipywidgets, anywidget) on top of the library; the library never imports
them.

Needs the ``notebook`` extra: ``pip install 'mpu_toolkit[notebook]'``.
"""

try:
    import ipywidgets  # noqa: F401
except ImportError as missing:  # pragma: no cover - the test extra installs it
    raise ImportError("mpu_toolkit.widgets needs ipywidgets: pip install "
                      "'mpu_toolkit[notebook]'") from missing

from .upload_progress import UploadProgress
from .uploads_browser import UploadsBrowser
from .uploads_table import UploadsTable

__all__ = ["UploadsBrowser", "UploadsTable", "UploadProgress"]
