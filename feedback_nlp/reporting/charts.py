"""Charts as inline SVG, written by hand: a few kilobytes each, no library, no script.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (its text alternative).
Colours are the Okabe-Ito palette, safe for the common kinds of colour blindness, and every
colour is paired with a shape, so the charts read in black and white print too. Every text from
the data (group names) is escaped.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd
from markupsafe import Markup

from . import spc

# Okabe & Ito (2008): distinguishable with any common colour vision deficiency.
BLUE, VERMILION, PURPLE, GREY = "#0072B2", "#D55E00", "#CC79A7", "#6b6b6b"
# Making Data Count colours special causes by meaning: improvement blue, concern orange (here
# the palette's vermilion), neither way better purple; each with its own shape.
MARKERS = {
    spc.COMMON: ("circle", GREY),
    spc.IMPROVEMENT: ("square", BLUE),
    spc.CONCERN: ("diamond", VERMILION),
    spc.HIGH: ("triangle", PURPLE),
    spc.LOW: ("triangle-down", PURPLE),
}
WIDTH, HEIGHT = 520, 250
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 14, 52


def control_chart(chart: pd.DataFrame, *, key: str, title: str, description: str, percent: bool) -> Markup:
    """An SPC chart (a frame of :func:`~feedback_nlp.reporting.spc.xmr_chart` or
    :func:`~feedback_nlp.reporting.spc.p_prime_chart` with a ``period`` label column); ``key``
    makes the ids of its title and description unique in the page."""
    value = chart["value"].to_numpy(dtype=float)
    top, step = _scale(np.nanmax(np.r_[value, chart["upper"].to_numpy(dtype=float), 0]), percent)
    n = len(chart)
    gap = (WIDTH - LEFT - RIGHT) / max(n - 1, 1)
    xs = [LEFT + i * gap for i in range(n)]
    plot = _Plot(top, step, percent)
    parts = [plot.axes(), *_x_labels(xs, list(chart["period"]))]
    parts.append(_polyline(xs, chart["upper"], plot, "limit"))
    parts.append(_polyline(xs, chart["lower"], plot, "limit"))
    parts.append(_polyline(xs, chart["centre"], plot, "centre"))
    parts.append(_polyline(xs, value, plot, "data"))
    for x, v, variation in zip(xs, value, chart["variation"]):
        if not np.isnan(v):
            parts.append(_marker(x, plot.y(v), variation))
    return _svg(parts, key, title, description)


def funnel_chart(points: pd.DataFrame, funnel: spc.Funnel, *, key: str, title: str,
                 description: str) -> Markup:
    """A funnel plot: each shown group's share negative against its comments, the target and the
    95% and 99.8% limits (the frame of :func:`~feedback_nlp.reporting.spc.funnel` with ``group``)."""
    shown = points[points["shown"]]
    most = max(float(shown["totals"].max()), spc.MIN_GROUP_COMMENTS * 2) * 1.08
    n = np.linspace(spc.MIN_GROUP_COMMENTS, most, 60)
    low95, up95 = funnel.limits(n, spc.Z95)
    low998, up998 = funnel.limits(n, spc.Z998)
    plot = _Plot(*_scale(max(float(up998.max()), float(shown["share"].max())), True), True)
    x_top, x_step = _scale(most, False)

    def x(count):
        return LEFT + count / x_top * (WIDTH - LEFT - RIGHT)

    xs = [x(c) for c in n]
    parts = [plot.axes(), *_count_axis(x_top, x_step, x)]
    for values, kind in ((up998, "limit998"), (low998, "limit998"), (up95, "limit"), (low95, "limit")):
        parts.append(_polyline(xs, values, plot, kind))
    parts.append(_polyline([x(0), x(x_top)], [funnel.target] * 2, plot, "centre"))
    for row in shown.itertuples():
        variation = {"above": spc.CONCERN, "below": spc.IMPROVEMENT}.get(row.position.split(" ")[0], spc.COMMON)
        parts.append(_marker(x(row.totals), plot.y(row.share), variation))
        if variation != spc.COMMON:
            anchor = "end" if x(row.totals) > WIDTH * 0.75 else "start"
            dx = -8 if anchor == "end" else 8
            parts.append(f'<text x="{x(row.totals) + dx:.1f}" y="{plot.y(row.share) + 4:.1f}" '
                         f'text-anchor="{anchor}" class="label">{escape(str(row.group))}</text>')
    return _svg(parts, key, title, description)


class _Plot:
    """The y scale of a chart: 0 at the bottom, ``top`` at the top, a grid line each ``step``."""

    def __init__(self, top: float, step: float, percent: bool):
        self.top, self.step, self.percent = top, step, percent

    def y(self, value: float) -> float:
        return TOP + (1 - value / self.top) * (HEIGHT - TOP - BOTTOM)

    def axes(self) -> str:
        ticks = []
        for value in np.arange(0, self.top + self.step / 2, self.step):
            places = 0 if float(round(self.step * 100, 6)).is_integer() else 1  # 2.5%, not 2%
            text = f"{value:.{places}%}" if self.percent else f"{value:,.0f}"
            ticks.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{self.y(value):.1f}" y2="{self.y(value):.1f}" class="grid"/>'
                         f'<text x="{LEFT - 7}" y="{self.y(value) + 5:.1f}" text-anchor="end">{text}</text>')
        return "".join(ticks)


def _scale(value: float, percent: bool) -> tuple[float, float]:
    """The top of an axis at or above ``value`` and a round step to it, at most 5 steps (a share
    goes to 100% at most): 0.43 -> (0.5, 0.1); 37 -> (40, 10)."""
    if not value or np.isnan(value):
        return 1.0, 0.25
    magnitude = 10 ** math.floor(math.log10(value / 5))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude * 5 >= value)
    top = math.ceil(value / step - 1e-9) * step
    return (min(top, 1.0), step) if percent else (top, step)


def _x_labels(xs, labels) -> list[str]:
    every = max(1, math.ceil(len(labels) / 6))  # at most 6 labels fit under a chart
    return [f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 22}" text-anchor="middle">{escape(str(label))}</text>'
            for i, (x, label) in enumerate(zip(xs, labels)) if i % every == 0]


def _count_axis(top: float, step: float, x) -> list[str]:
    ticks = [f'<text x="{x(v):.1f}" y="{HEIGHT - BOTTOM + 22}" text-anchor="middle">{v:,.0f}</text>'
             for v in np.arange(0, top + step / 2, step)]
    ticks.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
                 "comments with the theme in the group</text>")
    return ticks


def _polyline(xs, values, plot: _Plot, kind: str) -> str:
    """A line through the points with a value; a gap where there is none (NaN)."""
    values = np.asarray(values, dtype=float)
    segments, current = [], []
    for x, v in zip(xs, values):
        if np.isnan(v):
            segments.append(current)
            current = []
        else:
            current.append(f"{x:.1f},{plot.y(min(v, plot.top)):.1f}")
    segments.append(current)
    return "".join(f'<polyline points="{" ".join(s)}" class="{kind}"/>' for s in segments if len(s) > 1)


def legend_marker(variation: str) -> Markup:
    """The charts' marker for ``variation`` (:data:`~feedback_nlp.reporting.spc.COMMON`, ...), drawn
    alone for a legend."""
    return Markup(f'<svg viewBox="0 0 14 14">{_marker(7, 7, variation)}</svg>')


def _marker(x: float, y: float, variation: str) -> str:
    shape, colour = MARKERS[variation]
    r = 3.2 if variation == spc.COMMON else 5
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
    corners = {"diamond": [(0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)],
               "triangle": [(0, -1.3), (1.2, 1), (-1.2, 1)],
               "triangle-down": [(0, 1.3), (1.2, -1), (-1.2, -1)]}[shape]
    points = " ".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in corners)
    return f'<polygon points="{points}" fill="{colour}"/>'


def _svg(parts: list[str], key: str, title: str, description: str) -> Markup:
    # Inline SVG in HTML needs no xmlns: the page holds no address of any kind.
    return Markup(
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{key}-t {key}-d">'
        f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(description)}</desc>'
        f'{"".join(parts)}</svg>'
    )
