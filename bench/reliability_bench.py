"""Reliability benchmark: how much a 2% random 503 SlowDown rate slows two big operations.

    python bench/reliability_bench.py [--endpoint URL --key K --secret S] [--repeat 1]
        [--ops compose,inventory] [--failure-rate 0.02] [--sources 1000] [--big-every 10]
        [--big-size 12MiB] [--small-size 32KiB] [--uploads 2000] [--part-size 1KiB] [--quick]
    eval "$(bash .ci/rgw.sh start)" && python bench/reliability_bench.py      # Ceph RGW
    python bench/reliability_bench.py --quick      # CI (.ci/run): exit 1 unless every run ok

--quick is CI's run, about 5 minutes on moto: one run of each kind, as many sources (1,000)
and uploads (2,000), so as many requests to fail, but every 50th source big instead of every
10th (a fifth of the bytes); options given explicitly still win. Every run is checked as in the full one. The exit
status is 1 when any run FAILED (an error, or a wrong size, MD5 or count) or the setup did.

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server is started. A bucket is
created for the run and deleted at the end. Every timed run goes through its own
``mpu_toolkit.testing.faults.FaultProxy`` (only the endpoint URL changes): the clean run at
``failure_rate=0`` (so the proxy's own cost is in both), the faulty one with 2% of all
requests answered ``503 SlowDown`` at random (seeded). Setup and checks bypass the proxy.

* compose: --sources objects, every --big-every-th one of --big-size (12 MiB), the rest
  --small-size, joined into one object: every kind of request a compose makes (HEAD, ranged
  GET, UploadPart of the small pieces with a big neighbour's head, UploadPartCopy). mpu: ``mpu_toolkit.compose(urls, dest,
  storage_options=so)``; s3fs at its defaults: ``cat_file`` of every source written into one
  ``fs.open(dest, "wb")``. Checked: size and MD5 of the destination against the sources'.
  (A part must be >= 5 MiB, so each run of small sources takes up to 5 MiB of its big
  neighbour; with --big-size 5246976 nothing is left to copy and all goes through the client.)
* inventory: --uploads incomplete uploads of one --part-size part under one prefix. mpu:
  ``uploads.list("mpu://bucket/prefix/", storage_options=so)`` (sizes=True); boto3 at
  botocore's defaults: ListMultipartUploads pages (KeyMarker + UploadIdMarker), then ListParts
  per upload, one after another. Checked: uploads, parts and bytes counted. The uploads are
  aborted at the end with ``uploads.abort(url, force=True)``.

Per (operation, tool): medians of --repeat clean and faulty runs (interleaved), slowdown =
faulty / clean, the requests the proxy saw and the 503s it injected. A tool that fails or
gives a wrong result is FAILED with its error's first line. Each client (MPUFileSystem with
skip_instance_cache, s3fs, boto3) is built inside the timed call, as a one-shot user's is.
Results: bench/results/reliability-<server>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import add_server_args, describe_environment, parse_size  # noqa: E402
from bench_common import resolve_endpoint, settle  # noqa: E402
from bench_common import environment as common_environment  # noqa: E402
from bench_report import fmt_size, save_report, text_table  # noqa: E402

KiB, MiB = 1024, 1024 * 1024
TOOLS = {  # operation -> {tool: label}
    "compose": {"mpu": "mpu compose()", "s3fs": "s3fs cat_file + open('wb')"},
    "inventory": {"mpu": "mpu uploads.list()", "boto3": "boto3 sequential LMU + ListParts"},
}
DEFAULTS = {"repeat": 1, "sources": 1000, "big_every": 10, "uploads": 2000}  # --quick changes
QUICK = {"repeat": 1, "sources": 1000, "big_every": 50, "uploads": 2000}
Call = Callable[[str], dict[str, Any]]  # proxied endpoint URL -> facts about the result
Check = Callable[[str, dict[str, Any]], "str | None"]  # (tool, run) -> what is wrong
Operation = tuple[dict[str, Call], Check, Callable[[str], list[str]]]  # calls, check, cleanup


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    p.add_argument("--ops", default="compose,inventory", help="operations to time")
    p.add_argument("--quick", action="store_true",
                   help="CI's run: --repeat 1 --big-every 50 (unless given)")
    p.add_argument("--repeat", type=int, default=None,
                   help="runs of each kind (median shown; default 1)")
    p.add_argument("--failure-rate", type=float, default=0.02, help="share answered 503")
    p.add_argument("--seed", type=int, default=1, help="proxy seed of the first run (+1 each)")
    p.add_argument("--sources", type=int, default=None, help="compose sources (default 1000)")
    p.add_argument("--big-every", type=int, default=None, help="every Nth source is big "
                                                               "(default 10)")
    p.add_argument("--big-size", type=parse_size, default=12 * MiB)
    p.add_argument("--small-size", type=parse_size, default=32 * KiB)
    p.add_argument("--uploads", type=int, default=None,
                   help="incomplete uploads (default 2000)")
    p.add_argument("--part-size", type=parse_size, default=KiB, help="their one part")
    p.add_argument("--threads", type=int, default=16, help="boto3 threads for the setup")
    p.add_argument("--pause", type=float, default=1.0, help="rest between runs (s)")
    p.add_argument("--verbose", action="store_true", help="show mpu_toolkit's retry log")
    p.add_argument("--json", default=None, help="default bench/results/reliability-*.json")
    args = p.parse_args(argv)
    for name, default in DEFAULTS.items():  # None: not given
        if getattr(args, name) is None:
            setattr(args, name, QUICK[name] if args.quick else default)
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    if not args.ops or set(args.ops) - set(TOOLS):
        p.error(f"--ops: choose from {list(TOOLS)}")
    if min(args.repeat, args.sources, args.uploads, args.big_every) < 1:
        p.error("--repeat, --sources, --uploads and --big-every must be at least 1")
    return args


class Server:
    """The upstream endpoint, the run's bucket and a direct boto3 client for setup/checks."""

    def __init__(self, args: argparse.Namespace) -> None:
        import boto3
        from botocore.config import Config

        self.endpoint, self.key, self.secret, self.name, local = resolve_endpoint(args)
        self.local: Any = local  # the embedded moto to stop, or None
        self.region, self.threads = args.region, args.threads
        self.client = boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=self.key,
            aws_secret_access_key=self.secret, region_name=self.region,
            config=Config(request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          retries={"max_attempts": 5, "mode": "standard"},
                          max_pool_connections=max(10, 2 * args.threads)))
        self.bucket = f"mpu-rel-bench-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
        self.client.create_bucket(Bucket=self.bucket)

    def so(self, endpoint: str | None = None) -> dict[str, Any]:
        return {"endpoint_url": endpoint or self.endpoint, "key": self.key, "secret": self.secret}

    def remove(self, keys: list[str], uploads_prefix: str | None = None) -> list[str]:
        """Delete ``keys``, abort the uploads under ``uploads_prefix``; say what was aborted."""
        pages = (self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=uploads_prefix) if uploads_prefix is not None else [])
        left = [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])]
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(lambda k: self.client.delete_object(Bucket=self.bucket, Key=k), keys))
            list(pool.map(lambda ku: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=ku[0], UploadId=ku[1]), left))
        return [f"{len(left)} incomplete upload(s) under {uploads_prefix!r} aborted"] * bool(left)

    def close(self) -> list[str]:
        """Delete what is left (saying what), abort every upload, delete the bucket."""
        notes: list[str] = []
        try:
            keys = [o["Key"] for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket) for o in page.get("Contents", [])]
            notes += self.remove(keys, "") + [f"{len(keys)} object(s) deleted"] * bool(keys)
            self.client.delete_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001 - report, do not hide the results
            notes.append(f"could not remove bucket {self.bucket}: {first_line(exc)}")
        if self.local is not None:
            self.local.stop()
        return notes


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:300]


