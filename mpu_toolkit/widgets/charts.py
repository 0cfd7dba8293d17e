"""Pictures of the space incomplete uploads hold: static SVG strings, each with its text.

Static SVG (no JavaScript, no plotting library) looks the same offline in JupyterLab, the
classic notebook, VS Code, Voilà and marimo; show it inline (``ipywidgets.HTML``,
``IPython.display.HTML``, ``mo.Html``) so that its text follows the theme's colour
(``currentColor``). Each picture has role="img", a <title> and a <desc> holding the text of
its ``describe_*`` function, for screen readers and for anyone who wants words; the numbers
are those of ``mpu du --json`` (both come from :mod:`mpu_toolkit.inventory.accounting`).
Buckets get Okabe–Ito colours, told apart by colour-blind readers too, and keep their colour
across the pictures of one frame. Every name from the data is escaped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..inventory.accounting import (AGE_BANDS, Price, band_position, largest_prefixes,
                                    parse_price, start_period, summarize)
from ..inventory.lifecycle import abort_rules
from .html_table import cost_text, esc, size_text

__all__ = ["PALETTE", "age_chart", "describe_age", "start_chart", "describe_starts",
           "prefix_chart", "describe_prefixes", "class_chart", "describe_classes",
           "space_pictures"]

#: Okabe & Ito's colour-blind-safe colours (black left out: it vanishes on dark themes)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
GREY = "#999999"  # buckets beyond the palette; prefixes beyond the top N
OTHER_BUCKETS, OTHER_PREFIXES = "other buckets", "other prefixes"
EMPTY = "no incomplete uploads"

_WIDTH, _LABELS, _PLOT = 660, 160, 280  # picture, row-label column and longest bar (px)
_PITCH, _BAR, _CUT = 28, 16, 24  # row spacing and bar height (px); characters of a label


@dataclass(frozen=True)
class _Row:
    label: str
    segments: list[tuple[str, int]]  # (series, bytes), left to right

    @property
    def total(self) -> int:
        return sum(n for _, n in self.segments)


@dataclass(frozen=True)
class _Mark:
    position: float  # on the rows axis: row i spans [i, i + 1)
    label: str
    where: str


@dataclass(frozen=True)
class _Picture:
    title: str
    rows: list[_Row]
    colours: dict[str, str]  # series → colour, in legend order
    price: float | None
    stacked: bool  # rows split by bucket (the text then lists each bucket's bytes)
    marks: list[_Mark] = field(default_factory=list)


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _bytes(n: Any) -> int:
    return 0 if pd.isna(n) else int(n)


def _series_of(uploads: pd.DataFrame) -> tuple[Callable[[str], str], dict[str, str]]:
    """Each bucket's series (itself, or "other buckets" beyond the palette) and the colours,
    largest buckets first: the same for every picture of one uploads frame."""
    held = (uploads.assign(bytes=uploads["bytes"].fillna(0)).groupby("bucket")["bytes"].sum()
            .reset_index().sort_values(["bytes", "bucket"], ascending=[False, True]))
    buckets = [str(b) for b in held["bucket"]]
    colours = dict(zip(buckets, PALETTE))
    if len(buckets) > len(PALETTE):
        colours[OTHER_BUCKETS] = GREY
    return (lambda bucket: bucket if bucket in colours else OTHER_BUCKETS), colours


def _stacked_rows(totals: pd.DataFrame, key: str, labels: list[str],
                  uploads: pd.DataFrame) -> tuple[list[_Row], dict[str, str]]:
    """One row per label of ``totals[key]``, split by bucket series in legend order."""
    series_of, colours = _series_of(uploads)
    cells: dict[tuple[str, str], int] = {}
    for bucket, label, nbytes in zip(totals["bucket"], totals[key], totals["bytes"]):
        cell = (_label(label), series_of(str(bucket)))
        cells[cell] = cells.get(cell, 0) + _bytes(nbytes)
    rows = [_Row(label, [(s, cells[(label, s)]) for s in colours if cells.get((label, s))])
            for label in labels]
    return rows, colours


def _label(value: Any) -> str:
    return "unknown" if pd.isna(value) else str(value)


def _age(uploads: pd.DataFrame, rules: pd.DataFrame | None, price: Price | None) -> _Picture:
    rate = parse_price(price)
    rows, colours = _stacked_rows(summarize(uploads, "age"), "age_band",
                                  AGE_BANDS if len(uploads) else [], uploads)
    where: dict[int, list[str]] = {}  # days → the buckets (and prefixes) of such rules
    if rules is not None:
        found = abort_rules(rules)  # soonest first
        for days, bucket, prefix in zip(found["abort_days"], found["bucket"], found["prefix"]):
            where.setdefault(int(days), []).append(f"{bucket}/{prefix}" if prefix else bucket)
    marks: dict[float, list[str]] = {}  # rules falling on one place share one line
    for days, buckets in where.items():
        marks.setdefault(band_position(days), []).append(
            f"abort after {_count(days, 'day')} ({', '.join(buckets)})")
    return _Picture("Incomplete uploads by age", rows, colours, rate, True,
                    [_Mark(p, "; ".join(labels), _between(p)) for p, labels in marks.items()])


def _between(position: float) -> str:
    """Where a mark at ``position`` falls, in words."""
    band = int(position)
    if position == band and band > 0:
        return f"between {AGE_BANDS[band - 1]} and {AGE_BANDS[band]}"
    return f"within {AGE_BANDS[min(band, len(AGE_BANDS) - 1)]}"


def _prefixes(uploads: pd.DataFrame, n: int, depth: int, price: Price | None) -> _Picture:
    rate = parse_price(price)
    series_of, colours = _series_of(uploads)
    colours[OTHER_PREFIXES] = GREY
    top = largest_prefixes(uploads, n, depth=depth)
    rows = []
    for bucket, prefix, groups, nbytes in zip(top["bucket"], top["prefix"], top["groups"],
                                              top["bytes"]):
        if pd.isna(bucket):  # the rest
            label, series = f"other ({_count(groups, 'prefix', 'prefixes')})", OTHER_PREFIXES
        else:
            label, series = f"{bucket}/{prefix}", series_of(bucket)
        rows.append(_Row(label, [(series, _bytes(nbytes))]))
    used = {s for r in rows for s, _ in r.segments}
    shown = {s: c for s, c in colours.items() if s in used}
    return _Picture("Largest prefixes of incomplete uploads", rows, shown, rate, False)


def _classes(uploads: pd.DataFrame, price: Price | None) -> _Picture:
    rate = parse_price(price)
    totals = summarize(uploads, "storage_class")
    order = (totals.assign(label=totals["storage_class"].map(_label))
             .groupby("label")["bytes"].sum().reset_index()
             .sort_values(["bytes", "label"], ascending=[False, True]))
    rows, colours = _stacked_rows(totals, "storage_class", list(order["label"]), uploads)
    return _Picture("Incomplete uploads by storage class", rows, colours, rate, True)


def _started(uploads: pd.DataFrame, price: Price | None) -> _Picture:
    """Bytes by when their upload started (day, week or month by the span), oldest first."""
    rate = parse_price(price)
    labels = list(start_period(uploads["initiated"]).cat.categories)
    rows, colours = _stacked_rows(summarize(uploads, "started"), "started", labels, uploads)
    return _Picture("Incomplete uploads by when they started", rows, colours, rate, True)


def _money(nbytes: int, price: float | None) -> str:
    return "" if price is None else f", {cost_text(nbytes, price)}"


def _text(picture: _Picture) -> str:
    """The picture in words: totals, one line per row, the lifecycle cut-offs."""
    if not picture.rows:
        return f"{picture.title}: {EMPTY}."
    total = sum(r.total for r in picture.rows)
    lines = [f"{picture.title}: {size_text(total)} in total{_money(total, picture.price)}"
             + ("" if picture.price is None else f" at {picture.price:g} per GiB-month") + "."]
    for row in picture.rows:
        split = ", ".join(f"{s} {size_text(n)}" for s, n in row.segments)
        lines.append(f"{row.label}: {size_text(row.total)}{_money(row.total, picture.price)}"
                     + (f" ({split})" if picture.stacked and split else ""))
    lines += [f"Lifecycle cut-off: {m.label}, {m.where}." for m in picture.marks]
    return "\n".join(lines)


def _cut(text: str) -> str:
    return text if len(text) <= _CUT else text[:_CUT - 1] + "…"


def _legend(colours: dict[str, str], y: int) -> tuple[list[str], int]:
    """Swatches and names, wrapped to the picture's width; the y below them."""
    parts, x = ['<g class="mpu-legend">'], 0
    for name, colour in colours.items():
        width = 20 + 7 * len(_cut(name))
        if x and x + width > _WIDTH:
            x, y = 0, y + 16
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{y}">{esc(_cut(name))}'
                     f"<title>{esc(name)}</title></text>")
        x += width + 10
    return [*parts, "</g>"], y + 12


