"""HTTP/1.1 exchanges on the event loop's non-blocking sockets: the part path's wire.

aiohttp sends a part as the chunks of its body through asyncio's transport, which (on Python
< 3.12) copies whatever the socket does not take at once into a buffer of its own and wakes
the loop for every piece. Here a part goes out with ``loop.sock_sendall`` straight from the
part's buffer: no copy, one loop wake-up per socket-buffer-full, and none of aiohttp's
per-request work. Only plain HTTP (``loop.sock_*`` do not take TLS sockets): callers keep
aiohttp for https endpoints, proxies and anything else this does not do.

Connections are kept alive and reused (a pooled one the server has closed is noticed before it
is used). A failure is raised as the botocore exception aiobotocore raises for it, so the retry
policy and the error mapping treat both paths alike: no answer to connect is
``EndpointConnectionError`` / ``ConnectTimeoutError``; a connection lost once the request
started is ``ConnectionClosedError``; an answer that does not come, or a server that stops
taking the body, within ``read_timeout`` is ``ReadTimeoutError``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import NamedTuple

from botocore.exceptions import (ConnectionClosedError, ConnectTimeoutError,
                                 EndpointConnectionError, ReadTimeoutError)

__all__ = ["Wire", "Answer"]

_SEND_SLICE = 4 * 1024 * 1024  #: the body is sent in slices of this, each within read_timeout
_RECV = 64 * 1024
_MAX_HEAD = 64 * 1024
_IDLE = 10.0  #: seconds a pooled connection is kept (servers close idle ones: aiohttp keeps 12)


class Answer(NamedTuple):
    status: int
    reason: str
    headers: dict[str, str]  #: lower-case names
    body: bytes


class _Closed(Exception):
    """The server closed the connection before the whole answer came."""


class Wire:
    """Keep-alive connections to one ``host:port``, at most ``limit`` in use at once."""

    def __init__(self, host: str, port: int, *, limit: int, connect_timeout: float | None,
                 read_timeout: float | None) -> None:
        self.host, self.port = host, port
        self._connect_timeout, self._read_timeout = connect_timeout, read_timeout
        self._limit = limit
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[tuple[socket.socket, float]] = []
        self._address: tuple[int, tuple[object, ...]] | None = None

    async def exchange(self, head: bytes, body: memoryview, url: str) -> Answer:
        """Send one request (``head``: request line and headers; then ``body``) and read the
        whole answer."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._limit)
        async with self._slots:
            sock = self._reusable() or await self._connect(url)
            try:
                await self._send(sock, head, body, url)
                answer, keep = await self._receive(sock, url)
            except BaseException:
                sock.close()
                raise
            if keep:
                self._idle.append((sock, time.monotonic()))
            else:
                sock.close()
            return answer

    def close(self) -> None:
        """Close the pooled connections (those in use close when their request ends)."""
        idle, self._idle = self._idle, []
        for sock, _ in idle:
            sock.close()

    # -- connections -----------------------------------------------------------------------
    def _reusable(self) -> socket.socket | None:
        now = time.monotonic()
        while self._idle:
            sock, since = self._idle.pop()
            if now - since < _IDLE and _open(sock):
                return sock
            sock.close()
        return None

    async def _connect(self, url: str) -> socket.socket:
        loop = asyncio.get_running_loop()
        try:
            if self._address is None:
                infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
                self._address = infos[0][0], infos[0][4]
            family, address = self._address
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            raise EndpointConnectionError(endpoint_url=url, error=exc) from exc
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await asyncio.wait_for(loop.sock_connect(sock, address), self._connect_timeout)
        except asyncio.TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(endpoint_url=url, error=exc) from exc
        except OSError as exc:
            sock.close()
            raise EndpointConnectionError(endpoint_url=url, error=exc) from exc
        except BaseException:
            sock.close()
            raise
        return sock

    # -- one exchange ----------------------------------------------------------------------
    async def _send(self, sock: socket.socket, head: bytes, body: memoryview, url: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.sock_sendall(sock, head), self._read_timeout)
            for start in range(0, len(body), _SEND_SLICE):
                await asyncio.wait_for(loop.sock_sendall(sock, body[start:start + _SEND_SLICE]),
                                       self._read_timeout)
        except asyncio.TimeoutError as exc:
            raise ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except OSError as exc:  # reset, broken pipe: the server may have read part of it
            raise ConnectionClosedError(endpoint_url=url, error=exc) from exc

    async def _receive(self, sock: socket.socket, url: str) -> tuple[Answer, bool]:
        reader = _Reader(sock, self._read_timeout)
        try:
            while True:
                status, reason, headers, version = _parse_head(await reader.head())
                if status >= 200:
                    break  # a 1xx (100 Continue, unasked for) is followed by the answer
            if status in (204, 304):
                body = b""
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                body = await reader.chunked()
            elif "content-length" in headers:
                body = await reader.exactly(int(headers["content-length"]))
            else:
                body = await reader.until_closed()
                return Answer(status, reason, headers, body), False
        except asyncio.TimeoutError as exc:
            raise ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except (OSError, _Closed, ValueError) as exc:
            raise ConnectionClosedError(endpoint_url=url, error=exc) from exc
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        return Answer(status, reason, headers, body), keep and not reader.pending


def _open(sock: socket.socket) -> bool:
    """A pooled connection still open, with nothing unread (the server closes idle ones)."""
    try:
        sock.recv(1, socket.MSG_PEEK)  # returns: bytes nobody asked for, or b"" (closed)
    except BlockingIOError:
        return True
    except OSError:
        pass
    return False


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str], str]:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return int(code), reason, headers, version


class _Reader:
    """Reads an answer from a non-blocking socket, each receive within ``timeout``."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        self._sock, self._timeout = sock, timeout
        self._buffer = bytearray()
        self._loop = asyncio.get_running_loop()

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

    async def _more(self) -> bool:
        data = await asyncio.wait_for(self._loop.sock_recv(self._sock, _RECV), self._timeout)
        self._buffer += data
        return bool(data)

    async def head(self) -> bytes:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > _MAX_HEAD or not await self._more():
                raise _Closed("no complete answer")
        head = bytes(self._buffer[:end])
        del self._buffer[:end + 4]
        return head

    async def exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not await self._more():
                raise _Closed(f"{len(self._buffer)} of {size} bytes of the answer")
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if not await self._more():
                raise _Closed("no complete chunk")
        data = bytes(self._buffer[:end])
        del self._buffer[:end + 2]
        return data

    async def chunked(self) -> bytes:
        body = bytearray()
        while size := int((await self.line()).split(b";")[0], 16):
            body += await self.exactly(size)
            await self.exactly(2)
        while await self.line():  # trailers, up to the empty line
            pass
        return bytes(body)

    async def until_closed(self) -> bytes:
        while await self._more():
            pass
        data = bytes(self._buffer)
        self._buffer.clear()
        return data
