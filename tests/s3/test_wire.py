"""The part path's HTTP/1.1 wire against scripted servers on 127.0.0.1: what it sends, how it
reads every shape of answer, when it reuses a connection, and which botocore exception each
failure becomes (the ones aiobotocore raises, so retries and errors treat both paths alike).
The S3 paths themselves run against moto and Ceph RGW (the fault matrix, the engine tests)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from typing import Callable

import pytest
from botocore.exceptions import (ConnectionClosedError, EndpointConnectionError,
                                 ReadTimeoutError)

from mpu_toolkit._s3.wire import Wire

BODY = os.urandom(5 * 1024 * 1024 + 7)
OK = b"HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\n\r\n"


def read_request(conn: socket.socket) -> bytes:
    """One request (head + Content-Length body) from ``conn``; b"" at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        rest += conn.recv(1 << 20)
    return head + b"\r\n\r\n" + rest


class Scripted:
    """A server on 127.0.0.1 whose every connection runs ``script(conn, received)``."""

    def __init__(self, script: Callable[[socket.socket, list[bytes]], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self.connections = 0
        threading.Thread(target=self._serve, args=(script,), daemon=True).start()

    def _serve(self, script) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(script, conn), daemon=True).start()

    def _one(self, script, conn) -> None:
        with conn:
            script(conn, self.received)

    def close(self) -> None:
        self.listener.close()


def exchange(wire: Wire, n: int = 1) -> list:
    async def go():
        head = (f"PUT /b/k?partNumber=1 HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(BODY)}\r\n\r\n").encode()
        return [await wire.exchange(head, memoryview(BODY), "http://x/b/k") for _ in range(n)]
    return asyncio.run(go())


def wire_to(server: Scripted, read_timeout: float = 5) -> Wire:
    return Wire("127.0.0.1", server.port, limit=4, connect_timeout=2, read_timeout=read_timeout)


def keep_alive(answer: bytes) -> Callable:
    def script(conn, received):
        while request := read_request(conn):
            received.append(request)
            conn.sendall(answer)
    return script


def test_sends_the_body_byte_exact_and_reuses_the_connection():
    server = Scripted(keep_alive(OK))
    answers = exchange(wire_to(server), 3)
    assert [a.status for a in answers] == [200] * 3 and answers[0].headers["etag"] == '"e"'
    assert all(r.endswith(b"\r\n\r\n" + BODY) for r in server.received)
    assert server.connections == 1


@pytest.mark.parametrize("answer, body", [
    (b"HTTP/1.1 503 Slow Down\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\n<Erro\r\n3;x=y\r\nr/>\r\n0\r\nTrailer: t\r\n\r\n", b"<Error/>"),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", b"hi"),
])
def test_reads_chunked_and_interim_answers(answer, body):
    server = Scripted(keep_alive(answer))
    [got] = exchange(wire_to(server))
    assert got.body == body and got.status in (503, 200)


def test_an_answer_that_ends_with_the_connection_is_read_whole_and_not_reused():
    def script(conn, received):
        received.append(read_request(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
    server = Scripted(script)
    answers = exchange(wire_to(server), 2)
    assert [a.body for a in answers] == [b"all of it"] * 2 and server.connections == 2


def test_a_connection_the_server_closed_while_idle_is_not_used_again():
    def script(conn, received):
        received.append(read_request(conn))
        conn.sendall(OK)  # keep-alive promised, then closed: servers drop idle connections
    server = Scripted(script)

    async def go():
        wire = wire_to(server)
        head = f"PUT / HTTP/1.1\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
        first = await wire.exchange(head, memoryview(BODY), "u")
        await asyncio.sleep(0.2)
        return first, await wire.exchange(head, memoryview(BODY), "u")
    assert [a.status for a in asyncio.run(go())] == [200, 200]
    assert server.connections == 2


def test_a_reset_while_sending_is_a_closed_connection():
    def script(conn, received):
        conn.recv(1024)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with pytest.raises(ConnectionClosedError):
        exchange(wire_to(Scripted(script)))


def test_a_connection_closed_before_the_answer_is_a_closed_connection():
    def script(conn, received):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
    with pytest.raises(ConnectionClosedError):
        exchange(wire_to(Scripted(script)))


def test_no_answer_within_read_timeout_is_a_read_timeout():
    done = threading.Event()

    def script(conn, received):
        read_request(conn)
        done.wait(10)
    with pytest.raises(ReadTimeoutError):
        exchange(wire_to(Scripted(script), read_timeout=0.5))
    done.set()


def test_a_server_that_stops_reading_is_a_read_timeout():
    done = threading.Event()

    def script(conn, received):
        done.wait(10)  # reads nothing: the socket buffers fill
    with pytest.raises(ReadTimeoutError):
        exchange(wire_to(Scripted(script), read_timeout=0.5))
    done.set()


def test_nothing_listening_is_an_endpoint_connection_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wire = Wire("127.0.0.1", port, limit=1, connect_timeout=2, read_timeout=2)
    with pytest.raises(EndpointConnectionError):
        exchange(wire)


def test_a_cancelled_exchange_closes_its_connection():
    release = threading.Event()

    def script(conn, received):
        read_request(conn)
        release.wait(10)
    server = Scripted(script)

    async def go():
        wire = wire_to(server)
        head = f"PUT / HTTP/1.1\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
        task = asyncio.ensure_future(wire.exchange(head, memoryview(BODY), "u"))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return wire
    wire = asyncio.run(go())
    release.set()
    assert wire._idle == []  # nothing half-read is ever pooled
