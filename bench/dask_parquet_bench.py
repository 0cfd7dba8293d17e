"""Dask Parquet benchmark: ONE Parquet object and a job-committed dataset, against the peers.

    python bench/dask_bench.py parquet [--endpoint URL --key K --secret S] [--rows 8000000]
        [--partitions 8] [--repeats 3] [--many-partitions 2000] [--json out.json]

Without --endpoint (or MPU_TEST_ENDPOINT) the embedded moto server is started. The data are
dask_bench.py's (int64 ``id``, float ``value``, string ``category``, ms timestamp ``ts``;
``dd.from_map``: partitions are generated ON the workers, inside every timed call; Dask's
default string conversion; no method writes the index), on a
``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``. Methods:

one object (reference: compute-s3fs)
* ``single``: ``to_single_object(ddf, "mpu://b/k.parquet")``, the workers upload the bodies;
* ``compute-mpu``: ``ddf.compute().to_parquet("mpu://b/k.parquet")``: everything through
  the client, then mpu's writer;
* ``compute-s3fs``: ``ddf.compute().to_parquet("s3://b/k.parquet")`` through plain s3fs;

a dataset of one file per partition (reference: dask-s3fs)
* ``dataset``: ``to_dataset(ddf, "mpu://b/prefix/")``: uploads started by the tasks,
  completed by the job (``_SUCCESS`` last), aborted if any task fails;
* ``dask-s3fs``: ``ddf.to_parquet("s3://b/prefix/")`` (Dask's file-by-file commit, s3fs);
* ``dask-mpu``: ``ddf.to_parquet("mpu://b/prefix/")`` (the same, through mpu://).

Every method runs --repeats times, interleaved; medians are reported. ``client peak`` is
this process's RSS high-water mark over the call minus its RSS before (sampled every 10 ms
by a thread): for the compute-* rows it includes the whole frame. Checks (untimed): every
object or dataset is read back from the server with pyarrow: row count and the sum of
``id`` must equal the data's. Then ``--many-partitions`` tiny partitions go through
``to_single_object`` once, to show that the client holds footers only: its peak must stay
under 64 MiB (FAILED otherwise). Results: bench/results/dask-parquet-<server>-<time>.json.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from datetime import datetime
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import add_server_args, settle  # noqa: E402
from bench_report import fmt_size, method_rows, save_report, text_table  # noqa: E402
from bench_writers import BOTO_CHECKSUMS_OFF, _storage_options  # noqa: E402
from dask_common import dask_frame, environment, partition_bounds, warm_worker  # noqa: E402
from stream_bench import Server  # noqa: E402

MiB = 1024 * 1024
CLIENT_BOUND_MIB = 64
METHODS: dict[str, tuple[str, str, str]] = {
    "single": ("object", "to_single_object mpu://", "workers encode and upload their "
               "partitions' bodies; the client writes one footer"),
    "compute-mpu": ("object", "ddf.compute().to_parquet mpu://",
                    "the whole frame on the client, pandas -> pyarrow -> mpu's writer"),
    "compute-s3fs": ("object", "ddf.compute().to_parquet s3:// (s3fs)",
                     "the whole frame on the client, pandas -> pyarrow -> s3fs (checksums "
                     "when_required)"),
    "dataset": ("dataset", "to_dataset mpu:// (job commit)",
                "one file per partition, completed by the job, _SUCCESS last"),
    "dask-s3fs": ("dataset", "dd.to_parquet s3:// (s3fs)",
                  "Dask's to_parquet through s3fs: each file published by its task"),
    "dask-mpu": ("dataset", "dd.to_parquet mpu://", "Dask's to_parquet through mpu://"),
}
REFERENCE = {"object": "compute-s3fs", "dataset": "dask-s3fs"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    p.add_argument("--rows", type=int, default=8_000_000, help="rows in all (8,000,000)")
    p.add_argument("--partitions", type=int, default=8, help="Dask partitions (8)")
    p.add_argument("--repeats", type=int, default=3, help="timed repetitions per method")
    p.add_argument("--many-partitions", type=int, default=2_000,
                   help="partitions of the client-memory run (2,000; 0 skips it)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help=f"comma-separated subset of {', '.join(METHODS)}")
    p.add_argument("--pause", type=float, default=1.0, help="rest between runs (s)")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(args.methods) - set(METHODS)
    if unknown or args.repeats < 1:
        p.error(f"unknown methods {sorted(unknown)}" if unknown else "--repeats >= 1")
    return args


class PeakRSS:
    """This process's RSS high-water mark over a block, sampled by a thread, minus before."""

    def __init__(self, interval: float = 0.01) -> None:
        import psutil

        self._process, self._interval = psutil.Process(), interval
        self._stop = threading.Event()
        self.before = self.peak = 0

    def __enter__(self) -> "PeakRSS":
        self.before = self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.before) / MiB


