"""gzip_bench.py: a tiny loaded run writes every method's .csv.gz and .jsonl.gz, checks each
object's decompressed text against pandas' rendering, and reports sizes and ratios side by side."""

from __future__ import annotations

import json

import pytest

import gzip_bench


def test_a_tiny_loaded_run_reports_every_method_checked_and_marked(tmp_path, capsys) -> None:
    out = tmp_path / "gzip.json"
    code = gzip_bench.main(["--rows", "20000", "--repeats", "1", "--pause", "0",
                            "--max-load", "-1", "--wait-quiet", "0", "--allow-loaded",
                            "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = json.loads(out.read_text())
    rows = {row["method"]: row for row in report["summary"]}
    assert set(rows) == {f"{m}:{f}" for m in gzip_bench.METHODS for f in gzip_bench.FORMATS}
    assert all(row["ok"] == 1 and row["ratio"] > 1.5 for row in rows.values()), rows
    for fmt in gzip_bench.FORMATS:  # a higher level is never larger on the same frame
        assert rows[f"mpu-level6:{fmt}"]["size"] <= rows[f"mpu-level1:{fmt}"]["size"]
        assert rows[f"pandas-s3fs:{fmt}"]["speed"] == 1.0
        assert rows[f"old-default:{fmt}"]["vs_old"] == 1.0 and rows[f"mpu:{fmt}"]["vs_old"] > 0
    assert "libdeflate level 4 (the default)" in printed and "x old" in printed and "LOADED (load " in printed
    assert "FAILED" not in printed and "pandas' rendering alone: csv " in printed


def test_a_sink_without_md5_etags_is_refused_naming_the_setting(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        gzip_bench.parse_args(["--sink", "null"])
    assert exited.value.code == 2
    assert "use --sink md5" in capsys.readouterr().err
    assert gzip_bench.parse_args(["--sink", "rtt=20,md5"]).sink == "rtt=20,md5"
