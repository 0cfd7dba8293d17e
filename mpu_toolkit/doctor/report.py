"""What the doctor found: :class:`DoctorReport`, its JSON shape, its table (a DataFrame, and
HTML for notebooks), the storage options it recommends, and :meth:`DoctorReport.save` as a
user preset that ``provider=`` names."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .context import Capability
from .preset import save_preset

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DoctorReport", "recommend", "evidence", "CHECKSUM_ORDER"]

#: the fastest checksum a store verifies wins (the writer's integrity modes); MD5 otherwise
CHECKSUM_ORDER = (("crc64nvme_verified", "crc64nvme"), ("crc32c_verified", "crc32c"),
                  ("sha256_payload_verified", "sha256-payload"))

#: preset fields measured by one capability each
FACTS = (("if_none_match_put", "if_none_match_put"),
         ("if_none_match_complete", "if_none_match_complete"), ("if_match", "if_match_put"),
         ("copy_source_if_match", "copy_source_if_match"),
         ("list_uploads_by_prefix", "list_uploads_by_prefix"),
         ("lifecycle", "lifecycle_abort_incomplete"), ("equal_parts", "equal_parts_required"))


def recommend(capabilities: Mapping[str, Capability],
              addressing: str | None = None) -> dict[str, Any]:
    """Storage options and preset fields from the measured facts: ``checksum``, the
    conditional-write and listing facts that were measured, and ``addressing`` (the preset's
    own, ``addressing``, where the store takes it; else path-style, else virtual-hosted)."""
    def measured(name: str) -> bool | None:
        found = capabilities.get(name)
        return found.supported if found else None

    checksum = next((mode for name, mode in CHECKSUM_ORDER if measured(name)), "md5")
    found: dict[str, Any] = {"checksum": checksum}
    found.update({field: measured(name) for field, name in FACTS
                  if measured(name) is not None})
    styles = {"path": measured("path_style"), "virtual": measured("virtual_hosted_style")}
    chosen = next((s for s in (addressing, "path", "virtual") if s and styles.get(s)), None)
    if chosen:
        found["addressing"] = chosen
    return found


def evidence(capabilities: Mapping[str, Capability],
             recommended: Mapping[str, Any]) -> dict[str, str]:
    """How each of ``recommended``'s fields was measured, in one line: the capability that
    decided it and its evidence (a user preset's ``measured``)."""
    deciding = dict(FACTS)
    deciding["addressing"] = {"path": "path_style", "virtual": "virtual_hosted_style"}.get(
        str(recommended.get("addressing")), "")
    checksum = recommended.get("checksum")
    deciding["checksum"] = next((name for name, mode in CHECKSUM_ORDER if mode == checksum),
                                "content_md5_verified")
    found = {field: f"{name}: {capabilities[name].evidence}" for field in recommended
             if (name := deciding.get(field, "")) in capabilities}
    if checksum == "md5":
        faster = ", ".join(name for name, _ in CHECKSUM_ORDER)
        found["checksum"] = (f"none of {faster} verified: md5, which the client checks itself"
                             + (f"; {found['checksum']}" if "checksum" in found else ""))
    return found


@dataclass(frozen=True)
class DoctorReport:
    """What a store honours, measured by :func:`mpu_toolkit.doctor`.

    ``capabilities`` maps each probe's name to a :class:`Capability` (``supported``: True,
    False, or None when the doctor could not tell; ``evidence``: the request and its
    answer); ``recommended`` are the storage options and preset fields that follow;
    ``left_behind`` counts the objects and uploads still under the doctor's prefix after its
    clean-up (0 and 0, unless a request of the clean-up failed).
    """

    endpoint: str
    bucket: str
    provider: str | None
    capabilities: Mapping[str, Capability]
    recommended: Mapping[str, Any]
    left_behind: Mapping[str, int]
    seconds: float
    region: str | None = None
    measured_on: str = ""  #: the date, ISO
    prefix: str = ""  #: the doctor's own prefix, removed again
    #: how this client sends the parts: ``"part path"`` or ``"botocore: <why>"`` (a fact of
    #: the client's configuration, not of the store: TLS, a proxy ... take botocore's)
    part_route: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The ``mpu doctor --json`` shape."""
        return {"endpoint": self.endpoint, "bucket": self.bucket, "provider": self.provider,
                "capabilities": {name: {"supported": c.supported, "evidence": c.evidence}
                                 for name, c in self.capabilities.items()},
                "recommended": dict(self.recommended), "left_behind": dict(self.left_behind),
                "seconds": round(self.seconds, 2), "prefix": self.prefix,
                "part_route": self.part_route}

    def to_frame(self) -> "pd.DataFrame":
        """One row per capability: capability, supported (True/False/None), evidence."""
        import pandas as pd  # on use: `import mpu_toolkit` loads no pandas

        return pd.DataFrame([(name, c.supported, c.evidence)
                             for name, c in self.capabilities.items()],
                            columns=["capability", "supported", "evidence"])

    def _repr_html_(self) -> str:
        marks = {True: "✓ yes", False: "✗ no", None: "? unknown"}
        rows = "".join(f"<tr><td><code>{html.escape(name)}</code></td>"
                       f"<td>{marks[c.supported]}</td><td>{html.escape(c.evidence)}</td></tr>"
                       for name, c in self.capabilities.items())
        title = html.escape(f"{self.endpoint} {self.bucket}: provider "
                            f"{self.provider or 'unknown'}, {self.seconds:.1f} s, left behind "
                            f"{self.left_behind.get('objects', 0)} objects, "
                            f"{self.left_behind.get('uploads', 0)} uploads; UploadPart via "
                            f"{self.part_route or 'unknown'}")
        return (f"<table><caption>{title}</caption><thead><tr><th>capability</th>"
                f"<th>supported</th><th>evidence</th></tr></thead><tbody>{rows}</tbody>"
                "</table>")

    def save(self, name: str | None = None) -> Path:
        """Write the measured facts as a user preset (see :mod:`mpu_toolkit._s3.user_presets`)
        named ``name`` (default: from the endpoint's host, e.g. ``127-0-0-1-9000``); the
        file's path. ``provider=name`` then finds it."""
        return save_preset(name, endpoint=self.endpoint, region=self.region,
                           provider=self.provider, recommended=self.recommended,
                           measured=evidence(self.capabilities, self.recommended),
                           measured_on=self.measured_on)
