"""The summary table: CPU-s per GiB of the object, ratios against obstore (the issue's
targets are stated against it), the LOADED mark on every row with figures."""

from __future__ import annotations

from bench_report import GiB, format_table, summarize


def run(writer: str, mb_per_s: float, cpu_s: float, size: int = 2 * GiB) -> dict:
    return {"writer": writer, "status": "ok", "size": size, "mb_per_s": mb_per_s,
            "cpu_s": cpu_s, "rss_growth_mib": 100.0, "ru_maxrss_mib": 200.0,
            "elapsed_s": size / mb_per_s / 1e6, "part_size": 6 << 20, "concurrency": 16}


def test_cpu_per_gib_is_of_the_object_and_ratios_are_against_obstore() -> None:
    rows = summarize(["mpu-nochecksum", "obstore", "tcp-loopback"],
                     [run("mpu-nochecksum", 900, 3.0), run("obstore", 1200, 2.0),
                      run("tcp-loopback", 1800, 1.0)])
    nochk = rows[0]
    assert nochk["cpu_s_per_gib"] == 1.5  # 3 CPU-s over a 2 GiB object
    assert nochk["mb_per_s_vs_obstore"] == 0.75 and nochk["cpu_s_vs_obstore"] == 1.5
    table = format_table(rows)
    assert "x obstore: MB/s CPU RSS" in table and "x mpu:" not in table  # mpu did not run
    line = next(x for x in table.splitlines() if x.startswith("mpu-nochecksum"))
    assert "   1.50 " in line and "  0.75   1.50   1.00 |" in line


def test_a_loaded_run_marks_every_row_with_figures() -> None:
    rows = summarize(["obstore", "mpu"], [run("obstore", 1200, 2.0),
                                          {"writer": "mpu", "status": "FAILED", "error": "x"}])
    table = format_table(rows, "LOADED (load 2.50 at start)")
    lines = table.splitlines()
    assert next(x for x in lines if x.startswith("obstore")).endswith(
        "LOADED (load 2.50 at start)")
    assert "LOADED" not in next(x for x in lines if x.startswith("mpu "))
