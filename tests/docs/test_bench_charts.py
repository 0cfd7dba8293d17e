"""docs/hooks/bench_charts.py: which rows of a result file become which chart, and that a chart
shows the run's own figures (never made-up ones), mpu_toolkit's bars apart from its peers'."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

from tests.docs.hooks import load

charts = load("bench_charts", "matplotlib")
DATA = pathlib.Path(__file__).resolve().parents[2] / "docs" / "bench-data"


def row(writer: str, mb_per_s: float, cpu: float, **more: Any) -> dict[str, Any]:
    return {"writer": writer, "mb_per_s": mb_per_s, "cpu_s_per_gib": cpu, "ok": 3,
            "runs": 3, "failed": [], **more}


def test_a_stream_run_is_one_chart_and_an_integrity_run_one_per_server() -> None:
    stream = {"server": "rgw", "summary": [row("mpu", 239.4, 2.56, checksum="md5"),
                                           row("obstore", 284.0, 1.24)]}
    (only,) = charts.charts_of("stream-rgw-1.json", stream)
    assert (only.server, only.uri) == ("rgw", "bench-charts/stream-rgw-1.svg")
    integrity = {"rows": [row("mpu-crc32c", 1274.4, 0.83, server="sink(null)"),
                          row("mpu-md5", 493.0, 2.33, server="sink(md5)")]}
    found = charts.charts_of("integrity-1.json", integrity)
    assert [c.uri for c in found] == ["bench-charts/integrity-1-sink-null.svg",
                                      "bench-charts/integrity-1-sink-md5.svg"]


def test_a_file_without_writers_figures_has_no_chart() -> None:
    reliability = {"rows": [{"operation": "compose", "clean_s": 15.9}]}
    assert charts.charts_of("reliability-1.json", reliability) == []


def test_the_chart_shows_each_rows_figures_and_marks_failures_and_ours() -> None:
    run = {"server": "sink(null)", "size": 1 << 30, "repeat": 3, "quiet": False,
           "summary": [row("mpu", 1351.2, 0.78, checksum="none"),
                       row("boto3", 453.0, 2.59),
                       {**row("s3fs", 0, 0), "mb_per_s": None, "ok": 0}]}
    (chart,) = charts.charts_of("x.json", run)
    svg = charts.draw(chart).decode()
    for shown in ("1,351", "0.78", "453", "2.59", "failed", "mpu_toolkit none (default)",
                  "boto3", "s3fs", "LOADED", "1 GiB stream, median of 3"):
        assert shown in svg, shown
    assert charts.OURS in svg and charts.PEER in svg
    assert not re.search(r"<dc:date>", svg)  # the same run draws the same bytes


def test_every_published_run_is_chartable() -> None:
    for path in sorted(DATA.glob("*.json")):
        assert charts.charts_of(path.name, json.loads(path.read_text())), path.name
