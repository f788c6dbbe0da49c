"""The geometry of the Insights page's charts, drawn as SVG on the server (no script library, no network):
a daily line or bar chart scaled into a fixed view box, and horizontal bars for counts. The page's template
turns these into ``<svg>`` with a title and the numbers in a table a click away."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 640
HEIGHT = 200
LEFT = 44
RIGHT = 8
TOP = 10
BOTTOM = 24
TICKS = 4


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: str  # the polyline's "x,y x,y …" (gaps where a day has no value start a new run)
    runs: list[str]
    bars: list[Bar]


@dataclass(frozen=True, slots=True)
class DayChart:
    width: int
    height: int
    series: list[Series]
    ticks: list[Tick]
    first_label: str
    last_label: str
    plot_left: int
    plot_bottom: int


def _nice_top(peak: float) -> float:
    if peak <= 0:
        return 1.0
    step = 10 ** (len(str(int(peak))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if peak <= factor * step:
            return float(factor * step)
    return float(10 * step)


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"


def day_chart(
    days: Sequence[date], named: Sequence[tuple[str, Sequence[float | None]]], *, bars: bool = False
) -> DayChart:
    """One or more daily series over the same days, on one scale."""
    count = max(1, len(days))
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    peak = max((v for _, values in named for v in values if v is not None), default=0.0)
    top = _nice_top(float(peak))
    slot = inner_w / count

    def y_of(value: float) -> float:
        return round(TOP + inner_h - inner_h * value / top, 1)

    series = []
    for name, values in named:
        runs: list[list[str]] = [[]]
        shapes: list[Bar] = []
        for index, value in enumerate(values):
            x = LEFT + slot * index + slot / 2
            if value is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append(f"{round(x, 1)},{y_of(value)}")
            if bars:
                width = max(1.0, slot * 0.7)
                shapes.append(
                    Bar(
                        round(x - width / 2, 1),
                        y_of(value),
                        round(width, 1),
                        round(TOP + inner_h - y_of(value), 1),
                        value,
                    )
                )
        kept = [" ".join(run) for run in runs if run]
        series.append(Series(name=name, points=" ".join(kept), runs=kept, bars=shapes))
    ticks = [Tick(y=y_of(top * i / TICKS), label=_label(top * i / TICKS)) for i in range(TICKS + 1)]
    return DayChart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        ticks=ticks,
        first_label=days[0].isoformat() if days else "",
        last_label=days[-1].isoformat() if days else "",
        plot_left=LEFT,
        plot_bottom=TOP + inner_h,
    )


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: float
    width: float  # percent of the widest


def count_bars(rows: Sequence[tuple[str, float]]) -> list[Row]:
    peak = max((value for _, value in rows), default=0.0)
    return [Row(label, value, round(100 * value / peak, 1) if peak else 0.0) for label, value in rows]
