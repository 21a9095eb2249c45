"""Charts as inline SVG, drawn on the server: no chart script in the page.

Two kinds, both on a fixed coordinate system (`viewBox`) that the page scales
to its width: a dot strip of scores on a 0-100 axis, one dot per candidate,
and the funnel's horizontal bars. Colours and sizes are presentation
attributes, not `style`, which the Content-Security-Policy forbids inline.
Every piece of text is escaped here; callers pass plain strings.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from markupsafe import Markup, escape

__all__ = [
    "PLOT_LEFT",
    "PLOT_RIGHT",
    "TONES",
    "Mark",
    "Stage",
    "Tone",
    "dot_strip",
    "funnel",
    "legend",
    "score_text",
    "x_of",
]

Tone = Literal["undecided", "advance", "hold", "reject"]
# The badges' hues (style.css), the amber lighter so that a dot stands out.
TONES: Final[dict[str, str]] = {
    "undecided": "#1f5f9e",
    "advance": "#1d6b35",
    "hold": "#c98a00",
    "reject": "#a3261c",
}
INK, MUTED, LINE, GRID, TRACK = "#1d2327", "#50575e", "#8a939b", "#e6e9ec", "#e3e7eb"

WIDTH: Final = 960
PLOT_LEFT: Final = 28.0  # where 0 is on the axis
PLOT_RIGHT: Final = 932.0  # where 100 is
TOP: Final = 26.0  # room for the median's label
BOTTOM: Final = 30.0  # the tick labels under the axis
# Dot radii, tried in turn until the tallest stack fits in MAX_STACK; past the
# smallest, the dots of a stack overlap (a stack of 100 equal scores is a bar).
RADII: Final = (7.0, 5.0, 3.5)
MAX_STACK: Final = 210.0


@dataclass(frozen=True)
class Mark:
    """One candidate in a distribution: what the dot's tooltip says and where it links."""

    label: str
    value: float  # 0 to 100; clamped onto the axis
    href: str
    tone: Tone = "undecided"


@dataclass(frozen=True)
class Stage:
    """One bar of the funnel: how many reached it, out of `of`."""

    label: str
    count: int
    of: int

    @property
    def share(self) -> float:
        return self.count / self.of if self.of else 0.0


def x_of(value: float) -> float:
    """Where a score sits on the strip's axis (the same for every strip)."""
    return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * min(max(value, 0.0), 100.0) / 100.0


def _num(value: float) -> str:
    """A coordinate: short, and the same text for the same value."""
    return f"{value:.1f}".removesuffix(".0")


def score_text(value: float) -> str:
    return f"{value:.1f}"


def _stack(xs: Sequence[float], radius: float) -> list[int]:
    """The level (0 at the axis) of each dot, xs in ascending order: the lowest
    level whose last dot leaves room, so equal scores pile up and none hides another."""
    gap = 2 * radius + 1
    last: list[float] = []  # the rightmost x on each level so far
    levels = []
    for x in xs:
        for level, right in enumerate(last):
            if x - right >= gap:
                last[level] = x
                levels.append(level)
                break
        else:
            last.append(x)
            levels.append(len(last) - 1)
    return levels


def _layout(xs: Sequence[float]) -> tuple[float, list[int], float, bool]:
    """The dots' radius, each dot's level, the distance between levels, and
    whether the dots overlap to fit."""
    for radius in RADII:
        levels = _stack(xs, radius)
        step = 2 * radius + 2
        if step * max(levels, default=0) <= MAX_STACK:
            return radius, levels, step, False
    return radius, levels, MAX_STACK / max(levels), True


