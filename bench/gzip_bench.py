"""gzip'd text: mpu_toolkit's write_csv / write_jsonl against pandas' to_csv / to_json, one frame.

    python bench/gzip_bench.py [--rows 2900000] [--repeats 3] [--formats csv,jsonl]
        [--sink md5 | --endpoint URL --key K --secret S] [--wait-quiet 120] [--allow-loaded]
        [--json out.json]

The same frame (dask_common.make_partition's rows: int64 ids, normal floats, categories,
timestamps; 2.9 M rows are ~200 MB of CSV) is written as ``.csv.gz`` and ``.jsonl.gz`` by:

* ``mpu``: ``write_csv(df, "mpu://….csv.gz")`` at the default level (4: libdeflate's);
* ``mpu-level1``: ``compression={"method": "gzip", "compresslevel": 1}`` (the fastest);
* ``mpu-level6``: ``compresslevel: 6`` (libdeflate's level 6);
* ``old-default``: what write_csv did until 2026-12-06, rebuilt here: pandas renders slices
  of 50,000 rows, zlib compresses them at level 6 into one gzip member, on one thread, into
  ``open_writer`` (its ratio and speed are the "x old" column's reference);
* ``pandas-s3fs``: ``df.to_csv("s3://….csv.gz", compression="gzip")`` through s3fs (pandas'
  GzipFile, level 9), and ``df.to_json(…, orient="records", lines=True)`` the same way.

Every method renders pandas' text: the time pandas takes to render it alone, in memory, is
printed as the ceiling of them all. Each run is timed in this process (the server is another one): seconds, MB/s of uncompressed
text, CPU seconds of this process (all its threads), the object's size and the ratio (text /
object); median of --repeats, repetitions interleaved. Every method's first object is read
back (unless on the null sink, which keeps nothing), decompressed and its MD5 compared with
the text pandas renders; a mismatch is FAILED (exit 1). The same quiet-machine guard as the
other benchmarks: exit 3 on a loaded machine, or --allow-loaded with every row marked LOADED.
Results go to bench/results/gzip-<server>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import sys
import time
import zlib
from datetime import datetime
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import (add_load_args, add_server_args, environment,  # noqa: E402
                          report_header, settle, wait_for_quiet)
from bench_report import fmt_size, method_rows, save_report, text_table  # noqa: E402
from bench_writers import BOTO_CHECKSUMS_OFF, _storage_options  # noqa: E402
from dask_common import pandas_frame, partition_bounds  # noqa: E402
from stream_bench import Server  # noqa: E402

DEFAULT_ROWS = 2_900_000  # ~200 MB of CSV at ~69 bytes a row
FORMATS = ("csv", "jsonl")
#: method -> (label, compressor)
METHODS: dict[str, tuple[str, str]] = {
    "mpu": ("mpu_toolkit write_{fmt}", "libdeflate level 4 (the default)"),
    "mpu-level1": ("mpu_toolkit write_{fmt}, compresslevel 1", "libdeflate level 1"),
    "mpu-level6": ("mpu_toolkit write_{fmt}, compresslevel 6", "libdeflate level 6"),
    "old-default": ("the old default (pandas, then zlib, one thread)", "zlib level 6"),
    "pandas-s3fs": ("pandas to_{pandas} s3:// (s3fs)", "gzip.GzipFile level 9 (pandas')"),
}
LEVELS = {"mpu": None, "mpu-level1": 1, "mpu-level6": 6}
JSONL = {"orient": "records", "lines": True, "date_format": "iso"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_args(p)
    add_load_args(p)
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS,
                   help=f"rows of the frame (default {DEFAULT_ROWS:,}: ~200 MB of CSV)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per method (median)")
    p.add_argument("--formats", default=",".join(FORMATS),
                   type=lambda text: [f.strip() for f in text.split(",") if f.strip()])
    p.add_argument("--methods", default=",".join(METHODS),
                   type=lambda text: [m.strip() for m in text.split(",") if m.strip()])
    p.add_argument("--pause", type=float, default=1.0, help="seconds of rest between runs")
    p.add_argument("--json", default=None, help="default bench/results/gzip-<server>-<ts>.json")
    args = p.parse_args(argv)
    unknown = [f for f in args.formats if f not in FORMATS] + [
        m for m in args.methods if m not in METHODS]
    if unknown or args.repeats < 1 or args.rows < 1:
        p.error(f"unknown {unknown}" if unknown else "--repeats and --rows must be >= 1")
    if args.sink and "md5" not in args.sink.split(","):
        # the writers check each part's ETag against its MD5 (the default integrity for an
        # unknown store); the sink's stand-in ETags would fail every part
        fixed = "md5" if args.sink == "null" else f"{args.sink},md5"
        p.error(f"--sink {args.sink}: use --sink {fixed}, so that the sink's ETags are the "
                "parts' MD5s that the writers check")
    return args


def render(df: Any, fmt: str) -> str:
    """The text every method writes (and the check compares with)."""
    return df.to_csv() if fmt == "csv" else df.to_json(**JSONL)


SLICE_ROWS = 50_000  # the old default's slices (formats.frames.CHUNK_ROWS then and now)


def old_default(df: Any, fmt: str, url: str, so: dict[str, Any]) -> None:
    """write_csv / write_jsonl's gzip path until 2026-12-06: pandas' text of each slice,
    compressed by zlib at level 6 into one gzip member as it is rendered, one thread."""
    from mpu_toolkit import open_writer

    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with open_writer(url, storage_options=so) as out:
        for start in range(0, len(df), SLICE_ROWS):
            piece = df.iloc[start:start + SLICE_ROWS]
            text = piece.to_csv(header=start == 0) if fmt == "csv" else piece.to_json(**JSONL)
            out.write(packer.compress(text.encode()))
        out.write(packer.flush())


def writer(method: str, fmt: str, df: Any, so: dict[str, Any], bucket: str
           ) -> tuple[str, Callable[[], None]]:
    """The object's key, and the call that writes it."""
    key = f"{method}.{fmt}.gz"
    if method == "old-default":
        return key, lambda: old_default(df, fmt, f"mpu://{bucket}/{key}", so)
    if method == "pandas-s3fs":
        url = f"s3://{bucket}/{key}"
        options = {**so, "config_kwargs": BOTO_CHECKSUMS_OFF}
        if fmt == "csv":
            return key, lambda: df.to_csv(url, compression="gzip", storage_options=options)
        return key, lambda: df.to_json(url, compression="gzip", storage_options=options,
                                       **JSONL)
    from mpu_toolkit import write_csv, write_jsonl

    level = LEVELS[method]
    compression = "infer" if level is None else {"method": "gzip", "compresslevel": level}
    url = f"mpu://{bucket}/{key}"
    if fmt == "csv":
        return key, lambda: write_csv(df, url, storage_options=so, compression=compression)
    return key, lambda: write_jsonl(df, url, storage_options=so, compression=compression,
                                    date_format="iso")


