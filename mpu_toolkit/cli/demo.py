"""The main job, end to end on a local S3 endpoint: ``mpu demo``.

Starts an embedded S3 server (moto on 127.0.0.1) unless an endpoint is given, streams bytes of
unknown length and a DataFrame through ``mpu://``, reads them back, shows that a failing
producer leaves nothing behind, and reports what it did.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from typing import Any, Callable, Iterator, TextIO

import fsspec
import numpy as np
import pandas as pd

from .. import inventory
from ..fs import MPUFileSystem
from ..testing.local import LocalS3
from .._plan.sizing import MiB, format_size

__all__ = ["run_demo"]

BUCKET = "mpu-demo"


def _generated_stream(total: int, chunk: int = MiB) -> Iterator[bytes]:
    """Pseudo-random bytes of a length the writer is not told."""
    rng = np.random.default_rng(7)
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        sent += n


@contextlib.contextmanager
def _endpoint(storage_options: dict[str, Any] | None,
              say: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    if storage_options:
        say(f"endpoint: {storage_options['endpoint_url']}")
        yield storage_options
        return
    with LocalS3() as local:
        say(f"embedded S3 endpoint (moto) started at {local.endpoint_url}")
        yield local.storage_options


def run_demo(size: int = 64 * MiB, storage_options: dict[str, Any] | None = None,
             out: TextIO | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the demo; print a report to ``out`` and return its figures."""
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    report: dict[str, Any] = {}
    with _endpoint(storage_options, say) as so:
        fs = MPUFileSystem(**so, skip_instance_cache=True)
        if not fs.exists(BUCKET):
            fs.mkdir(BUCKET)

        say(f"\n1. streaming {format_size(size)} of unknown length to mpu://{BUCKET}/stream.bin")
        digest, started = hashlib.md5(), time.perf_counter()
        with fsspec.open(f"mpu://{BUCKET}/stream.bin", "wb", progress=progress, **so) as f:
            for chunk in _generated_stream(size):
                digest.update(chunk)
                f.write(chunk)
        seconds = time.perf_counter() - started
        back = hashlib.md5(fs.cat(f"{BUCKET}/stream.bin")).hexdigest()
        report["stream"] = {"bytes": f.bytes_written, "parts": len(f.parts),
                            "seconds": seconds, "etag": f.result.etag,
                            "read_back_matches": back == digest.hexdigest()}
        how = (f"{len(f.parts)} parts of {format_size(f.parts[0].size)}, up to "
               f"{fs.write_options.concurrency} in flight," if f.parts
               else "smaller than one part: a single PUT,")
        say(f"   {how} in {seconds:.2f}s ({size / seconds / 1e6:.0f} MB/s); "
            f"ETag {f.result.etag}")
        say(f"   read back, MD5 {'matches' if report['stream']['read_back_matches'] else 'DIFFERS'}")

        say(f"\n2. DataFrame → df.to_parquet('mpu://{BUCKET}/frame.parquet', storage_options=...)")
        rows = 200_000
        df = pd.DataFrame({
            "id": np.arange(rows, dtype="int64"),
            "value": np.random.default_rng(1).normal(size=rows),
            "label": pd.Series(np.where(np.arange(rows) % 3, "even", "odd"), dtype="string"),
            "at": pd.date_range("2026-01-01", periods=rows, freq="s", tz="UTC"),
        })
        df.to_parquet(f"mpu://{BUCKET}/frame.parquet", storage_options=so)
        same = pd.read_parquet(f"mpu://{BUCKET}/frame.parquet", storage_options=so).equals(df)
        report["frame"] = {"rows": rows, "bytes": fs.size(f"{BUCKET}/frame.parquet"),
                           "round_trip_equal": same}
        say(f"   {rows:,} rows, {format_size(report['frame']['bytes'])} of Parquet; "
            f"pd.read_parquet gives {'the same frame' if same else 'A DIFFERENT FRAME'}")

        say("\n3. a producer that fails half-way (exception inside `with`)")
        try:
            with fsspec.open(f"mpu://{BUCKET}/failed.bin", "wb", part_size="5MiB", **so) as f:
                for i, chunk in enumerate(_generated_stream(32 * MiB)):
                    f.write(chunk)
                    if i == 20:
                        raise RuntimeError("source database went away")
        except RuntimeError as exc:
            say(f"   the producer raised: {exc}")
        listed = inventory.list_uploads(f"mpu://{BUCKET}/failed.bin", fs=fs, sizes=False)
        left = listed[listed["key"] == "failed.bin"]
        report["failure"] = {"object_exists": fs.exists(f"{BUCKET}/failed.bin"),
                             "incomplete_uploads": len(left), "state": f.state}
        say(f"   writer state: {f.state}; object published: "
            f"{'YES (bug!)' if report['failure']['object_exists'] else 'no'}; "
            f"incomplete uploads left: {len(left)}")
        ok = (report["stream"]["read_back_matches"] and same
              and not report["failure"]["object_exists"] and left.empty)
        report["ok"] = ok
        say("\n" + ("demo finished: all checks passed" if ok else "demo finished: CHECKS FAILED"))
    return report