def build_calls(server: Server, so: dict[str, Any], ddf: Any
                ) -> dict[str, Callable[[str], dict[str, Any]]]:
    import mpu_toolkit

    s3so = {**so, "config_kwargs": dict(BOTO_CHECKSUMS_OFF)}
    bucket = server.bucket

    def single(key: str) -> dict[str, Any]:
        r = mpu_toolkit.to_single_object(ddf, f"mpu://{bucket}/{key}.parquet",
                                         storage_options=so, preserve_index=False)
        return {"rows": r.rows, "written": r.bytes}

    def compute(scheme: str, options: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
        def call(key: str) -> dict[str, Any]:
            ddf.compute().to_parquet(f"{scheme}://{bucket}/{key}.parquet",
                                     storage_options=options, index=False)
            return {}
        return call

    def dataset(key: str) -> dict[str, Any]:
        r = mpu_toolkit.to_dataset(ddf, f"mpu://{bucket}/{key}/", storage_options=so,
                                   preserve_index=False)
        return {"rows": r.rows, "written": r.bytes}

    def dask(scheme: str, options: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
        def call(key: str) -> dict[str, Any]:
            ddf.to_parquet(f"{scheme}://{bucket}/{key}/", storage_options=options,
                           write_index=False)
            return {}
        return call

    return {"single": single, "compute-mpu": compute("mpu", so),
            "compute-s3fs": compute("s3", s3so), "dataset": dataset,
            "dask-s3fs": dask("s3", s3so), "dask-mpu": dask("mpu", so)}


def check(server: Server, key: str, group: str, expected: dict[str, int]) -> str | None:
    """Why what ``key`` names is wrong (rows, sum of ids, read back with pyarrow), or None.
    The null sink (--sink) keeps no bytes: nothing to read back there."""
    if server.local is not None and hasattr(server.local, "stats"):
        return None
    import pyarrow.dataset as ds
    import s3fs

    fs = s3fs.S3FileSystem(key=server.key, secret=server.secret,
                           endpoint_url=server.endpoint)
    path = f"{server.bucket}/{key}" + (".parquet" if group == "object" else "/")
    table = ds.dataset(path, filesystem=fs, format="parquet",
                       exclude_invalid_files=True).to_table(columns=["id"])
    rows, total = table.num_rows, int(table.column("id").to_numpy().sum())
    if (rows, total) != (expected["rows"], expected["id_sum"]):
        return f"read back {rows:,} rows, sum(id) {total}; expected {expected}"
    return None


def cleanup(server: Server, key: str) -> list[str]:
    """Delete every object under ``key``, abort every upload left; say what was left."""
    c, left = server.client, []
    for up in c.list_multipart_uploads(Bucket=server.bucket, Prefix=key).get("Uploads", []):
        left.append(f"incomplete upload of {up['Key']} (aborted now)")
        c.abort_multipart_upload(Bucket=server.bucket, Key=up["Key"], UploadId=up["UploadId"])
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=server.bucket, Prefix=key):
        for obj in page.get("Contents", []):
            c.delete_object(Bucket=server.bucket, Key=obj["Key"])
    return left


def run_one(server: Server, calls: dict[str, Any], method: str, rep: int,
            expected: dict[str, int], pause: float) -> dict[str, Any]:
    group = METHODS[method][0]
    key = f"parquet/{method}/rep{rep}-{time.time_ns()}"
    result: dict[str, Any] = {"method": method, "repetition": rep, "key": key}
    gc.collect()
    try:
        with PeakRSS() as rss:
            started = time.perf_counter()
            facts = calls[method](key)
            seconds = time.perf_counter() - started
        result.update(status="ok", seconds=seconds, client_peak_mib=rss.growth_mib, **facts)
        size = sum(o["Size"] for page in server.client.get_paginator("list_objects_v2")
                   .paginate(Bucket=server.bucket, Prefix=key) for o in page.get("Contents", []))
        size = size or facts.get("written", 0)  # the null sink lists nothing
        result.update(server_size=size, mb_per_s=size / seconds / 1e6)
    except Exception as exc:  # noqa: BLE001 - one method failing must not stop the others
        result.update(status="FAILED", error=f"{type(exc).__name__}: {exc}"[:500])
    return settle(result, lambda: check(server, key, group, expected),
                  lambda: cleanup(server, key), pause)


def many_partitions(server: Server, so: dict[str, Any], partitions: int) -> dict[str, Any]:
    """to_single_object over many tiny partitions: the client's peak RSS growth."""
    import mpu_toolkit

    ddf = dask_frame(partition_bounds(partitions * 50, partitions))
    key = f"parquet/many-{time.time_ns()}.parquet"
    gc.collect()
    with PeakRSS() as rss:
        started = time.perf_counter()
        r = mpu_toolkit.to_single_object(ddf, f"mpu://{server.bucket}/{key}",
                                         storage_options=so, preserve_index=False)
        seconds = time.perf_counter() - started
    problem = None if r.rows == partitions * 50 else f"{r.rows} rows written"
    if rss.growth_mib > CLIENT_BOUND_MIB:
        problem = f"client peak +{rss.growth_mib:.0f} MiB > {CLIENT_BOUND_MIB} MiB"
    head = server.head(key)
    cleanup(server, key)
    return {"partitions": partitions, "seconds": seconds, "client_peak_mib": rss.growth_mib,
            "object_bytes": head["ContentLength"],
            "status": "FAILED" if problem else "ok", "error": problem}


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [["method", "ok", "seconds", "MB/s", "client peak MiB", "speed x ref", "written"]]
    for r in rows:
        if r.get("seconds") is None:
            lines.append([r["label"], f"{r['ok']}/{r['runs']}"] + ["-"] * 5)
            continue
        lines.append([r["label"], f"{r['ok']}/{r['runs']}", f"{r['seconds']:.2f}",
                      f"{r['mb_per_s']:.1f}", f"{r['client_peak_mib']:.0f}",
                      "-" if r["speed"] is None else f"{r['speed']:.2f}",
                      fmt_size(r["server_size"])])
    return text_table(lines, [False] + [True] * 6, rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = environment()
    server = Server.announced(args, env)
    so = _storage_options(server.spec(args.region))
    started = datetime.now()
    report: dict[str, Any] = {"started": started.isoformat(), "argv": sys.argv,
                              "server": server.name, "rows": args.rows,
                              "partitions": args.partitions, "environment": env}
    runs: list[dict[str, Any]] = []
    many: dict[str, Any] | None = None
    cluster = client = None
    try:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
        client.run(warm_worker, so)
        ddf = dask_frame(partition_bounds(args.rows, args.partitions))
        expected = {"rows": args.rows, "id_sum": int(ddf["id"].sum().compute())}
        calls = build_calls(server, so, ddf)
        print(f"data: {args.rows:,} rows x {args.partitions} partitions, generated on the "
              f"workers inside every timed call; {args.repeats} repetition(s), interleaved")
        for rep in range(1, args.repeats + 1):
            k = (rep - 1) % len(args.methods)
            for method in args.methods[k:] + args.methods[:k]:
                r = run_one(server, calls, method, rep, expected, args.pause)
                runs.append(r)
                print(f"  rep {rep} {method:<13} " + (
                    f"{r['seconds']:7.2f} s  client peak +{r['client_peak_mib']:5.0f} MiB  "
                    f"{fmt_size(r['server_size'])}" if r["status"] == "ok"
                    else f"FAILED: {r.get('error')}"), flush=True)
        if args.many_partitions:
            many = many_partitions(server, so, args.many_partitions)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured")
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
        server.close()
    rows = method_rows(args.methods, runs, METHODS, REFERENCE,
                       ("seconds", "mb_per_s", "client_peak_mib"), ("server_size",))
    titles = {"object": "one Parquet object", "dataset": "a Parquet dataset, a file a partition"}
    for group, title in titles.items():
        mine = [r for r in rows if r["group"] == group]
        if mine:
            print(f"\n== {title}: {args.rows:,} rows, {args.partitions} partitions, server "
                  f"{server.name}, median of {args.repeats} ==")
            print(format_table(mine))
    print("seconds include generating the partitions on the workers (and, for compute-*, "
          "moving them to the client); MB/s = bytes written / seconds; speed x ref = the "
          "group's reference seconds / these")
    if many:
        print(f"\nclient memory, to_single_object of {many['partitions']:,} partitions: "
              f"peak +{many['client_peak_mib']:.0f} MiB (bound {CLIENT_BOUND_MIB} MiB) in "
              f"{many['seconds']:.1f} s, {fmt_size(many['object_bytes'])}: "
              + ("PASS" if many["status"] == "ok" else f"FAILED: {many['error']}"))
    report.update(runs=runs, summary=rows, many_partitions=many)
    save_report(report, args.json, os.path.join(HERE, "results"),
                f"dask-parquet-{server.name}", started)
    failed = (not runs or any(r["status"] != "ok" for r in runs)
              or (many is not None and many["status"] != "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
