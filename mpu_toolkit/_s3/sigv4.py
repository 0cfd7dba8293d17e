"""AWS Signature Version 4 for one request, header-signed, with the day's signing key cached.

The part path (:mod:`.part_path`) signs each UploadPart itself instead of running botocore's
request pipeline (serialize, endpoint rules, events, signer: ~0.9 ms of CPU per part). What
varies from part to part is the part number, the digest headers and the time; the signing key
depends only on the secret, the day, the region and the service, so it is derived once a day
(four HMACs) and each request costs one SHA-256 of a short canonical request and one HMAC.
The signature is the one botocore's signer computes for the same request (tested).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from functools import lru_cache
from typing import Mapping
from urllib.parse import quote

__all__ = ["Scope", "sign", "UNSIGNED_PAYLOAD"]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_ALGORITHM = "AWS4-HMAC-SHA256"


class Scope:
    """Who signs, and for which region and service (the credential scope's fixed part)."""

    __slots__ = ("access_key", "secret_key", "token", "region", "service")

    def __init__(self, access_key: str, secret_key: str, token: str | None, region: str,
                 service: str = "s3") -> None:
        self.access_key, self.secret_key, self.token = access_key, secret_key, token
        self.region, self.service = region, service


@lru_cache(maxsize=16)
def _signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def canonical_query(params: Mapping[str, str]) -> str:
    """``name=value`` pairs sorted by name, each URI-encoded as SigV4 wants (and as sent)."""
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                    for k, v in sorted(params.items()))


def sign(method: str, host: str, path: str, query: str, headers: Mapping[str, str],
         payload_hash: str, scope: Scope, now: datetime | None = None) -> dict[str, str]:
    """The headers to send: ``headers`` plus Host, X-Amz-Date, X-Amz-Content-SHA256, the
    session token if any, and Authorization signing all of them.

    ``path`` is the URI-encoded path as sent (S3 signs it as is); ``query`` the canonical
    query string (:func:`canonical_query`), also sent as is.
    """
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    signed = {"host": host, "x-amz-date": stamp, "x-amz-content-sha256": payload_hash}
    if scope.token:
        signed["x-amz-security-token"] = scope.token
    for name, value in headers.items():
        signed[name.lower()] = " ".join(str(value).split())
    names = sorted(signed)
    header_list = ";".join(names)
    canonical = "\n".join((method, path, query,
                           "".join(f"{n}:{signed[n]}\n" for n in names),
                           header_list, payload_hash))
    day = stamp[:8]
    credential_scope = f"{day}/{scope.region}/{scope.service}/aws4_request"
    to_sign = "\n".join((_ALGORITHM, stamp, credential_scope,
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    key = _signing_key(scope.secret_key, day, scope.region, scope.service)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    signed["authorization"] = (f"{_ALGORITHM} Credential={scope.access_key}/{credential_scope}, "
                               f"SignedHeaders={header_list}, Signature={signature}")
    return signed
