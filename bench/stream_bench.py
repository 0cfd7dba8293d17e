"""Streaming-upload benchmark: mpu_toolkit against s3fs, smart_open, boto3, pyarrow, obstore.

    python bench/stream_bench.py [--endpoint URL --key K --secret S | --sink SETTINGS]
        [--size 1GiB] [--repeat 3]
        [--writers mpu,mpu-nochecksum,mpu-crc32c,...,obstore,tcp-loopback]
        [--rss-sizes 1GiB,4GiB] [--rss-writer mpu] [--json out.json]
        [--wait-quiet 120] [--allow-loaded]

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server (mpu_toolkit.testing.local) is
started; --sink starts ../shared/tools/s3_sink_server.py instead: a null sink ("--sink null",
the client's own ceiling) or a cloud-like link ("--sink rtt=20,mbps=50,md5": 20 ms round
trips, 50 MB/s per connection, real MD5 ETags). On a sink, each run also reports the requests
the server saw per part (the round trips a part costs).

Every writer x repetition runs in its own fresh process (bench_worker.py), so CPU
seconds and RSS growth are that writer's alone; repetitions are interleaved (rep 1 of every
writer, then rep 2 ...) with a rotating start so slow drift on a shared machine hits all
writers alike. Each object's size is checked with HEAD; a wrong object is FAILED, not timed.

A run starts only on a quiet machine: a 1-minute load average above 1.0 (this 2-core machine)
is waited out for up to --wait-quiet seconds, then the run is refused (exit code 3) or, with
--allow-loaded, every figure is marked "LOADED (load X at start)" ("quiet": false in the JSON).
"tcp-loopback" (plain sockets, into the sink only by default) is the physical limit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import add_server_args, describe_environment, parse_size, resolve_endpoint
from bench_common import add_load_args, report_header, wait_for_quiet  # noqa: E402
from bench_common import environment as common_environment  # noqa: E402
from bench_report import TABLE_LEGEND, fmt_size, format_table, rss_check, summarize  # noqa
from bench_writers import DEFAULT_WRITERS, NOTES, WRITERS  # noqa: E402  (no client library)

ALL_WRITERS = list(WRITERS)
MiB, GiB = 1024 * 1024, 1024 ** 3


def base_parser(doc: str) -> argparse.ArgumentParser:
    """The options of any run of these writers (integrity_bench.py's too): the server, the
    quiet-machine guard, --size, --repeat, and each run's --timeout and --pause."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    add_load_args(p)
    p.add_argument("--size", default="1GiB", type=parse_size)
    p.add_argument("--repeat", default=3, type=int)
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per run (default 120 + 600 per GiB)")
    p.add_argument("--pause", type=float, default=2.0,
                   help="seconds of rest between runs (server GC, page cache)")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = base_parser(__doc__)
    p.add_argument("--writers", default=None,
                   help=f"default {','.join(DEFAULT_WRITERS)} (tcp-loopback with --sink only); "
                        f"all: {','.join(ALL_WRITERS)}")
    p.add_argument("--rss-sizes", default="1GiB,4GiB",
                   help="sizes for the mpu RSS flatness check ('' to skip)")
    p.add_argument("--rss-writer", default="mpu", choices=["mpu", "mpu-nochecksum"],
                   help="the writer of the RSS check (mpu-nochecksum for 100 GiB on a sink "
                        "without MD5 ETags)")
    p.add_argument("--json", default=None, help="default bench/results/stream-<server>-<ts>.json")
    args = p.parse_args(argv)
    default = [w for w in DEFAULT_WRITERS if args.sink or w != "tcp-loopback"]
    args.writers = [w.strip() for w in (args.writers or ",".join(default)).split(",")
                    if w.strip() and w != "none"]
    unknown = [w for w in args.writers if w not in WRITERS]
    if unknown:
        p.error(f"unknown writer(s) {unknown}; choose from {ALL_WRITERS}")
    args.rss_sizes = [parse_size(s) for s in args.rss_sizes.split(",") if s.strip()]
    return args


class Server:
    """The S3 endpoint (external, or the embedded moto) plus a boto3 client for checks."""

    def spec(self, region: str | None) -> dict[str, Any]:
        """What the peer clients of bench_writers are built from."""
        return {"endpoint": self.endpoint, "key": self.key, "secret": self.secret,
                "bucket": self.bucket, "region": region}

    @classmethod
    def announced(cls, args: argparse.Namespace, env: dict[str, Any]) -> "Server":
        """Start or reach the server, after printing the environment; then say which."""
        print(describe_environment(env))
        server = cls(args)
        print(f"server: {server.name} at {server.endpoint}, bucket {server.bucket}")
        return server

    def __init__(self, args: argparse.Namespace) -> None:
        (self.endpoint, self.key, self.secret, self.name,
         self.local) = resolve_endpoint(args)
        import boto3
        from botocore.config import Config

        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=self.key,
            aws_secret_access_key=self.secret, region_name=args.region,
            config=Config(request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          retries={"max_attempts": 3}))
        self.bucket = f"mpu-bench-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
        self.client.create_bucket(Bucket=self.bucket)

    def requests(self) -> dict[str, int] | None:
        """Requests by operation so far, when the server is the sink (which counts them)."""
        stats = getattr(self.local, "stats", None)
        return dict(stats()["ops"]) if stats else None

    def head(self, key: str) -> dict[str, Any]:
        return self.client.head_object(Bucket=self.bucket, Key=key)

    def cleanup(self, key: str) -> list[str]:
        """Delete the object and abort any upload left for the key; say what was found."""
        found = []
        try:
            uploads = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
            for up in uploads.get("Uploads", []):
                found.append(f"incomplete upload {up['UploadId']} left behind (aborted now)")
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=up["Key"],
                                                   UploadId=up["UploadId"])
        except Exception as exc:  # noqa: BLE001 - cleanup must not stop the benchmark
            found.append(f"listing/aborting uploads failed: {exc}")
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:  # noqa: BLE001
            found.append(f"delete failed: {exc}")
        return found

    def close(self) -> None:
        try:
            for key in [o["Key"] for o in self.client.list_objects_v2(
                    Bucket=self.bucket).get("Contents", [])]:
                self.cleanup(key)
            for up in self.client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=up["Key"],
                                                   UploadId=up["UploadId"])
            self.client.delete_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001
            print(f"warning: could not remove bucket {self.bucket}: {exc}")
        if self.local is not None:
            self.local.stop()


