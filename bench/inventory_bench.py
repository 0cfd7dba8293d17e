"""Inventory benchmark: list, size and abort thousands of incomplete uploads.

    python bench/inventory_bench.py [--endpoint URL --key K --secret S] [--uploads 2000]
        [--parts 3] [--part-size 1KiB] [--repeat 3] [--concurrency 16] [--json [PATH]]

Creates one bucket for the run and N incomplete uploads of K small parts each (a thread pool
of boto3 calls), then times, in the same run and interleaved (rep 1 of every method, then
rep 2 ..., with a rotating start):

* ``mpu_toolkit.uploads.list(url, sizes=True)``: every page, ListParts per upload concurrently;
* ``uploads.list(url, sizes=False)``: ListMultipartUploads pages only;
* a sequential boto3 baseline: ListMultipartUploads pages, then ListParts (every page) per
  upload one after another: what a user does by hand, or with ``aws s3api``;
* the same baseline without sizes (ListMultipartUploads pages only);
* s3fs ``list_multipart_uploads(bucket)`` for reference: it reads only the first page.

Every method's counts (uploads, parts, bytes) are checked against what was created; a wrong
count is reported as FAILED. Then everything is aborted with
``uploads.abort(url, min_age=None)`` (timed: a sized listing, then Abort + a confirming
ListParts per upload), the server is checked to hold none, and the bucket is deleted.

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server is started. Results go to
bench/results/inventory-<server>-<timestamp>.json; ``--json`` alone prints that report on
stdout instead (the readable output then goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Callable

from bench_common import add_server_args, describe_environment, parse_size, resolve_endpoint
from bench_common import environment as common_environment

HERE = os.path.dirname(os.path.abspath(__file__))
KiB = 1024

METHODS = {  # name -> (label, what it is compared with)
    "mpu-sized": ("mpu uploads.list(sizes=True)", "seq-sized"),
    "mpu-unsized": ("mpu uploads.list(sizes=False)", "seq-unsized"),
    "seq-sized": ("boto3 sequential: LMU pages + ListParts each", "seq-sized"),
    "seq-unsized": ("boto3 sequential: LMU pages only", "seq-unsized"),
    "s3fs": ("s3fs list_multipart_uploads (1st page only)", None),
}



def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    p.add_argument("--uploads", type=int, default=2000, help="incomplete uploads to create")
    p.add_argument("--parts", type=int, default=3, help="parts per upload")
    p.add_argument("--part-size", type=parse_size, default=KiB, help="bytes per part (1KiB)")
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions (median shown)")
    p.add_argument("--concurrency", type=int, default=16,
                   help="ListParts in flight for uploads.list (the library default: 16)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"what to time (default all: {','.join(METHODS)})")
    p.add_argument("--create-threads", type=int, default=32,
                   help="boto3 threads creating the uploads")
    p.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                   help="report file (default bench/results/inventory-<server>-<ts>.json); "
                        "--json alone: print the report on stdout")
    args = p.parse_args(argv)
    if args.uploads < 1 or args.parts < 1 or args.repeat < 1:
        p.error("--uploads, --parts and --repeat must be at least 1")
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
    return args


class Server:
    """The endpoint (external, or the embedded moto), a bucket for the run, boto3 clients."""

    def __init__(self, args: argparse.Namespace) -> None:
        (self.endpoint, self.key, self.secret, self.name,
         self.local) = resolve_endpoint(args)
        self.region = args.region
        self.client = self.boto3_client(pool=max(10, args.create_threads * 2))
        self.bucket = f"mpu-inv-bench-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}"
        self.client.create_bucket(Bucket=self.bucket)

    @property
    def storage_options(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint, "key": self.key, "secret": self.secret,
                "client_kwargs": {"region_name": self.region}}

    def boto3_client(self, pool: int = 10) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=self.key,
            aws_secret_access_key=self.secret, region_name=self.region,
            config=Config(request_checksum_calculation="when_required",
                          response_checksum_validation="when_required",
                          retries={"max_attempts": 5, "mode": "standard"},
                          max_pool_connections=pool))

    def live_uploads(self) -> list[tuple[str, str]]:
        return [(u["Key"], u["UploadId"]) for _, u in iter_uploads(self.client, self.bucket)]

    def close(self, threads: int) -> list[str]:
        """Abort whatever is left, delete the bucket; say what had to be cleaned."""
        notes = []
        try:
            left = self.live_uploads()
            if left:
                notes.append(f"{len(left)} upload(s) left behind (aborted now)")
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(lambda ku: self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=ku[0], UploadId=ku[1]), left))
            self.client.delete_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001 - report, do not hide the results
            notes.append(f"could not remove bucket {self.bucket}: {exc}")
        if self.local is not None:
            self.local.stop()
        return notes


def iter_uploads(client: Any, bucket: str, prefix: str = "") -> Any:
    """ListMultipartUploads, every page (KeyMarker + UploadIdMarker), one after another."""
    markers: dict[str, str] = {}
    while True:
        page = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix, MaxUploads=1000,
                                             **markers)
        for upload in page.get("Uploads", []):
            yield page, upload
        new = {"KeyMarker": page.get("NextKeyMarker") or "",
               "UploadIdMarker": page.get("NextUploadIdMarker") or ""}
        if not page.get("IsTruncated") or not page.get("Uploads") or new == markers:
            return
        markers = new


def create_uploads(server: Server, n: int, parts: int, part_size: int,
                   threads: int) -> tuple[float, int]:
    """N incomplete uploads of ``parts`` parts each, spread over 20 prefixes."""
    body = os.urandom(part_size)
    client = server.client

    def one(i: int) -> int:
        key = f"inv/{i % 20:02d}/object-{i:06d}.bin"
        upload_id = client.create_multipart_upload(Bucket=server.bucket, Key=key)["UploadId"]
        for number in range(1, parts + 1):
            client.upload_part(Bucket=server.bucket, Key=key, UploadId=upload_id,
                               PartNumber=number, Body=body)
        return parts

    started = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(threads) as pool:
        for i, _ in enumerate(pool.map(one, range(n)), 1):
            done = i
            if i % 500 == 0 or i == n:
                print(f"  created {i}/{n} uploads ({time.perf_counter() - started:.1f} s)",
                      file=sys.stderr, flush=True)
    return time.perf_counter() - started, done


def sequential_sized(client: Any, bucket: str) -> tuple[int, int, int]:
    uploads = parts = size = 0
    for _, u in iter_uploads(client, bucket):
        uploads += 1
        marker = 0
        while True:
            page = client.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"],
                                     MaxParts=1000, PartNumberMarker=marker)
            found = page.get("Parts", [])
            parts += len(found)
            size += sum(int(p["Size"]) for p in found)
            next_marker = int(page.get("NextPartNumberMarker") or 0)
            if not page.get("IsTruncated") or not found or next_marker <= marker:
                break
            marker = next_marker
    return uploads, parts, size


def sequential_unsized(client: Any, bucket: str) -> tuple[int, None, None]:
    return sum(1 for _ in iter_uploads(client, bucket)), None, None


def latency_probe(client: Any, bucket: str, n: int = 20) -> dict[str, float]:
    """Median ms of a bodiless answer (HeadBucket) and of one with a body (an empty
    ListMultipartUploads) on one kept-alive connection: a server that writes headers and body
    separately without TCP_NODELAY adds the client's delayed ACK (~40 ms) to the latter."""
    def median_ms(call: Callable[[], Any]) -> float:
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    return {"head_ms": median_ms(lambda: client.head_bucket(Bucket=bucket)),
            "list_ms": median_ms(lambda: client.list_multipart_uploads(
                Bucket=bucket, Prefix="warm-up/"))}


