"""A fault-injecting HTTP proxy on 127.0.0.1, in front of a real S3 server.

For testing what a pipeline does when S3 misbehaves (mpu_toolkit's own fault matrix and
benchmarks use it). Requests are classified by S3 operation (from method and query string);
a rule makes the next ``times`` requests of one operation fail in a chosen way, then requests
pass through unchanged (the Host header is kept, so SigV4 signatures stay valid). A
``failure_rate`` answers that share of all requests, at random, with 503 SlowDown.

>>> with FaultProxy("http://127.0.0.1:9000", failure_rate=0.02) as proxy:   # doctest: +SKIP
...     proxy.fail("UploadPart", "reset", times=2)
...     write(storage_options={..., "endpoint_url": proxy.endpoint_url})
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from typing import Literal

import aiohttp
from aiohttp import web

#: 500 / 503 / 403 (AccessDenied): an error answer, the request is not forwarded.
#: reset-early: the connection is reset as soon as the headers arrive (the client is still
#: sending the body). reset: reset after the whole body arrived, not forwarded. stall: no
#: answer (the client times out). drop-response: forwarded and done by the server, then the
#: connection is reset (the answer is lost). 200-error: "200 OK" with an InternalError body
#: (AWS does this on Complete).
#: delay: forwarded after ``Rule.seconds`` (a slow request, e.g. to interrupt it midway).
__all__ = ["FaultProxy", "Rule", "Action", "operation_of"]

Action = Literal["500", "503", "403", "reset-early", "reset", "stall", "drop-response",
                 "200-error", "delay"]
_HOP_HEADERS = {"transfer-encoding", "connection", "keep-alive", "content-length"}


def operation_of(method: str, query: dict[str, str], copy_source: bool = False,
                 path: str = "/bucket/key") -> str:
    """The S3 operation of a request, as errors and logs name it."""
    if "lifecycle" in query:
        return {"GET": "GetBucketLifecycle", "PUT": "PutBucketLifecycle",
                "DELETE": "DeleteBucketLifecycle"}.get(method, method)
    if "uploads" in query:
        return "CreateMultipartUpload" if method == "POST" else "ListMultipartUploads"
    if copy_source and method == "PUT":
        return "UploadPartCopy" if "uploadId" in query else "CopyObject"
    if "uploadId" in query:
        return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload",
                "DELETE": "AbortMultipartUpload", "GET": "ListParts"}.get(method, method)
    if path.strip("/").count("/") == 0:  # the service or a bucket, not an object
        if method == "GET":
            return "ListBuckets" if not path.strip("/") else "ListObjects"
        return f"{method} bucket"
    return {"PUT": "PutObject", "HEAD": "HeadObject", "GET": "GetObject",
            "DELETE": "DeleteObject"}.get(method, method)


@dataclass
class Rule:
    operation: str
    action: Action
    times: int
    after: int = 0  #: requests of the operation let through before the rule applies
    seconds: float = 0.0  #: for "delay"
    path: str = ""  #: only requests whose path contains this (one key of several)


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  #: operations, in arrival order
    injected: list[str] = field(default_factory=list)
    port: int = 0
    failure_rate: float = 0.0  #: share of all requests answered 503 SlowDown, at random
    seed: int | None = None

    def fail(self, operation: str, action: Action, times: int = 1, after: int = 0,
             seconds: float = 0.0, path: str = "") -> None:
        """Make ``times`` requests of ``operation`` fail, after letting ``after`` pass;
        with ``path``, only requests whose path contains it (``"/bucket/key"``)."""
        self.rules.append(Rule(operation, action, times, after, seconds, path))

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _take_rule(self, operation: str, path: str) -> Rule | None:
        if self.failure_rate and self._random.random() < self.failure_rate:
            return Rule(operation, "503", 1)
        for rule in self.rules:
            if rule.operation == operation and rule.times > 0 and rule.path in path:
                if rule.after > 0:
                    rule.after -= 1
                    continue
                rule.times -= 1
                return rule
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        operation = operation_of(request.method, dict(request.query),
                                 "x-amz-copy-source" in request.headers, request.path)
        self.seen.append(operation)
        rule = self._take_rule(operation, request.path)
        if rule is not None:
            self.injected.append(f"{operation}:{rule.action}")
        if rule is not None and rule.action == "reset-early":
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        body = await request.read()
        if rule is not None:
            if rule.action in ("500", "503", "403"):
                code = {"500": "InternalError", "503": "SlowDown",
                        "403": "AccessDenied"}[rule.action]
                xml = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                       f"<Message>injected by the test proxy</Message></Error>")
                return web.Response(status=int(rule.action), body=xml.encode(),
                                    content_type="application/xml")
            if rule.action == "200-error":
                xml = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
                       "<Message>injected by the test proxy: 200 OK with an error body</Message>"
                       "</Error>")
                return web.Response(status=200, body=xml.encode(), content_type="application/xml")
            if rule.action == "reset":
                assert request.transport is not None
                request.transport.abort()
                raise asyncio.CancelledError
            if rule.action == "delay":
                await asyncio.sleep(rule.seconds)
            if rule.action == "stall":  # the client times out first
                task = asyncio.current_task()
                assert task is not None
                self._stalled.add(task)
                await asyncio.sleep(3600)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with self._session.request(request.method, self.upstream + request.path_qs,
                                         headers=headers, data=body,
                                         allow_redirects=False) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS}
        if rule is not None and rule.action == "drop-response":  # done, but the answer is lost
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if request.method == "HEAD":  # keep the object's size, which HEAD reports
            out["Content-Length"] = upstream.headers.get("Content-Length", "0")
            return web.Response(status=upstream.status, headers=out)
        return web.Response(status=upstream.status, body=payload, headers=out)

    def start(self) -> "FaultProxy":
        self._random = random.Random(self.seed)
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stalled: set[asyncio.Task[object]] = set()

        async def serve() -> None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
            self._runner = web.AppRunner(web.Application(handler_args={"max_field_size": 65536},
                                                         client_max_size=6 * 1024**3))
            self._runner.app.router.add_route("*", "/{tail:.*}", self._handle)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        def run() -> None:
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            for task in self._stalled:
                task.cancel()
            await self._runner.cleanup()
            await self._session.close()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
