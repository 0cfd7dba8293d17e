"""Small pieces the notebook widgets share: styled controls, upload refs, clean messages."""

from __future__ import annotations

from typing import Any, Mapping

import ipywidgets as widgets

__all__ = ["UploadRef", "styled", "button", "upload_ref", "without_secrets"]

UploadRef = tuple[str, str, str]  #: bucket, key, upload_id
_SECRET_OPTIONS = ("key", "secret", "token", "aws_access_key_id", "aws_secret_access_key",
                   "aws_session_token", "password")


def styled(widget: widgets.Widget, css: str) -> widgets.Widget:
    """``widget`` with the CSS class ``css`` (tests and themes find it by that)."""
    widget.add_class(css)
    return widget


def button(description: str, css: str, **kw: Any) -> widgets.Button:
    kw.setdefault("layout", widgets.Layout(width="auto"))  # labels are never cut off
    return styled(widgets.Button(description=description, **kw), css)


def upload_ref(row: Any) -> UploadRef:
    return (str(row.bucket), str(row.key), str(row.upload_id))


def without_secrets(text: str, storage_options: Mapping[str, Any] | None) -> str:
    """``text`` with every credential of ``storage_options`` masked: messages never carry
    them (an error may echo a request's details)."""
    for name in _SECRET_OPTIONS:
        value = (storage_options or {}).get(name)
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "***")
    return text
