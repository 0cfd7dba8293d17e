"""A proxy on 127.0.0.1 that makes a real S3 server (moto, Ceph RGW) behave like a known store.

Each quirk is one known difference from AWS, named in :data:`Quirk`; :data:`STORE_QUIRKS`
says which quirks emulate which provider preset (:mod:`mpu_toolkit._s3.provider_presets`).
Requests the quirks refuse are answered by the proxy with the store's error; the others are
forwarded, changed as the store would read them. A header removed from a signed request breaks
its SigV4 signature on a server that checks them (RGW; moto does not): given ``credentials``,
the proxy signs a changed request again (botocore's ``S3SigV4Auth``, keeping the client's
Host header and payload hash: the body is forwarded unchanged).

>>> with QuirkProxy("http://127.0.0.1:9000", STORE_QUIRKS["r2"]) as proxy:  # doctest: +SKIP
...     write(storage_options={..., "endpoint_url": proxy.endpoint_url})
"""

from __future__ import annotations

import re
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from aiohttp import web
from botocore.auth import UNSIGNED_PAYLOAD, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from multidict import CIMultiDict

from .proxy_server import HOP_HEADERS, Forwarded, ProxyServer, operation_of

__all__ = ["QuirkProxy", "Quirk", "QUIRKS", "STORE_QUIRKS"]

#: exact_key_listing: ListMultipartUploads answers only the uploads whose key is the prefix
#: (none without a prefix; MinIO). equal_parts: Complete is refused (400 InvalidPart) unless
#: all parts but the last have one size and the last is not larger (R2). no_trailers: requests
#: with aws-chunked bodies or trailers are refused (400 XAmzContentSHA256Mismatch, as Yandex
#: answers). no_crc64nvme: CRC64NVME checksums are refused (501 NotImplemented, as R2 answers
#: checksum headers it does not implement). ignore_content_md5 / ignore_if_none_match /
#: ignore_if_match: the header is dropped (a wrong MD5 is stored, an existing key overwritten).
#: no_flexible_checksums: x-amz-checksum-* request headers are dropped and no checksum is
#: answered (older MinIO and many compatible stores).
Quirk = Literal["exact_key_listing", "equal_parts", "no_trailers", "no_crc64nvme",
                "ignore_content_md5", "ignore_if_none_match", "ignore_if_match",
                "no_flexible_checksums"]
QUIRKS: tuple[Quirk, ...] = Quirk.__args__  # type: ignore[attr-defined]

#: the quirks that make a server behave like the store a provider preset names
STORE_QUIRKS: Mapping[str, frozenset[Quirk]] = {
    "minio": frozenset({"exact_key_listing"}),
    "r2": frozenset({"equal_parts", "no_trailers", "no_crc64nvme"}),
    "yandex": frozenset({"no_trailers"}),
}

ET.register_namespace("", "http://s3.amazonaws.com/doc/2006-03-01/")  # S3's answers, rewritten
_CHECKSUM_HEADER = re.compile(r"x-amz-(sdk-)?checksum-", re.IGNORECASE)


class _KeptPayloadHash(S3SigV4Auth):
    """SigV4 over the payload hash the client sent (the body is unchanged), or
    UNSIGNED-PAYLOAD when it sent none."""

    def payload(self, request: AWSRequest) -> str:
        return str(request.context.get("payload_hash") or UNSIGNED_PAYLOAD)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(element: ET.Element, name: str) -> str:
    """The text of ``element``'s child called ``name`` (any namespace), or ""."""
    for child in element:
        if _local(child.tag) == name:
            return child.text or ""
    return ""


def _without(payload: bytes, drop: Callable[[ET.Element], bool]) -> bytes:
    """An XML answer without the elements, at any depth, that ``drop`` names."""
    root = ET.fromstring(payload)
    for parent in list(root.iter()):
        for child in [c for c in parent if drop(c)]:
            parent.remove(child)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@dataclass
