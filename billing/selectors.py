"""Reads for the customer's "Bollette" pages. Every query starts from the customer.

A customer only ever reaches their own rows: views look invoices up in `invoices_of(customer)` and payments
in `payments_of(customer)`, so another customer's id is simply not found (404). Drafts are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from billing import deadlines, services
from billing import einvoice as fatturapa
from billing.einvoice import document as einvoice_document
from billing.models import (
    ZERO,
    Credit,
    DefaultNotice,
    EInvoice,
    Invoice,
    OnlinePayment,
    Payment,
    PaymentAllocation,
)
from contracts.models import Contract
from portal.lib.dates import days_between, rome_date

# The most invoices one ZIP may hold: two years of monthly bills.
ZIP_MAX_INVOICES = 24


# ---------------------------------------------------------------------------------------------------------
# Invoices
# ---------------------------------------------------------------------------------------------------------


def invoices_of(customer: Customer | None) -> QuerySet[Invoice]:
    """The customer's issued invoices and credit notes, newest first; none for a user without a customer."""
    if customer is None:
        return Invoice.objects.none()
    return Invoice.objects.filter(customer=customer, number__isnull=False).order_by("-issued_on", "-sequence")


def invoice_years(customer: Customer | None) -> list[int]:
    """The years that have invoices, newest first (served by `invoice_customer_issued`)."""
    return list(invoices_of(customer).order_by("-year").values_list("year", flat=True).distinct())


def shown_year(years: list[int], asked: int | None, *, today: date) -> int:
    """The year the list shows: the one asked for, else the current one — or, when the current year has no
    bill yet (early January), the latest year that has."""
    if asked is not None:
        return asked
    if not years or today.year in years:
        return today.year
    return years[0]


# What a row of the list shows (and what `badge` and `outstanding` read).
LIST_FIELDS = (
    "pk",
    "kind",
    "status",
    "number",
    "year",
    "sequence",
    "period_start",
    "period_end",
    "issued_on",
    "due_on",
    "total",
    "amount_paid",
    "amount_credited",
    "pdf",
)


def invoices_in_year(customer: Customer | None, year: int) -> QuerySet[Invoice]:
    return invoices_of(customer).filter(year=year).only(*LIST_FIELDS)


@dataclass(frozen=True)
class Badge:
    key: str
    label: str
    css: str


BADGES = {
    "credit_note": Badge("credit_note", _("Nota di credito"), "text-bg-info"),
    "cancelled": Badge("cancelled", _("Annullata"), "text-bg-secondary"),
    "paid": Badge("paid", _("Pagata"), "text-bg-success"),
    "overdue": Badge("overdue", _("Scaduta"), "text-bg-danger"),
    "partially_paid": Badge("partially_paid", _("Pagata in parte"), "text-bg-warning"),
    "to_pay": Badge("to_pay", _("Da pagare"), "text-bg-primary"),
}


def is_overdue(invoice: Invoice, *, today: date) -> bool:
    """Unpaid after its due date. Decided from the dates, not only from the stored status, so that the page
    says "Scaduta" the day after the due date even before the nightly sweep has marked it."""
    return (
        invoice.awaits_payment
        and invoice.due_on is not None
        and invoice.due_on < today
        and invoice.outstanding > ZERO
    )


def badge(invoice: Invoice, *, today: date) -> Badge:
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return BADGES["credit_note"]
    if invoice.status == Invoice.Status.CANCELLED:
        return BADGES["cancelled"]
    if invoice.outstanding == ZERO:
        return BADGES["paid"]
    if is_overdue(invoice, today=today):
        return BADGES["overdue"]
    if invoice.amount_paid > ZERO:
        return BADGES["partially_paid"]
    return BADGES["to_pay"]


def with_badges(invoices, *, today: date) -> list[Invoice]:
    rows = list(invoices)
    for invoice in rows:
        invoice.badge = badge(invoice, today=today)
    return rows


def pdf_filename(invoice: Invoice) -> str:
    """`bolletta-2026-000123.pdf`, `nota-di-credito-2026-000124.pdf`: what the customer's disk gets."""
    prefix = "nota-di-credito" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "bolletta"
    return f"{prefix}-{invoice.number.replace('/', '-')}.pdf"


