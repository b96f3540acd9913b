"""The reusable SVG charts (certhub.web.charts): accessible markup, escaping, gaps, scale."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from django.utils import translation

from certhub.web.charts import BarChart, LineChart, Series


@pytest.fixture(autouse=True)
def _in_english():
    """The texts asserted below are English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


def _svg(chart) -> ElementTree.Element:
    return ElementTree.fromstring(str(chart.svg()))


def test_bar_chart_is_labelled_described_and_has_a_table():
    chart = BarChart(title="Time to acknowledge", unit="hours", categories=["MyCERT", "SingCERT"],
                     series=[Series("median", [2.5, None]), Series("90th percentile", [6, 20])])
    svg = _svg(chart)
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{ns}title"), svg.find(f"{ns}desc")
    assert svg.get("aria-labelledby") == title.get("id")
    assert svg.get("aria-describedby") == desc.get("id")
    assert title.text == "Time to acknowledge"
    assert "largest value is 20 hours" in desc.text
    assert len(svg.findall(f"{ns}rect")) == 3  # the missing median draws no bar
    html = str(chart)
    assert '<table class="table chart-table">' in html
    assert re.search(r"<th scope=\"row\">SingCERT</th><td class=\"num\">—</td>"
                     r"<td class=\"num\">20</td>", html)
    assert "style=" not in html  # the CSP forbids inline styles


def test_text_is_escaped():
    chart = BarChart(title="<script>alert(1)</script>", categories=["<b>x</b>"],
                     series=[Series("a&b", [1])])
    html = str(chart)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "a&amp;b" in html
    _svg(chart)  # well-formed


def test_line_chart_breaks_at_gaps_and_scales_nicely():
    chart = LineChart(title="Per month", categories=["01", "02", "03", "04"],
                      series=[Series("median", [1, 2, None, 3.3])])
    svg = _svg(chart)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}polyline")) == 1  # 01-02; 04 stands alone
    assert len(svg.findall(f"{ns}circle")) == 3
    assert chart.y_max() == 5  # the next of 1, 2, 2.5, 5 x 10^n above 3.3


def test_empty_and_inconsistent_data():
    empty = BarChart(title="Nothing", categories=[], series=[])
    assert "No data." in str(empty)
    with pytest.raises(ValueError, match="one value per category"):
        BarChart(title="Bad", categories=["a", "b"], series=[Series("s", [1])])
