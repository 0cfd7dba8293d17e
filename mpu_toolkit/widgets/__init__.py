"""Notebook widgets (ipywidgets) on top of the library; the library never imports them."""

from .browser import UploadsBrowser
from .progress import UploadProgress

__all__ = ["UploadsBrowser", "UploadProgress"]
