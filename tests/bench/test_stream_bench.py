"""stream_bench.py end to end, small, into the sink: a run allowed to start loaded (forced by a
negative threshold) marks its figures in the table and the JSON; the physical-limit writer
tcp-loopback's parts reach the sink's UploadPart path (the sink counts them); the default
'mpu' resolves checksum='auto' to md5 on this unknown store."""

from __future__ import annotations

import json

import stream_bench

MiB = 1024 * 1024


def test_a_loaded_run_is_marked_and_tcp_loopback_reaches_the_sink(tmp_path, capsys) -> None:
    out = tmp_path / "run.json"
    code = stream_bench.main(["--sink", "md5", "--size", "20MiB", "--repeat", "1",
                              "--writers", "tcp-loopback,mpu", "--rss-sizes", "",
                              "--pause", "0", "--max-load", "-1", "--wait-quiet", "0",
                              "--allow-loaded", "--json", str(out)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert code == 0, printed
    assert report["quiet"] is False and report["mark"].startswith("LOADED (load ")
    assert all(row["mark"] == report["mark"] for row in report["summary"])
    table = printed[printed.index("== 20 MiB streamed"):]
    assert table.splitlines()[0].endswith(report["mark"] + " ==")
    assert "at start" in table and "at end" in table and "versions:" in table
    assert all(line.endswith(report["mark"]) for line in table.splitlines()
               if line.startswith(("tcp-loopback ", "mpu ")))
    runs = {r["writer"]: r for r in report["runs"]}
    loop = runs["tcp-loopback"]
    assert loop["status"] == "ok" and loop["server_size"] == 20 * MiB
    assert loop["requests"]["UploadPart"] == 3  # 8 + 8 + 4 MiB, counted by the sink
    assert loop["server_parts"] == 3
    assert runs["mpu"]["status"] == "ok" and runs["mpu"]["checksum"] == "md5"
