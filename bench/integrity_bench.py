"""Integrity modes: what each of mpu_toolkit's ``checksum=`` modes costs the client, per GiB.

    python bench/integrity_bench.py [--sink null | --endpoint URL --key K --secret S]
        [--size 1GiB] [--repeat 3] [--modes none,crc32c,crc64nvme,crc32,sha256-payload,...]
        [--markdown FILE] [--json FILE] [--wait-quiet 120] [--allow-loaded]

(i) The digest alone: what the engine computes for each part (``digest_part`` of
mpu_toolkit/_plan/integrity.py: hashlib MD5 / SHA-256, zlib CRC32, awscrt CRC32C /
CRC64NVME; the writer feeds the same CRCs 256 KiB at a time as a part fills, while those
bytes are in the cache) over --size in 6 MiB parts cut from a 64 MiB pool of random bytes,
on one thread: CPU seconds of this process per GiB, and the GB one core hashes per CPU second
(median of --repeat; CPU time, not wall time, so a busy machine slows it less).

(ii) End to end: mpu writing --size in 1 MiB writes of fresh bytes into the sink with that
mode (stream_bench.py's writers ``mpu-<mode>``, ``mpu-nochecksum`` for none, each run in a
fresh process by its worker machinery, repetitions interleaved): MB/s and the writer's
CPU-s per GiB, median of --repeat. ``md5`` checks every part's ETag, so on a --sink without
``md5`` it runs against a second sink that computes real MD5 ETags (the "server" column;
that sink's MD5 runs on the same cores, which lowers md5's MB/s, not its client CPU).

The same quiet-machine guard as stream_bench.py: exit code 3, or --allow-loaded with every
figure marked LOADED. Prints a markdown table and writes it to --markdown FILE.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_common import LoadCheck, describe_environment, report_header  # noqa: E402
from bench_common import wait_for_quiet  # noqa: E402
from bench_report import fmt_size, save_report, summarize  # noqa: E402
from stream_bench import Server, base_parser, describe, environment, run_one  # noqa: E402

MiB, GiB = 1024 * 1024, 1024 ** 3
PART = 6 * MiB  # the engine's default first part size
POOL = 64 * MiB
MODES = ("none", "crc32c", "crc64nvme", "crc32", "sha256-payload", "sha256", "md5")
COMPUTED_BY = {"none": "-", "crc32c": "awscrt.checksums (hardware CRC)",
               "crc64nvme": "awscrt.checksums (hardware CRC)", "crc32": "zlib.crc32",
               "sha256-payload": "hashlib SHA-256 (hex, signed by SigV4)",
               "sha256": "hashlib SHA-256 (base64 header)", "md5": "hashlib MD5 (OpenSSL)"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = base_parser(__doc__)
    p.add_argument("--modes", default=",".join(MODES),
                   type=lambda text: [m.strip() for m in text.split(",") if m.strip()])
    p.add_argument("--markdown", default=None, metavar="FILE", help="write the table here too")
    p.add_argument("--json", default=None,
                   help="default bench/results/integrity-<time>.json")
    args = p.parse_args(argv)
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        p.error(f"unknown mode(s) {unknown}; choose from {', '.join(MODES)}")
    if args.sink is None and args.endpoint is None:
        args.sink = "null"  # the client's own cost, not moto's
    return args


def writer_of(mode: str) -> str:
    return "mpu-nochecksum" if mode == "none" else f"mpu-{mode}"


def sink_for(settings: str | None, mode: str) -> str | None:
    """The --sink settings ``mode`` runs against: md5 checks real MD5 ETags, so it gets them."""
    items = [s.strip() for s in (settings or "").split(",") if s.strip() not in ("", "null")]
    if settings is None or mode != "md5" or "md5" in items:
        return settings
    return ",".join([*items, "md5"])


def digest_alone(mode: str, size: int, repeat: int, pool: memoryview
                 ) -> dict[str, float | None]:
    """``digest_part`` over ``size`` bytes in PART slices of ``pool``: CPU-s/GiB, and GB per
    CPU second (None for ``none``, which computes nothing)."""
    from mpu_toolkit._plan.integrity import ChecksumMode, digest_part

    checksum = ChecksumMode(mode)
    cpu = []
    for _ in range(repeat):
        c0 = time.process_time()
        done = offset = 0
        while done < size:
            n = min(PART, size - done)
            offset = 0 if offset + n > len(pool) else offset
            digest_part(pool[offset:offset + n], checksum)
            offset, done = offset + n, done + n
        cpu.append(time.process_time() - c0)
    seconds = statistics.median(cpu)
    return {"digest_cpu_s_per_gib": seconds / (size / GiB),
            "digest_gb_per_s": size / seconds / 1e9 if mode != "none" and seconds else None}


def end_to_end(args: argparse.Namespace, check: LoadCheck
               ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every mode's mpu runs (stream_bench.run_one: a fresh process each), interleaved;
    and the name of the server each mode ran against."""
    servers: dict[str | None, Server] = {}
    runs: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    try:
        for rep in range(args.repeat):
            shift = rep % len(args.modes)
            for mode in args.modes[shift:] + args.modes[:shift]:
                settings = sink_for(args.sink, mode)
                if settings not in servers:
                    server = Server(argparse.Namespace(**{**vars(args), "sink": settings}))
                    servers[settings] = server
                    print(f"server: {server.name} at {server.endpoint}", flush=True)
                server = servers[settings]
                names[mode] = server.name
                result = run_one(server, args, writer_of(mode), args.size, f"rep{rep + 1}")
                result["repetition"] = rep + 1
                runs.append(result)
                print(f"  rep {rep + 1} {mode:<15} {describe(result, check.mark)}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: reporting what was measured")
    finally:
        for server in servers.values():
            server.close()
    return runs, names


