"""User presets: provider records in the user's config directory, found by ``provider=NAME``
(``$MPU_PROVIDER``, the CLI's ``--provider``) beside the built-in ones.

Where: ``$MPU_CONFIG_DIR`` if set, else ``$XDG_CONFIG_HOME/mpu_toolkit`` (default
``~/.config/mpu_toolkit``) on POSIX and ``%APPDATA%\\mpu_toolkit`` on Windows; each preset is
``providers/<name>.json``. What: one JSON object of :class:`~.providers.Provider`'s fields
(``endpoint``, ``region``, ``addressing``, ``checksum``, ``if_none_match_put``,
``if_none_match_complete``, ``if_match``, ``copy_source_if_match``,
``list_uploads_by_prefix``, ``lifecycle``, ``min_part`` ..., and ``sources``, lists for the
tuples; ``measured``, an object of field -> how); fields left out take the generic defaults.
``mpu doctor --save`` writes one from what it measured. A built-in name cannot be taken by a user file, and a file that is not such
an object is refused with its path.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigurationError
from .provider_presets import PRESETS

__all__ = ["config_dir", "preset_path", "read_preset", "write_preset", "user_preset_names"]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
_BUILT_IN = frozenset(str(record["name"]) for record in PRESETS)


def config_dir() -> Path:
    """mpu_toolkit's directory of user settings (see the module's docstring)."""
    if os.environ.get("MPU_CONFIG_DIR"):
        return Path(os.environ["MPU_CONFIG_DIR"]).expanduser()
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "mpu_toolkit"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "mpu_toolkit"


def preset_path(name: str) -> Path:
    return config_dir() / "providers" / f"{name}.json"


def read_preset(name: str) -> dict[str, Any] | None:
    """The user preset ``name``'s fields (None: there is no such file)."""
    if not _NAME.fullmatch(name):
        return None
    path = preset_path(name)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"user preset {path} cannot be read ({exc}): fix or delete "
                                 "it") from exc
    if not isinstance(record, dict):
        raise ConfigurationError(f"user preset {path} is not a JSON object of provider fields: "
                                 "fix or delete it")
    return {**record, "name": name}


def write_preset(name: str, record: Mapping[str, Any]) -> Path:
    """Write ``record`` as the user preset ``name``; a built-in's name is refused."""
    if name in _BUILT_IN:
        raise ConfigurationError(f"{name!r} is a built-in provider: save the measured preset "
                                 "under another name")
    if not _NAME.fullmatch(name):
        raise ConfigurationError(f"preset name {name!r}: use lower-case letters, digits, '.', "
                                 "'-' and '_' (at most 63)")
    path = preset_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**record, "name": name}, indent=2) + "\n", encoding="utf-8")
    return path


def user_preset_names() -> list[str]:
    """The names of the user presets, sorted."""
    folder = config_dir() / "providers"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
