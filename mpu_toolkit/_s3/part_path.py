"""UploadPart without botocore's request pipeline: the part path.

UploadPart is the one request that carries the bytes, and the one sent hundreds of times per
GiB. botocore spends ~0.9 ms of CPU on each (serialize, endpoint rules, events, signer) and
aiohttp sends the body through copies; at 6 MiB parts that was a quarter of the writer's CPU
and the event loop's busiest work. Here each upload's request is prepared once: botocore
presigns part 1, which gives the URL exactly as botocore addresses it (path or virtual-host
style); every part then gets its query, digest headers and a SigV4 signature (:mod:`.sigv4`)
and goes out on :mod:`.wire` from the part's buffer.

Nothing else changes: every try is judged by the client's own :class:`.retry.RetryHandler`
(the policy, backoff, log lines and lost-answer count of the botocore path), an error answer
is parsed as botocore parses it and raised as its ``ClientError``, the answer is checked
against the part's digest by the caller as before, and each request is announced on
botocore's ``before-send`` event for what observes the client. Where the client needs
something this does not do (TLS, a proxy, another signature version, anonymous access,
payload signing, botocore computing a checksum), or with ``MPU_TOOLKIT_PART_PATH=botocore``
in the environment, parts go through botocore unchanged.
"""

from __future__ import annotations

import asyncio
import http.client
import inspect
import logging
import os
import weakref
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any, Mapping
from urllib.parse import urlsplit
from xml.etree import ElementTree

from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ClientError
from botocore.utils import get_environ_proxies

from .payload import PartBody
from .sigv4 import UNSIGNED_PAYLOAD, Scope, canonical_query, sign
from .wire import Answer, Wire

log = logging.getLogger(__name__)

__all__ = ["PartPath", "ENVIRONMENT_SWITCH", "route"]

ENVIRONMENT_SWITCH = "MPU_TOOLKIT_PART_PATH"  #: "botocore" sends parts through botocore
_OPERATION = SimpleNamespace(name="UploadPart")  #: what the retry handler reads of it
_HEADER_OF = {"ContentMD5": "content-md5", "ChecksumCRC32": "x-amz-checksum-crc32",
              "ChecksumCRC32C": "x-amz-checksum-crc32c", "ChecksumSHA1": "x-amz-checksum-sha1",
              "ChecksumSHA256": "x-amz-checksum-sha256",
              "ChecksumCRC64NVME": "x-amz-checksum-crc64nvme"}
_ANSWER_OF = {"etag": "ETag", **{v: k for k, v in _HEADER_OF.items() if k != "ContentMD5"}}
_TAKEN = frozenset({"UploadId", "PartNumber", "Body", "ContentLength", *_HEADER_OF})
_USER_AGENT = "mpu_toolkit (part path)"
_TEMPLATES = 64  #: per client: the uploads whose request is kept prepared


class PartPath:
    """UploadPart on one aiobotocore client's endpoint and credentials."""

    def __init__(self, client: Any, retry_handler: Any) -> None:
        self._client, self._retry = client, retry_handler
        self._wires: dict[str, Wire] = {}  #: by host:port (virtual-host style: one per bucket)
        self._templates: OrderedDict[tuple[str, str], tuple[str, str, str, str]] = OrderedDict()

    @classmethod
    def of(cls, client: Any) -> PartPath | None:
        """The client's part path (made once), or None where parts must go through botocore."""
        try:
            return client._mpu_part_path
        except AttributeError:
            pass
        path = cls._make(client)
        client._mpu_part_path = path
        return path

    @classmethod
    def _make(cls, client: Any) -> PartPath | None:
        why = _botocore_reason(client)
        if why:
            log.debug("UploadPart through botocore: %s", why)
            return None
        path = cls(client, client._mpu_retry_handler)
        weakref.finalize(client, _close_all, path._wires)
        return path

    @staticmethod
    def takes(params: Mapping[str, Any]) -> bool:
        """Whether these UploadPart parameters are all ones this path sends."""
        return _TAKEN.issuperset(params)

    async def upload_part(self, bucket: str, key: str, params: Mapping[str, Any]) -> Any:
        """One UploadPart with the retry policy's tries; the answer as botocore parses it."""
        host, path, region, service = await self._template(bucket, key, params["UploadId"])
        query = canonical_query({"partNumber": str(params["PartNumber"]),
                                 "uploadId": params["UploadId"]})
        body = params["Body"]
        view = body.view if isinstance(body, PartBody) else memoryview(body).cast("B")
        digest_headers = {_HEADER_OF[k]: v for k, v in params.items() if k in _HEADER_OF}
        payload = getattr(body, "payload_sha256", None) or UNSIGNED_PAYLOAD
        url = f"http://{host}{path}?{query}"
        attempt = 0
        while True:
            attempt += 1
            frozen = await self._credentials()  # refreshed when they expire (roles, SSO)
            signer = Scope(frozen.access_key, frozen.secret_key, frozen.token, region, service)
            headers = sign("PUT", host, path, query, digest_headers, payload, signer)
            headers.update({"content-length": str(len(view)), "user-agent": _USER_AGENT})
            await self._announce(url, headers, body)
            head = (f"PUT {path}?{query} HTTP/1.1\r\n"
                    + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
            try:
                answer = await self._wire(host).exchange(head.encode("latin-1"), view, url)
            except Exception as exc:
                wait = self._retry(caught_exception=exc, attempts=attempt,
                                   operation=_OPERATION, request_dict={"url": url})
                if wait is None:
                    raise
            else:
                parsed = _parsed(answer, attempt)
                wait = self._retry(response=(SimpleNamespace(status_code=answer.status), parsed),
                                   attempts=attempt, operation=_OPERATION,
                                   request_dict={"url": url, "headers": digest_headers})
                if wait is None:
                    if answer.status >= 300:
                        raise ClientError(parsed, "UploadPart")
                    return parsed
            await asyncio.sleep(wait)

    async def _announce(self, url: str, headers: dict[str, str], body: Any) -> None:
        """botocore's ``before-send`` event, for what observes the client's requests (logging,
        tracing, tests); only botocore's own sends can be replaced by a handler's answer."""
        await self._client.meta.events.emit(
            "before-send.s3.UploadPart",
            request=AWSPreparedRequest("PUT", url, headers, body, stream_output=False))

    def _wire(self, host: str) -> Wire:
        wire = self._wires.get(host)
        if wire is None:
            config, address = self._client.meta.config, urlsplit(f"http://{host}")
            wire = self._wires[host] = Wire(
                address.hostname or "", address.port or 80, limit=config.max_pool_connections,
                connect_timeout=config.connect_timeout, read_timeout=config.read_timeout)
        return wire

    async def _credentials(self) -> Any:
        credentials = self._client._get_credentials()
        frozen = credentials.get_frozen_credentials()
        return await frozen if inspect.isawaitable(frozen) else frozen

    async def _template(self, bucket: str, key: str, upload_id: str
                        ) -> tuple[str, str, str, str]:
        """(host, URI-encoded path, region, service) of this upload's parts: the address as
        botocore's endpoint rules make it (path or virtual-host style), the client's region."""
        found = self._templates.get((bucket, key))
        if found is not None:
            self._templates.move_to_end((bucket, key))
            return found
        presigned = await self._client.generate_presigned_url(
            "upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": upload_id,
                                   "PartNumber": 1}, ExpiresIn=60)
        url = urlsplit(presigned)
        region = self._client.meta.region_name
        template = (url.netloc, url.path or "/",
                    "us-east-1" if region in (None, "aws-global") else region, "s3")
        self._templates[(bucket, key)] = template
        if len(self._templates) > _TEMPLATES:
            self._templates.popitem(last=False)
        return template


