"""Reliability benchmark: how much a 2% random 503 SlowDown rate slows two big operations.

    python bench/reliability_bench.py [--endpoint URL --key K --secret S] [--repeat 1]
        [--sources 1000] [--big-every 10] [--big-size 5MiB] [--small-size 32KiB]
        [--uploads 2000] [--part-size 1KiB] [--failure-rate 0.02] [--ops compose,inventory]
    eval "$(bash .ci/rgw.sh start)" && python bench/reliability_bench.py      # Ceph RGW

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server is started. One bucket
is created for the run (boto3) and deleted at the end. Every timed run goes through its own
``mpu_toolkit.testing.faults.FaultProxy`` (only the endpoint URL changes): the clean run with
``failure_rate=0`` (so the proxy's own cost is in both), the faulty one with 2% of all
requests answered ``503 SlowDown`` at random (seeded). Setup and checks bypass the proxy.

* compose: --sources objects (every --big-every-th is --big-size + 4 KiB, copied on the
  server with UploadPartCopy; the rest --small-size, read with GETs and uploaded together)
  joined into one object. mpu: ``mpu_toolkit.compose(urls, dest, storage_options=so)``;
  s3fs at its defaults: ``cat_file`` of every source written into one ``open(dest, "wb")``.
  Checked: the destination's size and the MD5 of the whole object.
* inventory: --uploads incomplete uploads of one --part-size part under one prefix.
  mpu: ``uploads.list("mpu://bucket/prefix/", storage_options=so)`` (sizes=True); boto3 at
  botocore's defaults: ListMultipartUploads pages (KeyMarker + UploadIdMarker), then ListParts
  per upload, one after another. Checked: uploads, parts and bytes counted. The uploads are
  aborted at the end with ``uploads.abort(url, force=True)``.

Per (operation, tool): medians of --repeat clean and faulty runs (interleaved), slowdown =
faulty / clean, requests the proxy saw and 503s it injected. A tool that fails or returns a
wrong result is FAILED with its error's first line. The client (MPUFileSystem with
skip_instance_cache, s3fs, boto3) is built inside the timed window, as a one-shot user would.
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
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Callable

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
Call = Callable[[str], dict[str, Any]]  # proxied endpoint URL -> facts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    p.add_argument("--ops", default="compose,inventory", help="operations to time")
    p.add_argument("--repeat", type=int, default=1, help="runs of each kind (median shown)")
    p.add_argument("--failure-rate", type=float, default=0.02, help="share answered 503")
    p.add_argument("--seed", type=int, default=1, help="first proxy seed (+1 per faulty run)")
    p.add_argument("--sources", type=int, default=1000, help="compose sources")
    p.add_argument("--big-every", type=int, default=10, help="every Nth source is big")
    p.add_argument("--big-size", type=parse_size, default=5 * MiB + 4 * KiB)
    p.add_argument("--small-size", type=parse_size, default=32 * KiB)
    p.add_argument("--uploads", type=int, default=2000, help="incomplete uploads")
    p.add_argument("--part-size", type=parse_size, default=KiB, help="their one part (1KiB)")
    p.add_argument("--threads", type=int, default=16, help="boto3 threads for the setup")
    p.add_argument("--pause", type=float, default=1.0, help="rest between runs (s)")
    p.add_argument("--verbose", action="store_true", help="show mpu_toolkit's retry log")
    p.add_argument("--json", default=None, help="default bench/results/reliability-*.json")
    args = p.parse_args(argv)
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    if not args.ops or set(args.ops) - set(TOOLS):
        p.error(f"--ops: choose from {list(TOOLS)}")
    if min(args.repeat, args.sources, args.uploads, args.big_every) < 1:
        p.error("--repeat, --sources, --uploads and --big-every must be at least 1")
    return args


class Server:
    """The upstream endpoint, a bucket for the run and a direct boto3 client for setup."""

    def __init__(self, args: argparse.Namespace) -> None:
        import boto3
        from botocore.config import Config

        self.endpoint, self.key, self.secret, self.name, self.local = resolve_endpoint(args)
        self.region = args.region
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

    def uploads_under(self, prefix: str) -> list[tuple[str, str]]:
        found, markers = [], {"KeyMarker": "", "UploadIdMarker": ""}
        while True:
            page = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix,
                                                      **markers)
            found += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
            new = {"KeyMarker": page.get("NextKeyMarker") or "",
                   "UploadIdMarker": page.get("NextUploadIdMarker") or ""}
            if not page.get("IsTruncated") or not page.get("Uploads") or new == markers:
                return found
            markers = new

    def remove(self, keys: list[str], uploads_prefix: str | None, threads: int) -> list[str]:
        """Delete ``keys``, abort uploads under ``uploads_prefix``; say what was left."""
        left = self.uploads_under(uploads_prefix) if uploads_prefix is not None else []
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda k: self.client.delete_object(Bucket=self.bucket, Key=k), keys))
            list(pool.map(lambda ku: self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=ku[0], UploadId=ku[1]), left))
        return [f"{len(left)} incomplete upload(s) under {uploads_prefix!r} aborted"] if left else []

    def close(self, threads: int) -> list[str]:
        notes: list[str] = []
        try:
            keys = [o["Key"] for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket) for o in page.get("Contents", [])]
            notes += self.remove(keys, "", threads)
            if keys:
                notes.append(f"{len(keys)} object(s) left (deleted now)")
            self.client.delete_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001 - report, do not hide the results
            notes.append(f"could not remove bucket {self.bucket}: {first_line(exc)}")
        if self.local is not None:
            self.local.stop()
        return notes


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"[:300]


# -- setup (direct, not timed) -----------------------------------------------------------------
def make_sources(server: Server, args: argparse.Namespace) -> tuple[list[str], int, str]:
    """The compose sources, fresh random bytes each; (keys, total size, MD5 of them joined)."""
    sizes = [args.big_size if (i + 1) % args.big_every == 0 else args.small_size
             for i in range(args.sources)]
    keys = [f"sources/src-{i:05d}.bin" for i in range(args.sources)]

    def put(i: int) -> bytes:
        body = os.urandom(sizes[i])
        server.client.put_object(Bucket=server.bucket, Key=keys[i], Body=body)
        return body

    md5 = hashlib.md5()
    with ThreadPoolExecutor(args.threads) as pool:
        for body in pool.map(put, range(args.sources)):  # in order
            md5.update(body)
    return keys, sum(sizes), md5.hexdigest()


def make_uploads(server: Server, prefix: str, n: int, part_size: int, threads: int) -> None:
    body = os.urandom(part_size)  # an upload never completed may have parts of any size

    def one(i: int) -> None:
        key = f"{prefix}object-{i:05d}.bin"
        up = server.client.create_multipart_upload(Bucket=server.bucket, Key=key)["UploadId"]
        server.client.upload_part(Bucket=server.bucket, Key=key, UploadId=up, PartNumber=1,
                                  Body=body)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(n)))


# -- the timed calls ---------------------------------------------------------------------------
def compose_calls(server: Server, keys: list[str]) -> dict[str, Call]:
    import mpu_toolkit
    import s3fs

    bucket = server.bucket

    def mpu(endpoint: str, dest: str) -> dict[str, Any]:
        so = {**server.so(endpoint), "skip_instance_cache": True}
        result = mpu_toolkit.compose([f"mpu://{bucket}/{k}" for k in keys],
                                     f"mpu://{bucket}/{dest}", storage_options=so)
        return {"how": f"{result.method}, {result.parts} parts, {fmt_size(result.bytes_copied)}"
                       f" copied, {fmt_size(result.bytes_uploaded)} through the client"}

    def s3fs_cat(endpoint: str, dest: str) -> dict[str, Any]:
        fs = s3fs.S3FileSystem(**server.so(endpoint), skip_instance_cache=True)
        with fs.open(f"{bucket}/{dest}", "wb") as out:
            for key in keys:
                out.write(fs.cat_file(f"{bucket}/{key}"))
        return {"how": f"GetObject x {len(keys)} + multipart upload"}

    return {"mpu": lambda ep: mpu(ep, "composed/mpu.bin"),
            "s3fs": lambda ep: s3fs_cat(ep, "composed/s3fs.bin")}


def inventory_calls(server: Server, prefix: str) -> dict[str, Call]:
    import boto3

    from mpu_toolkit import uploads

    def mpu(endpoint: str) -> dict[str, Any]:
        so = {**server.so(endpoint), "skip_instance_cache": True}
        frame = uploads.list(f"mpu://{server.bucket}/{prefix}", storage_options=so)
        return {"counted": (len(frame), int(frame["parts"].sum()), int(frame["bytes"].sum()))}

    def sequential(endpoint: str) -> dict[str, Any]:
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=server.key,
                              aws_secret_access_key=server.secret, region_name=server.region)
        n = parts = size = 0
        markers: dict[str, str] = {}
        while True:
            page = client.list_multipart_uploads(Bucket=server.bucket, Prefix=prefix, **markers)
            for u in page.get("Uploads", []):
                n, marker = n + 1, 0
                while True:
                    got = client.list_parts(Bucket=server.bucket, Key=u["Key"],
                                            UploadId=u["UploadId"], PartNumberMarker=marker)
                    parts += len(got.get("Parts", []))
                    size += sum(int(p["Size"]) for p in got.get("Parts", []))
                    if not got.get("IsTruncated"):
                        break
                    marker = int(got["NextPartNumberMarker"])
            new = {"KeyMarker": page.get("NextKeyMarker") or "",
                   "UploadIdMarker": page.get("NextUploadIdMarker") or ""}
            if not page.get("IsTruncated") or new == markers:
                return {"counted": (n, parts, size)}
            markers = new

    return {"mpu": mpu, "boto3": sequential}


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
            "injected_ops": dict(Counter(x.split(":")[0] for x in proxy.injected))}


def full_md5(server: Server, key: str) -> str:
    md5 = hashlib.md5()
    body = server.client.get_object(Bucket=server.bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(8 * MiB), b""):
        md5.update(chunk)
    return md5.hexdigest()


# -- the run -----------------------------------------------------------------------------------
def run_operation(server: Server, args: argparse.Namespace, op: str, calls: dict[str, Call],
                  check: Callable[[str, dict[str, Any]], str | None],
                  cleanup: Callable[[str], list[str]], runs: list[dict[str, Any]]) -> None:
    tools = list(calls)
    for rep in range(1, args.repeat + 1):
        k = (rep - 1) % len(tools)
        for tool in tools[k:] + tools[:k]:
            for faulty in ((False, True) if rep % 2 else (True, False)):
                seed = args.seed + len(runs)
                rate = args.failure_rate if faulty else 0.0
                r = timed_run(server, calls[tool], rate, seed)
                r.update(op=op, tool=tool, rep=rep, faulty=faulty, seed=seed)
                settle(r, lambda: check(tool, r), lambda: cleanup(tool), args.pause)
                runs.append(r)
                print(f"  {op:<9} {TOOLS[op][tool]:<34} rep {rep} "
                      f"{'faults' if faulty else 'clean ':<6} {r['seconds']:8.2f} s "
                      f"{r['requests']:6d} requests {r['injected']:3d} x 503  "
                      + (r.get("how", "ok") if r["status"] == "ok" else
                         f"FAILED: {r['error']}") + (f"  cleanup: {r['cleanup']}"
                                                     if r.get("cleanup") else ""), flush=True)


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for op, tools in TOOLS.items():
        for tool, label in tools.items():
            mine = [r for r in runs if r["op"] == op and r["tool"] == tool]
            if not mine:
                continue
            row: dict[str, Any] = {"op": op, "tool": tool, "label": label}
            for kind, faulty in (("clean", False), ("faults", True)):
                these = [r for r in mine if r["faulty"] is faulty]
                ok = [r for r in these if r["status"] == "ok"]
                row[f"{kind}_ok"] = f"{len(ok)}/{len(these)}"
                row[f"{kind}_s"] = statistics.median(r["seconds"] for r in ok) if ok else None
                row[f"{kind}_errors"] = [r["error"] for r in these if r["status"] != "ok"]
                row[f"{kind}_requests"] = statistics.median(r["requests"] for r in these)
            faulty_runs = [r for r in mine if r["faulty"]]
            row["injected"] = statistics.median(r["injected"] for r in faulty_runs)
            row["slowdown"] = (row["faults_s"] / row["clean_s"]
                               if row["clean_s"] and row["faults_s"] else None)
            rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [["operation", "tool", "clean s", "faults s", "slowdown", "requests",
              "503s injected", "result"]]
    for r in rows:
        errors = r["clean_errors"] + r["faults_errors"]
        result = ("ok" if not errors else
                  f"FAILED ({r['clean_ok']} clean, {r['faults_ok']} faulty ok): {errors[0]}")
        lines.append([r["op"], r["label"], "-" if r["clean_s"] is None else f"{r['clean_s']:.2f}",
                      "-" if r["faults_s"] is None else f"{r['faults_s']:.2f}",
                      "-" if r["slowdown"] is None else f"{r['slowdown']:.2f}x",
                      f"{r['faults_requests']:.0f}", f"{r['injected']:.0f}", result[:160]])
    return text_table(lines, [False, False, True, True, True, True, True, False])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.verbose:  # one warning per retried request would bury the table
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
        import mpu_toolkit
        import s3fs

        s3fs.S3FileSystem(**server.so(), skip_instance_cache=True).ls(server.bucket)  # imports
        if "compose" in args.ops:
            t0 = time.perf_counter()
            keys, total, md5 = make_sources(server, args)
            report["setup"]["compose"] = {"sources": len(keys), "bytes": total, "md5": md5,
                                          "seconds": time.perf_counter() - t0}
            print(f"\ncompose: {len(keys)} sources, {fmt_size(total)}, MD5 {md5} "
                  f"(written in {time.perf_counter() - t0:.1f} s, not timed)")

            def check_compose(tool: str, r: dict[str, Any]) -> str | None:
                key = f"composed/{tool}.bin"
                size = server.client.head_object(Bucket=server.bucket, Key=key)["ContentLength"]
                if size != total:
                    return f"destination has {size:,} bytes, expected {total:,}"
                got = full_md5(server, key)
                return None if got == md5 else f"MD5 {got} != expected {md5}"

            def clean_compose(tool: str) -> list[str]:
                return server.remove([f"composed/{tool}.bin"], f"composed/{tool}.bin",
                                     args.threads)

            run_operation(server, args, "compose", compose_calls(server, keys), check_compose,
                          clean_compose, runs)
            server.remove(keys, None, args.threads)
        if "inventory" in args.ops:
            n, t0 = args.uploads, time.perf_counter()
            expected = (n, n, n * args.part_size)
            make_uploads(server, prefix, n, args.part_size, args.threads)
            report["setup"]["inventory"] = {"uploads": n, "part_size": args.part_size,
                                            "seconds": time.perf_counter() - t0}
            print(f"\ninventory: {n} incomplete uploads of 1 part x {fmt_size(args.part_size)} "
                  f"under {prefix!r} (created in {time.perf_counter() - t0:.1f} s, not timed)")

            def check_inventory(tool: str, r: dict[str, Any]) -> str | None:
                got = tuple(r["counted"])
                return None if got == expected else f"counted {got}, expected {expected}"

            run_operation(server, args, "inventory", inventory_calls(server, prefix),
                          check_inventory, lambda tool: [], runs)
            t0 = time.perf_counter()
            outcome = mpu_toolkit.uploads.abort(f"mpu://{server.bucket}/{prefix}",
                                                storage_options=server.so(), force=True)
            report["abort"] = {"seconds": time.perf_counter() - t0, "outcomes": {
                str(o): int(c) for o, c in outcome["outcome"].value_counts().items()}}
            print(f"aborted with uploads.abort(force=True): {report['abort']['outcomes']}")
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured")
        failed = True
    except Exception as exc:  # noqa: BLE001 - setup failed: clean up, report what there is
        print(f"\nsetup failed: {first_line(exc)}")
        report["setup_error"], failed = first_line(exc), True
    finally:
        report["cleanup"] = server.close(args.threads)
        for note in report["cleanup"]:
            print(f"cleanup: {note}")

    rows = summarize(runs)
    load_after = os.getloadavg()
    report.update(summary=rows, runs=runs, loadavg_after=load_after)
    print(f"\n== {args.failure_rate:.0%} random 503 SlowDown vs clean, server {server.name}, "
          f"median of {args.repeat}, load average now {load_after[0]:.2f} ==")
    print(format_table(rows))
    print("seconds: wall time of the call, client construction included (median of ok runs);\n"
          "slowdown = faults s / clean s; requests = what the proxy saw in the faulty run\n"
          "(median), retries included; both runs go through the proxy (clean: rate 0).")
    save_report(report, args.json, os.path.join(HERE, "results"),
                f"reliability-{server.name}", started)
    failed = failed or any(r["status"] != "ok" for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