# -- the operations: setup (direct, not timed), timed calls, checks ----------------------------
def compose_operation(server: Server, args: argparse.Namespace, report: dict[str, Any]
                      ) -> Operation:
    import s3fs

    import mpu_toolkit

    bucket, t0 = server.bucket, time.perf_counter()
    sizes = [args.big_size if (i + 1) % args.big_every == 0 else args.small_size
             for i in range(args.sources)]
    keys = [f"sources/src-{i:05d}.bin" for i in range(args.sources)]

    def put(i: int) -> bytes:  # fresh random bytes: a misplaced source cannot match
        body = os.urandom(sizes[i])
        server.client.put_object(Bucket=bucket, Key=keys[i], Body=body)
        return body

    md5 = hashlib.md5()
    with ThreadPoolExecutor(args.threads) as pool:
        for body in pool.map(put, range(args.sources)):  # in order
            md5.update(body)
    total, expected = sum(sizes), md5.hexdigest()
    report["setup"]["compose"] = {"sources": len(keys), "bytes": total, "md5": expected,
                                  "seconds": time.perf_counter() - t0}
    print(f"\ncompose: {len(keys)} sources, {fmt_size(total)}, MD5 {expected} "
          f"(written in {time.perf_counter() - t0:.1f} s, not timed)")

    def mpu(endpoint: str) -> dict[str, Any]:
        so = {**server.so(endpoint), "skip_instance_cache": True}
        result = mpu_toolkit.compose([f"mpu://{bucket}/{k}" for k in keys],
                                     f"mpu://{bucket}/composed/mpu.bin", storage_options=so)
        return {"how": f"{result.method}, {result.parts} parts, {fmt_size(result.bytes_copied)}"
                       f" copied, {fmt_size(result.bytes_uploaded)} through the client"}

    def s3fs_cat(endpoint: str) -> dict[str, Any]:
        fs = s3fs.S3FileSystem(**server.so(endpoint), skip_instance_cache=True)
        with fs.open(f"{bucket}/composed/s3fs.bin", "wb") as out:
            for key in keys:
                out.write(fs.cat_file(f"{bucket}/{key}"))
        return {"how": f"GetObject x {len(keys)} + multipart upload"}

    def check(tool: str, run: dict[str, Any]) -> str | None:
        key = f"composed/{tool}.bin"
        size = server.client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        if size != total:
            return f"destination has {size:,} bytes, expected {total:,}"
        body, digest = server.client.get_object(Bucket=bucket, Key=key)["Body"], hashlib.md5()
        for chunk in iter(lambda: body.read(8 * MiB), b""):
            digest.update(chunk)
        return None if digest.hexdigest() == expected else (
            f"MD5 {digest.hexdigest()} != expected {expected}")

    return ({"mpu": mpu, "s3fs": s3fs_cat}, check,
            lambda tool: server.remove([f"composed/{tool}.bin"], f"composed/{tool}.bin"))