def dot_strip(marks: Sequence[Mark], *, label: str) -> Markup:
    """A strip of dots on a 0-100 axis, the median drawn across it; each dot a
    link with a `<title>` (the candidate and the value). `label` names the
    measure in the accessible summary ("Total score: 5 candidates, median 62.5")."""
    ordered = sorted(marks, key=lambda m: (m.value, m.label))
    xs = [x_of(m.value) for m in ordered]
    radius, levels, step, overlap = _layout(xs)
    top = TOP + 14 if overlap else TOP  # room for the stacks' counts
    axis_y = top + 6 + 2 * radius + step * max(levels, default=0)
    height = axis_y + BOTTOM
    median = statistics.median(m.value for m in ordered) if ordered else None
    summary = f"{label}: {len(ordered)} candidate{'s' * (len(ordered) != 1)}"
    if median is not None:
        summary += f", median {score_text(median)}"
    out = [
        f'<svg class="chart strip" role="img" aria-label="{escape(summary)}" '
        f'viewBox="0 0 {WIDTH} {_num(height)}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="13">'
    ]
    for tick in range(0, 101, 10):
        tx = _num(x_of(tick))
        out.append(
            f'<line x1="{tx}" x2="{tx}" y1="{_num(top)}" y2="{_num(axis_y)}" stroke="{GRID}"/>'
            f'<line x1="{tx}" x2="{tx}" y1="{_num(axis_y)}" y2="{_num(axis_y + 5)}" '
            f'stroke="{LINE}"/>'
            f'<text x="{tx}" y="{_num(axis_y + 20)}" text-anchor="middle" '
            f'fill="{MUTED}">{tick}</text>'
        )
    out.append(
        f'<line x1="{_num(PLOT_LEFT)}" x2="{_num(PLOT_RIGHT)}" y1="{_num(axis_y)}" '
        f'y2="{_num(axis_y)}" stroke="{LINE}" stroke-width="1.5"/>'
    )
    if median is not None:
        mx = x_of(median)
        # The label beside the line, turned inwards near either end of the axis.
        anchor, dx = ("end", -5) if mx > WIDTH - 120 else ("start", 5)
        out.append(
            f'<g class="median"><line x1="{_num(mx)}" x2="{_num(mx)}" y1="{_num(TOP - 14)}" '
            f'y2="{_num(axis_y)}" stroke="{INK}" stroke-width="1.5" stroke-dasharray="5 3"/>'
            f'<text x="{_num(mx + dx)}" y="{_num(TOP - 4)}" text-anchor="{anchor}" '
            f'fill="{INK}" font-weight="600">median {score_text(median)}</text></g>'
        )
    for mark, x, level in zip(ordered, xs, levels, strict=True):
        y = axis_y - radius - 3 - level * step
        tip = f"{mark.label}: {score_text(mark.value)}"
        out.append(
            f'<a href="{escape(mark.href)}" class="mark"><title>{escape(tip)}</title>'
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(radius)}" '
            f'fill="{TONES[mark.tone]}" stroke="#fff" stroke-width="1.5"/></a>'
        )
    if overlap:  # overlapping dots cannot be counted: each score's count above its stack
        highest: dict[float, tuple[int, int]] = {}  # x -> (top level, dots)
        for x, level in zip(xs, levels, strict=True):
            seen = highest.get(x, (0, 0))
            highest[x] = (max(seen[0], level), seen[1] + 1)
        for x, (level, count) in highest.items():
            if count > 1:
                y = axis_y - 2 * radius - 7 - level * step
                # On a white patch: the median's line or a grid line may run through it.
                width = 7 * len(str(count)) + 4  # about 7 units a digit at this size
                out.append(
                    f'<rect x="{_num(x - width / 2)}" y="{_num(y - 10)}" width="{width}" '
                    f'height="13" fill="#fff"/>'
                    f'<text class="count" x="{_num(x)}" y="{_num(y)}" text-anchor="middle" '
                    f'font-size="11" fill="{MUTED}">{count}</text>'
                )
    out.append("</svg>")
    return Markup("".join(out))


def legend() -> Markup:
    """What the dots' colours mean: the standing decision."""
    out = [
        '<svg class="chart legend" role="img" aria-label="Dot colours: the standing decision" '
        'viewBox="0 0 480 22" width="480" height="22" xmlns="http://www.w3.org/2000/svg" '
        'font-size="13">'
    ]
    x = 8.0
    for tone, colour in TONES.items():
        text = "no decision" if tone == "undecided" else tone
        out.append(
            f'<circle cx="{_num(x)}" cy="11" r="6" fill="{colour}"/>'
            f'<text x="{_num(x + 11)}" y="15.5" fill="{MUTED}">{escape(text)}</text>'
        )
        x += 34 + 7 * len(text)  # about 7 units a character at this size
    out.append("</svg>")
    return Markup("".join(out))


FUNNEL_LABEL_X: Final = 120.0  # the labels end here, right-aligned
FUNNEL_BAR_X: Final = 132.0
FUNNEL_BAR_WIDTH: Final = 640.0
FUNNEL_ROW: Final = 30.0


def funnel(stages: Sequence[Stage]) -> Markup:
    """Horizontal bars, one per stage, as a share of the first stage's count."""
    height = FUNNEL_ROW * len(stages) + 8
    summary = "Funnel: " + ", ".join(
        f"{s.label} {s.count}" + (f" ({s.share:.0%})" if i else "") for i, s in enumerate(stages)
    )
    out = [
        f'<svg class="chart funnel" role="img" aria-label="{escape(summary)}" '
        f'viewBox="0 0 {WIDTH} {_num(height)}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="14">'
    ]
    for i, stage in enumerate(stages):
        top = 4 + i * FUNNEL_ROW
        mid = top + FUNNEL_ROW / 2
        bar = FUNNEL_BAR_WIDTH * stage.share
        out.append(
            f'<g class="stage"><text x="{_num(FUNNEL_LABEL_X)}" y="{_num(mid + 5)}" '
            f'text-anchor="end" fill="{INK}">{escape(stage.label)}</text>'
            f'<rect x="{_num(FUNNEL_BAR_X)}" y="{_num(top + 4)}" '
            f'width="{_num(FUNNEL_BAR_WIDTH)}" height="{_num(FUNNEL_ROW - 8)}" rx="3" '
            f'fill="{TRACK}"/>'
            f'<rect x="{_num(FUNNEL_BAR_X)}" y="{_num(top + 4)}" width="{_num(bar)}" '
            f'height="{_num(FUNNEL_ROW - 8)}" rx="3" fill="{TONES["undecided"]}"/>'
            f'<text x="{_num(FUNNEL_BAR_X + FUNNEL_BAR_WIDTH + 12)}" y="{_num(mid + 5)}" '
            f'fill="{INK}"><tspan font-weight="600">{stage.count}</tspan>'
            f'<tspan fill="{MUTED}"> · {stage.share:.0%}</tspan></text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))