def _close_all(wires: dict[str, Wire]) -> None:
    for wire in wires.values():
        wire.close()


def route(client: Any) -> str:
    """How this client sends UploadPart, in words (``mpu doctor`` shows it): ``"part path"``,
    or ``"botocore: <why>"``."""
    why = _botocore_reason(client)
    return f"botocore: {why}" if why else "part path"


def _botocore_reason(client: Any) -> str | None:
    try:
        return _unsupported(client)
    except AttributeError as exc:  # a botocore without the private parts used here
        return f"this botocore has no {exc.name or exc}"


def _unsupported(client: Any) -> str | None:
    """Why this client's parts must go through botocore (None: they need not)."""
    config = client.meta.config
    endpoint = str(client.meta.endpoint_url or "")
    checks = (
        (os.environ.get(ENVIRONMENT_SWITCH, "").lower() == "botocore",
         f"{ENVIRONMENT_SWITCH}=botocore"),
        (not endpoint.startswith("http://"), "not a plain-HTTP endpoint"),
        (config.signature_version not in (None, "s3v4", "v4"), "not SigV4"),
        (bool(config.proxies) or bool(get_environ_proxies(endpoint)), "a proxy"),
        ((config.s3 or {}).get("payload_signing_enabled") is not False, "payload signing"),
        (getattr(config, "request_checksum_calculation", "when_required") != "when_required",
         "botocore computes checksums"),
        (getattr(client, "_mpu_retry_handler", None) is None, "no retry policy installed"),
        (client._get_credentials() is None, "anonymous"),
    )
    return next((why for failed, why in checks if failed), None)


def _parsed(answer: Answer, attempt: int) -> dict[str, Any]:
    """The answer as botocore's parser gives it: the output fields, or ``Error``."""
    headers = answer.headers
    parsed: dict[str, Any] = {}
    if answer.status >= 300:
        parsed["Error"] = _error(answer)
    else:
        parsed.update({field: headers[name] for name, field in _ANSWER_OF.items()
                       if name in headers})
    parsed["ResponseMetadata"] = {
        "RequestId": headers.get("x-amz-request-id", ""), "HostId": headers.get("x-amz-id-2", ""),
        "HTTPStatusCode": answer.status, "HTTPHeaders": headers, "RetryAttempts": attempt - 1}
    return parsed


def _error(answer: Answer) -> dict[str, str]:
    """``Code`` and ``Message`` of an error answer; without an S3 error body, the status."""
    try:
        root = ElementTree.fromstring(answer.body) if answer.body.strip() else None
    except ElementTree.ParseError:
        root = None
    children = list(root) if root is not None else []
    fields = {child.tag.rpartition("}")[2]: child.text or "" for child in children}
    if not fields.get("Code"):
        return {"Code": str(answer.status),
                "Message": http.client.responses.get(answer.status, "")}
    return {k: v for k, v in fields.items() if k not in ("RequestId", "HostId")}


