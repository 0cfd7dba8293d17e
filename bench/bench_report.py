"""Summaries and printed tables for stream_bench.py (pure functions over run records)."""

from __future__ import annotations

import statistics
from typing import Any, Iterable

MiB = 1024 * 1024
GiB = 1024 * MiB


def fmt_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:g} {unit}" if float(n).is_integer() else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _median(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _part_desc(run: dict[str, Any]) -> str:
    part = run.get("part_size")
    desc = fmt_size(part) if isinstance(part, (int, float)) and part else str(part)
    if run.get("part_policy") == "growing" and run.get("first_part_size") not in (None, part):
        desc = f"{fmt_size(run['first_part_size'])}..{desc}"
    extra = f" ({run['parts']} parts)" if run.get("parts") else ""
    return f"{desc} x {run.get('concurrency')}{extra}"


#: the writers the others are compared with, and their columns' titles; the issue's targets
#: are stated against obstore
RATIO_BASES = {"mpu": "x mpu", "mpu-nochecksum": "x nochk", "obstore": "x obstore"}


def summarize(writers: list[str], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per writer: medians over its successful runs, peak RSS = max over runs."""
    rows = []
    for name in writers:
        mine = [r for r in runs if r.get("writer") == name]
        ok = [r for r in mine if r.get("status") == "ok"]
        row: dict[str, Any] = {"writer": name, "runs": len(mine), "ok": len(ok),
                               "failed": [r.get("error", r.get("status")) for r in mine
                                          if r.get("status") != "ok"]}
        if ok:
            size = ok[0]["size"]
            row.update(
                mb_per_s=_median(r["mb_per_s"] for r in ok),
                cpu_s=_median(r["cpu_s"] for r in ok),
                cpu_s_per_gib=_median(r["cpu_s"] / (size / GiB) for r in ok),
                rss_growth_mib=max(r["rss_growth_mib"] for r in ok),
                rss_growth_median_mib=_median(r["rss_growth_mib"] for r in ok),
                ru_maxrss_mib=max(r["ru_maxrss_mib"] for r in ok),
                elapsed_s=_median(r["elapsed_s"] for r in ok),
                parts=ok[-1].get("server_parts") or ok[-1].get("parts"),
                part_desc=_part_desc({**ok[-1], "parts": ok[-1].get("server_parts")
                                      or ok[-1].get("parts")}),
                checksum=ok[-1].get("checksum"))
        rows.append(row)
    for base in RATIO_BASES:
        ref = next((r for r in rows if r["writer"] == base and r["ok"]), None)
        for row in rows:
            for metric in ("mb_per_s", "cpu_s", "rss_growth_mib"):
                mine, theirs = row.get(metric), ref.get(metric) if ref else None
                row[f"{metric}_vs_{base}"] = (mine / theirs if mine is not None and theirs
                                              else None)
    return rows


def _f(value: Any, spec: str = ".2f", width: int = 0) -> str:
    text = "-" if value is None else format(value, spec)
    return text.rjust(width) if width else text


def format_table(rows: list[dict[str, Any]], mark: str = "") -> str:
    """The summary: a ratio column group for each of :data:`RATIO_BASES` that ran ok; ``mark``
    (a loaded run's "LOADED (load X at start)") ends every row that has figures."""
    bases = [b for b in RATIO_BASES if any(r["writer"] == b and r["ok"] for r in rows)]
    head = (f"{'writer':<18} {'ok':>5} {'MB/s':>7} {'CPU-s':>6} {'CPU/GiB':>7} "
            f"{'RSS+MiB':>7} {'maxrss':>6} | "
            + "".join(f"{RATIO_BASES[b] + ': MB/s CPU RSS':>21} | " for b in bases)
            + "part size x concurrency (parts)")
    lines = [head, "-" * len(head)]
    for r in rows:
        ratios = "".join(" ".join(_f(r.get(f"{m}_vs_{b}"), ".2f", 6)
                                  for m in ("mb_per_s", "cpu_s", "rss_growth_mib")).rjust(21)
                         + " | " for b in bases)
        status = f"{r['ok']}/{r['runs']}"
        lines.append(
            f"{r['writer']:<18} {status:>5} {_f(r.get('mb_per_s'), '.0f', 7)} "
            f"{_f(r.get('cpu_s'), '.2f', 6)} {_f(r.get('cpu_s_per_gib'), '.2f', 7)} "
            f"{_f(r.get('rss_growth_mib'), '.0f', 7)} {_f(r.get('ru_maxrss_mib'), '.0f', 6)} | "
            f"{ratios}{r.get('part_desc', '-')}" + (f"  {mark}" if mark and r["ok"] else ""))
    failures = [(r["writer"], e) for r in rows for e in r["failed"]]
    for writer, error in failures:
        lines.append(f"  FAILED {writer}: {str(error)[:300]}")
        lines.extend(f"    hint: {hint}" for pattern, hint in KNOWN_FAILURES.get(writer, [])
                     if pattern in str(error))
    return "\n".join(lines)


_MD5_ON_NULL_SINK = [("is not the MD5 of the bytes sent",
                      "the sink's ETags are counters unless it computes MD5s: run the md5 "
                      "mode (mpu's default on an unknown store) with --sink md5")]
# Failures seen on the project's servers, explained (matched on the error text).
KNOWN_FAILURES = {
    "mpu": _MD5_ON_NULL_SINK,
    "mpu-md5": _MD5_ON_NULL_SINK,
    "pyarrow": [
        ("INTERNAL_FAILURE during CompleteMultipartUpload",
         "moto 5.2.1 answers Complete with root <CompleteMultipartUploadResponse> instead of "
         "<CompleteMultipartUploadResult> (getmoto/moto#10055, fixed by #10056 in a later "
         "release); Arrow treats any other root as an error in a 200 OK (ARROW-14523) and "
         "retries, then fails. Not a pyarrow speed result: rerun against RGW."),
        ("MissingContentLength",
         "RGW 16 rejects the aws-chunked CRC64NVME trailer of the AWS C++ SDK: set "
         "AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED (bench_writers does)."),
    ],
}


TABLE_LEGEND = (
    "MB/s = bytes/elapsed/1e6 over open..close (median); CPU-s = user+sys of the writer's own\n"
    "process over the same window, all threads (median); RSS+MiB = peak RSS (psutil, every\n"
    "20 ms) minus RSS just before open (max over runs); maxrss = ru_maxrss of the process\n"
    "(includes interpreter + imports); CPU/GiB = CPU-s per GiB of the object (median).\n"
    "'x mpu' / 'x nochk' / 'x obstore' = ratio to mpu / mpu-nochecksum / obstore (shown when\n"
    "that writer ran ok); tcp-loopback = plain sockets into the same server: the limit.")


def rss_check(runs: list[dict[str, Any]], slack_mib: float = 64) -> tuple[str, bool]:
    """``mpu`` at several sizes: peak RSS growth against its memory budget + 64 MiB (the
    budget: ``max_memory``, or (concurrency+1) x part for a run that does not report one)."""
    lines = [f"{'size':>8} {'RSS+MiB':>8} {'maxrss':>7} {'MB/s':>6} {'part x conc':>14} "
             f"{'bound MiB':>9}  verdict"]
    passed, growths = True, []
    for r in runs:
        if r.get("status") != "ok":
            lines.append(f"{fmt_size(r['size']):>8}  FAILED: {r.get('error')}")
            passed = False
            continue
        budget = r.get("max_memory") or (r["concurrency"] + 1) * r["part_size"]
        bound = budget / MiB + slack_mib
        ok = r["rss_growth_mib"] <= bound
        passed &= ok
        growths.append((r["size"], r["rss_growth_mib"]))
        lines.append(f"{fmt_size(r['size']):>8} {r['rss_growth_mib']:>8.0f} "
                     f"{r['ru_maxrss_mib']:>7.0f} {r['mb_per_s']:>6.0f} "
                     f"{fmt_size(r['part_size']) + ' x ' + str(r['concurrency']):>14} "
                     f"{bound:>9.0f}  {'PASS' if ok else 'FAIL'}")
    if len(growths) >= 2:
        (s0, g0), (s1, g1) = growths[0], growths[-1]
        lines.append(f"growth {fmt_size(s0)} -> {fmt_size(s1)}: {g0:.0f} -> {g1:.0f} MiB "
                     f"({g1 - g0:+.0f} MiB for {s1 / s0:.0f}x the bytes)")
    lines.append(f"RSS bound check: {'PASS' if passed else 'FAIL'}")
    return "\n".join(lines), passed


def method_rows(methods: list[str], runs: list[dict[str, Any]],
                catalog: dict[str, tuple[str, str, str]], reference: dict[str, str],
                medians: tuple[str, ...], latest: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per method (``catalog[method] = (group, label, settings)``): medians of
    ``medians`` over its ok runs, ``latest`` fields of its last ok run, the failures, and
    ``speed`` = its group's reference method's seconds / its seconds."""
    rows = []
    for method in methods:
        group, label, _ = catalog[method]
        mine = [r for r in runs if r["method"] == method]
        ok = [r for r in mine if r["status"] == "ok"]
        row: dict[str, Any] = {"method": method, "group": group, "label": label,
                               "runs": len(mine), "ok": len(ok),
                               "failed": [r.get("error") for r in mine if r["status"] != "ok"]}
        if ok:
            row.update({name: _median(r.get(name) for r in ok) for name in medians})
            row.update({name: ok[-1].get(name) for name in latest})
        rows.append(row)
    for row in rows:
        ref = next((r for r in rows if r["method"] == reference[row["group"]]), None)
        row["speed"] = (ref["seconds"] / row["seconds"]
                        if ref and ref.get("seconds") and row.get("seconds") else None)
    return rows


def text_table(lines: list[list[str]], right: list[bool],
               rows: list[dict[str, Any]] | None = None) -> str:
    """Aligned columns under a rule; then a line per failure of ``rows``."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = ["  ".join(c.rjust(w) if rj else c.ljust(w)
                     for c, w, rj in zip(line, widths, right)).rstrip() for line in lines]
    out.insert(1, "-" * len(out[0]))
    out += [f"  FAILED {r['label']}: {str(e)[:300]}" for r in rows or [] for e in r["failed"]]
    return "\n".join(out)


def save_report(report: dict[str, Any], path: str | None, default_dir: str, name: str,
                started: Any) -> str:
    """Write the run's JSON (to ``path``, or ``default_dir/name-<time>.json``); say where.

    bench/results/ is git-ignored: a run the docs publish is copied, unchanged, into
    docs/bench-data/, whose JSON the docs build draws as charts (docs/hooks/bench_charts.py).
    """
    import json
    import os

    out = path or os.path.join(default_dir, f"{name}-{started:%Y%m%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1, default=str)
    print(f"\nresults: {out}")
    return out
