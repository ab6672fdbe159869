"""Complaint deadlines: reply standards, automatic indemnities, conciliation.

Pure functions, ``date`` in and ``date``/``Decimal`` out; all date arithmetic goes
through ``portal.lib.dates``. Energy: ARERA TIQV (as amended by delibera 399/2025/R/com,
in force from 1 January 2026) and the Luce&Gas special conditions (CP-LG 6.2, 6.3);
communications: AGCOM 255/24/CONS.

The standards and the indemnity base changed on 1 January 2026 ("TIQV 2026"). The
value applying to a case is the one in force on its RECEIPT date, so both live in
effective-dated tables.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.lib.dates import Dated, add_days, add_months, days_between, value_on

COMPLAINT = "complaint"
INFORMATION_REQUEST = "information_request"
BILLING_RECTIFICATION = "billing_rectification"
DOUBLE_BILLING = "double_billing"
TELECOM_COMPLAINT = "telecom_complaint"
KINDS = (COMPLAINT, INFORMATION_REQUEST, BILLING_RECTIFICATION, DOUBLE_BILLING, TELECOM_COMPLAINT)

# Kinds whose lateness earns an ARERA automatic indemnity (TIQV "livelli specifici").
# Information requests only have a general level (95% within 30 days, CP-LG 6.2b);
# communications indemnities follow the service charter, none by default.
INDEMNIFIED_KINDS = frozenset({COMPLAINT, BILLING_RECTIFICATION, DOUBLE_BILLING})

# Valid from "always": the contract text value, in force before any case the portal handles.
_CONTRACT_TEXT = date.min
_TIQV_2026 = date(2026, 1, 1)

# Reply standards, in calendar days from receipt (online/e-mail: the sending date).
ANSWER_STANDARDS: dict[str, tuple[Dated[int], ...]] = {
    COMPLAINT: (Dated(_CONTRACT_TEXT, 30, "CP-LG 6.2a, TIQV art. 15"),),
    INFORMATION_REQUEST: (Dated(_CONTRACT_TEXT, 30, "CP-LG 6.2b (general level)"),),
    BILLING_RECTIFICATION: (Dated(_CONTRACT_TEXT, 60, "CP-LG 6.2a, TIQV"),),
    DOUBLE_BILLING: (
        Dated(_CONTRACT_TEXT, 20, "CP-LG 6.2a, TIQV"),
        Dated(_TIQV_2026, 15, "TIQV 2026 (delibera 399/2025/R/com)"),
    ),
    TELECOM_COMPLAINT: (Dated(_CONTRACT_TEXT, 30, "AGCOM 255/24/CONS"),),
}
# Billing rectification when invoices are four-monthly (CP-LG 6.2a: "90 giorni in caso
# di fatture con periodicità quadrimestrale").
BILLING_RECTIFICATION_FOUR_MONTHLY: tuple[Dated[int], ...] = (Dated(_CONTRACT_TEXT, 90, "CP-LG 6.2a, TIQV"),)

# Automatic indemnity base, by receipt date (CP-LG 6.3; TIQV 2026 art. 19).
INDEMNITY_BASE: tuple[Dated[Decimal], ...] = (
    Dated(_CONTRACT_TEXT, Decimal("25.00"), "CP-LG 6.3"),
    Dated(_TIQV_2026, Decimal("30.00"), "TIQV 2026 art. 19"),
)

# Indemnity paid at the latest 6 months from receipt, 8 with four-monthly billing
# (CP-LG 6.3, TIQV art. 21).
INDEMNITY_PAYMENT_MONTHS = 6
INDEMNITY_PAYMENT_MONTHS_FOUR_MONTHLY = 8

# AR: the customer may apply to ARERA's Servizio Conciliazione "trascorsi 40 giorni
# dall'invio del reclamo senza alcun riscontro".
CONCILIATION_WAIT_DAYS = 40


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown request kind {kind!r}; expected one of {KINDS}")


def answer_standard_days(kind: str, received_on: date, four_monthly_billing: bool = False) -> int:
    """The reply standard (calendar days) in force on the receipt date.

    Complaint 30; information request 30; billing rectification 60 (90 with
    four-monthly billing); double billing 20 for receipts until 31/12/2025, 15 from
    1/1/2026; communications complaint 30.
    """
    _check_kind(kind)
    if kind == BILLING_RECTIFICATION and four_monthly_billing:
        table = BILLING_RECTIFICATION_FOUR_MONTHLY
    else:
        table = ANSWER_STANDARDS[kind]
    return value_on(table, received_on)


def answer_due_date(kind: str, received_on: date, four_monthly_billing: bool = False) -> date:
    """Last day for the reasoned reply: receipt + the standard in force on receipt."""
    return add_days(received_on, answer_standard_days(kind, received_on, four_monthly_billing))


def indemnity_band(
    kind: str, received_on: date, answered_on: date, four_monthly_billing: bool = False
) -> int:
    """Multiplier of the indemnity base: 0 (none due), 1, 2 or 3 (CP-LG 6.3, TIQV).

    With delay = answered − received and S the standard: late but within 2S → 1;
    within 3S → 2; beyond 3S → 3. (CP-LG 6.3 says "base" twice; the 2× in the middle
    band is TIQV's and is what applies.) Information requests and communications
    complaints have no automatic indemnity here → 0.
    """
    _check_kind(kind)
    if answered_on < received_on:
        raise ValueError("answered_on cannot be before received_on")
    if kind not in INDEMNIFIED_KINDS:
        return 0
    standard = answer_standard_days(kind, received_on, four_monthly_billing)
    delay = days_between(received_on, answered_on)
    if delay <= standard:
        return 0
    if delay <= 2 * standard:
        return 1
    if delay <= 3 * standard:
        return 2
    return 3


def indemnity_base(received_on: date) -> Decimal:
    """The indemnity base in force on the receipt date: 25 € until 31/12/2025, 30 € from
    1/1/2026 (TIQV 2026 art. 19)."""
    return value_on(INDEMNITY_BASE, received_on)


def indemnity_amount(
    kind: str, received_on: date, answered_on: date, four_monthly_billing: bool = False
) -> Decimal:
    """The automatic indemnity owed for a late reply (band × base), 0 when on time.

    The exclusions of TIQV 2026 art. 18/20 (force majeure, customer's or third parties'
    fault, customer not identifiable, already paid this year) are staff decisions made
    outside this function.
    """
    band = indemnity_band(kind, received_on, answered_on, four_monthly_billing)
    if band == 0:
        return Decimal("0.00")
    return band * indemnity_base(received_on)


def indemnity_payment_due_by(received_on: date, four_monthly_billing: bool = False) -> date:
    """Latest date to pay an owed indemnity: receipt + 6 months, or + 8 months with
    four-monthly billing (CP-LG 6.3, TIQV art. 21)."""
    months = INDEMNITY_PAYMENT_MONTHS_FOUR_MONTHLY if four_monthly_billing else INDEMNITY_PAYMENT_MONTHS
    return add_months(received_on, months)


def conciliation_available_on(sent_on: date) -> date:
    """When the customer may apply for conciliation without a reply: 40 days after
    SENDING the complaint (AR; ARERA Servizio Conciliazione)."""
    return add_days(sent_on, CONCILIATION_WAIT_DAYS)
