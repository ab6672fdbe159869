"""Complaint reply standards and automatic indemnities (TIQV, CP-LG 6.2–6.3, AGCOM 255/24)."""

from datetime import date as D
from decimal import Decimal

import pytest

from complaints.deadlines import (
    ANSWER_STANDARDS,
    BILLING_RECTIFICATION_FOUR_MONTHLY,
    INDEMNITY_BASE,
    KINDS,
    answer_due_date,
    answer_standard_days,
    conciliation_available_on,
    indemnity_amount,
    indemnity_band,
    indemnity_base,
    indemnity_payment_due_by,
)
from portal.lib.dates import add_days


@pytest.mark.parametrize(
    ("kind", "received", "four_monthly", "days"),
    [
        ("complaint", D(2026, 3, 2), False, 30),
        ("complaint", D(2026, 3, 2), True, 30),  # the flag only matters for rectifications
        ("information_request", D(2026, 3, 2), False, 30),
        ("billing_rectification", D(2026, 3, 2), False, 60),
        ("billing_rectification", D(2026, 3, 2), True, 90),
        ("double_billing", D(2025, 12, 31), False, 20),  # last day of the old standard
        ("double_billing", D(2026, 1, 1), False, 15),  # TIQV 2026
        ("telecom_complaint", D(2026, 3, 2), False, 30),
    ],
)
def test_answer_standard_days(kind, received, four_monthly, days):
    assert answer_standard_days(kind, received, four_monthly) == days


@pytest.mark.parametrize(
    ("kind", "received", "four_monthly", "due"),
    [
        # received 31 January
        ("complaint", D(2026, 1, 31), False, D(2026, 3, 2)),
        ("complaint", D(2028, 1, 31), False, D(2028, 3, 1)),  # leap year
        ("billing_rectification", D(2026, 1, 31), False, D(2026, 4, 1)),
        ("billing_rectification", D(2028, 1, 31), False, D(2028, 3, 31)),
        ("billing_rectification", D(2026, 1, 31), True, D(2026, 5, 1)),
        ("double_billing", D(2026, 1, 31), False, D(2026, 2, 15)),
        # received 29 February 2028
        ("complaint", D(2028, 2, 29), False, D(2028, 3, 30)),
        ("double_billing", D(2028, 2, 29), False, D(2028, 3, 15)),
        ("information_request", D(2028, 2, 29), False, D(2028, 3, 30)),
        # 31 December 2025 vs 1 January 2026
        ("double_billing", D(2025, 12, 31), False, D(2026, 1, 20)),  # 20 days
        ("double_billing", D(2026, 1, 1), False, D(2026, 1, 16)),  # 15 days
        ("complaint", D(2025, 12, 31), False, D(2026, 1, 30)),
        ("telecom_complaint", D(2026, 12, 15), False, D(2027, 1, 14)),
    ],
)
def test_answer_due_date(kind, received, four_monthly, due):
    assert answer_due_date(kind, received, four_monthly) == due


@pytest.mark.parametrize("function", [answer_standard_days, answer_due_date])
def test_unknown_kind(function):
    with pytest.raises(ValueError):
        function("compliment", D(2026, 3, 2))


def test_unknown_kind_for_indemnity():
    with pytest.raises(ValueError):
        indemnity_amount("compliment", D(2026, 3, 2), D(2026, 6, 2))


@pytest.mark.parametrize(
    ("day", "band", "euro"),
    [
        (0, 0, "0.00"),
        (30, 0, "0.00"),  # answered on the due date
        (31, 1, "30.00"),
        (60, 1, "30.00"),  # ≤ 2 × standard
        (61, 2, "60.00"),
        (90, 2, "60.00"),  # ≤ 3 × standard
        (91, 3, "90.00"),
        (400, 3, "90.00"),
    ],
)
def test_complaint_indemnity_2026(day, band, euro):
    received = D(2026, 3, 2)
    answered = add_days(received, day)
    assert indemnity_band("complaint", received, answered) == band
    assert str(indemnity_amount("complaint", received, answered)) == euro


