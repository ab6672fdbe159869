"""The consumption chart of a supply: an inline SVG rendered on the server, readable without JavaScript.

One bar per interval between consecutive readings (what the meter advanced between two readings), so the
chart shows exactly what the readings say, whatever their spacing. Screen readers get the chart's name
from `role="img"` + `aria-label`; the page also renders the same figures as a (visually hidden) table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from contracts.models import MeterReading
from portal.lib import formatting

# Geometry in SVG user units. The SVG scales to its container (viewBox) up to MAX_CSS_WIDTH: a compact
# viewBox keeps the labels legible on a 390 px phone (about 0.75 scale) without being huge on a desktop.
WIDTH = 480
HEIGHT = 260
MARGIN_LEFT = 52
MARGIN_RIGHT = 8
MARGIN_TOP = 28
MARGIN_BOTTOM = 46
BAR_SHARE = 0.64  # of each interval's band
FONT_SIZE = 14
SMALL_FONT_SIZE = 12
CHAR_WIDTH = 0.6  # average glyph width, in ems, to decide which labels fit
Y_TICKS = 4
MAX_BARS = 12
MAX_CSS_WIDTH = "36rem"

BAR_COLOUR = "#0b4f8a"  # the brand colour: 8.3:1 against white
AXIS_COLOUR = "#495057"
GRID_COLOUR = "#dee2e6"


@dataclass(frozen=True)
class Consumption:
    """What the meter advanced between two readings."""

    start: date
    end: date
    amount: int


def consumption_between_readings(readings: Iterable[MeterReading]) -> list[Consumption]:
    """Consumption between consecutive readings, oldest first (readings may come in any order)."""
    ordered = sorted(readings, key=lambda reading: (reading.read_on, reading.pk or 0))
    intervals = []
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if current.read_on == previous.read_on:
            continue
        # A meter replacement restarts the count: never draw a negative bar.
        intervals.append(
            Consumption(previous.read_on, current.read_on, max(current.value - previous.value, 0))
        )
    return intervals


def nice_axis_max(value: int, ticks: int = Y_TICKS) -> int:
    """A round top for the y axis (1, 2, 2.5 or 5 × a power of ten per tick) at or above `value`."""
    if value <= 0:
        return ticks
    raw_step = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw_step:
            break
    step = max(math.ceil(step), 1)
    return step * ticks


def _number(value) -> str:
    return number_format(value, force_grouping=True)


def consumption_svg(intervals: Sequence[Consumption], *, unit: str, label: str) -> SafeString:
    """The bar chart of `intervals` (the last MAX_BARS of them) as an inline SVG element."""
    intervals = list(intervals)[-MAX_BARS:]
    label = escape(label)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{label}" class="consumption-chart" width="100%" '
        f'style="max-width: {MAX_CSS_WIDTH}; height: auto" font-size="{FONT_SIZE}" '
        f"font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">",
        f"<title>{label}</title>",
    ]
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    baseline = MARGIN_TOP + plot_height
    top = nice_axis_max(max((interval.amount for interval in intervals), default=0))

    # Y axis: grid lines with their values, and the unit above them.
    parts.append(
        f'<text x="{MARGIN_LEFT - 8}" y="{MARGIN_TOP - 10}" text-anchor="end" fill="{AXIS_COLOUR}">'
        f"{escape(unit)}</text>"
    )
    for tick in range(Y_TICKS + 1):
        value = top * tick // Y_TICKS
        y = baseline - plot_height * tick / Y_TICKS
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{AXIS_COLOUR if tick == 0 else GRID_COLOUR}" stroke-width="1"/>'
            f'<text x="{MARGIN_LEFT - 8}" y="{y + FONT_SIZE / 3:.1f}" text-anchor="end" '
            f'fill="{AXIS_COLOUR}">{_number(value)}</text>'
        )

    if not intervals:
        parts.append(
            f'<text x="{MARGIN_LEFT + plot_width / 2:.1f}" y="{MARGIN_TOP + plot_height / 2:.1f}" '
            f'text-anchor="middle" fill="{AXIS_COLOUR}">'
            f"{escape(_('Servono almeno due letture per calcolare i consumi.'))}</text>"
        )

    band = plot_width / max(len(intervals), 1)
    bar_width = band * BAR_SHARE
    # With many bars, label every other one (each bar keeps its own <title>, and the page its table).
    date_label_width = len("00/00") * CHAR_WIDTH * FONT_SIZE + 6
    label_every = max(1, math.ceil(date_label_width / band))
    for index, interval in enumerate(intervals):
        x = MARGIN_LEFT + band * index + (band - bar_width) / 2
        height = plot_height * interval.amount / top
        y = baseline - height
        centre = x + bar_width / 2
        amount = _number(interval.amount)
        description = _("dal %(start)s al %(end)s: %(amount)s %(unit)s") % {
            "start": formatting.day(interval.start),
            "end": formatting.day(interval.end),
            "amount": amount,
            "unit": unit,
        }
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{height:.1f}" '
            f'fill="{BAR_COLOUR}" rx="2"><title>{escape(description)}</title></rect>'
        )
        if len(amount) * CHAR_WIDTH * SMALL_FONT_SIZE <= band:
            parts.append(
                f'<text x="{centre:.1f}" y="{y - 5:.1f}" text-anchor="middle" fill="#212529" '
                f'font-size="{SMALL_FONT_SIZE}">{amount}</text>'
            )
        if (len(intervals) - 1 - index) % label_every == 0:
            # The interval is labelled by the reading that closes it: day/month, year below.
            parts.append(
                f'<text x="{centre:.1f}" y="{baseline + FONT_SIZE + 5}" text-anchor="middle" '
                f'fill="{AXIS_COLOUR}">{interval.end.strftime("%d/%m")}</text>'
                f'<text x="{centre:.1f}" y="{baseline + FONT_SIZE + SMALL_FONT_SIZE + 9}" '
                f'text-anchor="middle" fill="{AXIS_COLOUR}" font-size="{SMALL_FONT_SIZE}">'
                f"{interval.end.year}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    # Every interpolated text above is escaped; numbers and dates are formatted by us.
    return mark_safe("".join(parts))