def run_one(server: Server, method: str, fmt: str, df: Any, text_bytes: int,
            expected_md5: str | None, pause: float) -> dict[str, Any]:
    so = _storage_options(server.spec(None))
    key, write = writer(method, fmt, df, so, server.bucket)
    result: dict[str, Any] = {"method": f"{method}:{fmt}", "format": fmt, "status": "ok"}
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        write()
    except Exception as exc:  # noqa: BLE001 - reported in the table
        result.update(status="FAILED", error=f"{type(exc).__name__}: {exc}")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if result["status"] == "ok":
        size = int(server.head(key)["ContentLength"])
        result.update(seconds=seconds, cpu_s=cpu, mb_per_s=text_bytes / seconds / 1e6,
                      size=size, ratio=text_bytes / size if size else None)

    def check() -> str | None:
        if expected_md5 is None:
            return None
        body = server.client.get_object(Bucket=server.bucket, Key=key)["Body"].read()
        got = hashlib.md5(gzip.decompress(body)).hexdigest()
        return None if got == expected_md5 else f"decompressed MD5 {got} != {expected_md5}"

    return settle(result, check, lambda: server.cleanup(key), pause)


def table(rows: list[dict[str, Any]], mark: str) -> str:
    lines = [["format", "method", "compressor", "MB/s", "CPU-s", "size", "ratio", "x pandas",
              "x old", "runs"]]
    for row in rows:
        method, fmt = row["method"].split(":")
        label = METHODS[method][0].format(fmt=fmt, pandas="csv" if fmt == "csv" else "json")
        ok = row["ok"] > 0
        lines.append([fmt, label, METHODS[method][1],
                      f"{row['mb_per_s']:.1f}" if ok else "FAILED",
                      f"{row['cpu_s']:.1f}" if ok else "-",
                      fmt_size(row["size"]) if ok else "-",
                      f"{row['ratio']:.3f}" if ok else "-",
                      f"{row['speed']:.2f}" if row.get("speed") else "-",
                      f"{row['vs_old']:.2f}" if row.get("vs_old") else "-",
                      f"{row['ok']}/{row['runs']}" + (f"  {mark}" if mark and ok else "")])
    return text_table(lines, [False, False, False, True, True, True, True, True, True, False],
                      rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check = wait_for_quiet(args.wait_quiet, args.allow_loaded, args.max_load)
    env = environment(("pandas", "numpy", "pyarrow", "deflate", "s3fs", "fsspec", "moto"))
    started = datetime.now()
    df = pandas_frame(partition_bounds(args.rows, 8))
    sizes, md5s, ceilings = {}, {}, {}
    for fmt in args.formats:
        t0 = time.perf_counter()
        text = render(df, fmt).encode()
        ceilings[fmt] = len(text) / (time.perf_counter() - t0) / 1e6
        sizes[fmt], md5s[fmt] = len(text), hashlib.md5(text).hexdigest()
        print(f"{fmt}: {args.rows:,} rows, {fmt_size(sizes[fmt])} of text, rendered by pandas "
              f"alone (in memory, no gzip, no upload) at {ceilings[fmt]:.1f} MB/s: the "
              "ceiling of every method here", flush=True)
        del text
    server = Server.announced(args, env)
    keeps_bytes = not (args.sink and server.name.startswith("sink"))
    names = [f"{m}:{f}" for f in args.formats for m in args.methods]
    runs: list[dict[str, Any]] = []
    try:
        for rep in range(args.repeats):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                method, fmt = name.split(":")
                first = not any(r["method"] == name for r in runs)
                result = run_one(server, method, fmt, df, sizes[fmt],
                                 md5s[fmt] if first and keeps_bytes else None, args.pause)
                runs.append({**result, "repetition": rep + 1})
                print(f"  rep {rep + 1} {name:<18} "
                      + (f"{result['mb_per_s']:7.1f} MB/s {result['cpu_s']:6.1f} CPU-s "
                         f"ratio {result['ratio']:.3f}" if result["status"] == "ok"
                         else f"{result['status']}: {result.get('error')}")
                      + (f"  {check.mark}" if check.mark else ""), flush=True)
    finally:
        server.close()
    catalog = {name: (name.split(":")[1], name, "") for name in names}
    reference = {fmt: f"pandas-s3fs:{fmt}" for fmt in args.formats}
    rows = method_rows(names, runs, catalog, reference, ("seconds", "cpu_s", "mb_per_s"),
                       ("size", "ratio"))
    for row in rows:  # x old: the old default's seconds / these, on the same format
        old = next((r for r in rows if r["method"] == f"old-default:{row['group']}"), None)
        row["vs_old"] = (old["seconds"] / row["seconds"]
                         if old and old.get("seconds") and row.get("seconds") else None)
    print("\n" + report_header(env, check, os.getloadavg()[0]))
    print(f"server {server.name}; {args.rows:,} rows; median of {args.repeats}; MB/s of "
          "uncompressed text; CPU-s of this process; x pandas / x old: its seconds / these\n")
    print(table(rows, check.mark))
    print("\npandas' rendering alone: " + ", ".join(
        f"{fmt} {ceilings[fmt]:.1f} MB/s" for fmt in args.formats))
    save_report({"started": started.isoformat(), "argv": sys.argv, "environment": env,
                 "server": server.name, "quiet": check.quiet, "load_at_start": check.start,
                 "mark": check.mark, "rows": args.rows, "text_bytes": sizes,
                 "render_alone_mb_per_s": ceilings,
                 "summary": rows, "runs": runs},
                args.json, os.path.join(HERE, "results"),
                f"gzip-{server.name.split('(')[0]}", started)
    return 0 if runs and all(r["status"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
