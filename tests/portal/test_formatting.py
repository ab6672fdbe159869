"""Money and days as people read them, from the one formatting module every screen, PDF and e-mail uses."""

from datetime import date, datetime
from decimal import Decimal

from django.utils import translation

from portal.lib import formatting
from portal.lib.dates import ROME

NBSP = "\N{NO-BREAK SPACE}"


def test_a_day_is_dd_mm_yyyy_in_either_language_and_a_dash_when_missing():
    for language in ("it", "en"):
        with translation.override(language):
            assert formatting.day(date(2027, 1, 31)) == "31/01/2027"
    assert formatting.day(None) == "—" and formatting.day(None, blank="") == ""


def test_a_moment_is_written_in_rome_time():
    assert formatting.moment(datetime(2026, 12, 3, 8, 30, tzinfo=ROME)) == "03/12/2026 08:30"


def test_an_amount_follows_the_language_unless_the_text_is_italian_anyway():
    with translation.override("it"):
        assert formatting.euro(Decimal("1234.5")) == f"1.234,50{NBSP}€"
    with translation.override("en"):
        assert formatting.euro(Decimal("1234.5")) == f"1,234.50{NBSP}€"
        assert formatting.euro(Decimal("1234.5"), italian=True) == f"1.234,50{NBSP}€"
    assert formatting.euro(Decimal("0.005")) == f"0,01{NBSP}€"  # the portal's rounding rule, half up
    assert formatting.euro(None) == "—" and formatting.euro("", blank="") == ""
