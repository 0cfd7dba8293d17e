"""What every probe shares: the store's client, the raw sender, the doctor's own prefix, and a
record of every key written and every upload started there (what the clean-up undoes).

Probes name their keys through :meth:`Probing.key`, so nothing is written that the clean-up
does not know of; each probe family answers a dict of :class:`Capability` by name.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .._s3.client import S3Client
from ..errors import MPUError, S3Error
from ..model import ObjectAttributes, ObjectRef
from .raw import Answer, RawS3

__all__ = ["Capability", "Probing", "Family", "said", "guarded", "md5_hex"]


@dataclass(frozen=True)
class Capability:
    """One measured fact: ``supported`` (None: could not tell) and one line of evidence, the
    request sent and what came back."""

    supported: bool | None
    evidence: str


#: a probe family: measures some capabilities, answers them by name
Family = Callable[["Probing"], Awaitable[dict[str, Capability]]]


@dataclass
class Probing:
    """The doctor's run on one bucket, under its own ``prefix`` (ending in ``/``)."""

    client: S3Client
    raw: RawS3
    bucket: str
    prefix: str
    keys: set[str] = field(default_factory=set)       #: every key written (or tried)
    uploads: dict[str, str] = field(default_factory=dict)  #: upload id -> key

    def key(self, name: str) -> str:
        """The full key of ``name`` under the doctor's prefix, remembered for the clean-up."""
        full = self.prefix + name
        self.keys.add(full)
        return full

    def ref(self, name: str) -> ObjectRef:
        return ObjectRef(self.bucket, self.key(name))

    async def send(self, method: str, name: str = "", **options: Any) -> Answer:
        """A raw request (:meth:`RawS3.send`) on the key ``name``, off the event loop."""
        key = self.key(name) if name else ""
        return await asyncio.to_thread(self.raw.send, method, self.bucket, key, **options)

    async def put(self, name: str, body: bytes) -> str:
        """PutObject of ``body`` by the store's client; its ETag."""
        return (await self.client.put_object(self.ref(name), body, ObjectAttributes())).etag

    async def start_upload(self, name: str) -> tuple[ObjectRef, str]:
        """CreateMultipartUpload on ``name``, remembered for the clean-up."""
        ref = self.ref(name)
        upload_id = await self.client.create(ref, ObjectAttributes())
        self.uploads[upload_id] = ref.key
        return ref, upload_id


def said(error: BaseException) -> str:
    """An error as evidence: ``"400 BadDigest"`` for a server's answer, else its message."""
    if isinstance(error, S3Error) and (error.status or error.code):
        return f"{error.status or ''} {error.code or 'error'}".strip()
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def md5_hex(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


async def guarded(family: Family, names: tuple[str, ...],
                  probing: Probing) -> dict[str, Capability]:
    """``family``'s answers; when it fails midway, its names unanswered say why."""
    try:
        found = await family(probing)
    except (MPUError, OSError) as exc:
        found = {}
        failure = Capability(None, f"not measured: {said(exc)}")
    else:
        failure = Capability(None, "not measured")
    return {name: found.get(name, failure) for name in names}
