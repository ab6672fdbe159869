"""Contract deadlines: period, renewal, withdrawal, changes, cooling-off.

Pure functions, ``date`` in and ``date`` out; all arithmetic goes through
``portal.lib.dates``. Clauses cited as "CG x.y" are from the supplier's general
conditions (seeds/condizioni-generali.txt).
"""

from __future__ import annotations

from datetime import date

from portal.lib.dates import add_days, add_months, first_of_next_month

# CG 3.1: the contract lasts 12 months, renewed tacitly "di anno in anno".
CONTRACT_PERIOD_MONTHS = 12
# CG 3.1: renewal conditions or termination are sent "tre mesi prima della scadenza".
RENEWAL_NOTICE_MONTHS = 3
# CG 9.3: "si presume ricevuta trascorsi 10 giorni dall'invio", unless proven otherwise.
PRESUMED_DELIVERY_DAYS = 10
# CG 9.3: unilateral changes need at least 3 months' notice, from the 1st of the
# month after receipt.
UNILATERAL_CHANGE_NOTICE_MONTHS = 3
# CG 9.3: the customer may withdraw within 60 days of a notice that raises prices.
PRICE_CHANGE_WITHDRAWAL_DAYS = 60
# CG 3.2 (i): for energy, a switch must reach the outgoing supplier "entro e non oltre
# il giorno 10 del mese precedente".
SWITCH_CUTOFF_DAY = 10
# CG 3.3: deactivation on 30 days' notice from receipt.
DEACTIVATION_NOTICE_DAYS = 30
# Codice del Consumo art. 52: 14 days to withdraw from distance/off-premises contracts.
COOLING_OFF_DAYS = 14
# CG 3.6: supplier withdrawal notice, by service family.
SUPPLIER_WITHDRAWAL_ENERGY_MONTHS = 6
SUPPLIER_WITHDRAWAL_COMMUNICATIONS_MONTHS = 3
# CG 14.8: devices on loan go back within 10 days.
DEVICE_RETURN_DAYS = 10

WITHDRAWAL_KINDS = ("switch", "deactivation")
SUPPLIER_WITHDRAWAL_KINDS = ("energy", "communications")


def contract_period_start(first_activation_on: date) -> date:
    """Start of the 12-month contract period (CG 3.1).

    The period runs from the activation of the first service; when that is not the
    1st of a month it runs from the 1st of the next month.
    """
    if first_activation_on.day == 1:
        return first_activation_on
    return first_of_next_month(first_activation_on)


def contract_expiry(period_start: date) -> date:
    """The first day no longer covered by the period: start + 12 months (CG 3.1).

    Without a notice the contract renews tacitly, and the next period starts on
    exactly this date.
    """
    return add_months(period_start, CONTRACT_PERIOD_MONTHS)


def presumed_receipt(sent_on: date, delivered_on: date | None = None) -> date:
    """When a notice counts as received (CG 9.3).

    The proven delivery date (PEC receipt, return receipt, e-mail delivery) when
    known; otherwise the presumption "ricevuta trascorsi 10 giorni dall'invio".
    """
    if delivered_on is not None:
        if delivered_on < sent_on:
            raise ValueError("delivered_on cannot be before sent_on")
        return delivered_on
    return add_days(sent_on, PRESUMED_DELIVERY_DAYS)


def renewal_notice_send_by(expiry: date, *, lead_days: int = PRESUMED_DELIVERY_DAYS) -> date:
    """Last day to send the renewal/termination notice (CG 3.1 with CG 9.3).

    CG 3.1 wants the notice three months before expiry; without proof of delivery a
    notice only counts as received 10 days after sending (CG 9.3). Sending on this
    day puts the presumed receipt exactly on expiry − 3 months.
    Expiry 2027-03-01 → 2026-12-01 − 10 days → 2026-11-21.
    ``lead_days`` lets a channel with immediate proof of delivery (PEC) use 0.
    """
    if lead_days < 0:
        raise ValueError("lead_days must be >= 0")
    return add_days(add_months(expiry, -RENEWAL_NOTICE_MONTHS), -lead_days)


def withdrawal_effective_date(kind: str, received_on: date) -> date:
    """When a customer's withdrawal takes effect, from the day the supplier received it.

    - "switch" (change of supplier, CG 3.2 i): effective on the 1st of month M when
      received by the 10th of month M−1 (received 2026-03-10 → 2026-04-01;
      2026-03-11 → 2026-05-01).
    - "deactivation" (CG 3.3): received + 30 days.
    """
    if kind == "switch":
        next_first = first_of_next_month(received_on)
        if received_on.day <= SWITCH_CUTOFF_DAY:
            return next_first
        return add_months(next_first, 1)
    if kind == "deactivation":
        return add_days(received_on, DEACTIVATION_NOTICE_DAYS)
    raise ValueError(f"unknown withdrawal kind {kind!r}; expected one of {WITHDRAWAL_KINDS}")


def cooling_off_last_day(concluded_on: date) -> date:
    """Last day of the 14-day cooling-off period (Codice del Consumo art. 52).

    For service contracts the period runs from conclusion; for goods (e.g. a modem)
    art. 52 counts from delivery instead, which the caller then passes here.
    """
    return add_days(concluded_on, COOLING_OFF_DAYS)


def unilateral_change_earliest_effective(sent_on: date, delivered_on: date | None = None) -> date:
    """Earliest date a unilateral change of conditions can take effect (CG 9.3).

    Three months' notice "decorrente dal primo giorno del mese successivo a quello di
    ricevimento": receipt (proven, or sent + 10 days) → 1st of the next month → + 3
    months. Sent 2026-11-25, no proof → receipt 2026-12-05 → 2027-01-01 → 2027-04-01.
    """
    receipt = presumed_receipt(sent_on, delivered_on)
    return add_months(first_of_next_month(receipt), UNILATERAL_CHANGE_NOTICE_MONTHS)


def price_change_withdrawal_last_day(notice_on: date) -> date:
    """Last day the customer may withdraw after a notice raising prices (CG 9.3:
    "entro il termine di 60 giorni dalla data della comunicazione")."""
    return add_days(notice_on, PRICE_CHANGE_WITHDRAWAL_DAYS)


def supplier_withdrawal_effective(kind: str, received_on: date) -> date:
    """When the supplier's own withdrawal takes effect (CG 3.6).

    - "energy": six months from the 1st of the month after the customer received it;
    - "communications": three months from the notice. CG 3.6 presumes an electronic
      notice received on the day it was sent, so pass the sending date then.
    """
    if kind == "energy":
        return add_months(first_of_next_month(received_on), SUPPLIER_WITHDRAWAL_ENERGY_MONTHS)
    if kind == "communications":
        return add_months(received_on, SUPPLIER_WITHDRAWAL_COMMUNICATIONS_MONTHS)
    raise ValueError(
        f"unknown supplier withdrawal kind {kind!r}; expected one of {SUPPLIER_WITHDRAWAL_KINDS}"
    )


def device_return_by(terminated_on: date) -> date:
    """Last day to return devices on loan (CG 14.8: within 10 days), after which they
    are charged. CG 14.8 counts from the termination notice; pass that date."""
    return add_days(terminated_on, DEVICE_RETURN_DAYS)
