"""The server-side SVG charts: valid XML, escaped text, accessible, and no division by zero on odd data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from ledger.charts import bar_chart, line_chart, meter, nice_step, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> etree._Element:
    root = etree.fromstring(str(markup).encode())
    assert root.tag == f"{SVG}svg"
    return root


def text_of(root, tag: str) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}{tag}")]


def test_line_chart_is_accessible_xml_with_escaped_title_and_names():
    svg = line_chart("Net <b>position</b> & more", ["2020-04", "2020-05"],
                     [("Alpha <script>", [100, 200]), ('Beta "B"', [0, -50])], money_currency="EUR")
    assert "<script>" not in str(svg)
    assert "<b>" not in str(svg)
    root = parse(svg)
    assert root.get("role") == "img"
    assert (root.get("viewBox"), root.get("width")) == ("0 0 640 300", None)  # scales with its container
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == "Net <b>position</b> & more"
    desc = root.find(f"{SVG}desc")
    assert desc.get("id") == desc_id
    assert "Alpha <script>: first EUR 1.00, last EUR 2.00" in desc.text
    # every point has its exact figure as a tooltip
    assert 'Beta "B", 2020-05: EUR -0.50' in text_of(root, "title")
    assert "Alpha <script>" in text_of(root, "text")  # the legend


def test_series_differ_by_dash_pattern_not_only_colour():
    root = parse(line_chart("t", ["a", "b"], [("A", [1, 2]), ("B", [2, 3]), ("C", [3, 1])]))
    lines = [p for p in root.iter(f"{SVG}path") if p.get("stroke-width") == "2.5" and p.get("d").startswith("M")
             and "H26" not in p.get("d")]
    assert len(lines) == 3
    dashes = [p.get("stroke-dasharray") for p in lines]
    assert len(set(dashes)) == 3
    colours = {p.get("stroke") for p in lines}
    assert len(colours) == 3


def test_a_none_value_leaves_a_gap():
    root = parse(line_chart("Gap", ["a", "b", "c", "d"], [("A", [1, None, 3, 4])]))
    series = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "series")
    path = series.find(f"{SVG}path").get("d")
    assert path.count("M") == 2  # the line lifts over the missing month
    assert path.count("L") == 1
    titles = text_of(series, "title")
    assert not any(", b:" in t for t in titles)
    assert "A, c: 3" in titles


def test_all_zero_empty_and_single_point_series_do_not_break():
    for svg in (line_chart("Zeros", ["a", "b"], [("A", [0, 0])]),
                line_chart("Empty", [], []),
                line_chart("One", ["2020-04"], [("A", [5])]),
                line_chart("Nones", ["a", "b"], [("A", [None, None])]),
                bar_chart("Zeros", ["a"], [("A", [0])]),
                bar_chart("Empty", [], []),
                meter("Zero", 0), meter("Empty max", "0.5", maximum=0), meter("None", None, threshold="0.5")):
        parse(svg)
    root = parse(line_chart("One", ["2020-04"], [("A", [5])]))
    assert "A, 2020-04: 5" in text_of(root, "title")  # a lone point is still drawn with a marker


def test_negative_values_hang_below_the_zero_line():
    root = parse(bar_chart("Drift", ["Alpha", "Beta"], [("Drift", ["0.25", "-0.25"])], percent=True))
    labels = text_of(root, "text")
    assert {"-30%", "30%"} <= set(labels)  # the axis reaches below zero, on round ticks
    assert {"25%", "-25%"} <= set(labels)  # few bars: each carries its value
    zero = next(p for p in root.iter(f"{SVG}path") if p.get("stroke-width") == "1.4")
    zero_y = float(zero.get("d").split()[1].split("H")[0])
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    alpha, beta = rects
    assert float(alpha.get("y")) + float(alpha.get("height")) == pytest.approx(zero_y, abs=0.2)
    assert float(beta.get("y")) == pytest.approx(zero_y, abs=0.2)
    assert alpha.find(f"{SVG}title").text == "Alpha: 25%"
    assert beta.find(f"{SVG}title").text == "Beta: -25%"


def test_line_chart_with_negative_money_and_a_dashed_reference():
    root = parse(line_chart("Net", ["2020-04", "2020-05", "2020-06"], [("Alpha", [-150000, 0, 250000])],
                            money_currency="EUR", reference=("Target", [0, 100000, 200000])))
    axis = text_of(root, "text")
    assert any(t.startswith("EUR -") for t in axis)
    assert "EUR 0" in axis
    reference = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray") == "6 4"]
    assert len(reference) == 2  # the line and its legend sample
    assert "Target" in axis


def test_grouped_bars_have_one_hatch_per_series():
    root = parse(bar_chart("Shares", ["Alpha", "Beta"], [("Put in", ["0.6", "0.4"]), ("Agreed", ["0.5", "0.5"])],
                           percent=True))
    patterns = list(root.iter(f"{SVG}pattern"))
    assert len(patterns) == 2
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
    assert len(fills) == 2


def test_meter_marks_the_threshold_and_says_whether_it_is_above():
    root = parse(meter("Dependency (HHI)", "0.62", threshold="0.5"))
    assert root.find(f"{SVG}desc").text == "0.62 on a scale from 0 to 1; threshold 0.50, above it."
    assert "threshold 0.50" in text_of(root, "text")
    below = parse(meter("Dependency (HHI)", Decimal("0.31"), threshold="0.5"))
    assert below.find(f"{SVG}desc").text.endswith("not above it.")


def test_money_ticks_use_the_apps_money_display(app):
    with app.test_request_context():
        root = parse(line_chart("Net", ["a", "b"], [("A", [0, 1000000])], money_currency="EUR"))
    assert "€10,000" in text_of(root, "text")
    assert "A, b: €10,000.00" in text_of(root, "title")


@given(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e12"), places=4))
def test_nice_steps_are_1_2_or_5_times_a_power_of_ten(span):
    step = nice_step(span)
    assert step.normalize().as_tuple().digits[0] in (1, 2, 5)
    assert span / step <= 5


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2), st.decimals(min_value=-10**9, max_value=10**9,
                                                                              places=2))
def test_ticks_cover_the_data_and_zero(a, b):
    low, high = min(a, b), max(a, b)
    ticks = nice_ticks(low, high)
    assert ticks[0] <= min(low, 0)
    assert ticks[-1] >= max(high, 0)
    assert 0 in ticks
    assert 2 <= len(ticks) <= 12


def test_long_first_and_last_labels_stay_inside_the_chart():
    months = ["April 2020", "May 2020", "June 2020", "July 2020", "August 2020", "September 2020", "October 2020",
              "November 2020", "December 2020", "January 2021"]
    root = parse(line_chart("Masks produced", months, [("Actual", range(10))], unit="masks"))
    width = float(root.get("viewBox").split()[2])
    shown = {el.text: el for el in root.iter(f"{SVG}text") if el.text in months}
    assert {"April 2020", "January 2021"} <= shown.keys()
    last, first = shown["January 2021"], shown["April 2020"]
    assert last.get("text-anchor") == "end"
    assert float(last.get("x")) <= width
    assert first.get("text-anchor") in ("start", "middle")
    half = len(first.text) * 6.6 / 2 if first.get("text-anchor") == "middle" else 0
    assert float(first.get("x")) - half >= 0
