"""integrity_bench.py: md5 runs against a sink with real MD5 ETags (it checks them), the
other modes against the sink asked for; the markdown table it writes, marked when loaded."""

from __future__ import annotations

import integrity_bench
from integrity_bench import sink_for


def test_md5_gets_a_sink_that_computes_md5_etags() -> None:
    assert sink_for("null", "md5") == "md5"
    assert sink_for("rtt=20,mbps=50", "md5") == "rtt=20,mbps=50,md5"
    assert sink_for("rtt=20,md5", "md5") == "rtt=20,md5"
    assert sink_for("null", "crc32c") == "null"
    assert sink_for(None, "md5") is None  # an --endpoint: its own ETags


def test_a_small_loaded_run_writes_the_marked_markdown_table(tmp_path) -> None:
    md = tmp_path / "integrity.md"
    code = integrity_bench.main(["--sink", "null", "--size", "12MiB", "--repeat", "1",
                                 "--modes", "crc32c,md5",
                                 "--pause", "0", "--max-load", "-1", "--wait-quiet", "0",
                                 "--allow-loaded", "--markdown", str(md),
                                 "--json", str(tmp_path / "integrity.json")])
    text = md.read_text()
    assert code == 0, text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| `") and "computed by" not in line}
    assert set(rows) == {"`crc32c`", "`md5`"}
    assert "sink(null)" in rows["`crc32c`"] and "sink(md5)" in rows["`md5`"]
    assert all(line.rstrip(" |").endswith("at start)") for line in rows.values())
    assert "LOADED (load " in text and "at end" in text and "FAILED" not in text