def inventory_operation(server: Server, args: argparse.Namespace, report: dict[str, Any],
                        prefix: str) -> Operation:
    import boto3

    from mpu_toolkit import uploads

    bucket, n, t0 = server.bucket, args.uploads, time.perf_counter()
    body = os.urandom(args.part_size)  # an upload never completed may have parts of any size

    def create(i: int) -> None:
        key = f"{prefix}object-{i:05d}.bin"
        up = server.client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        server.client.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=body)

    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(create, range(n)))
    report["setup"]["inventory"] = {"uploads": n, "part_size": args.part_size,
                                    "seconds": time.perf_counter() - t0}
    print(f"\ninventory: {n} incomplete uploads of 1 part x {fmt_size(args.part_size)} under "
          f"{prefix!r} (created in {time.perf_counter() - t0:.1f} s, not timed)")

    def mpu(endpoint: str) -> dict[str, Any]:
        so = {**server.so(endpoint), "skip_instance_cache": True}
        frame = uploads.list(f"mpu://{bucket}/{prefix}", storage_options=so)
        return {"counted": (len(frame), int(frame["parts"].sum()), int(frame["bytes"].sum()))}

    def sequential(endpoint: str) -> dict[str, Any]:
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=server.key,
                              aws_secret_access_key=server.secret, region_name=server.region)
        found = parts = size = 0
        markers: dict[str, str] = {}
        while True:
            page = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix, **markers)
            for u in page.get("Uploads", []):
                found, marker = found + 1, 0
                while True:
                    got = client.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"],
                                            PartNumberMarker=marker)
                    parts += len(got.get("Parts", []))
                    size += sum(int(p["Size"]) for p in got.get("Parts", []))
                    if not got.get("IsTruncated"):
                        break
                    marker = int(got["NextPartNumberMarker"])
            new = {"KeyMarker": page.get("NextKeyMarker") or "",
                   "UploadIdMarker": page.get("NextUploadIdMarker") or ""}
            if not page.get("IsTruncated") or new == markers:
                return {"counted": (found, parts, size)}
            markers = new

    def check(tool: str, run: dict[str, Any]) -> str | None:
        want = (n, n, n * args.part_size)
        return None if tuple(run["counted"]) == want else f"counted {run['counted']}, not {want}"

    return {"mpu": mpu, "boto3": sequential}, check, lambda tool: []


