"""Parquet streaming benchmark: write_parquet against the ways people write Parquet to S3.

    python bench/parquet_bench.py [--endpoint URL --key K --secret S] [--size 2GB]
        [--rss-sizes 0.5GB,2GB] [--compression snappy] [--runs generate,encode-only,...]

Mixed-type frames (ints, floats, timestamps, strings) of ``--size`` in-memory bytes are
generated on the fly in 200,000-row chunks and written as one Parquet object by:

  mpu           write_parquet(frames, "mpu://...")  (row groups of 128 MiB, streamed)
  s3fs-frame    pd.concat(frames).to_parquet("s3://...")  (s3fs; needs the whole frame)
  pyarrow       pq.ParquetWriter on pyarrow.fs.S3FileSystem.open_output_stream
  boto3-buffer  pq.ParquetWriter into memory, then boto3 upload_fileobj
  encode-only   write_parquet's encoding into a null sink (pa.MockOutputStream): the floor
  generate      producing the frames only (included in every other time)

Each runs in its own process (parquet_worker.py): wall time of the whole job, MB/s of
in-memory data, CPU seconds and peak RSS growth. Every object is checked: its Parquet footer
must hold all the rows. Then write_parquet's peak RSS is compared at two sizes (flat within
64 MiB) and its time against the floor (target <= 1.15x). Same --endpoint/--key/--secret and
MPU_TEST_* conventions as stream_bench.py; without them the embedded moto server is used.
The same quiet-machine guard too: --wait-quiet SECONDS, then exit code 3, or --allow-loaded
with every figure marked LOADED.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_report import fmt_size  # noqa: E402
from parquet_worker import RUNS  # noqa: E402
from bench_common import add_load_args, add_server_args, parse_size  # noqa: E402
from bench_common import report_header, wait_for_quiet  # noqa: E402
from stream_bench import Server, environment  # noqa: E402

UPLOADS = ("mpu", "s3fs-frame", "pyarrow", "boto3-buffer")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    add_load_args(p)
    p.add_argument("--size", default="2GB", type=parse_size, help="in-memory bytes of frames")
    p.add_argument("--rss-sizes", default="0.5GB,2GB", type=_sizes,
                   help="sizes for write_parquet's RSS flatness check ('' to skip)")
    p.add_argument("--compression", default="snappy", help="Parquet codec, for every run")
    p.add_argument("--runs", default=",".join(RUNS), type=_runs)
    p.add_argument("--json", default=None, help="default bench/results/parquet-<server>-<ts>.json")
    p.add_argument("--pause", type=float, default=2.0, help="seconds of rest between runs")
    return p.parse_args(argv)


def _sizes(text: str) -> list[int]:
    return [parse_size(s) for s in text.split(",") if s.strip()]


def _runs(text: str) -> list[str]:
    runs = [r.strip() for r in text.split(",") if r.strip()]
    if any(r not in RUNS for r in runs):
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(RUNS)}")
    return runs


def run_one(server: Server, args: argparse.Namespace, run: str, size: int) -> dict[str, Any]:
    """One run in a fresh process; an uploaded object must hold every row; then deleted."""
    key = f"bench/parquet/{run}-{size}-{time.time_ns()}.parquet"
    spec = {"run": run, "size": size, "compression": args.compression,
            "endpoint": server.endpoint, "key": server.key, "secret": server.secret,
            "bucket": server.bucket, "object_key": key, "region": args.region}
    with tempfile.TemporaryDirectory(prefix="mpu-parquet-bench-") as tmp:
        spec_path, result_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "out.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
        proc = subprocess.run([sys.executable, os.path.join(HERE, "parquet_worker.py"),
                               spec_path, result_path], capture_output=True, text=True,
                              env=env, cwd=HERE, timeout=600 + 900 * size / 1e9)
        try:
            with open(result_path) as f:
                result = json.load(f)
        except (OSError, ValueError):
            result = {"ok": False, "error": f"exit code {proc.returncode}: "
                      f"{(proc.stdout + proc.stderr)[-1500:]}"}
    result.update(run=run, size=size)
    if result.get("ok") and run in UPLOADS:
        result.update(_check_object(server, key, result["rows"]))
    if run in UPLOADS:
        left = server.cleanup(key)
        if left:
            result["cleanup"] = left
    time.sleep(args.pause)
    return result


def _check_object(server: Server, key: str, rows: int) -> dict[str, Any]:
    import pyarrow.parquet as pq
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=server.endpoint, key=server.key, secret=server.secret,
                           config_kwargs={"request_checksum_calculation": "when_required"})
    try:
        head = server.head(key)
        with fs.open(f"{server.bucket}/{key}", "rb") as f:
            found = pq.ParquetFile(f).metadata.num_rows
    except Exception as exc:  # noqa: BLE001 - a broken object is a failed run, not a crash
        return {"ok": False, "error": f"object check failed: {exc}"}
    if found != rows:
        return {"ok": False, "error": f"object holds {found:,} rows, {rows:,} were written"}
    return {"object_bytes": head["ContentLength"]}


def describe(r: dict[str, Any]) -> str:
    if not r.get("ok"):
        return f"FAILED: {str(r.get('error'))[:300]}"
    return (f"{r['elapsed_s']:7.1f} s {r['size'] / r['elapsed_s'] / 1e6:6.0f} MB/s "
            f"{r['cpu_s']:6.1f} CPU-s  RSS +{r['rss_growth_mib']:.0f} MiB")


def table(runs: list[dict[str, Any]], mark: str = "") -> str:
    floor = next((r for r in runs if r["run"] == "encode-only" and r.get("ok")), None)
    lines = [f"{'run':<13} {'wall s':>7} {'MB/s':>6} {'x floor':>7} {'CPU-s':>6} "
             f"{'RSS+MiB':>8} {'object':>9}"]
    for r in runs:
        if not r.get("ok"):
            lines.append(f"{r['run']:<13} FAILED: {str(r.get('error'))[:200]}")
            continue
        ratio = f"{r['elapsed_s'] / floor['elapsed_s']:.2f}" if floor else "-"
        obj = fmt_size(r["object_bytes"]) if r.get("object_bytes") else "-"
        lines.append(f"{r['run']:<13} {r['elapsed_s']:>7.1f} "
                     f"{r['size'] / r['elapsed_s'] / 1e6:>6.0f} {ratio:>7} {r['cpu_s']:>6.1f} "
                     f"{r['rss_growth_mib']:>8.0f} {obj:>9}" + (f"  {mark}" if mark else ""))
    return "\n".join(lines)


def verdicts(runs: list[dict[str, Any]], rss_runs: list[dict[str, Any]]) -> list[str]:
    by = {r["run"]: r for r in runs if r.get("ok")}
    out = []
    if "mpu" in by and "encode-only" in by:
        ratio = by["mpu"]["elapsed_s"] / by["encode-only"]["elapsed_s"]
        out.append(f"write_parquet vs encode-only floor: {ratio:.2f}x (target <= 1.15x): "
                   f"{'PASS' if ratio <= 1.15 else 'FAIL'}")
    for peer in ("s3fs-frame", "pyarrow", "boto3-buffer"):
        if "mpu" in by and peer in by:
            speedup = by[peer]["elapsed_s"] / by["mpu"]["elapsed_s"]
            out.append(f"write_parquet vs {peer}: {speedup:.2f}x faster, RSS "
                       f"{by['mpu']['rss_growth_mib']:.0f} vs {by[peer]['rss_growth_mib']:.0f} MiB")
    ok = [r for r in rss_runs if r.get("ok")]
    if len(ok) >= 2:
        growth = ok[-1]["rss_growth_mib"] - ok[0]["rss_growth_mib"]
        out.append(f"write_parquet peak RSS growth {fmt_size(ok[0]['size'])}: "
                   f"+{ok[0]['rss_growth_mib']:.0f} MiB, {fmt_size(ok[-1]['size'])}: "
                   f"+{ok[-1]['rss_growth_mib']:.0f} MiB ({growth:+.0f} MiB; target flat within "
                   f"64 MiB): {'PASS' if abs(growth) <= 64 else 'FAIL'}")
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check = wait_for_quiet(args.wait_quiet, args.allow_loaded, args.max_load)
    env = environment()
    server = Server.announced(args, env)
    print(f"frames: {args.size / 1e9:g} GB in memory, {args.compression}, each run in its own "
          "process\n")
    runs: list[dict[str, Any]] = []
    rss_runs: list[dict[str, Any]] = []
    started = datetime.now()
    try:
        for run in args.runs:
            runs.append(run_one(server, args, run, args.size))
            print(f"  {run:<13} {describe(runs[-1])}", flush=True)
        if args.rss_sizes and "mpu" in args.runs:
            print("\nwrite_parquet peak RSS at several sizes:")
            for size in args.rss_sizes:
                same = next((r for r in runs if r["run"] == "mpu" and r["size"] == size), None)
                rss_runs.append(same or run_one(server, args, "mpu", size))
                print(f"  {size / 1e9:g} GB  {describe(rss_runs[-1])}", flush=True)
    finally:
        server.close()
    print(f"\n== Parquet, {args.size / 1e9:g} GB of frames in memory, {args.compression}, "
          f"server {server.name}{', ' + check.mark if check.mark else ''} ==")
    print(report_header(env, check, os.getloadavg()[0]))
    print(table(runs, check.mark))
    print("MB/s = in-memory frame bytes / wall time of the whole job (generate + convert + "
          "encode + upload);\nx floor = wall / encode-only wall; RSS+MiB = peak RSS growth "
          "(psutil, 20 ms) over the job.")
    lines = verdicts(runs, rss_runs)
    print("\n" + "\n".join(lines))
    out = args.json or os.path.join(
        HERE, "results", f"parquet-{server.name}-{started:%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"started": started.isoformat(), "argv": sys.argv, "server": server.name,
                   "environment": env, "size": args.size, "compression": args.compression,
                   "quiet": check.quiet, "load_at_start": check.start, "mark": check.mark,
                   "loadavg_after": os.getloadavg(),
                   "runs": runs, "rss_runs": rss_runs, "verdicts": lines}, f, indent=1,
                  default=str)
    print(f"\nresults: {out}")
    return 0 if all(r.get("ok") for r in runs + rss_runs) else 1


if __name__ == "__main__":
    sys.exit(main())
