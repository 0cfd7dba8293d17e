"""request_bench.py: a request's CPU on each path, into the null sink, marked when loaded."""

from __future__ import annotations

import re

import request_bench


def test_a_small_loaded_run_reports_each_path_per_request(capsys) -> None:
    code = request_bench.main(["--sink", "null", "--requests", "20", "--max-load", "-1",
                               "--wait-quiet", "0", "--allow-loaded"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "LOADED (load " in out and "20 sequential requests" in out
    rows = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^(mpu|mpu-botocore|botocore|botocore-template) +([0-9.]+) +[0-9.]+ +[0-9.]+$",
        out, re.M)}
    assert set(rows) == {"mpu", "mpu-botocore", "botocore", "botocore-template"}, out
    assert all(rows.values()), out
