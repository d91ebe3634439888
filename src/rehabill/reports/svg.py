"""Bar charts as SVG text (no plotting library): for reports people would rather look at."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2")


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal]]],
              *, width: int = 720, height: int = 320) -> str:
    """A grouped bar chart.

    Args:
        title: chart title.
        labels: one label per group (x axis).
        series: (name, one value per label) for each series.
        width: pixels.
        height: pixels.

    Returns:
        An SVG document as text, with a <title> and per-bar <title> tooltips for accessibility.
    """
    left, right, top, bottom = 64, 16, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values), default=Decimal(0))
    peak = peak if peak > 0 else Decimal(1)
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="system-ui, sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="600" fill="#111827">'
        f"{escape(title)}</text>",
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        value = peak * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#6b7280">{value:,.0f}</text>')
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series):
            value = values[g] if g < len(values) else Decimal(0)
            h = float(value / peak) * plot_h
            x = x0 + s * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                         f"<title>{escape(name)} {escape(label)}: {value:,.2f}</title></rect>")
        parts.append(f'<text x="{left + g * group_w + group_w / 2:.1f}" y="{height - bottom + 16}"'
                     f' font-size="11" text-anchor="middle" fill="#374151">{escape(label)}</text>')
    for s, (name, _) in enumerate(series):
        key_x = left + s * 150
        parts.append(f'<rect x="{key_x}" y="{height - 22}" width="10" height="10" '
                     f'fill="{PALETTE[s % len(PALETTE)]}"/>')
        parts.append(f'<text x="{key_x + 14}" y="{height - 13}" font-size="11" fill="#374151">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    return "\n".join(parts)
