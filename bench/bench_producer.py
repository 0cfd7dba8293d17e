"""What every benchmarked writer uploads: fresh 1 MiB ``bytes`` from a pool of random
buffers (:class:`Producer`), or the same as a non-seekable stream (:class:`ProducerStream`,
for APIs that read a file object). Used by bench_worker.py (the measured process) and
bench_writers.py (the writers), which import it and not each other.
"""

from __future__ import annotations

MiB = 1024 * 1024
CHUNK = MiB
POOL = 4  # distinct random 1 MiB buffers; every write gets a fresh copy of one of them


class Producer:
    """``size`` bytes as fresh 1 MiB ``bytes`` objects (a new object per write, so no client
    can keep a reference to a buffer it was given earlier; the copy costs the same for all)."""

    def __init__(self, size: int, seed: int = 1234) -> None:
        import random

        rnd = random.Random(seed)
        self.pool = [bytearray(rnd.randbytes(CHUNK)) for _ in range(POOL)]
        self.size = size

    def chunks(self):
        left, i = self.size, 0
        while left > 0:
            n = min(CHUNK, left)
            src = self.pool[i % POOL]
            yield bytes(src) if n == CHUNK else bytes(src[:n])  # bytes(bytearray) copies
            left -= n
            i += 1


class ProducerStream:
    """A non-seekable raw stream whose read(n) pulls from the producer (like a pipe behind
    ``io.BufferedReader``: read(n) returns n bytes unless at EOF). For boto3 upload_fileobj."""

    def __init__(self, producer: Producer) -> None:
        self._it = producer.chunks()
        self._rest = b""
        self.closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        pieces, have = [], 0
        if self._rest:
            pieces.append(self._rest)
            have = len(self._rest)
            self._rest = b""
        while n < 0 or have < n:
            chunk = next(self._it, None)
            if chunk is None:
                break
            pieces.append(chunk)
            have += len(chunk)
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if 0 <= n < len(data):
            data, self._rest = data[:n], data[n:]
        return data

    def close(self) -> None:
        self.closed = True
