from datetime import date

import pytest

from portal.admin_display import days_left_badge

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("due_on", "text", "colour"),
    [
        (date(2026, 12, 23), "30 giorni", "#1e6b34"),
        (date(2026, 11, 29), "6 giorni", "#1e6b34"),
        (date(2026, 11, 28), "5 giorni", "#8a5300"),
        (date(2026, 11, 24), "1 giorno", "#8a5300"),
        (date(2026, 11, 23), "scade oggi", "#b42318"),
        (date(2026, 11, 21), "scaduto da 2 giorni", "#b42318"),
    ],
)
def test_days_left_badge_colours_by_urgency(due_on, text, colour):
    badge = days_left_badge(due_on, TODAY)
    assert text in badge and colour in badge


def test_no_due_date_shows_a_dash():
    assert days_left_badge(None, TODAY) == "—"
