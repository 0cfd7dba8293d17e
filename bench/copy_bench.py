"""Server-side copy benchmark: mpu_toolkit.copy/compose against s3fs, boto3 and obstore.

    python bench/copy_bench.py [--endpoint URL --key K --secret S] [--size 1GiB]
        [--repeats 3] [--shards 16] [--methods mpu,mpu-parts,s3fs,...] [--json out.json]

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server (mpu_toolkit.testing.local) is
started. One source object of --size fresh random bytes is written once with
``mpu_toolkit.open_writer`` (not timed), then every method copies it to a new key on the same
server, in the same run, interleaved (rep 1 of every method, then rep 2 ..., with a rotating
start so slow drift on a shared machine hits all alike):

* ``mpu``: ``mpu_toolkit.copy(src, dst)``, default ``copy_cutoff="auto"``: one CopyObject
  where the server shares data on copy (Ceph RGW), elsewhere concurrent UploadPartCopy above
  one 64 MiB part;
* ``mpu-parts``: ``copy(..., copy_cutoff=0, concurrency=8)``: UploadPartCopy, 64 MiB x 8;
* ``s3fs``: ``S3FileSystem.copy(src, dst)``: one CopyObject up to s3fs's
  ``MANAGED_COPY_THRESHOLD`` (150 MiB in s3fs 2026.9), above it UploadPartCopy of 50 MiB
  blocks, one after another;
* ``s3fs-managed``: that multipart path with mpu's part size: ``info`` then
  ``_copy_managed(block=64 MiB)``, one UploadPartCopy after another;
* ``boto3``: ``client.copy(...)``, s3transfer's managed copy (UploadPartCopy, 8 MiB x 10
  threads above its 8 MiB threshold);
* ``obstore``: ``obstore.copy(store, from_, to)`` (CopyObject), if obstore is installed.

Compose: the source is first split into --shards objects of uneven sizes, a couple under the
5 MiB part minimum (server-side, not timed), then ``mpu_toolkit.compose(shards, dst)`` is
timed against the usual way without it: s3fs ``cat_file`` of every shard written into one
s3fs ``open(dst, "wb")``.

Wall seconds, MB/s and client CPU seconds (``time.process_time``: every thread of this
process; the server runs elsewhere, the embedded moto in a child process) are medians over
the repetitions. Every result is HEAD-checked; the first of each method is also compared with
the source (byte ranges for copies; for composes the full MD5 up to 256 MiB, else ranges
around every shard boundary): a wrong object is FAILED, not timed. Clients are built and
connected before timing. Copies are deleted after their check; the source and shards at the
end. Results go to bench/results/copy-<server>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import sys
import time
from datetime import datetime
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import add_server_args, parse_size, settle  # noqa: E402
from bench_common import environment as common_environment  # noqa: E402
from bench_report import fmt_size, method_rows, save_report, text_table  # noqa: E402
from bench_writers import (_boto3_client, _obstore_prepare, _s3fs_prepare,  # noqa: E402
                           _storage_options)
from stream_bench import Server  # noqa: E402  (bucket for the run, boto3 client, cleanup)

MiB, GiB = 1024 * 1024, 1024 ** 3
COPY_PART = 64 * MiB      # mpu's copy part size and the block given to s3fs _copy_managed
S3TRANSFER_PART = 8 * MiB  # boto3 TransferConfig defaults: threshold and chunk size
FULL_MD5_MAX = 256 * MiB   # composes up to this size are checked by MD5 of the whole object

# name -> (group, label, settings note)
METHODS: dict[str, tuple[str, str, str]] = {
    "mpu": ("copy", "mpu copy() (auto)",
            "copy_cutoff='auto': CopyObject if the server copies by reference (RGW), else "
            "UploadPartCopy above 64 MiB, 64 MiB x 8"),
    "mpu-parts": ("copy", "mpu copy(copy_cutoff=0)",
                  "UploadPartCopy forced: part_size 64 MiB, concurrency 8"),
    "s3fs": ("copy", "s3fs copy()", "CopyObject up to s3fs.core.MANAGED_COPY_THRESHOLD, "
                                    "above: UploadPartCopy 50 MiB blocks, serial"),
    "s3fs-managed": ("copy", "s3fs _copy_managed",
                     "s3fs's multipart path: info + UploadPartCopy 64 MiB blocks, serial"),
    "boto3": ("copy", "boto3 client.copy",
              "s3transfer managed copy: UploadPartCopy 8 MiB x 10 threads above 8 MiB; "
              "Config(request_checksum_calculation/response_checksum_validation="
              "when_required)"),
    "obstore": ("copy", "obstore.copy", "one CopyObject (object_store)"),
    "mpu-compose": ("compose", "mpu compose()",
                    "server-side UploadPartCopy 64 MiB x 8; pieces under 5 MiB go through "
                    "the client with a neighbour"),
    "s3fs-cat": ("compose", "s3fs cat_file + open('wb')",
                 "every shard downloaded (cat_file) and written into one s3fs writer "
                 "(50 MiB parts, serial)"),
}
REFERENCE = {"copy": "mpu", "compose": "mpu-compose"}

# shard weights (two are replaced by small fixed shards); uneven on purpose
SHARD_WEIGHTS = [1.0, 2.5, 0.6, 1.8, 1.2, 3.0, 0.8, 1.5, 2.2, 0.7, 1.1, 2.0, 0.9, 1.6,
                 1.3, 0.5, 2.7, 1.9]
SMALL_SHARDS = (1 * MiB + 12345, 3 * MiB + 777)  # under the 5 MiB part minimum


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    p.add_argument("--size", default="1GiB", type=parse_size, help="source object (1GiB)")
    p.add_argument("--repeats", "--repeat", dest="repeats", default=3, type=int,
                   help="timed repetitions per method (median shown)")
    p.add_argument("--shards", default=16, type=int, help="compose sources (16)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"what to time (default all: {','.join(METHODS)})")
    p.add_argument("--pause", type=float, default=1.0,
                   help="seconds of rest between runs (server GC)")
    p.add_argument("--json", default=None, help="default bench/results/copy-<server>-<ts>.json")
    args = p.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    if not 2 < args.shards <= len(SHARD_WEIGHTS) + len(SMALL_SHARDS):
        p.error(f"--shards must be 3..{len(SHARD_WEIGHTS) + len(SMALL_SHARDS)}")
    if args.size < 2 * sum(SMALL_SHARDS):
        p.error(f"--size must be at least {fmt_size(2 * sum(SMALL_SHARDS))}")
    return args


# -- setup (not timed) -------------------------------------------------------------------------
def write_source(so: dict[str, Any], bucket: str, key: str, size: int) -> tuple[str, float]:
    """``size`` fresh random bytes (no repeating pattern, so a misplaced range cannot match)
    through mpu_toolkit.open_writer; returns (MD5 hex, seconds)."""
    import mpu_toolkit

    md5 = hashlib.md5()
    started = time.perf_counter()
    with mpu_toolkit.open_writer(f"mpu://{bucket}/{key}", storage_options=so) as f:
        left = size
        while left:
            chunk = os.urandom(min(MiB, left))
            md5.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return md5.hexdigest(), time.perf_counter() - started


def shard_sizes(size: int, n: int) -> list[int]:
    """``n`` uneven sizes summing to ``size``: two small ones (under 5 MiB) at 1/4 and 2/3
    of the list, the rest by SHARD_WEIGHTS, none of them MiB-aligned."""
    small = list(SMALL_SHARDS)
    weights = SHARD_WEIGHTS[:n - len(small)]
    rest = size - sum(small)
    sizes = [max(1, int(rest * w / sum(weights))) for w in weights]
    sizes[-1] += rest - sum(sizes)
    sizes.insert(n // 4, small[0])
    sizes.insert(2 * n // 3, small[1])
    assert sum(sizes) == size and len(sizes) == n and min(sizes) > 0, sizes
    return sizes


def make_shards(server: Server, source: str, sizes: list[int]) -> list[str]:
    """Each shard is a range of the source, copied on the server as a one-part upload."""
    keys, offset = [], 0
    for i, n in enumerate(sizes):
        key = f"shards/shard-{i:02d}.bin"
        up = server.client.create_multipart_upload(Bucket=server.bucket, Key=key)["UploadId"]
        try:
            part = server.client.upload_part_copy(
                Bucket=server.bucket, Key=key, UploadId=up, PartNumber=1,
                CopySource={"Bucket": server.bucket, "Key": source},
                CopySourceRange=f"bytes={offset}-{offset + n - 1}")
            server.client.complete_multipart_upload(
                Bucket=server.bucket, Key=key, UploadId=up, MultipartUpload={"Parts": [
                    {"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
        except BaseException:
            server.client.abort_multipart_upload(Bucket=server.bucket, Key=key, UploadId=up)
            raise
        got = server.head(key)["ContentLength"]
        if got != n:
            raise SystemExit(f"setup failed: shard {key} has {got:,} bytes, expected {n:,}")
        keys.append(key)
        offset += n
    return keys


# -- checks (not timed) ------------------------------------------------------------------------
def get_range(server: Server, key: str, first: int, last: int) -> bytes:
    return server.client.get_object(Bucket=server.bucket, Key=key,
                                    Range=f"bytes={first}-{last}")["Body"].read()


def compare_ranges(server: Server, source: str, key: str,
                   ranges: list[tuple[int, int]]) -> str | None:
    for first, last in ranges:
        if get_range(server, key, first, last) != get_range(server, source, first, last):
            return f"bytes {first:,}-{last:,} differ from the source"
    return None


def copy_ranges_to_check(size: int, length: int = MiB) -> list[tuple[int, int]]:
    """Start, end, and a few places between (not MiB-aligned), ``length`` bytes each."""
    starts = {0, max(0, size - length)} | {int(size * f) for f in (0.13, 0.37, 0.61, 0.89)}
    return sorted((s, min(size, s + length) - 1) for s in starts if s < size)


def boundary_ranges(sizes: list[int], size: int, around: int = 4096) -> list[tuple[int, int]]:
    """A window around every shard boundary, plus the first and the last bytes."""
    ranges = [(0, min(size, around) - 1), (max(0, size - around), size - 1)]
    offset = 0
    for n in sizes[:-1]:
        offset += n
        ranges.append((max(0, offset - around), min(size, offset + around) - 1))
    return ranges


def full_md5(server: Server, key: str) -> str:
    md5 = hashlib.md5()
    body = server.client.get_object(Bucket=server.bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(8 * MiB), b""):
        md5.update(chunk)
    return md5.hexdigest()


def verify(server: Server, ctx: dict[str, Any], method: str, key: str, content: bool
           ) -> tuple[str | None, dict[str, Any]]:
    """(why ``key`` is wrong or None, what HEAD said)."""
    head = server.head(key)
    facts = {"server_size": head["ContentLength"], "server_etag": head.get("ETag", "").strip('"')}
    if head["ContentLength"] != ctx["size"]:
        return f"object has {head['ContentLength']:,} bytes, expected {ctx['size']:,}", facts
    if not content:
        return None, facts
    if METHODS[method][0] == "copy":
        facts["checked"] = "size + 6 ranges of 1 MiB"
        return compare_ranges(server, ctx["source"], key, copy_ranges_to_check(ctx["size"])), facts
    if ctx["size"] <= FULL_MD5_MAX:
        facts["checked"] = "size + MD5 of the whole object"
        got = full_md5(server, key)
        return (None if got == ctx["md5"] else f"MD5 {got} != source {ctx['md5']}"), facts
    facts["checked"] = f"size + {len(ctx['shard_sizes']) + 1} ranges at the shard boundaries"
    return compare_ranges(server, ctx["source"], key,
                          boundary_ranges(ctx["shard_sizes"], ctx["size"])), facts


# -- the methods -------------------------------------------------------------------------------
def build_calls(server: Server, spec: dict[str, Any], ctx: dict[str, Any],
                methods: list[str]) -> dict[str, Callable[[str], dict[str, Any]]]:
    """Clients built and warmed (one request each) now; each call copies to ``dst``."""
    import mpu_toolkit
    from mpu_toolkit.fs import MPUFileSystem

    bucket, src, size = server.bucket, ctx["source"], ctx["size"]
    so = _storage_options(spec)
    src_url = f"mpu://{bucket}/{src}"
    shard_urls = [f"mpu://{bucket}/{k}" for k in ctx["shards"]]
    calls: dict[str, Callable[[str], dict[str, Any]]] = {}

    mpu_fs = MPUFileSystem(**so)  # what copy()/compose() build: fsspec caches the instance
    mpu_fs.connect()
    assert MPUFileSystem(**so) is mpu_fs, "fsspec instance cache missed"
    mpu_fs.info(src_url)

    def mpu_result(result: Any) -> dict[str, Any]:
        return {"how": f"{result.method} ({result.parts} part{'s' * (result.parts > 1)})",
                "bytes_uploaded": result.bytes_uploaded, "bytes_copied": result.bytes_copied,
                "library_seconds": result.seconds}

    calls["mpu"] = lambda dst: mpu_result(mpu_toolkit.copy(
        src_url, f"mpu://{bucket}/{dst}", storage_options=so))
    calls["mpu-parts"] = lambda dst: mpu_result(mpu_toolkit.copy(
        src_url, f"mpu://{bucket}/{dst}", storage_options=so, copy_cutoff=0,
        part_size=COPY_PART, concurrency=8))
    calls["mpu-compose"] = lambda dst: mpu_result(mpu_toolkit.compose(
        shard_urls, f"mpu://{bucket}/{dst}", storage_options=so))

    if {"s3fs", "s3fs-managed", "s3fs-cat"} & set(methods):
        from fsspec.asyn import sync

        s3 = _s3fs_prepare(spec)
        s3.info(f"{bucket}/{src}")

        def s3fs_copy(dst: str) -> dict[str, Any]:
            from s3fs.core import MANAGED_COPY_THRESHOLD

            s3.copy(f"{bucket}/{src}", f"{bucket}/{dst}")
            if size <= MANAGED_COPY_THRESHOLD:
                return {"how": "CopyObject", "bytes_uploaded": 0}
            parts = math.ceil(size / (50 * MiB))  # s3fs _copy_managed's default block
            return {"how": f"UploadPartCopy ({parts} parts, serial)", "bytes_uploaded": 0}

        def s3fs_managed(dst: str) -> dict[str, Any]:
            n = s3.info(f"{bucket}/{src}")["size"]  # as s3fs's _cp_file does first
            sync(s3.loop, s3._copy_managed, f"{bucket}/{src}", f"{bucket}/{dst}", n,
                 block=COPY_PART)
            parts = math.ceil(n / COPY_PART)
            return {"how": f"UploadPartCopy ({parts} part{'s' * (parts > 1)}, serial)",
                    "bytes_uploaded": 0}

        def s3fs_cat(dst: str) -> dict[str, Any]:
            with s3.open(f"{bucket}/{dst}", "wb") as out:
                for key in ctx["shards"]:
                    out.write(s3.cat_file(f"{bucket}/{key}"))
            return {"how": f"GetObject x {len(ctx['shards'])} + multipart upload",
                    "bytes_uploaded": size}

        calls.update({"s3fs": s3fs_copy, "s3fs-managed": s3fs_managed, "s3fs-cat": s3fs_cat})

    if "boto3" in methods:
        from boto3.s3.transfer import TransferConfig

        client = _boto3_client(spec)
        client.head_object(Bucket=bucket, Key=src)
        config = TransferConfig()  # the default client.copy() uses

        def boto3_copy(dst: str) -> dict[str, Any]:
            client.copy({"Bucket": bucket, "Key": src}, bucket, dst, Config=config)
            multipart = size >= config.multipart_threshold
            return {"how": (f"UploadPartCopy ({math.ceil(size / config.multipart_chunksize)} "
                            f"parts x {config.max_request_concurrency} threads)"
                            if multipart else "CopyObject"), "bytes_uploaded": 0}

        calls["boto3"] = boto3_copy

    if "obstore" in methods:
        try:
            import obstore
        except ImportError:
            ctx["skipped"]["obstore"] = "obstore is not installed"
        else:
            store = _obstore_prepare(False)(spec)
            obstore.head(store, src)

            def obstore_copy(dst: str) -> dict[str, Any]:
                obstore.copy(store, src, dst)
                return {"how": "CopyObject", "bytes_uploaded": 0}

            calls["obstore"] = obstore_copy
    return calls


def timed(call: Callable[[str], dict[str, Any]], dst: str) -> dict[str, Any]:
    gc.collect()
    cpu, started = time.process_time(), time.perf_counter()
    try:
        facts = call(dst)
    except Exception as exc:  # noqa: BLE001 - one method failing must not stop the others
        return {"status": "FAILED", "error": f"{type(exc).__name__}: {exc}"[:500]}
    seconds = time.perf_counter() - started
    return {"status": "ok", "seconds": seconds, "cpu_s": time.process_time() - cpu, **facts}


def run_one(server: Server, ctx: dict[str, Any], calls: dict[str, Any], method: str,
            rep: int, check_content: bool, pause: float) -> dict[str, Any]:
    key = f"copies/{method}/rep{rep}-{time.time_ns()}.bin"
    load_before = os.getloadavg()[0]
    result = timed(calls[method], key)
    result.update(method=method, repetition=rep, object_key=key, loadavg_before=load_before,
                  loadavg_after=os.getloadavg()[0])
    if result["status"] == "ok":
        result["mb_per_s"] = ctx["size"] / result["seconds"] / 1e6

    def check() -> str | None:
        problem, facts = verify(server, ctx, method, key, check_content)
        result.update(facts)
        return problem

    return settle(result, check, lambda: server.cleanup(key), pause)


def describe(r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return f"FAILED: {str(r.get('error'))[:200]}"
    return (f"{r['seconds']:7.3f} s {r['mb_per_s']:8.0f} MB/s {r['cpu_s']:6.2f} CPU-s  "
            f"{r['how']}" + (f"  [checked: {r['checked']}]" if r.get("checked") else ""))


# -- report ------------------------------------------------------------------------------------
def summarize(methods: list[str], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return method_rows(methods, runs, METHODS, REFERENCE, ("seconds", "mb_per_s", "cpu_s"),
                       ("how", "bytes_uploaded"))


def format_table(rows: list[dict[str, Any]], ref: str) -> str:
    lines = [["method", "ok", "seconds", "MB/s", "CPU-s", f"speed x {ref}", "client bytes",
              "requests"]]
    for r in rows:
        ok = f"{r['ok']}/{r['runs']}"
        if r.get("seconds") is None:
            lines.append([r["label"], ok, "-", "-", "-", "-", "-", "-"])
            continue
        lines.append([r["label"], ok, f"{r['seconds']:.3f}", f"{r['mb_per_s']:,.0f}",
                      f"{r['cpu_s']:.2f}", "-" if r["speed"] is None else f"{r['speed']:.2f}",
                      fmt_size(r["bytes_uploaded"]), r["how"]])
    return text_table(lines, [False, True, True, True, True, True, True, False], rows)


LEGEND = (
    "seconds = wall time of the call (median); MB/s = object bytes / seconds / 1e6; CPU-s =\n"
    "user+sys of this client process over the call, all threads (time.process_time, median);\n"
    "speed x = reference seconds / these seconds (>1: faster than mpu); client bytes = bytes\n"
    "uploaded by the client (as many were downloaded first), the rest moved on the server.\n"
    "A CopyObject on a server that shares data on copy (Ceph RGW) moves no bytes: its MB/s is\n"
    "the object size over a few requests' latency (mpu: HEAD, CopyObject, HEAD to check).")


def environment() -> dict[str, Any]:
    return common_environment(("s3fs", "aiobotocore", "botocore", "boto3", "s3transfer",
                               "obstore", "fsspec", "moto"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = environment()
    server = Server.announced(args, env)
    spec = server.spec(args.region)
    size = args.size
    ctx: dict[str, Any] = {"size": size, "source": f"source/source-{size}.bin", "shards": [],
                           "shard_sizes": [], "skipped": {}}
    runs: list[dict[str, Any]] = []
    started = datetime.now()
    report: dict[str, Any] = {"started": started.isoformat(), "argv": sys.argv,
                              "server": server.name, "endpoint": server.endpoint, "size": size,
                              "repeats": args.repeats, "environment": env,
                              "settings": {m: METHODS[m][2] for m in args.methods}}
    failed = False
    try:
        ctx["md5"], seconds = write_source(_storage_options(spec), server.bucket,
                                           ctx["source"], size)
        report["source"] = {"key": ctx["source"], "md5": ctx["md5"], "write_seconds": seconds,
                            "etag": server.head(ctx["source"]).get("ETag")}
        print(f"source: {fmt_size(size)} of random bytes written with open_writer in "
              f"{seconds:.1f} s (not timed below)")
        if any(METHODS[m][0] == "compose" for m in args.methods):
            ctx["shard_sizes"] = shard_sizes(size, args.shards)
            t0 = time.perf_counter()
            ctx["shards"] = make_shards(server, ctx["source"], ctx["shard_sizes"])
            report["shard_sizes"] = ctx["shard_sizes"]
            print(f"compose sources: {args.shards} shards of the source, split on the server in "
                  f"{time.perf_counter() - t0:.1f} s (not timed): "
                  + ", ".join(fmt_size(n) for n in ctx["shard_sizes"]))
        calls = build_calls(server, spec, ctx, args.methods)
        for method, why in ctx["skipped"].items():
            print(f"skipped {method}: {why}")
        methods = [m for m in args.methods if m in calls]
        print(f"\ntiming, {args.repeats} repetition(s), interleaved:")
        checked: set[str] = set()
        for rep in range(1, args.repeats + 1):
            k = (rep - 1) % len(methods)
            for method in methods[k:] + methods[:k]:
                result = run_one(server, ctx, calls, method, rep, method not in checked,
                                 args.pause)
                if result["status"] == "ok" and result.get("checked"):
                    checked.add(method)
                runs.append(result)
                print(f"  rep {rep} {METHODS[method][1]:<26} {describe(result)}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured")
        failed = True
        methods = [m for m in args.methods if any(r["method"] == m for r in runs)]
    finally:
        server.close()  # deletes what is left (source, shards), aborts uploads, the bucket

    rows = summarize(methods, runs)
    load_after = os.getloadavg()
    report.update(summary=rows, runs=runs, skipped=ctx["skipped"], loadavg_after=load_after)
    for group, title in (("copy", f"copy of one {fmt_size(size)} object"),
                         ("compose", f"compose of {args.shards} shards into "
                                     f"{fmt_size(size)}")):
        mine = [r for r in rows if r["group"] == group]
        if mine:
            print(f"\n== {title}, server {server.name}, median of {args.repeats}, "
                  f"load average now {load_after[0]:.2f} ==")
            print(format_table(mine, REFERENCE[group]))
    print(LEGEND)
    print("Settings:")
    for method in methods:
        print(f"  {method:<13} {METHODS[method][2]}")
    save_report(report, args.json, os.path.join(HERE, "results"),
                f"copy-{server.name}", started)
    failed = failed or any(r["status"] != "ok" for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
