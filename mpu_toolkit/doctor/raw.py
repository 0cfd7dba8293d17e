"""Requests botocore will not send as they are, signed by botocore and sent by urllib3.

The doctor asks a store what it does with a wrong ``Content-MD5``, a wrong signed payload
hash, an ``aws-chunked`` body with a checksum trailer, or a virtual-hosted ``Host`` header on
an endpoint that is an address: botocore fixes or refuses each of those. :class:`RawS3` builds
the request itself, signs it with botocore's :class:`~botocore.auth.S3SigV4Auth` (the payload
hash given, or the body's SHA-256), and sends it synchronously with a short timeout.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

import urllib3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest

__all__ = ["RawS3", "Answer"]


@dataclass(frozen=True)
class Answer:
    """What came back: status, headers (lower-case names), body and the S3 error code."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def code(self) -> str:
        """The ``<Code>`` of an error body ("" when there is none)."""
        found = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return found.group(1).decode("utf-8", "replace") if found else ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def said(self) -> str:
        """``"200 OK"`` / ``"400 BadDigest"``: the status and the error code, for evidence."""
        return f"{self.status} {self.code or ('OK' if self.ok else 'no error code')}"


class _SignedAs(S3SigV4Auth):
    """SigV4 that signs ``payload_hash`` as the body's hash (botocore would compute it)."""

    def __init__(self, credentials: Any, region: str, payload_hash: str) -> None:
        super().__init__(credentials, "s3", region)
        self._payload_hash = payload_hash

    def payload(self, request: Any) -> str:
        return self._payload_hash


class RawS3:
    """Signed requests to one endpoint with ``credentials`` (botocore's frozen credentials)
    in ``region``; ``timeout`` seconds to connect and to read; ``verify`` as botocore's (False:
    no certificate check, a path: the CA bundle)."""

    def __init__(self, endpoint: str, credentials: Any, region: str, timeout: float = 10.0,
                 verify: bool | str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._credentials = credentials
        self._region = region
        tls: dict[str, Any] = ({"cert_reqs": "CERT_NONE"} if verify is False
                               else {"ca_certs": verify} if isinstance(verify, str) else {})
        self._pool = urllib3.PoolManager(
            num_pools=4, maxsize=8, retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout), **tls)

    def send(self, method: str, bucket: str, key: str = "", *, query: str = "",
             headers: Mapping[str, str] | None = None, body: bytes = b"",
             payload_hash: str | None = None, virtual: bool = False) -> Answer:
        """``method`` on ``bucket/key``: path-style, or virtual-hosted (``Host:
        bucket.<endpoint host>``, sent to the endpoint's address). ``payload_hash`` is
        signed as ``x-amz-content-sha256`` instead of the body's SHA-256."""
        path = "/" + quote(key, safe="/~") if virtual else f"/{bucket}/" + quote(key, safe="/~")
        url = self.endpoint + path + (f"?{query}" if query else "")
        sent = dict(headers or {})
        if virtual:
            sent["Host"] = f"{bucket}.{urlsplit(self.endpoint).netloc}"
        request = AWSRequest(method=method, url=url, headers=sent, data=body)
        signed_hash = payload_hash or hashlib.sha256(body).hexdigest()
        _SignedAs(self._credentials, self._region, signed_hash).add_auth(request)
        try:
            response = self._pool.request(method, url, body=body or None,
                                          headers=dict(request.headers.items()),
                                          redirect=False, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:  # no answer: as the built-in error
            raise ConnectionError(f"{method} {url}: {exc}") from exc
        return Answer(response.status, {k.lower(): v for k, v in response.headers.items()},
                      bytes(response.data))

    def close(self) -> None:
        self._pool.clear()
