"""Charts drawn on the server as inline SVG: no chart library, no script, prints as it shows.

Only presentation attributes are used (no ``style=``), so the strict CSP allows them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

INK = "#1b1f24"
GRID = "#d5dbe3"
MUTED = "#5f6b7a"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above the value (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _count_axis(value: float) -> float:
    """An axis maximum for counts: four equal whole steps, so that every tick is a whole
    number ("0, 1, 2, 3, 4", never "1,2, 2,5, 3,8")."""
    needed = max(1.0, value) / 4
    power = 10 ** math.floor(math.log10(needed)) if needed >= 1 else 1
    for step in (1, 1.5, 2, 3, 4, 5, 6, 8, 10):
        if step * power == int(step * power) and needed <= step * power:
            return float(int(step * power) * 4)
    return float(10 * power * 4)


def _num(value: float) -> str:
    """A figure as Vietnamese text: thousands with dots, one decimal with a comma."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def column_chart(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    title: str,
    color: str = "#0b57b7",
    width: int = 760,
    height: int = 260,
) -> Markup:
    """Vertical bars (counts) with their values on top and the labels below."""
    left, right, top, bottom = 44, 10, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _count_axis(max(values, default=0))
    n = max(1, len(values))
    slot = plot_w / n
    bar = max(2.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{MUTED}">{_num(peak * i / 4)}</text>'
        )
    for i, (value, label) in enumerate(zip(values, labels, strict=False)):
        h = plot_h * (value / peak) if peak else 0
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h - h
        cx = x + bar / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
            f'fill="{color}" rx="2"><title>{escape(label)}: {_num(value)}</title></rect>'
        )
        if value:
            parts.append(
                f'<text x="{cx:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" '
                f'fill="{INK}">{_num(value)}</text>'
            )
        parts.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 16}" font-size="11" '
            f'text-anchor="middle" fill="{INK}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[int]]],
    *,
    names: Sequence[str],
    colors: Sequence[str],
    title: str,
    width: int = 760,
) -> Markup:
    """One 100 % bar per row (e.g. rating levels per officer), shares written inside."""
    label_w, total_w, row_h, top = 200, 60, 30, 30
    plot_w = width - label_w - total_w
    height = top + row_h * max(1, len(rows)) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    x = label_w
    for name, color in zip(names, colors, strict=False):
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16}" y="16" font-size="12" fill="{INK}">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    for i, (label, counts) in enumerate(rows):
        y = top + row_h * i
        total = sum(counts)
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" font-size="12" text-anchor="end" '
            f'fill="{INK}">{escape(short)}</text>'
        )
        if not total:
            parts.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row_h - 8}" '
                f'fill="#eceff1"/>'
            )
        cursor = float(label_w)
        for count, color, name in zip(counts, colors, names, strict=False):
            if not total or not count:
                continue
            w = plot_w * count / total
            share = 100 * count / total
            parts.append(
                f'<rect x="{cursor:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{color}"><title>{escape(name)}: {count} ({_num(round(share, 1))}%)'
                f"</title></rect>"
            )
            if w > 38:
                ink = INK if color.lower() in ("#f9a825", "#7cb342") else "#fff"
                parts.append(
                    f'<text x="{cursor + w / 2:.1f}" y="{y + 19}" font-size="11" '
                    f'text-anchor="middle" fill="{ink}">{_num(round(share, 1))}%</text>'
                )
            cursor += w
        parts.append(
            f'<text x="{width - 4}" y="{y + 18}" font-size="12" text-anchor="end" '
            f'fill="{MUTED}">{_num(total)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def duration_bars(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    names: tuple[str, str, str],
    target: float | None = None,
    width: int = 760,
) -> Markup:
    """Per row: the mean as a bar, the median and the 90th percentile as marks (minutes)."""
    label_w, row_h, top, right = 200, 26, 30, 50
    plot_w = width - label_w - right
    peak = _nice_max(max((v for _, a, m, p in rows for v in (a, m, p) if v), default=0))
    height = top + row_h * max(1, len(rows)) + 22
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{label_w}" y="6" width="14" height="12" fill="#90caf9"/>'
        f'<text x="{label_w + 18}" y="16" font-size="12" fill="{INK}">{escape(names[0])}</text>'
        f'<rect x="{label_w + 150}" y="5" width="3" height="14" fill="{INK}"/>'
        f'<text x="{label_w + 158}" y="16" font-size="12" fill="{INK}">{escape(names[1])}</text>'
        f'<rect x="{label_w + 290}" y="5" width="3" height="14" fill="#c62828"/>'
        f'<text x="{label_w + 298}" y="16" font-size="12" fill="{INK}">{escape(names[2])}</text>',
    ]
    bottom = top + row_h * max(1, len(rows))
    for i in range(5):
        x = label_w + plot_w * i / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{bottom + 14}" font-size="11" text-anchor="middle" '
            f'fill="{MUTED}">{_num(peak * i / 4)}</text>'
        )
    for i, (label, mean, median, p90) in enumerate(rows):
        y = top + row_h * i
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" font-size="12" text-anchor="end" '
            f'fill="{INK}">{escape(short)}</text>'
        )
        if mean is not None:
            w = plot_w * mean / peak
            parts.append(
                f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" '
                f'fill="#90caf9"><title>{escape(names[0])}: {_num(round(mean, 1))}</title></rect>'
            )
        for value, color in ((median, INK), (p90, "#c62828")):
            if value is not None:
                x = label_w + plot_w * value / peak
                parts.append(
                    f'<rect x="{x - 1.5:.1f}" y="{y + 2}" width="3" height="{row_h - 4}" '
                    f'fill="{color}"/>'
                )
    if target:
        x = label_w + plot_w * min(target, peak) / peak
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#2e7d32" '
            f'stroke-width="2" stroke-dasharray="5 4"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
