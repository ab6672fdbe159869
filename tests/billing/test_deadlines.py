"""Billing deadlines, indemnities and late-payment interest (CG 4, 6; CP-LG 6.6, 6.7)."""

from datetime import date as D
from decimal import Decimal
from types import SimpleNamespace

import pytest

from billing.deadlines import (
    ECB_MAIN_REFINANCING_RATES,
    LEGAL_INTEREST_RATES,
    default_notice_payment_deadline,
    dunning_due_date,
    earliest_suspension_request,
    invoice_due_date,
    late_closing_invoice_indemnity,
    late_invoice_indemnity,
    late_payment_interest,
    step_allowed_on,
    supply_rule,
    suspension_after_power_reduction,
)


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (D(2026, 3, 20), D(2026, 4, 4)),
        (D(2026, 12, 20), D(2027, 1, 4)),
        (D(2028, 2, 14), D(2028, 2, 29)),
    ],
)
def test_invoice_due_date(issued, due):
    assert invoice_due_date(issued) == due


def test_default_notice_payment_deadline():
    assert default_notice_payment_deadline(D(2026, 3, 13)) == D(2026, 4, 22)  # + 40 calendar days
    assert default_notice_payment_deadline(D(2026, 11, 30)) == D(2027, 1, 9)


@pytest.mark.parametrize(
    ("deadline", "received", "supply", "earliest"),
    [
        # Wed 22 April 2026: Thu 23, Fri 24, Mon 27 pass (25 April is a Saturday and a
        # holiday) → Tue 28. Receipt + 25 = 10 April is earlier.
        (D(2026, 4, 22), D(2026, 3, 16), "electricity_lv", D(2026, 4, 28)),
        # gas: receipt + 40 = 25 April, still earlier than 28 April
        (D(2026, 4, 22), D(2026, 3, 16), "gas", D(2026, 4, 28)),
        (D(2026, 4, 22), D(2026, 3, 16), "electricity_mv", D(2026, 4, 28)),
        # late receipt: 10 April + 25 = 5 May wins over 28 April
        (D(2026, 4, 22), D(2026, 4, 10), "electricity_lv", D(2026, 5, 5)),
        # 1 April + 40 = 11 May wins
        (D(2026, 4, 22), D(2026, 4, 1), "gas", D(2026, 5, 11)),
        # Easter: deadline Wed 1 April → Thu 2, Fri 3, (Easter Monday) Tue 7 pass → Wed 8
        (D(2026, 4, 1), D(2026, 3, 1), "electricity_lv", D(2026, 4, 8)),
        # Christmas: deadline Wed 23 Dec → 24, 28, 29 pass → Wed 30
        (D(2026, 12, 23), D(2026, 11, 20), "electricity_lv", D(2026, 12, 30)),
        # deadline on a Saturday: Mon, Tue, Wed pass → Thu
        (D(2026, 3, 7), D(2026, 1, 30), "gas", D(2026, 3, 12)),
    ],
)
def test_earliest_suspension_request(deadline, received, supply, earliest):
    assert earliest_suspension_request(deadline, received, supply) == earliest


def test_earliest_suspension_request_unknown_supply():
    with pytest.raises(ValueError):
        earliest_suspension_request(D(2026, 4, 22), D(2026, 3, 16), "water")


def test_suspension_after_power_reduction():
    assert suspension_after_power_reduction(D(2026, 4, 28)) == D(2026, 5, 13)


def test_an_invoice_is_due_for_a_default_notice_days_after_its_due_date(settings):
    settings.DEFAULT_NOTICE_AFTER_DAYS_OVERDUE = 10
    assert dunning_due_date(D(2026, 1, 30)) == D(2026, 2, 9)


@pytest.mark.parametrize(
    ("kind", "power_kw", "rule"),
    [
        ("electricity", Decimal("3.0"), "electricity_lv"),
        ("electricity", Decimal("100"), "electricity_lv"),  # low voltage up to 100 kW (ARERA TIC)
        ("electricity", Decimal("100.5"), "electricity_mv"),
        ("electricity", None, "electricity_lv"),  # unknown power: the protective reading
        ("gas", None, "gas"),
        ("fibre", None, "gas"),  # no receipt term of its own: the longer one
    ],
)
def test_supply_rule(kind, power_kw, rule):
    assert supply_rule(SimpleNamespace(kind=kind, power_kw=power_kw)) == rule