def run_one(server: Server, args: argparse.Namespace, writer: str, size: int,
            tag: str) -> dict[str, Any]:
    """One writer, one size, in a fresh process; verified with HEAD; object deleted."""
    key = f"bench/{writer}/{tag}-{time.time_ns()}.bin"
    spec = {"writer": writer, "size": size, "endpoint": server.endpoint, "key": server.key,
            "secret": server.secret, "bucket": server.bucket, "object_key": key,
            "region": args.region}
    timeout = args.timeout or 120 + 600 * size / GiB
    with tempfile.TemporaryDirectory(prefix="mpu-bench-") as tmp:
        spec_path, result_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "result.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true", "PYTHONUNBUFFERED": "1"}
        load_before = os.getloadavg()[0]
        requests_before = server.requests()
        started = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, os.path.join(HERE, "bench_worker.py"),
                                   spec_path, result_path], capture_output=True, text=True,
                                  timeout=timeout, env=env, cwd=HERE)
            output = (proc.stdout + proc.stderr)[-3000:]
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired as exc:  # subprocess.run has killed the child
            output = str(exc.stderr or "")[-3000:] if exc.stderr else ""
            returncode = None
        wall = time.perf_counter() - started
        try:
            with open(result_path) as f:
                result = json.load(f)
        except (OSError, ValueError):
            result = {"ok": False, "error": (f"timed out after {timeout:.0f} s" if returncode
                                             is None else f"worker exit code {returncode}, "
                                             "no result")}
    requests_after = server.requests()
    if requests_before is not None and requests_after is not None:
        seen = {op: n - requests_before.get(op, 0) for op, n in requests_after.items()
                if n - requests_before.get(op, 0)}
        result["requests"] = seen
        parts = seen.get("UploadPart", 0)
        result["requests_per_part"] = sum(seen.values()) / parts if parts else None
    result.update(writer=writer, size=size, object_key=key, process_wall_s=wall,
                  loadavg_before=load_before, loadavg_after=os.getloadavg()[0],
                  worker_output_tail=output if not result.get("ok") else output[-500:])
    if result.get("ok"):
        try:
            head = server.head(key)
            etag = head.get("ETag", "").strip('"')
            result["server_size"] = head["ContentLength"]
            result["server_etag"] = etag
            if "-" in etag:
                result["server_parts"] = int(etag.rsplit("-", 1)[1])
            if head["ContentLength"] == size:
                result["status"] = "ok"
            else:
                result["status"] = "FAILED"
                result["error"] = f"object has {head['ContentLength']:,} bytes, expected {size:,}"
        except Exception as exc:  # noqa: BLE001
            result["status"] = "FAILED"
            result["error"] = f"HEAD after upload failed: {exc}"
    else:
        result["status"] = "FAILED"
    left = server.cleanup(key)
    if left:
        result["cleanup"] = left
    if args.pause:
        time.sleep(args.pause)
    return result


