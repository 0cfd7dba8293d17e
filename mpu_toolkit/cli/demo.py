"""The main job, end to end: ``mpu demo``.

Streams bytes of unknown length and a DataFrame through ``mpu://``, reads them back, shows that
a failing producer leaves nothing behind, and reports what it did. By default on an embedded
S3 server (moto on 127.0.0.1, started and stopped here). With ``--endpoint-url`` or
``--provider`` on your store: in a unique prefix of ``--bucket`` (or in a bucket it creates and
then removes), and everything it wrote is deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
import time
import uuid
from typing import Any, Callable, Iterator, TextIO

import fsspec
import numpy as np
import pandas as pd

from .. import inventory
from .._plan.sizing import MiB, counted, format_size, parse_size
from ..errors import ConfigurationError
from ..fs import MPUFileSystem
from ..testing.local import LocalS3
from .commands import EXIT_FAILED, EXIT_OK, storage_options
from .parser import Adder

__all__ = ["run_demo", "register"]

EMBEDDED_BUCKET = "mpu-demo"


def register(add: Adder) -> None:
    cmd = add("demo", "stream bytes and a DataFrame through mpu:// (embedded local S3)",
              cmd_demo, description=(
                  "Stream bytes and a DataFrame through mpu://, read them back, and show that "
                  "a failing producer leaves nothing. By default on an embedded local S3 "
                  "(moto on 127.0.0.1); with --endpoint-url or --provider on your store, in a "
                  "unique prefix of --bucket or in a bucket it creates, deleting all it "
                  "wrote."),
              endpoint_help="your S3 endpoint to run the demo on (default: an embedded local "
                            "S3, started and stopped for the demo)")
    cmd.add_argument("--size", default="64MiB", help="bytes to stream (default 64MiB)")
    cmd.add_argument("--bucket", metavar="NAME",
                     help="with --endpoint-url: an existing bucket to write in (under a unique "
                          "prefix); default: a new bucket, removed at the end")


def cmd_demo(args: argparse.Namespace) -> int:
    own_store = args.endpoint_url or args.provider
    if args.bucket and not own_store:
        raise ConfigurationError("--bucket is for --endpoint-url or --provider: the embedded "
                                 f"server has its own bucket ({EMBEDDED_BUCKET})")
    report = run_demo(size=parse_size(args.size, "--size"),
                      storage_options=storage_options(args) if own_store else None,
                      bucket=args.bucket, out=sys.stderr if args.json else sys.stdout,
                      progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return EXIT_OK if report["ok"] else EXIT_FAILED


def _generated_stream(total: int, chunk: int = MiB) -> Iterator[bytes]:
    """Pseudo-random bytes of a length the writer is not told."""
    rng = np.random.default_rng(7)
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        sent += n


@contextlib.contextmanager
def _place(storage_options: dict[str, Any] | None, bucket: str | None,
           say: Callable[[str], None]) -> Iterator[tuple[dict[str, Any], MPUFileSystem, str]]:
    """(storage options, filesystem, ``bucket/prefix``) to write in; cleaned up afterwards."""
    if not storage_options:
        with LocalS3() as local:
            say(f"embedded S3 endpoint (moto) started at {local.endpoint_url}")
            fs = MPUFileSystem(**local.storage_options, skip_instance_cache=True)
            fs.mkdir(EMBEDDED_BUCKET)
            yield local.storage_options, fs, EMBEDDED_BUCKET
        return
    fs = MPUFileSystem(**storage_options, skip_instance_cache=True)
    token = uuid.uuid4().hex[:10]
    created = bucket is None
    if created:
        bucket = f"mpu-demo-{token}"
        fs.mkdir(bucket)
    elif not fs.exists(bucket):
        raise ConfigurationError(f"--bucket {bucket}: no such bucket at {fs.endpoint_url} — "
                                 "create it, or leave --bucket out for a temporary one")
    place = f"{bucket}/mpu-demo-{token}" if not created else str(bucket)
    say(f"endpoint: {fs.endpoint_url or 'botocore default'}; writing in mpu://{place}/ "
        "(deleted at the end)")
    try:
        yield storage_options, fs, place
    finally:
        for path in fs.find(place, refresh=True):
            fs.rm_file(path)
        if created:
            fs.rmdir(str(bucket))


def run_demo(size: int = 64 * MiB, storage_options: dict[str, Any] | None = None,
             bucket: str | None = None, out: TextIO | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Run the demo; print a report to ``out`` and return its figures."""
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    report: dict[str, Any] = {}
    with _place(storage_options, bucket, say) as (so, fs, place):
        say(f"\n1. streaming {format_size(size)} of unknown length to mpu://{place}/stream.bin")
        digest, started = hashlib.md5(), time.perf_counter()
        with fsspec.open(f"mpu://{place}/stream.bin", "wb", progress=progress, **so) as f:
            for chunk in _generated_stream(size):
                digest.update(chunk)
                f.write(chunk)
        seconds = time.perf_counter() - started
        back = hashlib.md5(fs.cat(f"{place}/stream.bin")).hexdigest()
        report["stream"] = {"bytes": f.bytes_written, "parts": len(f.parts),
                            "seconds": seconds, "etag": f.result.etag,
                            "read_back_matches": back == digest.hexdigest()}
        how = (f"{counted(len(f.parts), 'part')} of {format_size(f.parts[0].size)}, up to "
               f"{fs.write_options.concurrency} in flight," if f.parts
               else "smaller than one part: a single PUT,")
        say(f"   {how} in {seconds:.2f} s ({size / seconds / 1e6:.0f} MB/s); "
            f"ETag {f.result.etag}")
        say(f"   read back, MD5 {'matches' if report['stream']['read_back_matches'] else 'DIFFERS'}")

        say(f"\n2. DataFrame → df.to_parquet('mpu://{place}/frame.parquet', storage_options=...)")
        rows = 200_000
        df = pd.DataFrame({
            "id": np.arange(rows, dtype="int64"),
            "value": np.random.default_rng(1).normal(size=rows),
            "label": pd.Series(np.where(np.arange(rows) % 3, "even", "odd"), dtype="string"),
            "at": pd.date_range("2026-01-01", periods=rows, freq="s", tz="UTC"),
        })
        df.to_parquet(f"mpu://{place}/frame.parquet", storage_options=so)
        same = pd.read_parquet(f"mpu://{place}/frame.parquet", storage_options=so).equals(df)
        report["frame"] = {"rows": rows, "bytes": fs.size(f"{place}/frame.parquet"),
                           "round_trip_equal": same}
        say(f"   {rows:,} rows, {format_size(report['frame']['bytes'])} of Parquet; "
            f"pd.read_parquet gives {'the same frame' if same else 'A DIFFERENT FRAME'}")

        say("\n3. a producer that fails half-way (exception inside `with`)")
        failed = f"{place}/failed.bin"
        try:
            with fsspec.open(f"mpu://{failed}", "wb", part_size="5MiB", **so) as f:
                for i, chunk in enumerate(_generated_stream(32 * MiB)):
                    f.write(chunk)
                    if i == 20:
                        raise RuntimeError("source database went away")
        except RuntimeError as exc:
            say(f"   the producer raised: {exc}")
        listed = inventory.list_uploads(f"mpu://{failed}", fs=fs, sizes=False)
        left = listed[listed["key"] == failed.split("/", 1)[1]]
        report["failure"] = {"object_exists": fs.exists(failed),
                             "incomplete_uploads": len(left), "state": f.state}
        say(f"   writer state: {f.state}; object published: "
            f"{'YES (bug!)' if report['failure']['object_exists'] else 'no'}; "
            f"incomplete uploads left: {len(left)}")
        ok = (report["stream"]["read_back_matches"] and same
              and not report["failure"]["object_exists"] and left.empty)
        report["ok"] = ok
        say("\n" + ("demo finished: all checks passed" if ok else "demo finished: CHECKS FAILED"))
    return report
