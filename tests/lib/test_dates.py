"""Calendar arithmetic on real 2026–2027 Italian dates."""

from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from portal.lib.dates import (
    Dated,
    add_days,
    add_months,
    add_working_days,
    days_between,
    entry_on,
    first_of_next_month,
    is_italian_holiday,
    is_working_day,
    nth_working_day_after,
    rome_date,
    value_on,
)

D = date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Easter 2026
        (D(2026, 4, 2), True),  # Thursday before Easter
        (D(2026, 4, 3), True),  # Good Friday is NOT a holiday in Italy
        (D(2026, 4, 4), False),  # Saturday
        (D(2026, 4, 5), False),  # Easter Sunday
        (D(2026, 4, 6), False),  # Easter Monday (Pasquetta)
        (D(2026, 4, 7), True),
        # Easter 2027
        (D(2027, 3, 26), True),  # Good Friday
        (D(2027, 3, 29), False),  # Easter Monday
        (D(2027, 3, 30), True),
        # 25 April (Liberazione)
        (D(2026, 4, 25), False),  # Saturday anyway
        (D(2027, 4, 25), False),  # Sunday anyway
        (D(2028, 4, 25), False),  # Tuesday: the holiday itself
        (D(2026, 4, 24), True),
        # 1 May
        (D(2026, 5, 1), False),  # Friday
        (D(2026, 4, 30), True),
        # 2 June (Festa della Repubblica)
        (D(2026, 6, 2), False),  # Tuesday
        (D(2027, 6, 2), False),  # Wednesday
        (D(2026, 6, 1), True),
        # 15 August (Ferragosto)
        (D(2025, 8, 15), False),  # Friday
        (D(2026, 8, 14), True),
        (D(2028, 8, 15), False),  # Tuesday
        # 4 October (San Francesco): national holiday from 2026 only
        (D(2024, 10, 4), True),  # Friday, before the reinstatement
        (D(2026, 10, 4), False),  # Sunday anyway
        (D(2027, 10, 4), False),  # Monday: the holiday itself
        (D(2027, 10, 5), True),
        # 1 November (Ognissanti)
        (D(2027, 11, 1), False),  # Monday
        (D(2026, 11, 2), True),
        (D(2026, 11, 4), True),  # 4 November is celebrated on a Sunday, not a day off
        # 8, 25, 26 December
        (D(2026, 12, 8), False),  # Tuesday
        (D(2027, 12, 8), False),  # Wednesday
        (D(2026, 12, 24), True),  # Christmas Eve is a working day
        (D(2026, 12, 25), False),  # Friday
        (D(2026, 12, 26), False),  # Saturday
        (D(2025, 12, 26), False),  # Friday: Santo Stefano itself
        (D(2026, 12, 31), True),
        # 1 and 6 January
        (D(2026, 1, 1), False),  # Thursday
        (D(2027, 1, 1), False),  # Friday
        (D(2026, 1, 6), False),  # Tuesday
        (D(2027, 1, 6), False),  # Wednesday
        (D(2026, 1, 7), True),
        (D(2027, 1, 4), True),
        # plain weekends
        (D(2026, 3, 7), False),  # Saturday
        (D(2026, 3, 8), False),  # Sunday
        (D(2026, 3, 9), True),  # Monday
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (D(2026, 4, 6), True),
        (D(2026, 4, 25), True),  # a holiday even when it falls on a Saturday
        (D(2026, 4, 3), False),
        (D(2026, 3, 7), False),  # a Saturday is not a holiday
    ],
)
def test_is_italian_holiday(day, holiday):
    assert is_italian_holiday(day) is holiday


WORKING_DAY_CASES = [
    (D(2026, 4, 3), 0, D(2026, 4, 3)),  # n=0 is the day itself
    (D(2026, 4, 3), 1, D(2026, 4, 7)),  # Fri → weekend, Easter Monday → Tue
    (D(2026, 4, 2), 1, D(2026, 4, 3)),
    (D(2026, 4, 2), 2, D(2026, 4, 7)),
    (D(2026, 4, 4), 1, D(2026, 4, 7)),  # starting on a non-working day
    (D(2026, 4, 3), 10, D(2026, 4, 20)),  # 7,8,9,10,13,14,15,16,17,20
    (D(2026, 4, 22), 4, D(2026, 4, 28)),  # 23, 24, (25 Sat holiday, 26 Sun) 27, 28
    (D(2026, 4, 30), 1, D(2026, 5, 4)),  # 1 May Friday, then the weekend
    (D(2026, 6, 1), 1, D(2026, 6, 3)),  # 2 June
    (D(2026, 8, 14), 1, D(2026, 8, 17)),
    (D(2026, 12, 7), 1, D(2026, 12, 9)),  # 8 December
    (D(2026, 12, 23), 3, D(2026, 12, 29)),  # 24, (25, 26, 27) 28, 29
    (D(2026, 12, 31), 1, D(2027, 1, 4)),  # 1 January Friday, weekend
    (D(2027, 1, 4), 2, D(2027, 1, 7)),  # 6 January
    (D(2027, 3, 26), 1, D(2027, 3, 30)),  # Easter Monday 2027
    (D(2027, 10, 1), 1, D(2027, 10, 5)),  # weekend, 4 October Monday
    (D(2024, 10, 3), 1, D(2024, 10, 4)),  # 4 October not yet a holiday in 2024
    (D(2027, 10, 29), 1, D(2027, 11, 2)),  # weekend, 1 November Monday
]


