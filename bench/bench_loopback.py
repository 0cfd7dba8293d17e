"""The physical-limit row "tcp-loopback": the cheapest way the producer's bytes reach the sink
from Python. A multipart upload made of plain HTTP/1.1 requests over kept-alive sockets:
the same fresh 1 MiB chunks, gathered into 8 MiB parts (a list of the chunks, no copy), each
part one PUT with a Content-Length whose header and chunks go out by ``socket.sendall``, on
``CONNECTIONS`` connections (a thread each, fed through a bounded queue). No signing, no
digest, no retry: only for a server that checks no signature (the sink, moto).
"""

from __future__ import annotations

import queue
import re
import socket
import threading
import urllib.parse
from typing import Any, Iterable

MiB = 1024 * 1024
PART = 8 * MiB
CONNECTIONS = 8
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


class RawConnection:
    """One kept-alive HTTP/1.1 connection to the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host = f"{host}:{port}"
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._pending = b""

    def request(self, method: str, target: str, body: Iterable[bytes] = (),
                length: int = 0) -> tuple[int, dict[str, str], bytes]:
        """Send the request (``body``: chunks of ``length`` bytes in all); return the answer's
        status, headers (lower-case names) and body."""
        self.sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n"
                          f"Content-Length: {length}\r\n\r\n".encode("latin-1"))
        for chunk in body:
            self.sock.sendall(chunk)
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in head[1:])}
        return int(head[0].split(" ")[1]), headers, self._read(
            int(headers.get("content-length", "0")))

    def _read_until(self, separator: bytes) -> bytes:
        while separator not in self._pending:
            self._recv()
        head, _, self._pending = self._pending.partition(separator)
        return head

    def _read(self, n: int) -> bytes:
        while len(self._pending) < n:
            self._recv()
        data, self._pending = self._pending[:n], self._pending[n:]
        return data

    def _recv(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self._pending += data

    def close(self) -> None:
        self.sock.close()


def prepare(spec: dict[str, Any]) -> list[RawConnection]:
    """The connections, opened before the timed window (as every client is built before it)."""
    url = urllib.parse.urlsplit(spec["endpoint"])
    if url.scheme != "http" or url.hostname is None or url.port is None:
        raise ValueError(f"tcp-loopback needs an http://host:port endpoint, not "
                         f"{spec['endpoint']}")
    return [RawConnection(url.hostname, url.port) for _ in range(CONNECTIONS)]


def _checked(answer: tuple[int, dict[str, str], bytes], what: str) -> tuple[dict[str, str],
                                                                             bytes]:
    status, headers, body = answer
    if status != 200:
        raise RuntimeError(f"{what}: HTTP {status}: {body[:300]!r}")
    return headers, body


def run(connections: list[RawConnection], spec: dict[str, Any], producer: Any) -> dict[str, Any]:
    """Create, every part on the connections' threads, Complete: the timed window."""
    path = "/" + urllib.parse.quote(f"{spec['bucket']}/{spec['object_key']}")
    _, body = _checked(connections[0].request("POST", path + "?uploads"), "Create")
    found = _UPLOAD_ID.search(body)
    if found is None:
        raise RuntimeError(f"Create answered no UploadId: {body[:300]!r}")
    upload_id = found.group(1).decode()
    parts: "queue.Queue[tuple[int, list[bytes]] | None]" = queue.Queue(len(connections))
    etags: dict[int, str] = {}
    errors: list[BaseException] = []

    def send(conn: RawConnection) -> None:
        while (item := parts.get()) is not None:
            number, chunks = item
            if errors:
                continue  # drain, so the producer never blocks on a dead sender
            try:
                headers, _ = _checked(conn.request(
                    "PUT", f"{path}?partNumber={number}&uploadId={upload_id}", chunks,
                    sum(len(c) for c in chunks)), f"UploadPart {number}")
                etags[number] = headers["etag"]
            except BaseException as exc:  # noqa: BLE001 - reported after the join
                errors.append(exc)

    senders = [threading.Thread(target=send, args=(c,), daemon=True) for c in connections]
    for t in senders:
        t.start()
    number, chunks, have = 0, [], 0
    for chunk in producer.chunks():
        chunks.append(chunk)
        have += len(chunk)
        if have >= PART:
            number += 1
            parts.put((number, chunks))
            chunks, have = [], 0
    if chunks or not number:
        number += 1
        parts.put((number, chunks))
    for _ in senders:
        parts.put(None)
    for t in senders:
        t.join()
    if errors:
        raise errors[0]
    listed = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>"
                     for n in sorted(etags)).encode()
    complete = b"<CompleteMultipartUpload>" + listed + b"</CompleteMultipartUpload>"
    _checked(connections[0].request("POST", f"{path}?uploadId={upload_id}", [complete],
                                    len(complete)), "Complete")
    return {"part_size": PART, "concurrency": len(connections), "parts": number,
            "checksum": "none (raw sockets, unsigned)"}


def finish(connections: list[RawConnection]) -> None:
    for conn in connections:
        conn.close()