# Sent Fri 13/03/2026 → pay by Wed 22/04/2026 → 3 working days pass → Tue 28/04/2026.
NOTICE = {"payment_due_on": D(2026, 4, 22), "sent_on": D(2026, 3, 13)}


def test_a_step_is_allowed_after_the_working_days_and_the_days_from_the_presumed_receipt():
    day, rule = step_allowed_on(**NOTICE, received_on=None, supply="gas", suspension=True)
    assert day == D(2026, 5, 2)  # presumed receipt 23/03 + 40 days, later than 28/04
    assert "22/04/2026" in rule and "23/03/2026 presunta" in rule
    day, rule = step_allowed_on(
        **NOTICE, received_on=D(2026, 3, 16), supply="electricity_lv", suspension=False
    )
    assert day == D(2026, 4, 28) and "16/03/2026)" in rule


def test_low_voltage_is_suspended_only_15_days_after_the_power_reduction():
    lv = {**NOTICE, "received_on": D(2026, 3, 16), "supply": "electricity_lv", "suspension": True}
    day, rule = step_allowed_on(**lv)
    assert day is None and "ridotta al 15%" in rule
    day, rule = step_allowed_on(**lv, power_reduced_on=D(2026, 4, 29))
    assert day == D(2026, 5, 14) and "29/04/2026" in rule
    day, _rule = step_allowed_on(**lv, power_reduced_on=D(2026, 4, 1))  # earlier than the notice allows
    assert day == D(2026, 4, 28)


@pytest.mark.parametrize(
    ("days_late", "euro"),
    [
        (-5, "0.00"),
        (0, "0.00"),
        (1, "6.00"),
        (10, "6.00"),
        (11, "8.00"),
        (15, "8.00"),
        (16, "10.00"),
        (20, "10.00"),
        (21, "12.00"),
        (40, "18.00"),
        (41, "20.00"),
        (45, "20.00"),
        (46, "40.00"),
        (90, "40.00"),
        (91, "60.00"),
        (365, "60.00"),
    ],
)
def test_late_invoice_indemnity(days_late, euro):
    amount = late_invoice_indemnity(days_late)
    assert isinstance(amount, Decimal)
    assert str(amount) == euro


@pytest.mark.parametrize(
    ("days_late", "euro"),
    [
        (-1, "0.00"),
        (0, "0.00"),
        (1, "4.00"),
        (10, "4.00"),
        (11, "6.00"),
        (20, "6.00"),
        (21, "8.00"),
        (30, "8.00"),
        (31, "10.00"),
        (80, "18.00"),
        (81, "20.00"),
        (89, "20.00"),
        (90, "22.00"),
        (91, "22.00"),
        (200, "22.00"),
    ],
)
def test_late_closing_invoice_indemnity(days_late, euro):
    amount = late_closing_invoice_indemnity(days_late)
    assert isinstance(amount, Decimal)
    assert str(amount) == euro


# --- late-payment interest (CG 6.1) ----------------------------------------------


def test_interest_across_an_ecb_rate_change():
    # Due 2025-06-01, paid 2025-06-20: 19 days late (2 to 20 June).
    #   2–10 June:  9 days at 2.40 + 3.5 = 5.90 %  →  53.10 percent-days
    #  11–20 June: 10 days at 2.15 + 3.5 = 5.65 %  →  56.50 percent-days
    # 1234.56 × 109.60 / (100 × 365) = 3.70706… → 3.71
    assert late_payment_interest(Decimal("1234.56"), D(2025, 6, 1), D(2025, 6, 20), False) == Decimal("3.71")


def test_interest_good_payer_pays_legal_rate_for_the_first_ten_days():
    # Same dates, good payer: 19 days late.
    #   2–11 June (days 1–10): 10 days at the legal 2.0 %  →  20.00 percent-days
    #  12–20 June (days 11–19): 9 days at 2.15 + 3.5 = 5.65 %  →  50.85 percent-days
    # 1000 × 70.85 / 36500 = 1.94109… → 1.94
    assert late_payment_interest("1000", D(2025, 6, 1), D(2025, 6, 20), True) == Decimal("1.94")


