"""What differs between S3 stores, kept in one place: client settings and server traits.

One profile serves every S3-compatible store today (AWS, Yandex Object Storage, MinIO, Ceph
RGW, moto); presets per provider (endpoint, addressing style, checksum support, part rules,
console links) are added here as more :class:`Provider` records. Server quirks that change
what an *error* means (Ceph RGW's NoSuchKey for an aborted upload ...) are folded in
:mod:`.errormap`; those of requests (RGW accepting part numbers 0 and 10,001) in
:mod:`.client`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Provider", "GENERIC", "copies_by_reference"]


@dataclass(frozen=True)
class Provider:
    """A store's defaults for the aiobotocore client (``config_kwargs`` override them)."""

    name: str
    #: botocore ``Config`` defaults: each one is explained where GENERIC sets it
    client_config: Mapping[str, Any] = field(default_factory=dict)
    #: botocore ``Config(s3=...)`` defaults
    s3_config: Mapping[str, Any] = field(default_factory=dict)

    def config_kwargs(self, user: Mapping[str, Any] | None, *,
                      connections: int) -> dict[str, Any]:
        """botocore ``Config`` keywords: the user's, over this provider's defaults, with a
        connection pool of at least ``connections``."""
        config = {**self.client_config, **dict(user or {})}
        config.setdefault("max_pool_connections", max(10, connections))
        config["s3"] = {**self.s3_config, **(config.get("s3") or {})}
        return config


GENERIC = Provider(
    "s3-compatible",
    client_config={
        # many S3-compatible stores reject or ignore botocore >= 1.36's default CRC32
        # trailers (XAmzContentSHA256Mismatch on Yandex Object Storage, 411 on RGW 16)
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
    },
    # Content-MD5 protects every part; hashing each byte again for SigV4 costs throughput
    s3_config={"payload_signing_enabled": False},
)


def copies_by_reference(http_headers: Mapping[str, Any]) -> bool:
    """The server shares a source's data on CopyObject instead of copying bytes (Ceph RGW,
    recognised by the ``x-rgw-object-type`` header of the HEAD a copy makes anyway)."""
    return "x-rgw-object-type" in http_headers