@pytest.mark.parametrize(("start", "n", "expected"), WORKING_DAY_CASES)
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize(("start", "n", "expected"), WORKING_DAY_CASES)
def test_nth_working_day_after_means_the_same(start, n, expected):
    assert nth_working_day_after(start, n) == expected


def test_add_working_days_refuses_negative():
    with pytest.raises(ValueError):
        add_working_days(D(2026, 4, 3), -1)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2028, 2, 28), 1, D(2028, 2, 29)),
        (D(2027, 2, 28), 1, D(2027, 3, 1)),
        (D(2026, 12, 31), 1, D(2027, 1, 1)),
        (D(2027, 1, 1), -1, D(2026, 12, 31)),
        (D(2026, 3, 1), 0, D(2026, 3, 1)),
    ],
)
def test_add_days(start, n, expected):
    assert add_days(start, n) == expected


def test_days_between():
    assert days_between(D(2026, 1, 31), D(2026, 3, 2)) == 30
    assert days_between(D(2028, 2, 1), D(2028, 3, 1)) == 29
    assert days_between(D(2026, 3, 2), D(2026, 1, 31)) == -30


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2027, 1, 31), 1, D(2027, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2027, 3, 1), -3, D(2026, 12, 1)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2026, 5, 31), -3, D(2026, 2, 28)),
        (D(2026, 1, 15), -1, D(2025, 12, 15)),
        (D(2026, 1, 31), 24, D(2028, 1, 31)),
        (D(2026, 4, 1), 12, D(2027, 4, 1)),
        (D(2026, 4, 1), 0, D(2026, 4, 1)),
    ],
)
def test_add_months(start, n, expected):
    assert add_months(start, n) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 1, 31), D(2026, 2, 1)),
        (D(2026, 3, 1), D(2026, 4, 1)),  # a 1st still moves to the next month
        (D(2026, 12, 15), D(2027, 1, 1)),
        (D(2028, 2, 29), D(2028, 3, 1)),
    ],
)
def test_first_of_next_month(day, expected):
    assert first_of_next_month(day) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Winter time (CET, UTC+1) until 29 March 2026 01:00 UTC
        (datetime(2026, 3, 28, 22, 59, tzinfo=UTC), D(2026, 3, 28)),  # 23:59 CET
        (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), D(2026, 3, 29)),  # 00:00 CET
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), D(2026, 3, 29)),  # 00:30 CET
        # Summer time (CEST, UTC+2) from then: midnight is 22:00 UTC
        (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), D(2026, 3, 29)),  # 23:59 CEST
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), D(2026, 3, 30)),  # 00:30 CEST
        # Back to CET on 25 October 2026 at 01:00 UTC
        (datetime(2026, 10, 24, 21, 59, tzinfo=UTC), D(2026, 10, 24)),  # 23:59 CEST
        (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), D(2026, 10, 25)),  # 00:00 CEST
        (datetime(2026, 10, 25, 22, 59, tzinfo=UTC), D(2026, 10, 25)),  # 23:59 CET
        (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), D(2026, 10, 26)),  # 00:00 CET
        # New Year's Eve, and a non-UTC aware datetime
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), D(2027, 1, 1)),
        (datetime(2025, 12, 31, 20, 0, tzinfo=ZoneInfo("America/New_York")), D(2026, 1, 1)),
        (datetime(2026, 6, 1, 0, 30, tzinfo=ZoneInfo("Europe/Rome")), D(2026, 6, 1)),
    ],
)
def test_rome_date(moment, expected):
    assert rome_date(moment) == expected


def test_rome_date_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        rome_date(datetime(2026, 3, 28, 23, 30))


def test_rome_date_refuses_plain_dates():
    with pytest.raises(TypeError):
        rome_date(D(2026, 3, 28))


TABLE = (
    Dated(D(2024, 1, 1), "old", "source A"),
    Dated(D(2026, 1, 1), "new", "source B"),
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2024, 1, 1), "old"),
        (D(2025, 12, 31), "old"),
        (D(2026, 1, 1), "new"),  # valid_from is inclusive
        (D(2030, 6, 1), "new"),
    ],
)
def test_value_on(day, expected):
    assert value_on(TABLE, day) == expected


def test_value_on_before_any_entry_raises():
    with pytest.raises(ValueError):
        value_on(TABLE, D(2023, 12, 31))


def test_value_on_accepts_unsorted_rows_and_duck_types():
    # e.g. rows of a staff-editable table coming from the database in any order
    rows = [
        SimpleNamespace(valid_from=D(2026, 1, 1), value=30),
        SimpleNamespace(valid_from=D(2020, 1, 1), value=25),
    ]
    assert value_on(rows, D(2025, 5, 5)) == 25
    assert value_on(iter(rows), D(2026, 5, 5)) == 30


def test_entry_on_gives_the_source():
    assert entry_on(TABLE, D(2026, 2, 1)).source == "source B"