class QuirkProxy(ProxyServer):
    """Forwards to ``upstream`` with ``quirks``; ``credentials=(key, secret)`` sign changed
    requests again (needed where the server checks signatures); ``ssl_context`` serves
    HTTPS, over which botocore sends its checksums as aws-chunked trailers."""

    upstream: str
    quirks: Collection[Quirk]
    credentials: tuple[str, str] | None = None
    region: str = "us-east-1"
    port: int = 0
    ssl_context: ssl.SSLContext | None = None
    refused: list[str] = field(default_factory=list)  #: "Operation:ErrorCode", in order

    def __post_init__(self) -> None:
        unknown = set(self.quirks) - set(QUIRKS)
        if unknown:
            raise ValueError(f"unknown quirks {sorted(unknown)}: known are {QUIRKS}")
        self.quirks = frozenset(self.quirks)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        operation = operation_of(request.method, dict(request.query),
                                 "x-amz-copy-source" in request.headers, request.path)
        body = await request.read()
        refusal = self._refusal(request.headers)
        if refusal is None and operation == "CompleteMultipartUpload" and \
                "equal_parts" in self.quirks:
            refusal = await self._unequal_parts(request, body)
        if refusal is not None:
            status, code, message = refusal
            self.refused.append(f"{operation}:{code}")
            return self._error(status, code, message)
        forwarded = await self._forward(request, body, self._headers(request))
        if operation == "ListMultipartUploads" and "exact_key_listing" in self.quirks \
                and forwarded.status == 200:
            prefix = request.query.get("prefix", "")
            forwarded.payload = _without(forwarded.payload, lambda e: (
                _local(e.tag) == "CommonPrefixes"
                or (_local(e.tag) == "Upload" and _text(e, "Key") != prefix)))
        if "no_flexible_checksums" in self.quirks:
            self._drop_checksums(forwarded)
        return self._answer(request, forwarded)

    def _refusal(self, headers: Mapping[str, str]) -> tuple[int, str, str] | None:
        """The store's error (status, code, message) for a request it does not take."""
        if "no_trailers" in self.quirks and (
                "aws-chunked" in headers.get("Content-Encoding", "")
                or "x-amz-trailer" in headers
                or headers.get("x-amz-content-sha256", "").startswith("STREAMING-")):
            return (400, "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed (emulated: no aws-chunked trailers)")
        if "no_crc64nvme" in self.quirks:
            for name in ("x-amz-checksum-crc64nvme", "x-amz-sdk-checksum-algorithm",
                         "x-amz-checksum-algorithm", "x-amz-trailer"):
                value = headers.get(name)
                if value is not None and "crc64nvme" in f"{name} {value}".lower():
                    return 501, "NotImplemented", f"Header '{name}' with value '{value}' " \
                                                  "not implemented"
        return None

    async def _unequal_parts(self, request: web.Request,
                             body: bytes) -> tuple[int, str, str] | None:
        """R2's InvalidPart, where the parts Complete names differ in size."""
        numbers = [int(e.text or 0) for e in ET.fromstring(body).iter()
                   if _local(e.tag) == "PartNumber"]
        sizes = await self._part_sizes(request.path, request.query["uploadId"])
        if sizes is None:
            return None
        named = [sizes.get(n, -1) for n in numbers]
        if named and (len(set(named[:-1])) > 1 or named[-1] > named[0]):
            return (400, "InvalidPart", "All non-trailing parts must have the same length "
                                        f"(emulated R2: part sizes {named})")
        return None

    async def _part_sizes(self, path: str, upload_id: str) -> dict[int, int] | None:
        """ListParts upstream: the size of each part of the upload, by number (None: the
        server refused to list them)."""
        sizes: dict[int, int] = {}
        marker = "0"
        while True:
            path_qs = f"{path}?uploadId={quote(upload_id)}&part-number-marker={marker}"
            answer = await self._send("GET", path_qs, self._signed("GET", path_qs, {}), b"")
            if answer.status != 200:  # the server's own Complete answer will say why
                return None
            root = ET.fromstring(answer.payload)
            for part in root:
                if _local(part.tag) == "Part":
                    sizes[int(_text(part, "PartNumber"))] = int(_text(part, "Size"))
            if _text(root, "IsTruncated") != "true":
                return sizes
            marker = _text(root, "NextPartNumberMarker")

    def _headers(self, request: web.Request) -> dict[str, str]:
        """The headers to forward: without those the store ignores, signed again if that
        changed a signed request."""
        dropped = set()
        if "ignore_content_md5" in self.quirks:
            dropped.add("content-md5")
        if "ignore_if_none_match" in self.quirks:
            dropped.add("if-none-match")
        if "ignore_if_match" in self.quirks:
            dropped.add("if-match")
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in HOP_HEADERS | dropped and not (
                       "no_flexible_checksums" in self.quirks and _CHECKSUM_HEADER.match(k))}
        kept = {k for k in request.headers if k.lower() not in HOP_HEADERS}
        if headers.keys() == kept or "Authorization" not in headers:
            return headers
        return self._signed(request.method, request.path_qs, headers)

    def _signed(self, method: str, path_qs: str, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` with a new SigV4 signature (as they are without ``credentials``)."""
        if self.credentials is None:
            return dict(headers)
        unsigned = {k: v for k, v in headers.items()
                    if k.lower() not in ("authorization", "x-amz-date", "x-amz-content-sha256")}
        aws = AWSRequest(method=method, url=self.upstream + path_qs, headers=unsigned)
        aws.context["payload_hash"] = {k.lower(): v for k, v in headers.items()}.get(
            "x-amz-content-sha256")
        _KeptPayloadHash(Credentials(*self.credentials), "s3", self.region).add_auth(aws)
        return dict(aws.headers.items())

    @staticmethod
    def _drop_checksums(forwarded: Forwarded) -> None:
        """No checksum in the answer's headers or XML (a store without flexible checksums)."""
        forwarded.headers = CIMultiDict((k, v) for k, v in forwarded.headers.items()
                                        if not _CHECKSUM_HEADER.match(k))
        if forwarded.payload.lstrip().startswith(b"<") and b"<Checksum" in forwarded.payload:
            forwarded.payload = _without(forwarded.payload,
                                         lambda e: _local(e.tag).startswith("Checksum"))
