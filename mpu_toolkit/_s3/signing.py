"""SigV4 that signs a part's payload hash computed off the event loop (``sha256-payload``).

In ``checksum="sha256-payload"`` mode every part's SHA-256 goes into the signature
(``x-amz-content-sha256``), and a store that checks signatures refuses other bytes. botocore
would hash the body itself, on the event loop and through copies of it; instead each part is
hashed on a worker thread with the other digests (:class:`.payload.PartBody`'s
``payload_sha256``), and this signer signs that value. Requests without one are signed
exactly as botocore's own S3 signer (Python or the CRT's, whichever botocore chose) would:
``UNSIGNED-PAYLOAD`` where payload signing is off, as the provider presets set it.
"""

from __future__ import annotations

from typing import Any

import botocore.auth

__all__ = ["install", "SIGNER"]

SIGNER = "mpu-s3v4"  #: the name this signer is registered under in botocore
_OPERATIONS = ("UploadPart", "PutObject")  #: the requests that carry a part's bytes
_HANDLER_ID = "mpu_toolkit-payload-signer"
_S3 = botocore.auth.AUTH_TYPE_MAPS["s3v4"]  # botocore's (the CRT's when awscrt is there)


def _known(request: Any) -> str | None:
    return getattr(request.body, "payload_sha256", None)


class PrecomputedPayloadAuth(_S3):  # type: ignore[misc, valid-type]
    """botocore's S3 SigV4 signer, taking the payload hash from the body when it has one."""

    def payload(self, request: Any) -> str:  # botocore's Python signer asks this
        return _known(request) or super().payload(request)

    def _get_existing_sha256(self, request: Any) -> str | None:  # the CRT's signer: these two
        return _known(request)

    def _should_sha256_sign_payload(self, request: Any) -> bool:
        return bool(_known(request)) or super()._should_sha256_sign_payload(request)


def _choose(signature_version: Any = None, **kwargs: Any) -> str | None:
    return SIGNER if signature_version in ("s3v4", "v4") else None


def install(client: Any) -> None:
    """Sign ``client``'s UploadPart and PutObject requests with :class:`PrecomputedPayloadAuth`.
    Idempotent."""
    botocore.auth.AUTH_TYPE_MAPS.setdefault(SIGNER, PrecomputedPayloadAuth)
    for operation in _OPERATIONS:
        client.meta.events.register(f"choose-signer.s3.{operation}", _choose,
                                    unique_id=f"{_HANDLER_ID}-{operation}")
