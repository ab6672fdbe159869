"""The consumption chart: figures from the readings, an SVG a screen reader can name."""

import re
from datetime import date
from types import SimpleNamespace

import pytest
from django.utils import translation

from contracts.charts import (
    MAX_BARS,
    Consumption,
    consumption_between_readings,
    consumption_svg,
    nice_axis_max,
)


def reading(day, value, pk=None):
    return SimpleNamespace(read_on=day, value=value, pk=pk)


def bar_heights(svg):
    return [float(h) for h in re.findall(r'<g class="bar"><rect [^>]*height="([\d.]+)"', svg)]


def test_consumption_is_what_the_meter_advanced_between_consecutive_readings_in_any_order():
    readings = [
        reading(date(2026, 3, 1), 1180, 2),
        reading(date(2026, 2, 1), 1000, 1),
        reading(date(2026, 4, 1), 1400, 3),
    ]
    assert consumption_between_readings(readings) == [
        Consumption(date(2026, 2, 1), date(2026, 3, 1), 180),
        Consumption(date(2026, 3, 1), date(2026, 4, 1), 220),
    ]


def test_two_readings_on_the_same_day_make_no_bar_and_a_meter_replacement_no_negative_one():
    readings = [
        reading(date(2026, 2, 1), 1000, 1),
        reading(date(2026, 2, 1), 1010, 2),
        reading(date(2026, 3, 1), 15, 3),
    ]
    assert consumption_between_readings(readings) == [Consumption(date(2026, 2, 1), date(2026, 3, 1), 0)]


def test_fewer_than_two_readings_make_no_interval():
    assert consumption_between_readings([]) == []
    assert consumption_between_readings([reading(date(2026, 2, 1), 1000)]) == []


@pytest.mark.parametrize(
    ("largest", "top"),
    [(0, 4), (3, 4), (180, 200), (220, 400), (1000, 1000), (1234, 2000), (7, 8), (95, 100)],
)
def test_the_y_axis_ends_on_a_round_number_at_or_above_the_largest_bar(largest, top):
    assert nice_axis_max(largest) == top


def test_the_svg_has_a_name_a_title_and_one_bar_per_interval_proportional_to_it():
    intervals = [
        Consumption(date(2026, 2, 1), date(2026, 3, 1), 100),
        Consumption(date(2026, 3, 1), date(2026, 4, 1), 200),
    ]
    svg = str(consumption_svg(intervals, unit="kWh", label="Consumi di luce"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-label="Consumi di luce"' in svg
    assert "<title>Consumi di luce</title>" in svg
    first, second = bar_heights(svg)
    assert second == pytest.approx(2 * first)
    assert ">01/03<" in svg and ">01/04<" in svg and ">2026<" in svg
    assert ">kWh<" in svg


def test_only_the_last_twelve_intervals_are_drawn():
    intervals = [Consumption(date(2025, m, 1), date(2025, m + 1, 1), m) for m in range(1, 12)] + [
        Consumption(date(2025, 12, 1), date(2026, 1, 1), 12),
        Consumption(date(2026, 1, 1), date(2026, 2, 1), 13),
    ]
    svg = str(consumption_svg(intervals, unit="Smc", label="Gas"))
    assert len(bar_heights(svg)) == MAX_BARS
    assert "dal 01/01/2025" not in svg and "dal 01/01/2026 al 01/02/2026: 13 Smc" in svg


def test_numbers_follow_the_language_and_text_is_escaped():
    intervals = [Consumption(date(2026, 2, 1), date(2026, 3, 1), 1234)]
    with translation.override("it"):
        svg = str(consumption_svg(intervals, unit="kWh", label='Luce <POD> "casa"'))
    assert ">1.234<" in svg
    assert "&lt;POD&gt;" in svg and "<POD>" not in svg and "&quot;casa&quot;" in svg


def test_without_intervals_the_chart_says_why_it_is_empty():
    svg = str(consumption_svg([], unit="kWh", label="Luce"))
    assert "Servono almeno due letture" in svg and 'class="bar"' not in svg
