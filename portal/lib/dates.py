"""Calendar arithmetic for legal and contractual deadlines.

This is the ONLY module that does date arithmetic for rules: every deadline in
``contracts``, ``billing`` and ``complaints`` is built from these helpers, so a
question such as "is 6 April 2026 a working day?" has one answer everywhere.

Conventions (REGULATION.md, preamble):
- "days" are calendar days unless a rule says working days;
- working days exclude Saturdays, Sundays and Italian national holidays;
- "date + n days" never counts the starting date itself.

It also holds the effective-dated table helper: where the regulation moved past
the contract text, the old value keeps applying to cases that started before the
change, so such numbers are tables of ``Dated`` entries, never bare constants.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

import holidays

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# Deadlines run on the Italian civil calendar, whatever the server's time zone.
ROME = ZoneInfo("Europe/Rome")

# Saturday and Sunday (date.weekday() numbering).
_WEEKEND = frozenset({5, 6})


# --------------------------------------------------------------------------
# Effective-dated values
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Dated(Generic[T]):
    """One value of an effective-dated table: ``value`` applies from ``valid_from``
    (inclusive) until the next entry's ``valid_from``. ``source`` cites the clause or
    act, so staff can see why a number applies."""

    valid_from: date
    value: T
    source: str


class DatedLike(Protocol[T_co]):
    """Anything with ``valid_from`` and ``value``: a ``Dated`` or, later, a row of a
    staff-editable table in the database."""

    @property
    def valid_from(self) -> date: ...

    @property
    def value(self) -> T_co: ...


def entry_on(table: Iterable[DatedLike[T]], day: date) -> DatedLike[T]:
    """The entry in force on ``day``: the one with the latest ``valid_from <= day``.

    The table need not be sorted (rows from a database may come in any order).
    Raises ValueError when no entry is in force yet, rather than guessing a value.
    """
    in_force = [entry for entry in table if entry.valid_from <= day]
    if not in_force:
        raise ValueError(f"no value in force on {day.isoformat()}")
    return max(in_force, key=lambda entry: entry.valid_from)


def value_on(table: Iterable[DatedLike[T]], day: date) -> T:
    """The value in force on ``day`` (see ``entry_on``)."""
    return entry_on(table, day).value


# --------------------------------------------------------------------------
# Working days
# --------------------------------------------------------------------------


@lru_cache(maxsize=64)  # a few years are ever in play; bounded anyway
def _national_holidays(year: int) -> frozenset[date]:
    # The `holidays` package keeps the statutory list, including Easter Monday and
    # 4 October (San Francesco, a national holiday again from 2026). Keep the package
    # up to date: a new statutory holiday only reaches us through it.
    # National holidays only: local patron saints do not move legal deadlines.
    return frozenset(holidays.country_holidays("IT", years=year).keys())


def is_italian_holiday(d: date) -> bool:
    """True on Italian national holidays (whatever the weekday)."""
    return d in _national_holidays(d.year)


def is_working_day(d: date) -> bool:
    """False on Saturdays, Sundays and Italian national holidays (REGULATION.md:
    "working days (Saturday, Sunday and Italian national holidays excluded)")."""
    return d.weekday() not in _WEEKEND and not is_italian_holiday(d)


def nth_working_day_after(d: date, n: int) -> date:
    """The n-th working day after ``d``, not counting ``d`` itself; n=0 returns ``d``.

    Friday 2026-04-03 + 1 is Tuesday 2026-04-07: the weekend and Easter Monday
    (6 April 2026) do not count.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    current = d
    remaining = n
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def add_working_days(d: date, n: int) -> date:
    """Same as ``nth_working_day_after``: the date n working days after ``d``."""
    return nth_working_day_after(d, n)


# --------------------------------------------------------------------------
# Calendar days and months
# --------------------------------------------------------------------------


def add_days(d: date, n: int) -> date:
    """``d`` + n calendar days (negative n goes back)."""
    return d + timedelta(days=n)


def days_between(a: date, b: date) -> int:
    """b − a in calendar days (negative when b is before a)."""
    return (b - a).days


def add_months(d: date, n: int) -> date:
    """``d`` + n months, clamped to the end of the target month.

    2027-01-31 + 1 → 2027-02-28; 2028-01-31 + 1 → 2028-02-29 (leap year);
    negative n goes back: 2027-03-01 − 3 → 2026-12-01.
    """
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last_day))


def first_of_month(d: date) -> date:
    """The 1st of ``d``'s month."""
    return d.replace(day=1)


def first_of_next_month(d: date) -> date:
    """The 1st of the month after ``d``'s (also when ``d`` is itself a 1st)."""
    return add_months(first_of_month(d), 1)


# --------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------


def rome_date(dt: datetime) -> date:
    """The Europe/Rome calendar date of an aware datetime.

    Receipt dates are Italian dates: an e-mail sent at 23:30 UTC on 28 March 2026
    arrives on 29 March in Rome. Naive datetimes are refused (ValueError), because
    guessing their zone would silently shift deadlines by a day around midnight.
    """
    if not isinstance(dt, datetime):
        raise TypeError("rome_date expects a datetime")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("rome_date needs an aware datetime (with a time zone)")
    return dt.astimezone(ROME).date()


def now() -> datetime:
    """Now: the one clock that pages, admin screens, forms and the scheduled sweeps read. The real time, or
    with settings.DEMO_CLOCK (development only) the demo's, which `run_deadlines --now` moves (portal.demo_clock)."""
    from django.conf import settings  # here: this module is otherwise free of Django
    from django.utils import timezone

    if settings.DEMO_CLOCK:
        from portal import demo_clock

        return demo_clock.now()
    return timezone.now()


def today() -> date:
    """Today in Rome, by `now()`. Call it as `dates.today()` (the module attribute), so that tests replace it
    in this one place."""
    return rome_date(now())