def _gb(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown(rows: list[dict[str, Any]], header: str, args: argparse.Namespace,
             mark: str) -> str:
    none = next((r for r in rows if r["mode"] == "none" and r.get("cpu_s_per_gib")), None)
    lines = [f"Measured {header.replace(chr(10), '; ')}.", "",
             f"{fmt_size(args.size)} per mode, 6 MiB parts; end to end in 1 MiB writes of "
             f"fresh bytes, median of {args.repeat}, each run in its own process.", "",
             "| `checksum=` | computed by | digest alone: GB per CPU-s | digest alone: "
             "CPU-s/GiB | end to end: MB/s | end to end: client CPU-s/GiB | over `none` | "
             "server |" + (" note |" if mark else ""),
             "|---|---|---|---|---|---|---|---|" + ("---|" if mark else "")]
    for r in rows:
        over = (r["cpu_s_per_gib"] - none["cpu_s_per_gib"]
                if none and r.get("cpu_s_per_gib") is not None else None)
        e2e = ([f"{r['mb_per_s']:,.0f}", f"{r['cpu_s_per_gib']:.2f}",
                "-" if over is None else f"{over:+.2f}"] if r.get("mb_per_s") is not None
               else ["FAILED", "-", "-"])
        lines.append(f"| `{r['mode']}` | {COMPUTED_BY[r['mode']]} | "
                     f"{_gb(r['digest_gb_per_s'])} | {r['digest_cpu_s_per_gib']:.2f} | "
                     + " | ".join(e2e) + f" | {r['server']} |" + (f" {mark} |" if mark else ""))
    failed = [(r["mode"], e) for r in rows for e in r["failed"]]
    lines += ["", *(f"- FAILED `{m}`: {str(e)[:300]}" for m, e in failed)] if failed else []
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check = wait_for_quiet(args.wait_quiet, args.allow_loaded, args.max_load)
    env = environment()
    started = datetime.now()
    pool = memoryview(os.urandom(POOL))
    print(describe_environment(env))
    print(f"\n(i) the digest alone: {fmt_size(args.size)} in {fmt_size(PART)} parts, one thread")
    digests = {}
    for mode in args.modes:
        digests[mode] = digest_alone(mode, args.size, args.repeat, pool)
        print(f"  {mode:<15} {_gb(digests[mode]['digest_gb_per_s']):>6} GB per CPU-s  "
              f"{digests[mode]['digest_cpu_s_per_gib']:5.2f} CPU-s/GiB", flush=True)
    print(f"\n(ii) end to end: mpu writing {fmt_size(args.size)}, each run in its own process")
    runs, servers = end_to_end(args, check)
    summary = summarize([writer_of(m) for m in args.modes], runs)
    rows = [{**row, **digests[mode], "mode": mode, "server": servers.get(mode, "-")}
            for mode, row in zip(args.modes, summary)]
    header = report_header(env, check, os.getloadavg()[0])
    table = markdown(rows, header, args, check.mark)
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
        print(f"markdown: {args.markdown}")
    save_report({"started": started.isoformat(), "argv": sys.argv, "environment": env,
                 "quiet": check.quiet, "load_at_start": check.start, "mark": check.mark,
                 "size": args.size, "repeat": args.repeat, "rows": rows, "runs": runs},
                args.json, os.path.join(HERE, "results"), "integrity", started)
    return 0 if all(r["status"] == "ok" for r in runs) and runs else 1


if __name__ == "__main__":
    sys.exit(main())
