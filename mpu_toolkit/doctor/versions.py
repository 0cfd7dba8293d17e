"""Versioned buckets keep what is deleted: a DeleteObject there only adds a delete marker. The
doctor lists the versions under its prefix (ListObjectVersions) and deletes each by its id,
so that nothing of it is kept; a store that does not list versions is left at that."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ElementTree
from urllib.parse import quote

from .context import Probing

__all__ = ["versions", "delete_versions"]


async def versions(probing: Probing) -> list[tuple[str, str]] | None:
    """``(key, version id)`` of every version and delete marker under the doctor's prefix
    (the first 1,000: it writes far fewer); None where there is no listing of them."""
    try:
        answer = await probing.send("GET", query="versions&prefix="
                                    + quote(probing.prefix, safe="-_.~"))
        listed = ElementTree.fromstring(answer.body) if answer.ok else None
    except (ConnectionError, ElementTree.ParseError):
        listed = None
    if listed is None:
        return None
    found = []
    for entry in listed:
        if entry.tag.rpartition("}")[2] in ("Version", "DeleteMarker"):
            fields = {child.tag.rpartition("}")[2]: child.text or "" for child in entry}
            if fields.get("Key", "").startswith(probing.prefix):
                found.append((fields["Key"], fields.get("VersionId", "null")))
    return found


async def delete_versions(probing: Probing, found: list[tuple[str, str]]) -> None:
    """DeleteObject of each ``(key, version id)``: gone for good, marker or not."""
    await asyncio.gather(*(asyncio.to_thread(
        probing.raw.send, "DELETE", probing.bucket, key,
        query="versionId=" + quote(version, safe="-_.~")) for key, version in found))
