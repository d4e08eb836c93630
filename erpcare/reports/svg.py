"""Small bar and line charts as inline SVG, drawn on the server: the report page and its PDF
show the same picture, with no JavaScript and nothing fetched.

Every label is escaped; text takes the surrounding page's font (Noto Sans CJK in the PDF),
so Chinese labels render. A missing value (``None``) draws no bar or point — it is not a
zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0d6efd", "#adb5bd", "#198754", "#fd7e14", "#6f42c1", "#dc3545")
FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", "DejaVu Sans", sans-serif'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def nice_ticks(top: float, count: int = 4, *, integers: bool = False) -> list[float]:
    """0 and about ``count`` round steps (1, 2, 2.5 or 5 × 10ⁿ) reaching at least ``top``;
    whole steps only for ``integers`` (counts of tickets)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integers:
        step = max(1.0, float(math.ceil(step)))
    ticks = [0.0]
    while ticks[-1] < top - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):d}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 10,
          extra: str = "") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="#495057"{extra}>{escape(text)}</text>'
    )


@dataclass
class _Frame:
    width: int
    height: int
    left: int = 44
    right: int = 10
    top: int = 26
    bottom: int = 34

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, top: float) -> float:
        return self.top + self.plot_height * (1 - value / top)


def _open(frame: _Frame, title: str, testid: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
        f'height="{frame.height}" data-testid="{escape(testid)}" '
        f"style='font-family: {FONT}' aria-label=\"{escape(title)}\">",
        f"<title>{escape(title)}</title>",
        _text(frame.left, 14, title, anchor="start", size=12, extra=' font-weight="bold"'),
    ]


def _axes(frame: _Frame, ticks: list[float], unit: str) -> list[str]:
    parts = []
    top = ticks[-1]
    for tick in ticks:
        y = frame.y(tick, top)
        parts.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.width - frame.right}" '
            f'y2="{y:.1f}" stroke="#dee2e6" stroke-width="1"/>'
        )
        parts.append(_text(frame.left - 4, y + 3.5, _fmt(tick), anchor="end", size=9))
    if unit:
        parts.append(_text(4, frame.top - 6, unit, anchor="start", size=9))
    return parts


def _legend(frame: _Frame, series: Sequence[Series]) -> list[str]:
    if len(series) < 2:
        return []
    parts, x = [], frame.width - frame.right
    for index in reversed(range(len(series))):
        name = series[index].name
        x -= 14 + 7 * len(name) + 10 * sum(1 for c in name if ord(c) > 0x2E80)
        parts.append(
            f'<rect x="{x:.1f}" y="19" width="10" height="10" fill="{PALETTE[index % 6]}"/>'
        )
        parts.append(_text(x + 13, 28, name, anchor="start", size=9))
    return parts


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    width: int = 520,
    height: int = 220,
    testid: str = "chart",
    integers: bool = False,
) -> SafeString:
    """Grouped vertical bars: one group per label, one bar per series, values on top."""
    frame = _Frame(width, height, top=44 if len(series) > 1 else 26)
    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(max(values, default=0.0), integers=integers)
    top = ticks[-1]
    parts = _open(frame, title, testid) + _axes(frame, ticks, unit) + _legend(frame, series)
    groups = max(len(labels), 1)
    slot = frame.plot_width / groups
    bar = min(36.0, slot * 0.8 / max(len(series), 1))
    for g, label in enumerate(labels):
        start = frame.left + g * slot + (slot - bar * len(series)) / 2
        for index, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else None
            if value is None:
                continue
            x, y = start + index * bar, frame.y(value, top)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                f'height="{frame.top + frame.plot_height - y:.1f}" '
                f'fill="{PALETTE[index % 6]}"><title>{escape(label)}: {_fmt(value)}</title></rect>'
            )
            parts.append(_text(x + (bar - 2) / 2, y - 3, _fmt(value), size=8))
        parts.append(_text(frame.left + (g + 0.5) * slot, height - frame.bottom + 14, label))
    if not labels:
        parts.append(_text(width / 2, frame.top + frame.plot_height / 2, "—"))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    width: int = 520,
    height: int = 220,
    testid: str = "chart",
    integers: bool = False,
) -> SafeString:
    """Lines over the labels (months), a dot and its value on each known point; a missing
    value breaks the line."""
    frame = _Frame(width, height, top=44 if len(series) > 1 else 26)
    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(max(values, default=0.0), integers=integers)
    top = ticks[-1]
    parts = _open(frame, title, testid) + _axes(frame, ticks, unit) + _legend(frame, series)
    count = max(len(labels), 1)
    slot = frame.plot_width / count

    def x_of(i: int) -> float:
        return frame.left + (i + 0.5) * slot

    for i, label in enumerate(labels):
        parts.append(_text(x_of(i), height - frame.bottom + 14, label))
    for index, s in enumerate(series):
        colour = PALETTE[index % 6]
        run: list[str] = []
        for i, value in enumerate(s.values):
            if value is None:
                if len(run) > 1:
                    parts.append(_polyline(run, colour))
                run = []
                continue
            x, y = x_of(i), frame.y(value, top)
            run.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
            parts.append(_text(x, y - 5, _fmt(value), size=8))
        if len(run) > 1:
            parts.append(_polyline(run, colour))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)


def _polyline(points: list[str], colour: str) -> str:
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>'