def timed(call: Callable[[], tuple[int, int | None, int | None]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        uploads, parts, size = call()
    except Exception as exc:  # noqa: BLE001 - one method failing must not stop the others
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    return {"status": "ok", "seconds": time.perf_counter() - started, "uploads": uploads,
            "parts": parts, "bytes": size}


def environment() -> dict[str, Any]:
    return common_environment(("s3fs", "aiobotocore", "botocore", "boto3", "fsspec", "pandas", "moto"))


def check(method: str, result: dict[str, Any], expected: tuple[int, int, int]) -> str | None:
    """Why ``result`` is wrong, or None."""
    if result["status"] != "ok":
        return result["error"]
    n, parts, size = expected
    if method == "s3fs":  # one page: at most 1000 (servers may answer fewer per page)
        return None if 0 < result["uploads"] <= n else f"{result['uploads']} uploads"
    got = (result["uploads"], result["parts"], result["bytes"])
    want = (n, parts, size) if method in ("mpu-sized", "seq-sized") else (n, None, None)
    return None if got == want else f"counted {got}, expected {want}"


def summarize(runs: dict[str, list[dict[str, Any]]],
              expected: tuple[int, int, int]) -> list[dict[str, Any]]:
    rows = []
    medians = {m: statistics.median(r["seconds"] for r in rs)
               for m, rs in runs.items() if rs and all(r["status"] == "ok" for r in rs)}
    for method, results in runs.items():
        label, baseline = METHODS[method]
        problems = [p for p in (check(method, r, expected) for r in results) if p]
        row: dict[str, Any] = {"method": method, "label": label, "runs": len(results),
                               "status": "FAILED: " + problems[0] if problems else "ok"}
        if method in medians:
            seconds = medians[method]
            last = results[-1]
            row.update(seconds=seconds, uploads_per_s=last["uploads"] / seconds,
                       uploads=last["uploads"], parts=last["parts"], bytes=last["bytes"],
                       speedup=(medians[baseline] / seconds
                                if baseline in medians else None))
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, Any]], n: int) -> str:
    from mpu_toolkit._plan.sizing import format_size

    header = ["method", "seconds", "uploads/s", "speed-up", "counted"]
    lines = [header]
    for r in rows:
        if "seconds" not in r:
            lines.append([r["label"], "-", "-", "-", r["status"]])
            continue
        if r["method"] == "s3fs":
            counted = f"{r['uploads']} of {n} uploads"
        elif r["parts"] is None:
            counted = f"{r['uploads']} uploads"
        else:
            counted = f"{r['uploads']} uploads, {r['parts']} parts, {format_size(r['bytes'])}"
        if r["status"] != "ok":
            counted += f"  {r['status']}"
        lines.append([r["label"], f"{r['seconds']:.2f}", f"{r['uploads_per_s']:,.0f}",
                      "-" if r["speedup"] is None else f"{r['speedup']:.1f}x", counted])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = [False, True, True, True, False]
    return "\n".join("  ".join(c.rjust(w) if rj else c.ljust(w)
                               for c, w, rj in zip(line, widths, right)).rstrip()
                     for line in lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    to_stdout = args.json == "-"
    out = sys.stderr if to_stdout else sys.stdout

    def say(*text: Any) -> None:
        print(*text, file=out, flush=True)

    from fsspec.asyn import sync

    import s3fs

    from mpu_toolkit import uploads
    from mpu_toolkit.fs import MPUFileSystem

    env = environment()
    say(describe_environment(env))
    server = Server(args)
    n, k, size = args.uploads, args.parts, args.part_size
    expected = (n, n * k, n * k * size)
    url = f"mpu://{server.bucket}"
    say(f"server: {server.name} at {server.endpoint}, bucket {server.bucket}")
    started = datetime.now()
    report: dict[str, Any] = {"started": started.isoformat(), "argv": sys.argv,
                              "server": server.name, "endpoint": server.endpoint,
                              "uploads": n, "parts": k, "part_size": size,
                              "repeat": args.repeat, "concurrency": args.concurrency,
                              "environment": env}
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in args.methods}
    failed = False
    try:
        say(f"\ncreating {n} incomplete uploads x {k} parts x {size} B "
            f"({args.create_threads} boto3 threads)")
        seconds, created = create_uploads(server, n, k, size, args.create_threads)
        report["create_seconds"] = seconds
        say(f"  {created} uploads, {created * (k + 1)} requests in {seconds:.1f} s "
            f"({created * (k + 1) / seconds:,.0f} requests/s)")

        # clients made and warmed before timing: connection setup is not what is measured
        fs = MPUFileSystem(**server.storage_options, skip_instance_cache=True)
        sequential = server.boto3_client()
        s3 = s3fs.S3FileSystem(**server.storage_options, skip_instance_cache=True)
        uploads.list(f"{url}/warm-up/", fs=fs)
        sequential.list_multipart_uploads(Bucket=server.bucket, Prefix="warm-up/")
        sync(s3.loop, s3._list_multipart_uploads, server.bucket)
        probe = report["latency_probe"] = latency_probe(sequential, server.bucket)
        say(f"server latency, one kept-alive connection: HeadBucket {probe['head_ms']:.1f} ms, "
            f"ListMultipartUploads (empty) {probe['list_ms']:.1f} ms (medians)")
        if probe["list_ms"] > 30 and probe["head_ms"] < 10:
            say("  note: answers with a body wait ~40 ms (server without TCP_NODELAY, client "
                "delayed ACK): every sequential request pays it, concurrent ones overlap it")

        def frame_counts(sizes: bool) -> tuple[int, int | None, int | None]:
            frame = uploads.list(url, sizes=sizes, concurrency=args.concurrency, fs=fs)
            if not sizes:
                return len(frame), None, None
            return len(frame), int(frame["parts"].sum()), int(frame["bytes"].sum())

        calls: dict[str, Callable[[], tuple[int, int | None, int | None]]] = {
            "mpu-sized": lambda: frame_counts(True),
            "mpu-unsized": lambda: frame_counts(False),
            "seq-sized": lambda: sequential_sized(sequential, server.bucket),
            "seq-unsized": lambda: sequential_unsized(sequential, server.bucket),
            "s3fs": lambda: (len(s3.list_multipart_uploads(server.bucket)), None, None),
        }
        order = list(args.methods)
        say(f"\ntiming, {args.repeat} repetition(s), interleaved:")
        for rep in range(args.repeat):
            for method in order[rep % len(order):] + order[:rep % len(order)]:
                result = timed(calls[method])
                result["repetition"] = rep + 1
                runs[method].append(result)
                problem = check(method, result, expected)
                say(f"  rep {rep + 1} {METHODS[method][0]:<46} " + (
                    f"{result['seconds']:7.2f} s  {result['uploads']} uploads"
                    if result["status"] == "ok" else "FAILED")
                    + (f"  WRONG: {problem}" if problem else ""))

        say(f"\naborting all with uploads.abort({url!r}, min_age=None)")
        abort_started = time.perf_counter()
        try:
            outcome = uploads.abort(url, min_age=None, fs=fs)
            abort = {"status": "ok", "seconds": time.perf_counter() - abort_started,
                     "outcomes": {str(o): int(c) for o, c in
                                  outcome["outcome"].value_counts().items()}}
        except Exception as exc:  # noqa: BLE001
            abort = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        left = len(server.live_uploads())
        abort["left_on_server"] = left
        report["abort"] = abort
        if abort["status"] != "ok" or abort["outcomes"] != {"aborted": n} or left:
            failed = True
    except KeyboardInterrupt:
        say("\ninterrupted: reporting what was measured")
        failed = True
    finally:
        report["cleanup"] = server.close(args.create_threads)
        for note in report["cleanup"]:
            say(f"cleanup: {note}")

    rows = summarize(runs, expected)
    report["summary"], report["runs"] = rows, runs
    failed = failed or any(r["status"] != "ok" for r in rows)
    load_after = os.getloadavg()
    report["loadavg_after"] = load_after
    say(f"\n== {n} incomplete uploads x {k} parts x {size} B, server {server.name}, median of "
        f"{args.repeat}, load average now {load_after[0]:.2f} ==")
    say(format_table(rows, n))
    say(f"speed-up: against the sequential boto3 run doing the same work (sized: LMU pages + "
        f"ListParts per upload; unsized: LMU pages). mpu sizes with {args.concurrency} "
        "ListParts in flight.")
    s3fs_rows = [r for r in rows if r["method"] == "s3fs" and "uploads" in r]
    if s3fs_rows:
        got = s3fs_rows[0]["uploads"]
        say(f"s3fs list_multipart_uploads returned {got} of {n} uploads: it reads the first "
            "page only and has no sizes" + (" (this server answered everything in one page)."
                                            if got == n else "."))
    abort = report.get("abort")
    if abort and abort["status"] == "ok":
        say(f"uploads.abort(min_age=None): {abort['seconds']:.2f} s for {n} uploads "
            f"({n / abort['seconds']:,.0f} uploads/s; a sized listing, then Abort + a "
            f"confirming ListParts each); outcomes {abort['outcomes']}; "
            f"{abort['left_on_server']} left on the server")
    elif abort:
        say(f"uploads.abort FAILED: {abort.get('error')}; "
            f"{abort['left_on_server']} left on the server")

    if to_stdout:
        json.dump(report, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        path = args.json or os.path.join(
            HERE, "results", f"inventory-{server.name}-{started:%Y%m%d-%H%M%S}.json")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(report, f, indent=1, default=str)
        say(f"\nresults: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