# -- timing ------------------------------------------------------------------------------------
def timed_run(server: Server, call: Call, rate: float, seed: int) -> dict[str, Any]:
    """``call`` through a fresh FaultProxy in front of the server."""
    from mpu_toolkit.testing.faults import FaultProxy

    proxy = FaultProxy(server.endpoint, failure_rate=rate, seed=seed).start()
    try:
        started = time.perf_counter()
        try:
            result = {"status": "ok", **call(proxy.endpoint_url)}
        except Exception as exc:  # noqa: BLE001 - reported as FAILED, the bench goes on
            result = {"status": "FAILED", "error": first_line(exc)}
        result["seconds"] = time.perf_counter() - started
    finally:
        proxy.stop()
    return {**result, "requests": len(proxy.seen), "injected": len(proxy.injected),
            "ops": dict(Counter(proxy.seen)),
            "injected_ops": dict(Counter(x.split(":")[0] for x in proxy.injected))}


def run_operation(args: argparse.Namespace, server: Server, op: str, operation: Operation,
                  runs: list[dict[str, Any]]) -> None:
    """--repeat rounds; in each, every tool (rotating start) clean and faulty (alternating)."""
    calls, check, cleanup = operation
    tools = list(calls)
    for rep in range(1, args.repeat + 1):
        k = (rep - 1) % len(tools)
        for tool in tools[k:] + tools[:k]:
            for faulty in ((False, True) if rep % 2 else (True, False)):
                seed = args.seed + len(runs)
                r = timed_run(server, calls[tool], args.failure_rate if faulty else 0.0, seed)
                r.update(op=op, tool=tool, rep=rep, faulty=faulty, seed=seed)
                settle(r, lambda t=tool, r=r: check(t, r), lambda t=tool: cleanup(t),
                       args.pause)
                runs.append(r)
                outcome = r.get("how", "ok") if r["status"] == "ok" else f"FAILED: {r['error']}"
                print(f"  {op:<9} {TOOLS[op][tool]:<32} rep {rep} "
                      f"{'faults' if faulty else 'clean':<6} {r['seconds']:7.2f} s "
                      f"{r['requests']:5d} requests {r['injected']:3d} x 503  {outcome}"
                      + (f"  cleanup: {r['cleanup']}" if r.get("cleanup") else ""), flush=True)


