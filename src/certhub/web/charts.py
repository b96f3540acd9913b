"""Small server-rendered SVG charts (bar and line) that any page can reuse.

No JavaScript and no inline style (the CSP forbids both): geometry is SVG attributes, colours are
CSS classes (``chart-series-0``... in ``web/incidents/incidents.css``) with presentation-attribute
fallbacks. Every chart is accessible: the ``<svg>`` has ``role="img"``, a ``<title>`` and a
``<desc>`` it is labelled and described by, and the same numbers follow as a data table
(in a ``<details>`` element, so sighted readers may open it and screen readers always reach it).

    chart = BarChart(title=_("Median time to acknowledge"), unit=_("hours"),
                     categories=["MyCERT", "SingCERT"],
                     series=[Series(_("median"), [2.5, 7.0]),
                             Series(_("90th percentile"), [6, 20])])
    {{ chart }}            in a template (the chart renders itself as a <figure>)

Missing values are ``None``: no bar or point is drawn and the table shows a dash.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

# Presentation-attribute fallbacks of the CSS palette (colour-blind safe, Okabe & Ito).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")

_ids = itertools.count(1)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _join(parts) -> SafeString:
    """Concatenate already-safe pieces (each made by format_html), escaping anything else."""
    return format_html_join("", "{}", ((part,) for part in parts))


@dataclass
class Series:
    name: str
    values: Sequence[float | None]


@dataclass
class Chart:
    """What both kinds share: labelled categories on the x axis, one or more series."""

    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    unit: str = ""
    description: str = ""
    width: int = 640
    height: int = 280
    decimals: int = 1
    chart_id: str = field(default="")

    # margins inside the view box: left for the y labels, bottom for the category labels
    margin_left = 52
    margin_right = 12
    margin_top = 24
    margin_bottom = 64
    kind = "chart"

    def __post_init__(self) -> None:
        if not self.chart_id:
            self.chart_id = f"chart-{next(_ids)}"
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError("every series needs one value per category")

    # --- scale ---------------------------------------------------------------------------
    def _values(self) -> list[float]:
        return [v for s in self.series for v in s.values if v is not None]

    def y_max(self) -> float:
        """A 'nice' top of the y axis (1, 2, 2.5, 5 x 10^n) above the largest value."""
        top = max(self._values(), default=0.0)
        if top <= 0:
            return 1.0
        exponent = math.floor(math.log10(top))
        for step in (1, 2, 2.5, 5, 10):
            nice = step * 10 ** exponent
            if nice >= top:
                return float(nice)
        return float(10 ** (exponent + 1))  # pragma: no cover

    def _plot_box(self) -> tuple[float, float, float, float]:
        left, top = self.margin_left, self.margin_top
        return (left, top, self.width - self.margin_right - left,
                self.height - self.margin_bottom - top)

    def _y(self, value: float) -> float:
        _left, top, _w, height = self._plot_box()
        return top + height - (value / self.y_max()) * height

    def format(self, value: float | None) -> str:
        if value is None:
            return "—"
        text = f"{value:.{self.decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text

    def _with_unit(self, value: float | None) -> str:
        text = self.format(value)
        return f"{text} {self.unit}" if self.unit and value is not None else text

    # --- pieces --------------------------------------------------------------------------
    def _axes(self) -> SafeString:
        left, top, width, height = self._plot_box()
        ticks = []
        for i in range(5):
            value = self.y_max() * i / 4
            y = self._y(value)
            ticks.append(format_html(
                '<line class="chart-grid" x1="{}" y1="{}" x2="{}" y2="{}" '
                'stroke="#d9dde3"/>'
                '<text class="chart-tick" x="{}" y="{}" text-anchor="end" '
                'dominant-baseline="middle" font-size="11">{}</text>',
                left, _n(y), left + width, _n(y), left - 6, _n(y), self.format(value)))
        axis = format_html(
            '<line class="chart-axis" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#5a6470"/>',
            left, top + height, left + width, top + height)
        unit = format_html(
            '<text class="chart-unit" x="4" y="{}" font-size="11">{}</text>', top - 12,
            self.unit) if self.unit else ""
        return _join([*ticks, axis, unit])

    def _category_labels(self) -> SafeString:
        left, top, width, height = self._plot_box()
        n = max(len(self.categories), 1)
        slot = width / n
        every = max(1, math.ceil(n / 16))  # at most ~16 labels; the table has them all
        parts = []
        for i, name in enumerate(self.categories):
            if i % every:
                continue
            x = left + slot * (i + 0.5)
            y = top + height + 14
            label = name if len(name) <= 14 else name[:13] + "…"
            parts.append(format_html(
                '<text class="chart-label" x="{}" y="{}" font-size="11" '
                'text-anchor="end" transform="rotate(-35 {} {})">{}</text>',
                _n(x), _n(y), _n(x), _n(y), label))
        return _join(parts)

    def _legend(self) -> SafeString:
        if len(self.series) < 2:
            return _join([])
        return format_html(
            '<ul class="chart-legend" aria-hidden="true">{}</ul>',
            format_html_join("", '<li><span class="chart-swatch chart-series-{}"></span>{}</li>',
                             ((i % len(PALETTE), s.name) for i, s in enumerate(self.series))))

    def marks(self) -> SafeString:  # pragma: no cover - subclasses draw
        raise NotImplementedError

    def summary(self) -> str:
        """The text of <desc>: what is drawn, in words."""
        if self.description:
            return self.description
        if not self._values():
            return _("No data.")
        names = ", ".join(s.name for s in self.series)
        return _("%(kind)s of %(series)s for %(count)d categories; the largest value is "
                 "%(max)s. The table below has every value.") % {
            "kind": self.kind_label(), "series": names, "count": len(self.categories),
            "max": self._with_unit(max(self._values()))}

    def kind_label(self) -> str:
        return _("Chart")

    def svg(self) -> SafeString:
        title_id, desc_id = f"{self.chart_id}-title", f"{self.chart_id}-desc"
        return format_html(
            '<svg class="chart chart-{}" id="{}" viewBox="0 0 {} {}" role="img" '
            'aria-labelledby="{}" aria-describedby="{}" xmlns="http://www.w3.org/2000/svg" '
            'font-family="system-ui, sans-serif">'
            '<title id="{}">{}</title><desc id="{}">{}</desc>{}{}{}</svg>',
            self.kind, self.chart_id, self.width, self.height, title_id, desc_id,
            title_id, self.title, desc_id, self.summary(),
            self._axes(), self.marks(), self._category_labels())

    def table(self) -> SafeString:
        head = format_html_join("", '<th scope="col" class="num">{}</th>',
                                ((s.name,) for s in self.series))
        rows = format_html_join(
            "", "<tr><th scope=\"row\">{}</th>{}</tr>",
            ((category, format_html_join("", '<td class="num">{}</td>',
                                         ((self.format(s.values[i]),) for s in self.series)))
             for i, category in enumerate(self.categories)))
        unit = format_html(" ({})", self.unit) if self.unit else ""
        return format_html(
            '<table class="table chart-table"><caption>{}{}</caption><thead><tr>'
            '<th scope="col">{}</th>{}</tr></thead><tbody>{}</tbody></table>',
            self.title, unit, _("Category"), head, rows)

    def __html__(self) -> str:
        return format_html(
            '<figure class="chart-figure" aria-labelledby="{}-caption">'
            '<figcaption id="{}-caption" class="chart-caption">{}</figcaption>{}{}'
            '<details class="chart-data"><summary>{}</summary>{}</details></figure>',
            self.chart_id, self.chart_id, self.title, self.svg(), self._legend(),
            _("Show the numbers as a table"), self.table())

    def __str__(self) -> str:
        return self.__html__()


class BarChart(Chart):
    """Grouped vertical bars: one group per category, one bar per series."""

    kind = "bar"

    def kind_label(self) -> str:
        return _("Bar chart")

    def marks(self) -> SafeString:
        left, top, width, height = self._plot_box()
        n, k = max(len(self.categories), 1), max(len(self.series), 1)
        slot = width / n
        bar = slot * 0.8 / k
        parts = []
        for j, series in enumerate(self.series):
            colour = j % len(PALETTE)
            for i, value in enumerate(series.values):
                if value is None:
                    continue
                x = left + slot * i + slot * 0.1 + bar * j
                y = self._y(value)
                parts.append(format_html(
                    '<rect class="chart-bar chart-series-{}" x="{}" y="{}" width="{}" '
                    'height="{}" fill="{}"><title>{}: {}, {}</title></rect>',
                    colour, _n(x), _n(y), _n(max(bar - 1, 1)), _n(top + height - y),
                    PALETTE[colour],
                    self.categories[i], series.name, self._with_unit(value)))
        return _join(parts)


class LineChart(Chart):
    """One line per series across the categories (months, days...), points marked."""

    kind = "line"

    def kind_label(self) -> str:
        return _("Line chart")

    def marks(self) -> SafeString:
        left, _top, width, _height = self._plot_box()
        n = max(len(self.categories), 1)
        slot = width / n
        parts = []
        for j, series in enumerate(self.series):
            colour = j % len(PALETTE)
            points = [(left + slot * (i + 0.5), self._y(v), i, v)
                      for i, v in enumerate(series.values) if v is not None]
            # A gap (None) breaks the line into segments.
            segments, current, previous = [], [], None
            for x, y, i, _v in points:
                if previous is not None and i != previous + 1:
                    segments.append(current)
                    current = []
                current.append(f"{x:.1f},{y:.1f}")
                previous = i
            if current:
                segments.append(current)
            for segment in segments:
                if len(segment) > 1:
                    parts.append(format_html(
                        '<polyline class="chart-line chart-series-{}" fill="none" stroke="{}" '
                        'stroke-width="2" points="{}"/>', colour, PALETTE[colour],
                        " ".join(segment)))
            for x, y, i, v in points:
                parts.append(format_html(
                    '<circle class="chart-point chart-series-{}" cx="{}" cy="{}" r="3.5" '
                    'fill="{}"><title>{}: {}, {}</title></circle>', colour, _n(x), _n(y),
                    PALETTE[colour], self.categories[i], series.name, self._with_unit(v)))
        return _join(parts)


__all__ = ["PALETTE", "BarChart", "Chart", "LineChart", "Series"]
