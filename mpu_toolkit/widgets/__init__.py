"""Notebook widgets (ipywidgets) on top of the library; the library never imports them."""

from .uploads_browser import UploadsBrowser
from .upload_progress import UploadProgress

__all__ = ["UploadsBrowser", "UploadProgress"]