@pytest.mark.parametrize(
    ("day", "euro"),
    [(30, "0.00"), (31, "25.00"), (60, "25.00"), (61, "50.00"), (90, "50.00"), (91, "75.00")],
)
def test_complaint_indemnity_before_2026_uses_the_25_euro_base(day, euro):
    received = D(2025, 12, 31)
    assert indemnity_amount("complaint", received, add_days(received, day)) == Decimal(euro)


@pytest.mark.parametrize(
    ("received", "day", "euro"),
    [
        # received 31/12/2025: standard 20 days, base 25 €
        (D(2025, 12, 31), 20, "0.00"),
        (D(2025, 12, 31), 21, "25.00"),
        (D(2025, 12, 31), 40, "25.00"),
        (D(2025, 12, 31), 41, "50.00"),
        (D(2025, 12, 31), 60, "50.00"),
        (D(2025, 12, 31), 61, "75.00"),
        # received 1/1/2026: standard 15 days, base 30 €
        (D(2026, 1, 1), 15, "0.00"),
        (D(2026, 1, 1), 16, "30.00"),
        (D(2026, 1, 1), 20, "30.00"),  # on time under the old standard, late under the new
        (D(2026, 1, 1), 30, "30.00"),
        (D(2026, 1, 1), 31, "60.00"),
        (D(2026, 1, 1), 45, "60.00"),
        (D(2026, 1, 1), 46, "90.00"),
    ],
)
def test_double_billing_indemnity_around_the_2026_change(received, day, euro):
    assert indemnity_amount("double_billing", received, add_days(received, day)) == Decimal(euro)


@pytest.mark.parametrize(
    ("four_monthly", "day", "euro"),
    [
        (False, 60, "0.00"),
        (False, 61, "30.00"),
        (False, 121, "60.00"),
        (False, 181, "90.00"),
        (True, 90, "0.00"),
        (True, 91, "30.00"),
        (True, 180, "30.00"),
        (True, 181, "60.00"),
        (True, 271, "90.00"),
    ],
)
def test_billing_rectification_indemnity(four_monthly, day, euro):
    received = D(2028, 2, 29)
    answered = add_days(received, day)
    assert indemnity_amount("billing_rectification", received, answered, four_monthly) == Decimal(euro)


@pytest.mark.parametrize("kind", ["information_request", "telecom_complaint"])
def test_no_automatic_indemnity_for_information_requests_and_telecom(kind):
    received = D(2026, 3, 2)
    assert indemnity_band(kind, received, add_days(received, 200)) == 0
    assert indemnity_amount(kind, received, add_days(received, 200)) == Decimal("0")


def test_answer_before_receipt_is_refused():
    with pytest.raises(ValueError):
        indemnity_amount("complaint", D(2026, 3, 2), D(2026, 3, 1))


def test_indemnity_base_by_receipt_date():
    assert indemnity_base(D(2025, 12, 31)) == Decimal("25")
    assert indemnity_base(D(2026, 1, 1)) == Decimal("30")


@pytest.mark.parametrize(
    ("received", "four_monthly", "pay_by"),
    [
        (D(2026, 3, 31), False, D(2026, 9, 30)),
        (D(2026, 3, 31), True, D(2026, 11, 30)),
        (D(2026, 8, 31), False, D(2027, 2, 28)),
    ],
)
def test_indemnity_payment_due_by(received, four_monthly, pay_by):
    assert indemnity_payment_due_by(received, four_monthly) == pay_by


@pytest.mark.parametrize(
    ("sent", "available"),
    [
        (D(2026, 11, 22), D(2027, 1, 1)),
        (D(2026, 12, 31), D(2027, 2, 9)),
        (D(2028, 1, 31), D(2028, 3, 11)),
    ],
)
def test_conciliation_available_on(sent, available):
    assert conciliation_available_on(sent) == available


def test_every_kind_has_a_standard():
    assert set(ANSWER_STANDARDS) == set(KINDS)


@pytest.mark.parametrize(
    "table", [*ANSWER_STANDARDS.values(), BILLING_RECTIFICATION_FOUR_MONTHLY, INDEMNITY_BASE]
)
def test_tables_are_dated_sourced_and_in_order(table):
    starts = [entry.valid_from for entry in table]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(entry.source for entry in table)
