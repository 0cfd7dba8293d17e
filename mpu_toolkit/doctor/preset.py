"""A doctor's report as a user preset: the matching built-in preset (or the generic one) with
the measured facts over it, a source line saying when and where they were measured, and in
``measured`` how each of those fields was measured."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from .._s3.providers import GENERIC, preset_record, provider_named
from .._s3.user_presets import write_preset

__all__ = ["save_preset", "default_name"]


def default_name(endpoint: str) -> str:
    """A preset name from the endpoint's host and port: ``127-0-0-1-9000``."""
    return re.sub(r"[^a-z0-9]+", "-", (urlsplit(endpoint).netloc or endpoint).lower()).strip("-")


def save_preset(name: str | None, *, endpoint: str, region: str | None, provider: str | None,
                recommended: Mapping[str, Any], measured: Mapping[str, str],
                measured_on: str) -> Path:
    """Write the preset ``name`` (default :func:`default_name`), ``recommended``'s fields
    over the base preset's, each with its line of ``measured`` (field -> how); its path."""
    from .. import __version__  # the package's, set after its facade imports this room

    base = provider_named(provider) if provider else GENERIC
    record = preset_record(base)
    facts = {key: value for key, value in recommended.items() if key in record}
    record.update(facts)
    here = f"mpu_toolkit's doctor on {endpoint}, {measured_on}: "
    record["measured"] = {**{k: v for k, v in base.measured.items() if k not in facts},
                          **{k: here + line for k, line in measured.items() if k in facts}}
    record.update(endpoint=endpoint, region=region or base.region,
                  title=f"{base.title}, as measured by the doctor",
                  sources=[f"measured by mpu_toolkit {__version__}'s doctor on {measured_on}: "
                           f"{endpoint}",
                           *base.sources])
    return write_preset(name or default_name(endpoint), record)
