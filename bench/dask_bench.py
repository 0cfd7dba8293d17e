"""Dask benchmark: ONE CSV object from 8 partitions (to_single_object) against one pandas process.

    python bench/dask_bench.py [--endpoint URL --key K --secret S] [--rows 5800000]
        [--repeats 3] [--partitions 8] [--no-gzip] [--pandas-gzip-level N] [--json out.json]
    python bench/dask_bench.py parquet [...]   # Parquet: one object, job-committed datasets
                                               # (bench/dask_parquet_bench.py)

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server (mpu_toolkit.testing.local) is
started. The same data (mixed columns: int64 ``id``, float ``value``, a string ``category``,
a millisecond timestamp ``ts``; index = global row number) is written as one object by:

* ``dask``: ``mpu_toolkit.to_single_object(ddf, "mpu://bucket/key.csv")`` on a
  ``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``; ``ddf`` is
  ``dd.from_map(make_partition, ...)``, so the partitions are generated ON the workers, inside
  the timed call (numpy ``default_rng(seed=partition)``: nothing big goes through the graph);
* ``dask-persisted``: the same call on ``ddf.persist()`` (persisted and waited for before
  timing, held in worker memory): the write cost alone;
* ``pandas-mpu``: ``df.to_csv("mpu://bucket/key.csv", storage_options=so)`` in this process;
* ``pandas-s3fs``: ``df.to_csv("s3://bucket/key.csv", storage_options=so)``, plain s3fs with
  ``config_kwargs`` request/response checksums "when_required" (as bench_writers.py's s3fs);

and, unless --no-gzip, the same four as ``.csv.gz`` (to_single_object: gzip level 4, libdeflate, one
gzip member per partition; pandas: ``compression="gzip"``, i.e. ``gzip.GzipFile``'s level 9
unless --pandas-gzip-level). ``df`` is the concatenation of the same 8 partitions, built
locally before timing, so every method writes identical CSV text.

--rows defaults to 5,800,000 rows: about 400 MB of CSV (~69 bytes a row); ``--rows 580000``
gives ~40 MB. Methods run interleaved (rep 1 of every method, then rep 2 ..., with a rotating
start); only the write call is timed; medians are reported. Checks: every object's HEAD size
(plain CSV: equal to the local ``df.to_csv()`` size, hence equal across methods); the first
object of each dask method is downloaded and its MD5 compared with that of
``df.to_csv().encode()`` (computed locally by streaming ``df.to_csv`` into an MD5, same bytes
without holding them); every gzip method's first object is decompressed and compared the same
way. A failed check is FAILED (exit code 1). The cluster, every object, every upload left and
the bucket are removed at the end. Results go to bench/results/dask-<server>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import os
import sys
import time
import zlib
from datetime import datetime
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import add_server_args, parse_size, settle  # noqa: E402
from bench_report import fmt_size, method_rows, save_report, text_table  # noqa: E402
from bench_writers import BOTO_CHECKSUMS_OFF, _storage_options  # noqa: E402
from dask_common import (dask_frame, environment, pandas_frame, partition_bounds,  # noqa: E402
                         warm_worker)
from stream_bench import Server  # noqa: E402  (bucket for the run, boto3 client, cleanup)

MiB = 1024 * 1024
DEFAULT_ROWS = 5_800_000   # ~400 MB of CSV at ~69 bytes a row

# name -> (group, label, settings note)
METHODS: dict[str, tuple[str, str, str]] = {
    "dask": ("csv", "dask to_single_object",
             "to_single_object(ddf, 'mpu://...csv'), part_size --part-size; timed call "
             "INCLUDES generating the partitions on the workers"),
    "dask-persisted": ("csv", "dask to_single_object (persisted)",
                       "the same on ddf.persist() (partitions already in worker memory): "
                       "render + upload only"),
    "pandas-mpu": ("csv", "pandas to_csv mpu://",
                   "df.to_csv('mpu://...', storage_options=so): pandas renders, mpu's writer "
                   "uploads (its defaults: Content-MD5 per part, concurrent parts)"),
    "pandas-s3fs": ("csv", "pandas to_csv s3:// (s3fs)",
                    "df.to_csv('s3://...', storage_options=so + config_kwargs checksums "
                    "when_required): s3fs 50 MiB blocks, uploaded as written (serial)"),
    "dask-gz": ("gzip", "dask to_single_object",
                "to_single_object(ddf, 'mpu://...csv.gz'): gzip level 4 (libdeflate) on the workers, one "
                "member per partition; INCLUDES generating the partitions"),
    "dask-persisted-gz": ("gzip", "dask to_single_object (persisted)",
                          "the same on the persisted frame"),
    "pandas-mpu-gz": ("gzip", "pandas to_csv mpu:// gzip",
                      "df.to_csv('mpu://...csv.gz', compression='gzip'): pandas' GzipFile "
                      "(level 9 by default), one process"),
    "pandas-s3fs-gz": ("gzip", "pandas to_csv s3:// gzip",
                       "df.to_csv('s3://...csv.gz', compression='gzip') through s3fs "
                       "(checksums when_required), one process"),
}
REFERENCE = {"csv": "pandas-s3fs", "gzip": "pandas-s3fs-gz"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                   help=f"rows in all (default {DEFAULT_ROWS:,}: ~400 MB of CSV; "
                        "580000: ~40 MB)")
    p.add_argument("--repeats", "--repeat", dest="repeats", default=3, type=int,
                   help="timed repetitions per method (median shown)")
    p.add_argument("--partitions", type=int, default=8, help="Dask partitions (8)")
    p.add_argument("--part-size", default="16MiB", type=parse_size,
                   help="to_single_object's part_size (16MiB, its default)")
    p.add_argument("--no-gzip", dest="gzip", action="store_false",
                   help="skip the .csv.gz variant")
    p.add_argument("--pandas-gzip-level", type=int, default=None,
                   help="compresslevel for pandas' gzip (default: pandas', i.e. 9)")
    p.add_argument("--pause", type=float, default=1.0,
                   help="seconds of rest between runs (server GC)")
    p.add_argument("--json", default=None, help="default bench/results/dask-<server>-<ts>.json")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    if args.partitions < 1 or args.rows < args.partitions:
        p.error("need --partitions >= 1 and --rows >= --partitions")
    args.methods = [m for m in METHODS if args.gzip or METHODS[m][0] != "gzip"]
    return args


class _Digest(io.TextIOBase):
    """A text sink for ``df.to_csv``: the MD5 and length of what ``df.to_csv().encode()``
    returns, without holding the text."""

    def __init__(self) -> None:
        super().__init__()
        self.md5, self.size = hashlib.md5(), 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
        data = text.encode("utf-8")
        self.md5.update(data)
        self.size += len(data)
        return len(text)


def reference(df: Any) -> tuple[str, int]:
    sink = _Digest()
    df.to_csv(sink)
    return sink.md5.hexdigest(), sink.size


# -- workers ---------------------------------------------------------------------------------
def _worker_dtypes(ddf: Any) -> str:
    return ", ".join(f"{k} {v}" for k, v in ddf.partitions[0].head(1, compute=True)
                     .dtypes.astype(str).items())


def client_share(total: int, pieces: int, part_size: int) -> float:
    """About how much of ``total`` bytes in ``pieces`` equal partitions to_single_object
    returns to the client (mpu_toolkit.assembly's layout: the 5 MiB part minimum)."""
    from mpu_toolkit._plan.assembly import layout_piece

    size = total // pieces
    return sum(layout_piece(i, pieces, size, part_size).kept for i in range(pieces)) / max(
        1, size * pieces)


def worker_cpu(client: Any) -> float:
    return sum(client.run(time.process_time).values())


# -- checks (not timed) ------------------------------------------------------------------------
def object_md5(server: Server, key: str, gunzip: bool) -> tuple[str, int]:
    """MD5 and length of the object's bytes, or of its decompressed bytes (every member)."""
    md5, size = hashlib.md5(), 0
    body = server.client.get_object(Bucket=server.bucket, Key=key)["Body"]
    unzip = zlib.decompressobj(16 + zlib.MAX_WBITS) if gunzip else None
    for chunk in iter(lambda: body.read(8 * MiB), b""):
        while unzip is not None and chunk:
            out = unzip.decompress(chunk)
            md5.update(out)
            size += len(out)
            chunk = b""
            if unzip.eof:  # the next gzip member starts in unused_data
                chunk = unzip.unused_data
                unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if unzip is None:
            md5.update(chunk)
            size += len(chunk)
    if unzip is not None:
        tail = unzip.flush()
        md5.update(tail)
        size += len(tail)
    return md5.hexdigest(), size


def verify(server: Server, ctx: dict[str, Any], method: str, key: str, content: bool,
           result: dict[str, Any]) -> str | None:
    """Why the object at ``key`` is wrong, or None; facts go into ``result``."""
    group = METHODS[method][0]
    head = server.head(key)
    etag = head.get("ETag", "").strip('"')
    result.update(server_size=head["ContentLength"], server_etag=etag,
                  parts=int(etag.rsplit("-", 1)[1]) if "-" in etag else 1)
    if "rows" in result and result["rows"] != ctx["rows"]:
        return f"to_single_object reports {result['rows']:,} rows, expected {ctx['rows']:,}"
    if "result_bytes" in result and result["result_bytes"] != head["ContentLength"]:
        return f"result.bytes {result['result_bytes']:,} != HEAD {head['ContentLength']:,}"
    if group == "csv" and head["ContentLength"] != ctx["csv_size"]:
        return f"object has {head['ContentLength']:,} bytes, df.to_csv() has {ctx['csv_size']:,}"
    if group == "gzip" and not head["ContentLength"]:
        return "empty object"
    if not content:
        result["checked"] = "HEAD size"
        return None
    md5, size = object_md5(server, key, gunzip=group == "gzip")
    what = "decompressed " if group == "gzip" else ""
    result["checked"] = f"HEAD size + MD5 of the {what}object = MD5 of df.to_csv()"
    if (md5, size) != (ctx["csv_md5"], ctx["csv_size"]):
        return (f"{what}object MD5 {md5} ({size:,} B) != df.to_csv() MD5 {ctx['csv_md5']} "
                f"({ctx['csv_size']:,} B)")
    return None


# -- the methods -------------------------------------------------------------------------------
def build_calls(server: Server, args: argparse.Namespace, so: dict[str, Any],
                frames: dict[str, Any]) -> dict[str, Callable[[str], dict[str, Any]]]:
    """Each call writes to ``key`` in the bucket and returns facts; clients already warm."""
    import s3fs

    import mpu_toolkit
    from mpu_toolkit import MPUFileSystem

    bucket, df = server.bucket, frames["pandas"]
    s3so = {**so, "config_kwargs": dict(BOTO_CHECKSUMS_OFF)}
    # what pandas' fsspec.open builds from these options (fsspec caches instances): connect
    # now so that client construction stays outside the timed window
    MPUFileSystem(**so).connect()
    fs = s3fs.S3FileSystem(**s3so)
    fs.connect()
    fs.ls(bucket)
    gz: Any = "gzip" if args.pandas_gzip_level is None else {
        "method": "gzip", "compresslevel": args.pandas_gzip_level}

    def dask_call(which: str) -> Callable[[str], dict[str, Any]]:
        def call(key: str) -> dict[str, Any]:
            r = mpu_toolkit.to_single_object(frames[which], f"mpu://{bucket}/{key}",
                                             storage_options=so, part_size=args.part_size)
            return {"rows": r.rows, "result_bytes": r.bytes, "library_seconds": r.seconds}
        return call

    def pandas_call(scheme: str, options: dict[str, Any], compression: Any
                    ) -> Callable[[str], dict[str, Any]]:
        def call(key: str) -> dict[str, Any]:
            df.to_csv(f"{scheme}://{bucket}/{key}", storage_options=options,
                      compression=compression)
            return {}
        return call

    return {
        "dask": dask_call("dask"), "dask-persisted": dask_call("persisted"),
        "pandas-mpu": pandas_call("mpu", so, None), "pandas-s3fs": pandas_call("s3", s3so, None),
        "dask-gz": dask_call("dask"), "dask-persisted-gz": dask_call("persisted"),
        "pandas-mpu-gz": pandas_call("mpu", so, gz), "pandas-s3fs-gz": pandas_call("s3", s3so, gz),
    }


def run_one(server: Server, ctx: dict[str, Any], calls: dict[str, Any], client: Any,
            method: str, rep: int, check_content: bool, pause: float) -> dict[str, Any]:
    group = METHODS[method][0]
    key = f"frames/{method}/rep{rep}-{time.time_ns()}.csv" + (".gz" if group == "gzip" else "")
    is_dask = method.startswith("dask")
    result: dict[str, Any] = {"method": method, "repetition": rep, "object_key": key,
                              "loadavg_before": os.getloadavg()[0]}
    gc.collect()
    workers_before = worker_cpu(client) if is_dask else None
    cpu, started = time.process_time(), time.perf_counter()
    try:
        facts = calls[method](key)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        result.update(status="ok", seconds=seconds, cpu_s=cpu_s,
                      mb_per_s=ctx["csv_size"] / seconds / 1e6, **facts)
        if workers_before is not None:
            result["worker_cpu_s"] = worker_cpu(client) - workers_before
    except Exception as exc:  # noqa: BLE001 - one method failing must not stop the others
        result.update(status="FAILED", error=f"{type(exc).__name__}: {exc}"[:500])
    result["loadavg_after"] = os.getloadavg()[0]
    return settle(result, lambda: verify(server, ctx, method, key, check_content, result),
                  lambda: server.cleanup(key), pause)


def describe(r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return f"FAILED: {str(r.get('error'))[:300]}"
    workers = f" + workers {r['worker_cpu_s']:6.2f}" if "worker_cpu_s" in r else ""
    return (f"{r['seconds']:7.2f} s {r['mb_per_s']:7.1f} MB/s  CPU-s client {r['cpu_s']:6.2f}"
            f"{workers}  {fmt_size(r['server_size'])} in {r['parts']} part(s)  "
            f"[{r['checked']}]")


# -- report ------------------------------------------------------------------------------------
def summarize(methods: list[str], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return method_rows(methods, runs, METHODS, REFERENCE,
                       ("seconds", "mb_per_s", "cpu_s", "worker_cpu_s"),
                       ("server_size", "parts"))


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [["method", "ok", "seconds", "MB/s", "client CPU-s", "worker CPU-s",
              "speed x s3fs", "object", "parts"]]
    for r in rows:
        ok = f"{r['ok']}/{r['runs']}"
        if r.get("seconds") is None:
            lines.append([r["label"], ok] + ["-"] * 7)
            continue
        lines.append([r["label"], ok, f"{r['seconds']:.2f}", f"{r['mb_per_s']:,.1f}",
                      f"{r['cpu_s']:.2f}",
                      "-" if r.get("worker_cpu_s") is None else f"{r['worker_cpu_s']:.2f}",
                      "-" if r["speed"] is None else f"{r['speed']:.2f}",
                      fmt_size(r["server_size"]), str(r["parts"])])
    return text_table(lines, [False] + [True] * 8, rows)


LEGEND = (
    "seconds = wall time of the write call alone (median). For 'dask to_single_object' that\n"
    "call INCLUDES computing the partitions on the workers (numpy generation, as from_map\n"
    "makes them), which the pandas rows do not pay (their frame is built beforehand); the\n"
    "'(persisted)' row is the same call on partitions already in worker memory: the pure\n"
    "write cost. Workers upload all but each partition's first 5 MiB (the part minimum; a\n"
    "partition under 10 MiB is kept whole): the client joins and uploads those, so with small\n"
    "partitions most bytes go through the client (share printed above the timings).\n"
    "MB/s = bytes of uncompressed CSV (df.to_csv()) / seconds / 1e6, for gzip too.\n"
    "client CPU-s = user+sys of this process over the call, all threads (time.process_time):\n"
    "pandas rendering + upload here; for dask the client and the LocalCluster scheduler (it\n"
    "runs in this process). worker CPU-s = the 2 worker processes' CPU over the call\n"
    "(rendering, gzip, uploads). speed x s3fs = pandas -> s3fs seconds / these seconds (>1:\n"
    "faster than what people do today). object = size on the server (HEAD); parts = from\n"
    "its ETag. The S3 server runs in its own process (moto) or elsewhere (RGW).")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["parquet"]:
        from dask_parquet_bench import main as parquet_main

        return parquet_main(argv[1:])
    args = parse_args(argv)
    env = environment()
    server = Server.announced(args, env)
    spec = server.spec(args.region)
    so = _storage_options(spec)
    bounds = partition_bounds(args.rows, args.partitions)
    runs: list[dict[str, Any]] = []
    started = datetime.now()
    report: dict[str, Any] = {"started": started.isoformat(), "argv": sys.argv,
                              "server": server.name, "endpoint": server.endpoint,
                              "rows": args.rows, "partitions": args.partitions,
                              "part_size": args.part_size, "repeats": args.repeats,
                              "environment": env,
                              "settings": {m: METHODS[m][2] for m in args.methods}}
    methods = list(args.methods)
    ctx: dict[str, Any] = {"rows": args.rows}
    failed = False
    cluster = client = None
    try:
        import dask
        from distributed import Client, LocalCluster, wait

        # pandas' own string dtype on the workers too (no conversion to pyarrow strings), so
        # both sides render identical frames; set before the cluster so the workers get it
        dask.config.set({"dataframe.convert-string": False})
        t0 = time.perf_counter()
        frames: dict[str, Any] = {"pandas": pandas_frame(bounds)}
        generate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ctx["csv_md5"], ctx["csv_size"] = reference(frames["pandas"])
        reference_s = time.perf_counter() - t0
        report["reference"] = {"md5": ctx["csv_md5"], "csv_bytes": ctx["csv_size"],
                               "generate_seconds": generate_s, "render_seconds": reference_s}
        print(f"data: {args.rows:,} rows x {args.partitions} partitions, "
              f"{ctx['csv_size']:,} bytes of CSV ({ctx['csv_size'] / args.rows:.1f} B/row, "
              f"{fmt_size(ctx['csv_size'])}); generated here in {generate_s:.1f} s, "
              f"df.to_csv() rendered for its MD5 in {reference_s:.1f} s (neither timed)")
        via_client = client_share(ctx["csv_size"], args.partitions, args.part_size)
        report["reference"]["client_share_plain"] = via_client
        print(f"to_single_object, plain CSV: ~{fmt_size(ctx['csv_size'] // args.partitions)} "
              f"a partition; each keeps its first 5 MiB (all of it under 10 MiB) for the "
              f"client to join and upload: ~{via_client:.0%} of the bytes go through the "
              f"client, the rest is uploaded by the workers")

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
        client.run(warm_worker, so)
        frames["dask"] = dask_frame(bounds)
        frames["persisted"] = frames["dask"].persist()
        wait(frames["persisted"])
        dtypes = _worker_dtypes(frames["persisted"])
        print(f"cluster: LocalCluster 2 worker processes x 1 thread, scheduler in this "
              f"process; started, warmed and {args.partitions} partitions persisted in "
              f"{time.perf_counter() - t0:.1f} s (not timed); worker dtypes: {dtypes}")
        report["worker_dtypes"] = dtypes
        calls = build_calls(server, args, so, frames)
        print(f"\ntiming, {args.repeats} repetition(s), interleaved:")
        checked: set[str] = set()
        for rep in range(1, args.repeats + 1):
            k = (rep - 1) % len(methods)
            for method in methods[k:] + methods[:k]:
                # content (MD5) check: first good run of every dask and every gzip method
                content = method not in checked and (method.startswith("dask")
                                                     or METHODS[method][0] == "gzip")
                result = run_one(server, ctx, calls, client, method, rep, content, args.pause)
                if result["status"] == "ok" and "MD5" in result.get("checked", ""):
                    checked.add(method)
                runs.append(result)
                print(f"  rep {rep} {method:<18} {describe(result)}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured")
        failed = True
        methods = [m for m in methods if any(r["method"] == m for r in runs)]
    except Exception as exc:  # noqa: BLE001 - setup failed: still clean up and report
        print(f"\nFAILED before/while timing: {type(exc).__name__}: {exc}")
        report["error"] = f"{type(exc).__name__}: {exc}"
        failed = True
        methods = [m for m in methods if any(r["method"] == m for r in runs)]
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        server.close()  # deletes what is left, aborts uploads, removes the bucket

    rows = summarize(methods, runs)
    load_after = os.getloadavg()
    report.update(summary=rows, runs=runs, loadavg_after=load_after)
    sizes = {r["server_size"] for r in runs
             if r["status"] == "ok" and METHODS[r["method"]][0] == "csv"}
    if sizes:
        same = len(sizes) == 1 and ctx.get("csv_size") in sizes
        report["plain_sizes_equal"] = same
        print("\nplain CSV sizes across methods: "
              + (f"all {ctx['csv_size']:,} bytes = local df.to_csv()" if same
                 else f"DIFFER: {sorted(sizes)} (df.to_csv(): {ctx.get('csv_size')})"))
        failed = failed or not same
    titles = {"csv": "one CSV object", "gzip": "one CSV.gz object"}
    for group in ("csv", "gzip"):
        mine = [r for r in rows if r["group"] == group]
        if mine:
            print(f"\n== {titles[group]}, {args.rows:,} rows, "
                  f"{fmt_size(ctx.get('csv_size', 0))} of CSV, {args.partitions} partitions, "
                  f"server {server.name}, median of {args.repeats}, load average now "
                  f"{load_after[0]:.2f} ==")
            print(format_table(mine))
    print(LEGEND)
    print("Settings:")
    level = ("level 9, pandas' default" if args.pandas_gzip_level is None
             else f"level {args.pandas_gzip_level}, --pandas-gzip-level")
    for method in methods:
        print(f"  {method:<18} {METHODS[method][2].replace('level 9 by default', level)}")
    save_report(report, args.json, os.path.join(HERE, "results"),
                f"dask-{server.name}", started)
    failed = failed or not runs or any(r["status"] != "ok" for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
