"""An HTTP proxy on 127.0.0.1 in front of a real S3 server, on a thread of its own.

The machinery the test proxies share (:class:`~.faults.FaultProxy`, which makes requests fail,
and :class:`~.quirks.QuirkProxy`, which makes a server behave like another store): a subclass
answers each request in :meth:`ProxyServer._handle`, usually by :meth:`ProxyServer._forward`
to the upstream server and :meth:`ProxyServer._answer` with what came back. The Host header
is forwarded as the client sent it, so SigV4 signatures stay valid.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import Mapping, TypeVar

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

__all__ = ["ProxyServer", "Forwarded", "HOP_HEADERS", "operation_of"]

#: headers of one connection, never forwarded (aiohttp sets its own)
HOP_HEADERS = frozenset({"transfer-encoding", "connection", "keep-alive", "content-length"})
_P = TypeVar("_P", bound="ProxyServer")


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


class Forwarded:
    """The upstream server's answer: status, headers (without hop-by-hop ones), body."""

    def __init__(self, status: int, headers: CIMultiDict[str], payload: bytes) -> None:
        self.status, self.headers, self.payload = status, headers, payload


_START_TIMEOUT = 120  #: seconds to wait for the proxy's socket


class ProxyServer:
    """Serves :meth:`_handle` on ``127.0.0.1:port`` (``port`` 0: a free one) until
    :meth:`stop`; a context manager. Subclasses set ``upstream`` and ``port``, and may set
    ``ssl_context`` to serve HTTPS (clients then send what they send only over TLS, such as
    botocore's aws-chunked checksum trailers)."""

    upstream: str
    port: int
    ssl_context: ssl.SSLContext | None = None

    def __enter__(self: _P) -> _P:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    async def _forward(self, request: web.Request, body: bytes,
                       headers: Mapping[str, str] | None = None) -> Forwarded:
        """``request`` sent on to the upstream server with ``body`` and ``headers`` (default:
        the client's, without hop-by-hop ones)."""
        if headers is None:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        return await self._send(request.method, request.path_qs, headers, body)

    async def _send(self, method: str, path_qs: str, headers: Mapping[str, str],
                    body: bytes) -> Forwarded:
        """One request to the upstream server."""
        async with self._session.request(method, self.upstream + path_qs, headers=headers,
                                         data=body, allow_redirects=False) as upstream:
            payload = await upstream.read()
            out = CIMultiDict((k, v) for k, v in upstream.headers.items()
                              if k.lower() not in HOP_HEADERS)
            if method == "HEAD":  # keep the object's size, which HEAD reports
                out["Content-Length"] = upstream.headers.get("Content-Length", "0")
            return Forwarded(upstream.status, out, payload)

    @staticmethod
    def _answer(request: web.Request, forwarded: Forwarded) -> web.Response:
        """The client's answer: what the upstream server said."""
        if request.method == "HEAD":
            return web.Response(status=forwarded.status, headers=forwarded.headers)
        return web.Response(status=forwarded.status, body=forwarded.payload,
                            headers=forwarded.headers)

    @staticmethod
    def _error(status: int, code: str, message: str) -> web.Response:
        """An S3 error answer, made by the proxy."""
        xml = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
               f"<Message>{message}</Message></Error>")
        return web.Response(status=status, body=xml.encode(), content_type="application/xml")

    async def _park(self, seconds: float = 3600) -> None:
        """Wait ``seconds`` or until the proxy stops, whichever comes first (a slow request, or
        one never answered): stopping the proxy never waits for a parked request."""
        task = asyncio.current_task()
        assert task is not None
        self._parked.add(task)
        try:
            await asyncio.sleep(seconds)
        finally:
            self._parked.discard(task)

    def start(self: _P) -> _P:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._parked: set[asyncio.Task[object]] = set()

        async def serve() -> None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
            self._runner = web.AppRunner(web.Application(handler_args={"max_field_size": 65536},
                                                         client_max_size=6 * 1024**3))
            self._runner.app.router.add_route("*", "/{tail:.*}", self._handle)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", self.port,
                               ssl_context=self.ssl_context)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        def run() -> None:
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        # never return unready: the endpoint would name no port yet (a loaded machine once
        # took longer than 10 s, and the client was sent to port 0)
        if not ready.wait(_START_TIMEOUT):
            raise RuntimeError(f"{type(self).__name__} did not start listening within "
                               f"{_START_TIMEOUT} s; is the machine overloaded?")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            for task in list(self._parked):
                task.cancel()
            await self._runner.cleanup()
            await self._session.close()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