def describe(result: dict[str, Any], mark: str = "") -> str:
    if result["status"] != "ok":
        return f"FAILED: {str(result.get('error'))[:200]}" + (
            f" [{'; '.join(result['cleanup'])}]" if result.get("cleanup") else "")
    return (f"{result['mb_per_s']:7.0f} MB/s  {result['cpu_s']:6.2f} CPU-s  "
            f"RSS +{result['rss_growth_mib']:.0f} MiB  ({result['elapsed_s']:.1f} s, load "
            f"{result['loadavg_before']:.1f}->{result['loadavg_after']:.1f})"
            + (f"  {result['requests_per_part']:.2f} requests/part"
               if result.get("requests_per_part") else "") + (f"  {mark}" if mark else ""))


def environment() -> dict[str, Any]:
    return common_environment(("s3fs", "aiobotocore", "aiohttp", "botocore", "boto3",
                               "s3transfer", "awscrt", "smart_open", "pyarrow", "obstore",
                               "fsspec", "moto", "psutil"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check = wait_for_quiet(args.wait_quiet, args.allow_loaded, args.max_load)
    env = environment()
    server = Server.announced(args, env)
    print(f"stream: {fmt_size(args.size)} in 1 MiB writes of fresh bytes, {args.repeat} "
          f"repetition(s), each run in its own process\n")
    runs: list[dict[str, Any]] = []
    rss_runs: list[dict[str, Any]] = []
    started = datetime.now()
    try:
        for rep in range(args.repeat if args.writers else 0):
            order = args.writers[rep % len(args.writers):] + args.writers[:rep % len(args.writers)]
            for writer in order:
                result = run_one(server, args, writer, args.size, f"rep{rep + 1}")
                result["repetition"] = rep + 1
                runs.append(result)
                print(f"  rep {rep + 1} {writer:<18} {describe(result, check.mark)}", flush=True)
        if args.rss_sizes:
            print(f"\nRSS flatness check ({args.rss_writer}, defaults):")
            for size in args.rss_sizes:
                result = run_one(server, args, args.rss_writer, size, f"rss-{size}")
                rss_runs.append(result)
                print(f"  mpu {fmt_size(size):>8}  {describe(result, check.mark)}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured")
    finally:
        server.close()
    rows = summarize(args.writers, runs)
    for row in rows:
        row["mark"] = check.mark
    load_after = os.getloadavg()
    print(f"\n== {fmt_size(args.size)} streamed in 1 MiB writes, server {server.name}, "
          f"median of {args.repeat}{', ' + check.mark if check.mark else ''} ==")
    print(report_header(env, check, load_after[0]))
    print(format_table(rows, check.mark))
    print(TABLE_LEGEND)
    print("Checksum / signing settings:")
    for writer in args.writers:
        print(f"  {writer:<18} {NOTES[writer]}")
    rss_text, rss_pass = rss_check(rss_runs) if rss_runs else ("(skipped)", None)
    if rss_runs:
        print(f"\n== RSS flatness, {args.rss_writer} defaults: bound max_memory + 64 MiB"
              f"{', ' + check.mark if check.mark else ''} ==")
        print(rss_text)
    out = args.json or os.path.join(
        HERE, "results", f"stream-{re.sub(r'[^A-Za-z0-9_.=-]+', '-', server.name).strip('-')}"
        f"-{started:%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"started": started.isoformat(), "argv": sys.argv, "server": server.name,
                   "endpoint": server.endpoint, "size": args.size, "repeat": args.repeat,
                   "writers": args.writers, "environment": env, "loadavg_after": load_after,
                   "quiet": check.quiet, "load_at_start": check.start, "mark": check.mark,
                   "max_load": check.threshold,
                   "settings": {w: NOTES[w] for w in args.writers}, "summary": rows,
                   "runs": runs, "rss_check": {"runs": rss_runs, "pass": rss_pass,
                                               "text": rss_text}}, f, indent=1, default=str)
    print(f"\nresults: {out}")
    failed = any(r["status"] != "ok" for r in runs + rss_runs)
    return 1 if failed or rss_pass is False else 0


if __name__ == "__main__":
    sys.exit(main())
