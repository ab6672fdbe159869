"""Contract deadlines (CG 3, 9.3, 14.8; Codice del Consumo art. 52)."""

from datetime import date as D

import pytest

from contracts.deadlines import (
    contract_expiry,
    contract_period_start,
    cooling_off_last_day,
    device_return_by,
    presumed_receipt,
    price_change_withdrawal_last_day,
    renewal_notice_send_by,
    supplier_withdrawal_effective,
    unilateral_change_earliest_effective,
    withdrawal_effective_date,
)
from portal.lib.dates import add_months


@pytest.mark.parametrize(
    ("activated", "start"),
    [
        (D(2026, 3, 1), D(2026, 3, 1)),  # on the 1st: same day
        (D(2026, 3, 2), D(2026, 4, 1)),
        (D(2026, 3, 31), D(2026, 4, 1)),
        (D(2026, 12, 31), D(2027, 1, 1)),
        (D(2028, 2, 29), D(2028, 3, 1)),
    ],
)
def test_contract_period_start(activated, start):
    assert contract_period_start(activated) == start


@pytest.mark.parametrize(
    ("start", "expiry"),
    [
        (D(2026, 4, 1), D(2027, 4, 1)),
        (D(2027, 1, 1), D(2028, 1, 1)),
        (D(2028, 3, 1), D(2029, 3, 1)),
    ],
)
def test_contract_expiry(start, expiry):
    assert contract_expiry(start) == expiry


@pytest.mark.parametrize(
    ("expiry", "send_by"),
    [
        (D(2027, 3, 1), D(2026, 11, 21)),  # 2026-12-01 − 10 days
        (D(2027, 1, 1), D(2026, 9, 21)),  # 2026-10-01 − 10 days
        (D(2027, 6, 1), D(2027, 2, 19)),  # 2027-03-01 − 10 days (28-day February)
        (D(2028, 6, 1), D(2028, 2, 20)),  # 2028-03-01 − 10 days (leap February)
    ],
)
def test_renewal_notice_send_by(expiry, send_by):
    assert renewal_notice_send_by(expiry) == send_by
    # the presumed receipt of a notice sent that day is exactly three months before expiry
    assert presumed_receipt(send_by) == add_months(expiry, -3)


def test_renewal_notice_lead_days():
    assert renewal_notice_send_by(D(2027, 3, 1), lead_days=0) == D(2026, 12, 1)
    assert renewal_notice_send_by(D(2027, 3, 1), lead_days=3) == D(2026, 11, 28)
    with pytest.raises(ValueError):
        renewal_notice_send_by(D(2027, 3, 1), lead_days=-1)


def test_contract_chain_from_activation_to_renewal_notice():
    start = contract_period_start(D(2026, 3, 17))
    expiry = contract_expiry(start)
    assert (start, expiry) == (D(2026, 4, 1), D(2027, 4, 1))
    assert renewal_notice_send_by(expiry) == D(2026, 12, 22)  # 2027-01-01 − 10 days


@pytest.mark.parametrize(
    ("kind", "received", "effective"),
    [
        ("switch", D(2026, 3, 10), D(2026, 4, 1)),  # by the 10th: next month
        ("switch", D(2026, 3, 11), D(2026, 5, 1)),  # after the 10th: the month after
        ("switch", D(2026, 3, 1), D(2026, 4, 1)),
        ("switch", D(2026, 1, 31), D(2026, 3, 1)),
        ("switch", D(2026, 12, 10), D(2027, 1, 1)),
        ("switch", D(2026, 12, 11), D(2027, 2, 1)),
        ("deactivation", D(2026, 3, 10), D(2026, 4, 9)),  # + 30 days
        ("deactivation", D(2026, 12, 15), D(2027, 1, 14)),
        ("deactivation", D(2028, 2, 1), D(2028, 3, 2)),
    ],
)
def test_withdrawal_effective_date(kind, received, effective):
    assert withdrawal_effective_date(kind, received) == effective


def test_withdrawal_unknown_kind():
    with pytest.raises(ValueError):
        withdrawal_effective_date("cancel", D(2026, 3, 10))


@pytest.mark.parametrize(
    ("concluded", "last_day"),
    [
        (D(2026, 3, 20), D(2026, 4, 3)),
        (D(2026, 12, 20), D(2027, 1, 3)),
        (D(2028, 2, 20), D(2028, 3, 5)),
    ],
)
def test_cooling_off_last_day(concluded, last_day):
    assert cooling_off_last_day(concluded) == last_day


def test_presumed_receipt():
    assert presumed_receipt(D(2026, 11, 25)) == D(2026, 12, 5)  # sent + 10 days
    assert presumed_receipt(D(2026, 11, 25), D(2026, 11, 27)) == D(2026, 11, 27)  # proven delivery wins
    assert presumed_receipt(D(2026, 11, 25), D(2026, 12, 9)) == D(2026, 12, 9)  # even when later
    with pytest.raises(ValueError):
        presumed_receipt(D(2026, 11, 25), D(2026, 11, 24))


@pytest.mark.parametrize(
    ("sent", "delivered", "effective"),
    [
        (D(2026, 11, 25), None, D(2027, 4, 1)),  # receipt 12-05 → 2027-01-01 + 3 months
        (D(2026, 11, 25), D(2026, 11, 27), D(2027, 3, 1)),  # receipt 11-27 → 12-01 + 3 months
        (D(2026, 11, 20), None, D(2027, 3, 1)),  # receipt 11-30 → 12-01 + 3 months
        (D(2026, 11, 21), None, D(2027, 4, 1)),  # receipt 12-01 → still the month AFTER receipt
    ],
)
def test_unilateral_change_earliest_effective(sent, delivered, effective):
    assert unilateral_change_earliest_effective(sent, delivered) == effective


def test_price_change_withdrawal_last_day():
    assert price_change_withdrawal_last_day(D(2026, 11, 25)) == D(2027, 1, 24)


@pytest.mark.parametrize(
    ("kind", "received", "effective"),
    [
        ("energy", D(2026, 3, 15), D(2026, 10, 1)),  # 2026-04-01 + 6 months
        ("energy", D(2026, 3, 1), D(2026, 10, 1)),  # a 1st still counts from the next month
        ("energy", D(2026, 8, 31), D(2027, 3, 1)),
        ("communications", D(2026, 3, 15), D(2026, 6, 15)),
        ("communications", D(2026, 11, 30), D(2027, 2, 28)),  # month-end clamp
    ],
)
def test_supplier_withdrawal_effective(kind, received, effective):
    assert supplier_withdrawal_effective(kind, received) == effective


def test_supplier_withdrawal_unknown_kind():
    with pytest.raises(ValueError):
        supplier_withdrawal_effective("gas", D(2026, 3, 15))


def test_device_return_by():
    assert device_return_by(D(2026, 12, 28)) == D(2027, 1, 7)
