"""MkDocs hook: charts of the published benchmark runs, drawn at every build.

bench/results/ is git-ignored; the runs the docs publish are copied, unchanged, into
docs/bench-data/ (tracked). Every JSON there whose rows name a ``writer`` with ``mb_per_s``
and ``cpu_s_per_gib`` (what stream_bench.py and integrity_bench.py write) becomes one SVG per
server it ran against, ``bench-charts/<file>[-<server>].svg``: throughput and client CPU
seconds per GiB, one bar per writer, mpu_toolkit's in colour and its peers in grey. A JSON
the hook cannot chart is a warning, which fails the strict build.

``<!-- bench-runs -->`` in a page becomes the table of published runs, each with its command,
its data and its charts.
"""

from __future__ import annotations

import io
import json
import logging
import pathlib
import re
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display, no GUI toolkit
import matplotlib.pyplot as plt  # noqa: E402
from mkdocs.config.defaults import MkDocsConfig  # noqa: E402
from mkdocs.structure.files import File, Files  # noqa: E402
from mkdocs.structure.pages import Page  # noqa: E402

log = logging.getLogger("mkdocs.hooks.bench_charts")

DATA, CHARTS, MARKER = "bench-data", "bench-charts", "<!-- bench-runs -->"
OURS, PEER, LIMIT = "#1565c0", "#9e9e9e", "#d7d7d7"
#: the servers stream_bench.py knows, in words; any other is shown by its name
SERVERS = {"sink(null)": "the null sink: the client's own ceiling",
           "sink(md5)": "the sink with real MD5 ETags, no latency",
           "sink(rtt=20,mbps=50,md5)": "a cloud-like link: 20 ms round trips, 50 MB/s per "
                                       "connection, real MD5 ETags",
           "rgw": "a local Ceph RGW"}
PANELS = (("mb_per_s", "MB/s (higher is better)"),
          ("cpu_s_per_gib", "client CPU-s per GiB (lower is better)"))
#: drawn too when a row has it (integrity_bench.py's digest alone, one thread)
EXTRA_PANELS = (("digest_cpu_s_per_gib", "the digest alone: CPU-s per GiB"),)


@dataclass(frozen=True)
class Chart:
    """One server of one published run: its rows, and where its SVG goes."""

    server: str
    rows: list[dict[str, Any]]
    run: dict[str, Any]
    uri: str  # bench-charts/....svg

    @property
    def title(self) -> str:
        env = self.run.get("environment", {})
        when = env.get("date_utc") or str(self.run.get("started", ""))[:16]
        size = _size(self.run.get("size"))
        loaded = "" if self.run.get("quiet", True) else ", LOADED"
        return (f"{SERVERS.get(self.server, self.server)}\n{size}stream, median of "
                f"{self.run.get('repeat', '?')}, {when}{loaded}")


def _size(value: Any) -> str:
    if not isinstance(value, int):
        return ""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if value >= scale and value % scale == 0:
            return f"{value // scale} {unit} "
    return f"{value} B "


def _label(row: dict[str, Any]) -> str:
    writer = str(row["writer"])
    if not writer.startswith("mpu"):
        return writer
    mode = row.get("checksum") or writer.removeprefix("mpu-")
    return f"mpu_toolkit {mode}" + (" (default)" if writer == "mpu" else "")


def _colour(writer: str) -> str:
    if writer.startswith("mpu"):
        return OURS
    return LIMIT if writer == "tcp-loopback" else PEER


def charts_of(name: str, run: dict[str, Any]) -> list[Chart]:
    """The charts of one result file (none when its rows are not writers' figures)."""
    rows = run.get("summary") or run.get("rows") or []
    usable = [r for r in rows if isinstance(r, dict) and "writer" in r
              and all(key in r for key, _ in PANELS)]
    servers: dict[str, list[dict[str, Any]]] = {}
    for row in usable:
        servers.setdefault(str(row.get("server") or run.get("server") or "?"), []).append(row)
    stem = name.removesuffix(".json")
    return [Chart(server, found, run,
                  f"{CHARTS}/{stem}.svg" if len(servers) == 1
                  else f"{CHARTS}/{stem}-{_slug(server)}.svg")
            for server, found in servers.items()]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", text).strip("-")


def draw(chart: Chart) -> bytes:
    """The chart as SVG: one horizontal bar panel per figure, writers top to bottom."""
    rows = chart.rows
    labels = [_label(r) for r in rows]
    colours = [_colour(str(r["writer"])) for r in rows]
    panels = PANELS + tuple((key, heading) for key, heading in EXTRA_PANELS
                            if any(isinstance(r.get(key), (int, float)) for r in rows))
    height = 1.2 + 0.38 * len(rows)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mpu-bench",
                         "font.size": 9}):
        figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), height),
                                    sharey=True, facecolor="white")
        for ax, (key, heading) in zip(axes, panels):
            values = [r.get(key) if isinstance(r.get(key), (int, float)) else 0.0
                      for r in rows]
            bars = ax.barh(range(len(rows)), values, color=colours)
            ax.bar_label(bars, labels=[_figure(r, key) for r in rows], padding=3)
            ax.set_title(heading, fontsize=9)
            ax.set_xlim(0, max(values + [1.0]) * 1.25)
            ax.spines[["top", "right"]].set_visible(False)
        axes[0].set_yticks(range(len(rows)), labels)
        axes[0].invert_yaxis()  # the first row on top (the axes share it)
        figure.suptitle(chart.title, fontsize=10)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        plt.close(figure)
    return out.getvalue()


def _figure(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if not row.get("ok"):
        return "failed"
    if not isinstance(value, (int, float)):
        return "-"
    failed = f" ({len(row['failed'])} failed)" if row.get("failed") else ""
    return (f"{value:,.0f}" if key == "mb_per_s" else f"{value:.2f}") + failed


def published(config: MkDocsConfig) -> dict[str, tuple[dict[str, Any], list[Chart]]]:
    """Every result file of bench-data/, by name: the run and its charts."""
    found = {}
    for path in sorted((pathlib.Path(config.docs_dir) / DATA).glob("*.json")):
        run = json.loads(path.read_text())
        found[path.name] = (run, charts_of(path.name, run))
    return found


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for name, (_, charts) in published(config).items():
        if not charts:
            log.warning("%s/%s: no rows with writer, mb_per_s and cpu_s_per_gib to chart",
                        DATA, name)
        for chart in charts:
            files.append(File.generated(config, chart.uri, content=draw(chart)))
    return files


def runs_table(page: Page, config: MkDocsConfig) -> str:
    """The published runs as a Markdown table, with links relative to ``page``."""
    up = "../" * page.file.src_uri.count("/")
    lines = ["| run | servers | command | charts |", "|---|---|---|---|"]
    for name, (run, charts) in published(config).items():
        argv = " ".join(str(a) for a in run.get("argv", []))
        links = ", ".join(f"[{c.server}]({up}{c.uri})" for c in charts)
        servers = ", ".join(c.server for c in charts)
        lines.append(f"| [{name}]({up}{DATA}/{name}) | {servers} | `{argv}` | {links} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, runs_table(page, config))