def table(runs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Per (operation, tool): medians of the ok clean and faulty runs, slowdown, requests and
    503s of the faulty runs (median), the errors; and the printed table."""
    rows, lines = [], [["operation", "tool", "clean s", "faults s", "slowdown", "requests",
                        "503s injected", "result"]]

    def med(rs: list[dict[str, Any]], key: str) -> float | None:
        return statistics.median(r[key] for r in rs) if rs else None

    for op, tools in TOOLS.items():
        for tool, label in tools.items():
            mine = [r for r in runs if r["op"] == op and r["tool"] == tool]
            if not mine:
                continue
            row: dict[str, Any] = {"op": op, "tool": tool, "runs": len(mine)}
            for kind, faulty in (("clean", False), ("faults", True)):
                these = [r for r in mine if r["faulty"] is faulty]
                row[kind] = med([r for r in these if r["status"] == "ok"], "seconds")
                row[f"{kind}_ok"] = sum(r["status"] == "ok" for r in these)
            faulty_runs = [r for r in mine if r["faulty"]]
            row.update(requests=med(faulty_runs, "requests"), injected=med(faulty_runs, "injected"),
                       slowdown=row["faults"] / row["clean"] if row["clean"] and row["faults"]
                       else None, errors=[r["error"] for r in mine if r["status"] != "ok"])
            result = "ok" if not row["errors"] else (
                f"FAILED ({row['clean_ok']} clean, {row['faults_ok']} faulty ok of "
                f"{len(mine)}): {row['errors'][0]}")
            rows.append(row)
            lines.append([op, label] + ["-" if row[k] is None else f"{row[k]:.2f}"
                                        for k in ("clean", "faults")]
                         + ["-" if row["slowdown"] is None else f"{row['slowdown']:.2f}x",
                            "-" if row["requests"] is None else f"{row['requests']:.0f}",
                            "-" if row["injected"] is None else f"{row['injected']:.0f}",
                            result[:200]])
    return rows, text_table(lines, [False, False, True, True, True, True, True, False])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.verbose:  # a warning per retried request would bury the table
        logging.getLogger("mpu_toolkit").setLevel(logging.ERROR)
    env = common_environment(("s3fs", "aiobotocore", "botocore", "boto3", "fsspec", "moto"))
    print(describe_environment(env))
    server = Server(args)
    print(f"server: {server.name} at {server.endpoint}, bucket {server.bucket}")
    started = datetime.now()
    report: dict[str, Any] = {"started": started.isoformat(), "argv": sys.argv,
                              "server": server.name, "endpoint": server.endpoint,
                              "failure_rate": args.failure_rate, "repeat": args.repeat,
                              "environment": env, "setup": {}}
    runs: list[dict[str, Any]] = []
    prefix, failed = "incomplete/", False
    try:
        import s3fs

        from mpu_toolkit import uploads

        s3fs.S3FileSystem(**server.so(), skip_instance_cache=True).ls(server.bucket)  # imports
        if "compose" in args.ops:
            run_operation(args, server, "compose", compose_operation(server, args, report), runs)
            server.remove([f"sources/src-{i:05d}.bin" for i in range(args.sources)])
        if "inventory" in args.ops:
            run_operation(args, server, "inventory",
                          inventory_operation(server, args, report, prefix), runs)
            t0 = time.perf_counter()
            outcome = uploads.abort(f"mpu://{server.bucket}/{prefix}",
                                    storage_options=server.so(), force=True)
            report["abort"] = {"seconds": time.perf_counter() - t0, "outcomes": {
                str(o): int(c) for o, c in outcome["outcome"].value_counts().items()}}
            print(f"aborted with uploads.abort(force=True) in {report['abort']['seconds']:.1f} s:"
                  f" {report['abort']['outcomes']}")
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured")
        failed = True
    except Exception as exc:  # noqa: BLE001 - setup failed: clean up, report what there is
        print(f"\nsetup failed: {first_line(exc)}")
        report["setup_error"], failed = first_line(exc), True
    finally:
        report["cleanup"] = server.close()
        for note in report["cleanup"]:
            print(f"cleanup: {note}")

    rows, text = table(runs)
    load_after = os.getloadavg()
    report.update(summary=rows, runs=runs, loadavg_after=load_after)
    print(f"\n== {args.failure_rate:.0%} random 503 SlowDown vs clean, server {server.name}, "
          f"median of {args.repeat}, load average now {load_after[0]:.2f} ==")
    print(text)
    print("seconds: wall time of the call, client construction included (median of ok runs);\n"
          "slowdown = faults s / clean s; requests, 503s: what the proxy saw and injected in\n"
          "the faulty run (median), retries included. Clean runs go through the same proxy\n"
          "at failure rate 0.")
    save_report(report, args.json, os.path.join(HERE, "results"),
                f"reliability-{server.name}", started)
    return 1 if failed or any(r["status"] != "ok" for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
