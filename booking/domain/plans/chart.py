"""The outcome chart of a plan: a plain SVG line chart drawn on the server (no JavaScript).

Numbers only, no judgement words (domain.md §4). Scores run 0-10 on the y axis; points are
spaced evenly by measurement order. Each point carries its score as text, so the chart and
the table beside it show the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 600, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 20, 20, 40


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # e.g. "12 Oct"
    score: float


def _fmt(score: float) -> str:
    return f"{score:.1f}".rstrip("0").rstrip(".") if score != int(score) else str(int(score))


def score_text(score: float) -> str:
    """A score as shown in the chart and the table: `7`, `5.3`."""
    return _fmt(score)


def line_chart(points: Sequence[Point], *, title: str) -> str:
    """Return the SVG markup of the chart (escaped; safe to mark as HTML)."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(points) - 1, 1)

    def y(score: float) -> float:
        return TOP + inner_h * (1 - score / 10)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title" class="plan-chart" width="100%">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for tick in range(0, 11, 2):
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" '
            'stroke="#b1b4b6" stroke-width="1"/>'
            f'<text x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#0b0c0c">{tick}</text>'
        )
    coords = [(LEFT + i * step, y(p.score)) for i, p in enumerate(points)]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1d70b8" stroke-width="3"/>')
    for (x, yy), point in zip(coords, points, strict=True):
        value = score_text(point.score)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="5" fill="#1d70b8" '
            f'data-score="{value}"/>'
            f'<text x="{x:.1f}" y="{yy - 10:.1f}" text-anchor="middle" font-size="13" '
            f'fill="#0b0c0c" class="plan-chart-value">{value}</text>'
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="middle" '
            f'font-size="12" fill="#0b0c0c">{escape(point.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