def downloadable(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Only invoices whose PDF is stored: it is rendered by a worker, never inside a web request."""
    return invoices.exclude(pdf="")


def downloadable_of_user(user) -> QuerySet[Invoice]:
    """The stored PDFs of the user's customer, found in one query joined on the customer's user (the
    download is the busiest page: no separate customer lookup); none for a user without a customer."""
    return downloadable(
        Invoice.objects.filter(customer__user_id=user.pk, number__isnull=False).only(
            "pk", "kind", "number", "pdf"
        )
    )


# ---------------------------------------------------------------------------------------------------------
# The electronic invoice: the PDF is its courtesy copy
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EInvoiceRecipient:
    """Where the SdI delivers the original, as the invoice was issued (its frozen `customer_details`):
    `channel` is "code" (a business's Codice Destinatario), "pec", or "reserved_area" (a consumer, or a
    business that gave neither: the Agenzia delle Entrate's Fatture e Corrispettivi)."""

    channel: str
    address: str = ""


def einvoice_recipient(invoice: Invoice) -> EInvoiceRecipient:
    """What the e-invoice's header says (billing.einvoice.document.destination), in the portal's words."""
    code, pec = einvoice_document.destination(invoice.customer_details or {})
    if code != einvoice_document.CONSUMER_CODE:
        return EInvoiceRecipient("code", code)
    if pec:
        return EInvoiceRecipient("pec", pec)
    return EInvoiceRecipient("reserved_area")


@dataclass(frozen=True)
class EInvoiceProgress:
    """Where the electronic invoice stands, in the customer's words. `stage` is "sending", "sent",
    "delivered" or "not_delivered"; `on` the day of that stage (Rome), when known."""

    stage: str
    on: date | None
    recipient: EInvoiceRecipient


def einvoice_progress(invoice: Invoice) -> EInvoiceProgress | None:
    """None for an invoice without a transmission (none is shown: every issued invoice has one)."""
    try:
        einvoice = invoice.einvoice
    except EInvoice.DoesNotExist:
        return None
    recipient = einvoice_recipient(invoice)
    status = einvoice.status
    if status == EInvoice.Status.SENT:
        return EInvoiceProgress("sent", _rome_day(einvoice.sent_at), recipient)
    if status == EInvoice.Status.DELIVERED:
        return EInvoiceProgress("delivered", _rome_day(einvoice.outcome_at), recipient)
    if status == EInvoice.Status.NOT_DELIVERED:
        return EInvoiceProgress("not_delivered", _rome_day(einvoice.outcome_at), recipient)
    # To send, or rejected by the SdI and about to be sent again by staff: a rejection is ours to fix, and
    # its error codes would only alarm the customer.
    return EInvoiceProgress("sending", None, recipient)


def einvoice_file(invoice: Invoice) -> tuple[str, bytes]:
    """The electronic invoice's file name and content: the file as sent to the SdI when there is one, else
    the document built now (einvoice.EInvoiceError for a draft, or one that does not build). A document
    waiting to be sent again keeps the rejected file until it leaves: that file is not served, its new one is
    built under the new name."""
    name = fatturapa.file_name(invoice)
    stored = invoice.einvoice
    if stored.xml and stored.status != EInvoice.Status.TO_SEND:
        try:
            with stored.xml.open("rb") as handle:
                return name, handle.read()
        except FileNotFoundError:
            pass  # built again below: the same document, number and file name
    return name, fatturapa.fattura_xml(invoice)


def _rome_day(moment) -> date | None:
    return rome_date(moment) if moment else None


# ---------------------------------------------------------------------------------------------------------
# Balance
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    outstanding: Decimal  # everything still to pay
    overdue: Decimal  # the part already past its due date
    open_count: int
    next_due_on: date | None  # the earliest due date not yet passed

    @property
    def is_settled(self) -> bool:
        return self.outstanding == ZERO


def balance_of(customer: Customer | None, *, today: date) -> Balance | None:
    if customer is None:
        return None
    open_invoices = list(
        Invoice.objects.filter(
            customer=customer, kind=Invoice.Kind.INVOICE, status__in=Invoice.OPEN_STATUSES
        ).only("kind", "status", "due_on", "total", "amount_paid", "amount_credited")
    )
    open_invoices = [invoice for invoice in open_invoices if invoice.outstanding > ZERO]
    upcoming = [invoice.due_on for invoice in open_invoices if invoice.due_on and invoice.due_on >= today]
    return Balance(
        outstanding=services.outstanding_balance(customer),
        overdue=sum(
            (invoice.outstanding for invoice in open_invoices if is_overdue(invoice, today=today)), ZERO
        ),
        open_count=len(open_invoices),
        next_due_on=min(upcoming, default=None),
    )


# ---------------------------------------------------------------------------------------------------------
# Detail
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextSteps:
    """What happens to an overdue invoice, and by when (REGULATION.md §Default)."""

    days_overdue: int
    notice: DefaultNotice | None  # the default notice sent for the invoice, when there is one
    days_left: int | None  # until the notice's payment deadline; negative once it has passed
    notice_from: date  # without a notice: from this day we may send one
    blocked: bool  # an anomalous-invoice complaint holds any suspension until its reply
    has_low_voltage_electricity: bool
    has_gas: bool

    @property
    def stage(self) -> str:
        """`rule` (no notice yet), `term` (the 40 days are running), `after_term`, `power_reduced`,
        `suspension` (asked of the distributor, or done)."""
        if self.notice is None:
            return "rule"
        status = self.notice.status
        if status == DefaultNotice.Status.POWER_REDUCED:
            return "power_reduced"
        if status in (DefaultNotice.Status.SUSPENSION_REQUESTED, DefaultNotice.Status.SUSPENDED):
            return "suspension"
        if self.days_left is not None and self.days_left >= 0:
            return "term"
        return "after_term"


def invoice_page_data(invoice: Invoice, *, today: date) -> dict:
    """What the invoice page shows besides the invoice itself."""
    allocations = list(
        invoice.allocations.select_related("payment").order_by("payment__received_on", "payment__id")
    )
    return {
        "badge": badge(invoice, today=today),
        "lines": list(invoice.lines.all()),
        "vat_summary": services.vat_summary(invoice),
        "allocations": allocations,
        "credit_notes": list(invoices_of(invoice.customer).filter(corrects=invoice)),
        "next_steps": next_steps(invoice, today=today) if is_overdue(invoice, today=today) else None,
        "pays_by_direct_debit": invoice.contract.payment_method == Contract.PaymentMethod.SDD,
        "can_pay_online": can_pay_online(invoice, today=today),
        "einvoice": einvoice_progress(invoice),
    }


def next_steps(invoice: Invoice, *, today: date) -> NextSteps:
    kinds = {supply.get("kind") for supply in invoice.supplies or []}
    notice = sent_notice_for(invoice)
    deadline = notice.payment_due_on if notice else None
    return NextSteps(
        days_overdue=days_between(invoice.due_on, today),
        notice=notice,
        days_left=days_between(today, deadline) if deadline else None,
        notice_from=invoice.dunning_due_on or deadlines.dunning_due_date(invoice.due_on),
        blocked=invoice.dunning_blocked,
        # The portal's electricity supplies are domestic low voltage: a power reduction comes first.
        has_low_voltage_electricity="electricity" in kinds,
        has_gas="gas" in kinds,
    )


def sent_notice_for(invoice: Invoice) -> DefaultNotice | None:
    """The latest default notice (costituzione in mora) sent for the invoice and still open."""
    return (
        invoice.default_notices.filter(status__in=DefaultNotice.OPEN_STATUSES, sent_on__isnull=False)
        .order_by("-sent_on", "-id")
        .first()
    )


# ---------------------------------------------------------------------------------------------------------
# Paying by card in the Area Clienti (billing/online/)
# ---------------------------------------------------------------------------------------------------------


def can_pay_online(invoice: Invoice, *, today: date) -> bool:
    """Something to pay, and no direct debit about to take it: an invoice under SEPA direct debit that is not
    yet due is left to the debit; once overdue (the debit failed) it can be paid by card."""
    if not settings.PAYMENT_VARIANT or not invoice.awaits_payment or invoice.outstanding <= ZERO:
        return False
    # The method the invoice was issued with: a mandate signed later does not debit an earlier bill.
    return invoice.payment_method_code != Contract.PaymentMethod.SDD or is_overdue(invoice, today=today)


def payable_online(customer: Customer | None, *, today: date) -> list[Invoice]:
    """The invoices the "pay everything" button pays, oldest first."""
    if customer is None:
        return []
    open_invoices = (
        invoices_of(customer)
        .filter(kind=Invoice.Kind.INVOICE, status__in=Invoice.OPEN_STATUSES)
        .select_related("contract")
        .order_by("due_on", "sequence")
    )
    return [invoice for invoice in open_invoices if can_pay_online(invoice, today=today)]


def online_payments_of(customer: Customer | None) -> QuerySet[OnlinePayment]:
    if customer is None:
        return OnlinePayment.objects.none()
    return OnlinePayment.objects.filter(customer=customer)


# ---------------------------------------------------------------------------------------------------------
# Payments and credits
# ---------------------------------------------------------------------------------------------------------


def payments_of(customer: Customer | None) -> QuerySet[Payment]:
    """The customer's payments, newest first, each with the invoices it paid."""
    if customer is None:
        return Payment.objects.none()
    return (
        Payment.objects.filter(customer=customer)
        .order_by("-received_on", "-id")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("invoice")
                .only("payment_id", "amount", "invoice__id", "invoice__number")
                .order_by("invoice__due_on", "invoice__sequence"),
            )
        )
    )


def with_unallocated(payments) -> list[Payment]:
    """Each payment with the part that paid no invoice (it became a credit)."""
    rows = list(payments)
    for payment in rows:
        allocated = sum((allocation.amount for allocation in payment.allocations.all()), ZERO)
        payment.unallocated = max(payment.amount - allocated, ZERO)
    return rows


def available_credits(customer: Customer | None) -> list[Credit]:
    """Credits still to be deducted from the next invoices (indemnities, overpayments)."""
    if customer is None:
        return []
    return list(Credit.objects.filter(customer=customer, remaining__gt=ZERO).order_by("created_on", "id"))


def credits_total(credits: list[Credit]) -> Decimal:
    return sum((credit.remaining for credit in credits), ZERO)


# ---------------------------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------------------------


def rejected_einvoices() -> QuerySet[EInvoice]:
    """Electronic invoices the SdI rejected and nobody has sent again yet: billing officers correct and resend
    them (transmission.resend), the 12-day limit still running."""
    return EInvoice.objects.filter(status=EInvoice.Status.REJECTED)