def _svg(picture: _Picture) -> str:
    """The picture as one ``<svg>`` element (see the module's docstring)."""
    text = _text(picture)
    ident = "mpu-" + hashlib.sha1(text.encode()).hexdigest()[:10]
    body = [f'<text x="0" y="14" font-weight="bold">{esc(picture.title)}</text>']
    if not picture.rows:
        body.append(f'<text class="mpu-empty" x="0" y="38">{esc(EMPTY)}</text>')
        height = 48
    else:
        legend, top = _legend(picture.colours, 36)
        body += legend
        body += _bars(picture, top)
        height = top + len(picture.rows) * _PITCH + 4
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_WIDTH}" '
            f'height="{height}" viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" '
            f'font-size="12" fill="currentColor" aria-labelledby="{ident}-t {ident}-d">'
            f'<title id="{ident}-t">{esc(picture.title)}</title>'
            f'<desc id="{ident}-d">{esc(text)}</desc>' + "".join(body) + "</svg>")


def _bars(picture: _Picture, top: int) -> list[str]:
    """Labels, stacked bars (widths proportional to bytes), values and cut-off lines."""
    biggest = max(r.total for r in picture.rows)
    scale = _PLOT / biggest if biggest else 0.0
    bottom = top + len(picture.rows) * _PITCH
    parts = [f'<line class="mpu-axis" x1="{_LABELS}" y1="{top}" x2="{_LABELS}" y2="{bottom}" '
             'stroke="currentColor"/>']
    for i, row in enumerate(picture.rows):
        middle = top + i * _PITCH + _PITCH // 2
        parts.append(f'<text class="mpu-label" x="{_LABELS - 6}" y="{middle + 4}" '
                     f'text-anchor="end">{esc(_cut(row.label))}'
                     f"<title>{esc(row.label)}</title></text>")
        x = float(_LABELS)
        for series, nbytes in row.segments:
            width = nbytes * scale
            parts.append(f'<rect class="mpu-bar" x="{x:.3f}" y="{middle - _BAR // 2}" '
                         f'width="{width:.3f}" height="{_BAR}" '
                         f'fill="{picture.colours[series]}"><title>{esc(series)}, '
                         f"{esc(row.label)}: {esc(size_text(nbytes))}</title></rect>")
            x += width
        value = size_text(row.total) + _money(row.total, picture.price)
        parts.append(f'<text class="mpu-value" x="{x + 6:.3f}" y="{middle + 4}">'
                     f"{esc(value)}</text>")
    for mark in picture.marks:
        y = top + mark.position * _PITCH
        parts.append(f'<g class="mpu-cutoff"><title>{esc(mark.label)}</title>'
                     f'<line x1="{_LABELS - 4}" y1="{y:.1f}" x2="{_LABELS + _PLOT + 4}" '
                     f'y2="{y:.1f}" stroke="currentColor" stroke-width="1.5" '
                     f'stroke-dasharray="5 3"/><text x="{_LABELS + _PLOT + 8}" y="{y + 3:.1f}" '
                     f'font-size="10">{esc(_cut(mark.label))}</text></g>')
    return parts


