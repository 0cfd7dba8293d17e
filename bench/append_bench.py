"""Append benchmark: ``mpu://`` mode ``"ab"`` against s3fs's ``"ab"`` and read-modify-write.

    python bench/append_bench.py [--endpoint URL --key K --secret S] [--size 256MiB]
        [--tail 1MiB] [--repeats 3] [--json out.json]

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server is started. Each repetition
writes a fresh object of --size random bytes (not timed), then times appending --tail bytes to
it, the methods interleaved:

* ``mpu``: ``MPUFileSystem.open(path, "ab")``: one multipart upload whose first parts are
  UploadPartCopy ranges of the object (64 MiB, concurrent, pinned to its ETag), then the tail;
  checked against replacement before Complete;
* ``s3fs``: ``S3FileSystem.open(path, "ab")``: s3fs's append (UploadPartCopy of the object, one
  request per 5 GiB, serial, not pinned), then the tail;
* ``rmw``: read-modify-write with s3fs: ``cat`` the object, ``pipe`` object + tail.

Every result is checked: size, and the last 2 MiB (the join and the tail) byte-exact.
Wall seconds and client CPU seconds (``time.process_time``) are medians over repetitions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import add_server_args, parse_size  # noqa: E402
from bench_common import environment as common_environment  # noqa: E402
from bench_report import fmt_size, save_report, text_table  # noqa: E402
from bench_writers import _s3fs_prepare, _storage_options  # noqa: E402
from stream_bench import Server  # noqa: E402

MiB = 1024 * 1024
METHODS = {"mpu": "mpu:// open('ab')", "s3fs": "s3fs open('ab')",
           "rmw": "s3fs cat + pipe (read-modify-write)"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_server_args(p)
    p.add_argument("--size", default="256MiB", type=parse_size, help="object appended to")
    p.add_argument("--tail", default="1MiB", type=parse_size, help="bytes appended")
    p.add_argument("--repeats", default=3, type=int)
    p.add_argument("--json", default=None)
    return p.parse_args(argv)


def build_calls(spec: dict[str, Any], bucket: str) -> dict[str, Callable[[str, bytes], str]]:
    """Each call appends ``tail`` to ``bucket/key``; returns how it did it."""
    from mpu_toolkit import MPUFileSystem

    mpu_fs = MPUFileSystem(**_storage_options(spec))
    s3 = _s3fs_prepare(spec)

    def mpu(key: str, tail: bytes) -> str:
        with mpu_fs.open(f"{bucket}/{key}", "ab") as f:
            f.write(tail)
        return f"UploadPartCopy x {len(f.parts) - 1} + 1 part"

    def s3fs(key: str, tail: bytes) -> str:
        with s3.open(f"{bucket}/{key}", "ab") as f:
            f.write(tail)
        return "s3fs append"

    def rmw(key: str, tail: bytes) -> str:
        s3.pipe_file(f"{bucket}/{key}", s3.cat_file(f"{bucket}/{key}") + tail)
        return "GetObject + multipart upload"

    return {"mpu": mpu, "s3fs": s3fs, "rmw": rmw}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = common_environment(("s3fs", "aiobotocore", "botocore", "fsspec", "moto"))
    server = Server.announced(args, env)
    spec = server.spec(args.region)
    calls = build_calls(spec, server.bucket)
    runs: list[dict[str, Any]] = []
    started = datetime.now()
    try:
        for rep in range(args.repeats):
            order = list(METHODS)[rep % 3:] + list(METHODS)[:rep % 3]
            for method in order:
                key, body = f"append/{method}-{rep}.bin", os.urandom(args.size)
                server.client.put_object(Bucket=server.bucket, Key=key, Body=body)
                tail = os.urandom(args.tail)
                cpu, t0 = time.process_time(), time.perf_counter()
                how = calls[method](key, tail)
                run = {"method": method, "seconds": time.perf_counter() - t0,
                       "cpu_s": time.process_time() - cpu, "how": how}
                size = server.head(key)["ContentLength"]
                last = server.client.get_object(
                    Bucket=server.bucket, Key=key,
                    Range=f"bytes={size - 2 * MiB}-{size - 1}")["Body"].read()
                run["ok"] = size == args.size + args.tail and last == (body + tail)[-2 * MiB:]
                runs.append(run)
                server.cleanup(key)
                print(f"  rep {rep + 1} {METHODS[method]:<38} {run['seconds']:7.3f} s "
                      f"{run['cpu_s']:6.2f} CPU-s {'ok' if run['ok'] else 'WRONG'}  {how}",
                      flush=True)
    finally:
        server.close()
    rows = [["method", "ok", "seconds", "CPU-s", "x mpu (time)"]]
    ref = statistics.median(r["seconds"] for r in runs if r["method"] == "mpu")
    for method, label in METHODS.items():
        mine = [r for r in runs if r["method"] == method]
        seconds = statistics.median(r["seconds"] for r in mine)
        rows.append([label, f"{sum(r['ok'] for r in mine)}/{len(mine)}", f"{seconds:.3f}",
                     f"{statistics.median(r['cpu_s'] for r in mine):.2f}",
                     f"{seconds / ref:.2f}"])
    print(f"\n== append {fmt_size(args.tail)} to {fmt_size(args.size)}, server {server.name}, "
          f"median of {args.repeats} ==")
    print(text_table(rows, [False, True, True, True, True], []))
    save_report({"started": started.isoformat(), "argv": sys.argv, "server": server.name,
                 "environment": env, "runs": runs}, args.json, os.path.join(HERE, "results"),
                f"append-{server.name}", started)
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
