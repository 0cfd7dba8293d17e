"""An instrumented UploadSink for the streaming writer's tests (no S3), and helpers.

Modelled on Rust object_store's ``WriteMultipart`` tests: the fake records every call and
copies every byte it is given, can hold parts in flight behind a gate, can fail a chosen
part, and tracks how many parts were in flight at once.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Sequence

from mpu_toolkit._engine.writer import MultipartWriter
from mpu_toolkit._plan.integrity import (ChecksumMode, PartDigest, RunningDigest,
                                        multipart_etag, running_digest)
from mpu_toolkit._plan.sizing import FixedPartSizer, PartLimits
from mpu_toolkit.model import ObjectInfo, PartInfo

URL = "s3://bucket/key.bin"
LIMITS = PartLimits(min_part=1, max_part=1 << 20, max_parts=50, max_object=50 << 20)
PART = 10
GATE_TIMEOUT = 10.0


class FakeSink:
    """An instrumented UploadSink.

    * ``threaded`` — parts run on a thread pool (else they finish inside ``submit_part``);
    * ``gate`` — a threading.Event each part waits for (set = open);
    * ``fail`` — part number → exception that part raises;
    * ``checksum`` — an integrity mode whose running digest the writer feeds (CRC modes);
    * records: ``calls`` (every call in order), ``received`` (bytes of each part, copied when
      the part runs), ``submitted`` (numbers in submission order), ``completed``, ``puts``,
      ``aborts``, ``digests`` (what the writer computed for each part, or None);
      ``max_in_flight`` counts from submit_part until the part's result is set.
    """

    def __init__(self, *, threaded: bool = False, workers: int = 16,
                 fail: dict[int, BaseException] | None = None, gate_open: bool = True,
                 upload_id: str | None = "fake-upload-1",
                 complete_error: BaseException | None = None,
                 put_error: BaseException | None = None,
                 abort_error: BaseException | None = None,
                 checksum: ChecksumMode = ChecksumMode.NONE) -> None:
        self._lock = threading.Lock()
        self.checksum = checksum
        self.digests: dict[int, PartDigest | None] = {}
        self._upload_id = upload_id
        self.fail = dict(fail or {})
        self.complete_error, self.put_error, self.abort_error = (complete_error, put_error,
                                                                 abort_error)
        self.gate = threading.Event()
        if gate_open:
            self.gate.set()
        self.executor = ThreadPoolExecutor(workers) if threaded else None
        self.calls: list[tuple[Any, ...]] = []
        self.submitted: list[int] = []
        self.received: dict[int, bytes] = {}
        self.submit_types: list[type] = []
        self.completed: list[list[PartInfo]] = []
        self.puts: list[bytes] = []
        self.aborts: list[bool] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.published: ObjectInfo | None = None

    # -- the UploadSink interface --------------------------------------------------------
    @property
    def upload_id(self) -> str | None:
        return self._upload_id

    def running_digest(self) -> RunningDigest | None:
        return running_digest(self.checksum)

    def submit_part(self, number: int, data: bytearray,
                    digest: PartDigest | None = None) -> "Future[PartInfo]":
        with self._lock:
            self.calls.append(("submit_part", number, len(data)))
            self.digests[number] = digest
            self.submitted.append(number)
            self.submit_types.append(type(data))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.executor is not None:
            return self.executor.submit(self._run_part, number, data)
        future: Future[PartInfo] = Future()
        try:
            future.set_result(self._run_part(number, data))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def complete(self, parts: Sequence[PartInfo]) -> ObjectInfo:
        with self._lock:
            self.calls.append(("complete", [p.number for p in parts]))
            self.completed.append(list(parts))
        if self.complete_error is not None:
            raise self.complete_error
        md5s = [hashlib.md5(self.received[p.number]).digest() for p in parts]
        return ObjectInfo("bucket", "key.bin", multipart_etag(md5s), sum(p.size for p in parts))

    def put_object(self, data: bytearray) -> ObjectInfo:
        payload = bytes(data)
        with self._lock:
            self.calls.append(("put_object", len(payload)))
            self.puts.append(payload)
        if self.put_error is not None:
            raise self.put_error
        return ObjectInfo("bucket", "key.bin", hashlib.md5(payload).hexdigest(), len(payload))

    def abort(self, keep_parts: bool = False) -> str:
        with self._lock:
            self.calls.append(("abort", keep_parts))
            self.aborts.append(keep_parts)
        if self.abort_error is not None:
            raise self.abort_error
        if keep_parts:
            return f"{URL}: incomplete upload kept for resuming: upload_id={self._upload_id}"
        return f"{URL}: upload {self._upload_id} aborted, nothing published"

    # -- internals -------------------------------------------------------------------------
    def _run_part(self, number: int, data: bytearray) -> PartInfo:
        try:
            if not self.gate.wait(GATE_TIMEOUT):
                raise RuntimeError("test gate never opened")
            payload = bytes(data)  # copied when "uploaded": catches a reused buffer
            with self._lock:
                self.received[number] = payload
            if number in self.fail:
                raise self.fail[number]
            return PartInfo(number, len(payload), f'"{hashlib.md5(payload).hexdigest()}"')
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.gate.set()
        if self.executor is not None:
            self.executor.shutdown(wait=True)

    # -- helpers for assertions ------------------------------------------------------------
    def names(self) -> list[str]:
        return [c[0] for c in self.calls]



def make_writer(sink: FakeSink, sizer: Any = None, **kw: Any) -> MultipartWriter:
    return MultipartWriter(sink, sizer or FixedPartSizer(PART, LIMITS), url=URL, **kw)


def payload(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def expected_parts(data: bytes, sizer: Any) -> list[bytes]:
    """Independent model of the chunking: part n holds sizer.part_size(n) bytes."""
    parts, pos, number = [], 0, 1
    while pos < len(data):
        size = sizer.part_size(number)
        parts.append(data[pos:pos + size])
        pos += size
        number += 1
    return parts


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