def age_chart(uploads: pd.DataFrame, rules: pd.DataFrame | None = None,
              price: Price | None = None) -> str:
    """Bytes per age band, each bar stacked by bucket, with a dashed line where a lifecycle
    rule aborts uploads (``rules``: the frame of :func:`mpu_toolkit.uploads.lifecycle`, one
    or several buckets'); ``price`` per GiB-month adds monthly costs. ``uploads``: the frame
    of :func:`mpu_toolkit.uploads.list`."""
    return _svg(_age(uploads, rules, price))


def describe_age(uploads: pd.DataFrame, rules: pd.DataFrame | None = None,
                 price: Price | None = None) -> str:
    """:func:`age_chart` in words (its <desc>)."""
    return _text(_age(uploads, rules, price))


def prefix_chart(uploads: pd.DataFrame, n: int = 8, *, depth: int = 1,
                 price: Price | None = None) -> str:
    """The ``n`` prefixes (``depth`` folders deep) holding the most bytes, coloured by
    bucket, and one bar for the rest."""
    return _svg(_prefixes(uploads, n, depth, price))


def describe_prefixes(uploads: pd.DataFrame, n: int = 8, *, depth: int = 1,
                      price: Price | None = None) -> str:
    """:func:`prefix_chart` in words (its <desc>)."""
    return _text(_prefixes(uploads, n, depth, price))


def class_chart(uploads: pd.DataFrame, price: Price | None = None) -> str:
    """Bytes per storage class, each bar stacked by bucket."""
    return _svg(_classes(uploads, price))


def describe_classes(uploads: pd.DataFrame, price: Price | None = None) -> str:
    """:func:`class_chart` in words (its <desc>)."""
    return _text(_classes(uploads, price))


def start_chart(uploads: pd.DataFrame, price: Price | None = None) -> str:
    """Bytes by when their upload started (per day, week or month: whichever fits the span),
    each bar stacked by bucket: how the held space built up over time."""
    return _svg(_started(uploads, price))


def describe_starts(uploads: pd.DataFrame, price: Price | None = None) -> str:
    """:func:`start_chart` in words (its <desc>)."""
    return _text(_started(uploads, price))


def space_pictures(uploads: pd.DataFrame, rules: pd.DataFrame | None = None,
                   price: Price | None = None) -> str:
    """The four pictures side by side, wrapping on narrow screens: one HTML block."""
    svgs = (age_chart(uploads, rules, price), start_chart(uploads, price),
            prefix_chart(uploads, price=price), class_chart(uploads, price))
    return ('<div class="mpu-space" style="display:flex;flex-wrap:wrap;gap:16px">'
            + "".join(f"<div>{svg}</div>" for svg in svgs) + "</div>")
