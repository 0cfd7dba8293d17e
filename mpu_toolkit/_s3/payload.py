"""Request bodies that send a part without copying it.

Handed a ``bytes``/``bytearray`` body, aiohttp (through aiobotocore) slices it, joins it with
the headers and lets asyncio buffer what the socket has not taken: up to three extra copies
of every part in flight, which breaks the writer's memory bound. :class:`PartBody` instead
yields zero-copy ``memoryview`` chunks as an async iterable (aiohttp writes each and drains),
while still looking like a seekable file with a length to botocore (validation,
Content-Length, checksums, signing). ``payload_sha256`` carries the part's SHA-256 when
it was computed beforehand, for :mod:`.signing` to sign instead of hashing again.
"""

from __future__ import annotations

from typing import AsyncIterator

__all__ = ["PartBody"]

CHUNK = 512 * 1024


class PartBody:
    """A read-only, seekable view of one part's bytes; streams in ``CHUNK`` pieces."""

    def __init__(self, data: bytes | bytearray | memoryview,
                 payload_sha256: str | None = None) -> None:
        self._view = memoryview(data).cast("B")
        self._position = 0
        self.payload_sha256 = payload_sha256

    @property
    def view(self) -> memoryview:
        """The part's bytes (for :mod:`.wire`, which sends them without copying)."""
        return self._view

    def __len__(self) -> int:
        return len(self._view)

    def __aiter__(self) -> AsyncIterator[memoryview]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[memoryview]:
        view = self._view
        for start in range(0, len(view), CHUNK):
            yield view[start:start + CHUNK]

    # the file side, for botocore (checksums over the stream, signing if enabled)
    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else self._position + size
        chunk = self._view[self._position:end].tobytes()
        self._position += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._position, len(self._view))[whence]
        self._position = max(0, min(base + offset, len(self._view)))
        return self._position

    def tell(self) -> int:
        return self._position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True