def test_interest_good_payer_across_a_legal_rate_change():
    # Due 2025-12-26, paid 2026-01-05, good payer: 10 days late, all at the legal rate.
    #  27–31 Dec 2025: 5 days at 2.0 %  →  10.0 percent-days
    #   1–5 Jan 2026:  5 days at 1.6 %  →   8.0 percent-days
    # 10000 × 18 / 36500 = 4.93150… → 4.93
    assert late_payment_interest(10000, D(2025, 12, 26), D(2026, 1, 5), True) == Decimal("4.93")


@pytest.mark.parametrize(
    ("paid", "good_payer", "expected"),
    [
        # Due 2026-03-31, 2000 €.
        # Paid 15 April = 15 days late. Ordinary payer: 15 × 5.65 = 84.75 percent-days
        #   → 2000 × 84.75 / 36500 = 4.64383… → 4.64
        (D(2026, 4, 15), False, "4.64"),
        # Good payer: 1–10 April at 1.6 % (16.00) + 11–15 April at 5.65 % (28.25) = 44.25
        #   → 2000 × 44.25 / 36500 = 2.42465… → 2.42
        (D(2026, 4, 15), True, "2.42"),
        # Good payer paying on the 10th day late: 10 × 1.6 = 16 → 2000 × 16 / 36500 = 0.87671… → 0.88
        (D(2026, 4, 10), True, "0.88"),
        # Ordinary payer, 10 days: 10 × 5.65 = 56.5 → 2000 × 56.5 / 36500 = 3.09589… → 3.10
        (D(2026, 4, 10), False, "3.10"),
    ],
)
def test_interest_2026(paid, good_payer, expected):
    assert late_payment_interest("2000.00", D(2026, 3, 31), paid, good_payer) == Decimal(expected)


def test_interest_is_rounded_once_at_the_end():
    # 3 days at 5.65 %: 100 × 16.95 / 36500 = 0.04643… → 0.05
    # (rounding each day, 0.01547… → 0.02, would give 0.06)
    assert late_payment_interest(100, D(2025, 7, 1), D(2025, 7, 4), False) == Decimal("0.05")


def test_interest_final_rounding_is_half_up():
    # 1 day at the legal 2.0 %: 91.25 × 2 / 36500 = 0.005 exactly → 0.01 (not 0.00)
    assert late_payment_interest("91.25", D(2025, 6, 30), D(2025, 7, 1), True) == Decimal("0.01")


@pytest.mark.parametrize("paid", [D(2026, 3, 31), D(2026, 3, 20)])
def test_no_interest_when_paid_on_or_before_the_due_date(paid):
    result = late_payment_interest("500.00", D(2026, 3, 31), paid, False)
    assert result == Decimal("0")
    assert str(result) == "0.00"


def test_interest_with_tables_passed_in():
    # Staff-edited rows (any objects with valid_from and value), flat 4 % ECB and 1 % legal:
    # good payer, 20 days late: 10 × 1 + 10 × (4 + 3.5) = 85 percent-days
    # 3650 × 85 / 36500 = 8.50
    ecb = [SimpleNamespace(valid_from=D(2020, 1, 1), value=Decimal("4"))]
    legal = [SimpleNamespace(valid_from=D(2020, 1, 1), value=Decimal("1"))]
    result = late_payment_interest(
        "3650", D(2026, 5, 1), D(2026, 5, 21), True, ecb_rates=ecb, legal_rates=legal
    )
    assert result == Decimal("8.50")


def test_interest_refuses_floats_and_negative_amounts():
    with pytest.raises(TypeError):
        late_payment_interest(100.0, D(2026, 3, 31), D(2026, 4, 5), False)
    with pytest.raises(ValueError):
        late_payment_interest("-1", D(2026, 3, 31), D(2026, 4, 5), False)


def test_interest_before_the_first_known_rate_raises():
    with pytest.raises(ValueError):
        late_payment_interest(100, D(2023, 1, 1), D(2023, 1, 5), False)


@pytest.mark.parametrize("table", [LEGAL_INTEREST_RATES, ECB_MAIN_REFINANCING_RATES])
def test_rate_tables_are_dated_sourced_and_in_order(table):
    starts = [entry.valid_from for entry in table]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(isinstance(entry.value, Decimal) and entry.source for entry in table)
