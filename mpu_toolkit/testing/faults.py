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
from dataclasses import dataclass, field
from typing import Literal, NoReturn

from aiohttp import web

from .proxy_server import ProxyServer, operation_of

#: 500 / 503 / 403 (AccessDenied): an error answer, the request is not forwarded.
#: reset-early: the connection is reset as soon as the headers arrive (the client is still
#: sending the body). reset: reset after the whole body arrived, not forwarded. stall: no
#: answer (the client times out).
#: drop-response: forwarded and done by the server, then the connection is reset (the answer
#: is lost). 200-error: "200 OK" with an InternalError body (AWS does this on Complete).
#: delay: forwarded after ``Rule.seconds`` (a slow request, e.g. to interrupt it midway).
__all__ = ["FaultProxy", "Rule", "Action", "operation_of"]

Action = Literal["500", "503", "403", "reset-early", "reset", "stall", "drop-response",
                 "200-error", "delay"]


@dataclass
class Rule:
    operation: str
    action: Action
    times: int
    after: int = 0  #: requests of the operation let through before the rule applies
    seconds: float = 0.0  #: for "delay"
    path: str = ""  #: only requests whose path contains this (one key of several)


@dataclass
class FaultProxy(ProxyServer):
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
            self._reset(request)
        body = await request.read()
        if rule is not None:
            if rule.action in ("500", "503", "403"):
                code = {"500": "InternalError", "503": "SlowDown",
                        "403": "AccessDenied"}[rule.action]
                return self._error(int(rule.action), code, "injected by the test proxy")
            if rule.action == "200-error":
                return self._error(200, "InternalError",
                                   "injected by the test proxy: 200 OK with an error body")
            if rule.action == "reset":
                self._reset(request)
            if rule.action == "delay":
                await self._park(rule.seconds)
            if rule.action == "stall":  # the client times out first
                await self._park()
        forwarded = await self._forward(request, body)
        if rule is not None and rule.action == "drop-response":  # done, but the answer is lost
            self._reset(request)
        return self._answer(request, forwarded)

    @staticmethod
    def _reset(request: web.Request) -> NoReturn:
        assert request.transport is not None
        request.transport.abort()
        raise asyncio.CancelledError

    def start(self) -> "FaultProxy":
        self._random = random.Random(self.seed)
        return super().start()
