"""Billing deadlines: due dates, default and suspension, late-invoice indemnities,
late-payment interest.

Pure functions, ``date`` in and ``date``/``Decimal`` out (the dunning rules also
word the rule they apply, for staff); all date arithmetic goes through
``portal.lib.dates`` and all rounding through ``portal.lib.money``. "CG x.y" is the
supplier's general conditions, "CP-LG x.y" its Luce&Gas special conditions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from contracts.deadlines import presumed_receipt
from contracts.models import Service
from portal.lib import formatting
from portal.lib.dates import Dated, DatedLike, add_days, add_working_days, days_between, value_on
from portal.lib.money import MoneyInput, round_money, to_decimal

# CG 4.1: pay "entro il termine di 15 giorni dalla data della fattura".
INVOICE_PAYMENT_DAYS = 15
# CG 6.2: the default notice gives "40 giorni solari dall'invio" to pay.
DEFAULT_NOTICE_PAYMENT_DAYS = 40
# CG 6.2: suspension may be requested "decorsi almeno 3 giorni lavorativi dalla
# scadenza del termine di pagamento".
WORKING_DAYS_AFTER_PAYMENT_DEADLINE = 3
# CG 6.2 with TIMOE/TIMG: minimum days between receipt of the default notice and the
# suspension request, by supply (REGULATION.md, "Default and suspension").
SUSPENSION_DAYS_FROM_NOTICE_RECEIPT = {
    "electricity_lv": 25,  # low-voltage electricity
    "electricity_mv": 40,
    "gas": 40,
}
# CG 6.3: low voltage, power reduced to 15% first; suspension "decorsi quindici giorni".
SUSPENSION_DAYS_AFTER_POWER_REDUCTION = 15
# The portal stores the contracted power, not the connection voltage. Italian
# distributors connect in low voltage up to 100 kW (ARERA TIC); above that, in medium
# voltage. Every low-voltage supply goes through the power reduction to 15% first
# (CG 6.3), which is the protective reading when in doubt.
LOW_VOLTAGE_MAX_KW = Decimal("100")

# Electronic invoices (billing/einvoice/): an immediate invoice is issued "entro dodici giorni dall'effettuazione
# dell'operazione" (art. 21 c. 4 DPR 633/72) and must reach the SdI within that time; billing officers are warned
# this many days before the limit while the SdI has not accepted it.
EINVOICE_ACCEPT_DAYS = 12
EINVOICE_ALERT_DAYS_BEFORE = 3
# A file rejected by the SdI (notifica di scarto) is sent again "entro cinque giorni" from the notice, with the
# same number and date (Agenzia delle Entrate, circ. 13/E del 2 luglio 2018, § 3.2).
EINVOICE_RESEND_DAYS = 5

# CG 6.1: late-payment interest is the ECB reference rate "aumentato del 3,5%" (points).
LATE_INTEREST_SPREAD_POINTS = Decimal("3.5")
# CG 6.1: a good payer owes only legal interest "per i primi dieci giorni di ritardo".
GOOD_PAYER_LEGAL_INTEREST_DAYS = 10
# Simple interest on an actual/365 basis: each day late is 1/365 of the yearly rate.
DAYS_PER_YEAR = Decimal(365)

# Yearly rates in percent. Staff will be able to edit DB-backed copies; these are the
# defaults used when none are passed in.
LEGAL_INTEREST_RATES: tuple[Dated[Decimal], ...] = (
    Dated(date(2024, 1, 1), Decimal("2.5"), "Tasso di interesse legale 2024 (art. 1284 c.c., decreto MEF)"),
    Dated(date(2025, 1, 1), Decimal("2.0"), "Tasso di interesse legale 2025 (art. 1284 c.c., decreto MEF)"),
    Dated(date(2026, 1, 1), Decimal("1.6"), "Tasso di interesse legale 2026 (art. 1284 c.c., decreto MEF)"),
)
ECB_MAIN_REFINANCING_RATES: tuple[Dated[Decimal], ...] = (
    Dated(date(2023, 9, 20), Decimal("4.50"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2024, 6, 12), Decimal("4.25"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2024, 9, 18), Decimal("3.65"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2024, 10, 23), Decimal("3.40"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2024, 12, 18), Decimal("3.15"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2025, 2, 5), Decimal("2.90"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2025, 3, 12), Decimal("2.65"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2025, 4, 23), Decimal("2.40"), "BCE, tasso operazioni di rifinanziamento principali"),
    Dated(date(2025, 6, 11), Decimal("2.15"), "BCE, tasso operazioni di rifinanziamento principali"),
)

ZERO_EUR = Decimal("0.00")

# CP-LG 6.6 (TIF 4.2): late periodic invoice.
_PERIODIC_FIRST_BAND_DAYS = 10
_PERIODIC_FIRST_BAND_EUR = Decimal("6.00")
_PERIODIC_STEP_DAYS = 5
_PERIODIC_STEP_EUR = Decimal("2.00")
_PERIODIC_STEPPED_UNTIL_DAYS = 45  # 41–45 days late → 20 €
_PERIODIC_UNTIL_90_DAYS = 90
_PERIODIC_UNTIL_90_EUR = Decimal("40.00")  # 46–90 days late
_PERIODIC_BEYOND_90_EUR = Decimal("60.00")  # > 90 days late

# CP-LG 6.7 (TIF 11.1, 11.4): late closing invoice.
_CLOSING_FIRST_BAND_DAYS = 10
_CLOSING_FIRST_BAND_EUR = Decimal("4.00")
_CLOSING_STEP_DAYS = 10
_CLOSING_STEP_EUR = Decimal("2.00")
_CLOSING_MAX_FROM_DAYS = 90  # "per ritardi pari o superiori a 90 giorni"
_CLOSING_MAX_EUR = Decimal("22.00")


def invoice_due_date(issued_on: date) -> date:
    """Due date of an invoice: issued + 15 days (CG 4.1), unless another due date is
    printed on it, in which case the caller uses that."""
    return add_days(issued_on, INVOICE_PAYMENT_DAYS)


def einvoice_accept_by(issued_on: date) -> date:
    return add_days(issued_on, EINVOICE_ACCEPT_DAYS)


def einvoice_alert_on(issued_on: date) -> date:
    return add_days(einvoice_accept_by(issued_on), -EINVOICE_ALERT_DAYS_BEFORE)


def einvoice_resend_by(rejected_on: date) -> date:
    return add_days(rejected_on, EINVOICE_RESEND_DAYS)


def default_notice_payment_deadline(sent_on: date) -> date:
    """Payment deadline in a default notice: 40 calendar days from sending (CG 6.2)."""
    return add_days(sent_on, DEFAULT_NOTICE_PAYMENT_DAYS)


def earliest_suspension_request(payment_deadline: date, received_on: date, supply: str) -> date:
    """First day the supplier may ask the distributor to suspend the supply (CG 6.2,
    TIMOE/TIMG): the later of

    (a) the first working day after three full working days have passed since the
        payment deadline, i.e. the 4th working day after it (deadline Wed 2026-04-22:
        Thu 23, Fri 24 and Mon 27 pass — Sat 25 April is a holiday anyway — so Tue 28);
    (b) receipt of the default notice + 25 days (low-voltage electricity) or + 40 days
        (medium-voltage electricity, gas).
    """
    try:
        days_from_receipt = SUSPENSION_DAYS_FROM_NOTICE_RECEIPT[supply]
    except KeyError:
        raise ValueError(
            f"unknown supply {supply!r}; expected one of {tuple(SUSPENSION_DAYS_FROM_NOTICE_RECEIPT)}"
        ) from None
    after_working_days = add_working_days(payment_deadline, WORKING_DAYS_AFTER_PAYMENT_DEADLINE + 1)
    after_receipt = add_days(received_on, days_from_receipt)
    return max(after_working_days, after_receipt)


def suspension_after_power_reduction(reduced_on: date) -> date:
    """Low voltage: the supply may be suspended 15 days after the power was reduced to
    15% if still unpaid (CG 6.3)."""
    return add_days(reduced_on, SUSPENSION_DAYS_AFTER_POWER_REDUCTION)


def dunning_due_date(due_on: date) -> date:
    """The day an unpaid invoice becomes due for a default notice (``Invoice.dunning_due_on``):
    DEFAULT_NOTICE_AFTER_DAYS_OVERDUE days after its due date (setting, default 10)."""
    return add_days(due_on, settings.DEFAULT_NOTICE_AFTER_DAYS_OVERDUE)


def supply_rule(service: Service) -> str:
    """The supply kind of ``earliest_suspension_request`` for a service (its kind and power only).

    Low-voltage electricity is decided by the contracted power (see LOW_VOLTAGE_MAX_KW).
    Fibre and mobile have no receipt term in TIMOE/TIMG; they get the longer one (40
    days, as gas), so a multi-service notice never lets them go first."""
    if service.kind == Service.Kind.ELECTRICITY:
        if service.power_kw is None or service.power_kw <= LOW_VOLTAGE_MAX_KW:
            return "electricity_lv"
        return "electricity_mv"
    return "gas"


def step_allowed_on(
    *,
    payment_due_on: date,
    sent_on: date,
    received_on: date | None,
    supply: str,
    suspension: bool,
    power_reduced_on: date | None = None,
) -> tuple[date | None, str]:
    """(the first day a step on a supply is allowed, the rule that sets it, in words).

    A power reduction or suspension request: ``earliest_suspension_request`` from the
    notice's payment deadline and its receipt (proven, else presumed: CG 9.3). A
    suspension of low-voltage electricity comes 15 days after the power reduction was
    executed (CG 6.3), and is not allowed at all (None) before one was.
    """
    receipt = presumed_receipt(sent_on, received_on)
    allowed = earliest_suspension_request(payment_due_on, receipt, supply)
    rule = _(
        "%(working)d giorni lavorativi dopo il termine di pagamento del %(deadline)s e %(receipt_days)d giorni "
        "dalla ricezione (%(receipt)s)"
    ) % {
        "working": WORKING_DAYS_AFTER_PAYMENT_DEADLINE,
        "deadline": formatting.day(payment_due_on),
        "receipt_days": SUSPENSION_DAYS_FROM_NOTICE_RECEIPT[supply],
        "receipt": formatting.day(receipt) + ("" if received_on else " " + _("presunta")),
    }
    if suspension and supply == "electricity_lv":
        if power_reduced_on is None:
            return None, _(
                "per la luce in bassa tensione la potenza va prima ridotta al 15%%: la sospensione è consentita "
                "%(days)d giorni dopo la riduzione eseguita (art. 6.3)"
            ) % {"days": SUSPENSION_DAYS_AFTER_POWER_REDUCTION}
        after_reduction = suspension_after_power_reduction(power_reduced_on)
        if after_reduction > allowed:
            return after_reduction, _(
                "%(days)d giorni dopo la riduzione di potenza eseguita il %(reduced)s (art. 6.3)"
            ) % {"days": SUSPENSION_DAYS_AFTER_POWER_REDUCTION, "reduced": formatting.day(power_reduced_on)}
    return allowed, rule


def late_invoice_indemnity(days_late: int) -> Decimal:
    """Automatic indemnity for a periodic invoice issued late (CP-LG 6.6, TIF 4.2).

    ``days_late`` counts from the contractual issuing term. 1–10 days: 6 €; then +2 €
    per started 5 days (11–15: 8 € … 41–45: 20 €); 46–90: 40 €; over 90: 60 €.
    """
    if days_late <= 0:
        return ZERO_EUR
    if days_late <= _PERIODIC_FIRST_BAND_DAYS:
        return _PERIODIC_FIRST_BAND_EUR
    if days_late <= _PERIODIC_STEPPED_UNTIL_DAYS:
        steps = math.ceil((days_late - _PERIODIC_FIRST_BAND_DAYS) / _PERIODIC_STEP_DAYS)
        return _PERIODIC_FIRST_BAND_EUR + steps * _PERIODIC_STEP_EUR
    if days_late <= _PERIODIC_UNTIL_90_DAYS:
        return _PERIODIC_UNTIL_90_EUR
    return _PERIODIC_BEYOND_90_EUR


def late_closing_invoice_indemnity(days_late: int) -> Decimal:
    """Automatic indemnity for a closing invoice issued late (CP-LG 6.7, TIF).

    1–10 days: 4 €; then +2 € per started 10 days (11–20: 6 € … 81–89: 20 €);
    90 days or more: 22 €, the cap the clause sets "per ritardi pari o superiori a 90".
    """
    if days_late <= 0:
        return ZERO_EUR
    if days_late >= _CLOSING_MAX_FROM_DAYS:
        return _CLOSING_MAX_EUR
    if days_late <= _CLOSING_FIRST_BAND_DAYS:
        return _CLOSING_FIRST_BAND_EUR
    steps = math.ceil((days_late - _CLOSING_FIRST_BAND_DAYS) / _CLOSING_STEP_DAYS)
    return _CLOSING_FIRST_BAND_EUR + steps * _CLOSING_STEP_EUR


def late_payment_interest(
    amount: MoneyInput,
    due_on: date,
    paid_on: date,
    good_payer: bool,
    *,
    ecb_rates: Iterable[DatedLike[Decimal]] | None = None,
    legal_rates: Iterable[DatedLike[Decimal]] | None = None,
) -> Decimal:
    """Late-payment interest on ``amount`` (CG 6.1), rounded once to the cent.

    Simple interest, actual/365, day by day at the rate in force on each day: the ECB
    main refinancing rate + 3.5 points; a good payer (on time in the last two years)
    pays only the legal rate for the first 10 days late. Days late run from the day
    after ``due_on`` up to and including ``paid_on``; nothing is due when paid on or
    before the due date. Rates are yearly percentages; pass ``ecb_rates`` /
    ``legal_rates`` to use staff-edited tables instead of the defaults.
    """
    principal = to_decimal(amount)
    if principal < 0:
        raise ValueError("amount must not be negative")
    days_late = days_between(due_on, paid_on)
    if days_late <= 0:
        return round_money(0)
    ecb = tuple(ecb_rates) if ecb_rates is not None else ECB_MAIN_REFINANCING_RATES
    legal = tuple(legal_rates) if legal_rates is not None else LEGAL_INTEREST_RATES

    # Sum the yearly rate of every day late ("percent-days"), then convert once: this
    # keeps the sum exact and rounds only the final amount, as the one rounding rule wants.
    percent_days = Decimal(0)
    for nth_day in range(1, days_late + 1):
        day = add_days(due_on, nth_day)
        if good_payer and nth_day <= GOOD_PAYER_LEGAL_INTEREST_DAYS:
            percent_days += to_decimal(value_on(legal, day))
        else:
            percent_days += to_decimal(value_on(ecb, day)) + LATE_INTEREST_SPREAD_POINTS
    return round_money(principal * percent_days / (Decimal(100) * DAYS_PER_YEAR))
