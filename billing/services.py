"""Invoices, credit notes, payments, credits and charges: the billing rules that change state.

Every function is keyword-only and transactional. Amounts are Decimal euro, rounded once per line with
portal.lib.money.round_money; VAT is summarised per rate (billing/taxes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import Customer
from billing import deadlines, taxes
from billing.einvoice import transmission
from billing.models import (
    ZERO,
    Charge,
    Credit,
    CreditUse,
    DefaultNotice,
    InterestRate,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
    PaymentAllocation,
)
from contracts.models import Contract
from portal.lib import formatting
from portal.lib.dates import add_months
from portal.lib.money import round_money

# The wording the regulation prescribes on the invoice line of an automatic indemnity (TIQV art. 21).
INDEMNITY_WORDING = (
    "Indennizzo automatico per mancato rispetto dei livelli specifici di qualità definiti "
    "dall'Autorità di Regolazione per Energia Reti e Ambiente"
)


@dataclass(frozen=True)
class LineSpec:
    kind: str
    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    unit: str = ""
    vat_rate: Decimal | None = None  # None: outside the scope of VAT

    @property
    def amount(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)


# ---------------------------------------------------------------------------------------------------------
# Drafts and issue
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def create_draft(
    *,
    contract: Contract,
    period_start: date,
    period_end: date,
    lines: list[LineSpec],
    is_closing: bool = False,
) -> Invoice:
    invoice = Invoice.objects.create(
        contract=contract,
        customer=contract.customer,
        period_start=period_start,
        period_end=period_end,
        is_closing=is_closing,
    )
    _add_lines(invoice, lines)
    return invoice


def _add_lines(invoice: Invoice, lines: list[LineSpec], start: int = 0) -> None:
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=start + position,
            kind=spec.kind,
            description=spec.description,
            quantity=spec.quantity,
            unit=spec.unit,
            unit_price=spec.unit_price,
            vat_rate=spec.vat_rate,
            amount=spec.amount,
        )
        for position, spec in enumerate(lines, start=1)
    )


def _next_number(year: int) -> tuple[int, str]:
    sequence = InvoiceCounter.take_next(year)
    return sequence, f"{year}/{sequence:06d}"


@transaction.atomic
def issue_invoice(*, invoice: Invoice, issued_on: date) -> Invoice:
    """Freeze the draft: copy customer/contract/supply data, total it, number it, set its due date."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.is_issued:
        raise ValidationError(_("La bolletta %(number)s è già stata emessa.") % {"number": invoice.number})
    _freeze_copies(invoice)
    _apply_totals(invoice, issued_on)
    invoice.issued_on = issued_on
    if invoice.kind == Invoice.Kind.INVOICE:
        invoice.due_on = deadlines.invoice_due_date(issued_on)
        invoice.dunning_due_on = deadlines.dunning_due_date(invoice.due_on)
        invoice.status = Invoice.Status.ISSUED if invoice.total > ZERO else Invoice.Status.PAID
    else:
        invoice.status = Invoice.Status.ISSUED
    invoice.sequence, invoice.number = _next_number(issued_on.year)
    invoice.year = issued_on.year
    invoice.payment_notice_code = (
        f"{invoice.year % 100:02d}{invoice.sequence:08d}{invoice.customer_id % 10**8:08d}"
    )
    invoice.save()
    transmission.create_for(invoice)  # the FatturaPA to send to the SdI (billing/einvoice/)
    _queue_pdf(invoice)
    return invoice


def _queue_pdf(invoice: Invoice) -> None:
    """Every issued invoice and credit note gets its PDF in Celery once the issue commits. Robust: with the
    broker down the issue still stands (and is reported as issued); billing.missing_pdfs renders it later."""
    from billing.tasks import render_invoice_pdf  # billing.tasks imports this module

    transaction.on_commit(lambda: render_invoice_pdf.delay(invoice.pk), robust=True)


def _freeze_copies(invoice: Invoice) -> None:
    customer, contract = invoice.customer, invoice.contract
    invoice.customer_name = customer.display_name
    invoice.customer_code = customer.code
    invoice.customer_tax_id = customer.partita_iva or customer.codice_fiscale
    invoice.billing_address = customer.billing_address
    invoice.contract_number = contract.number
    invoice.offer_name = contract.offer_name
    invoice.payment_method = contract.get_payment_method_display()
    invoice.payment_method_code = contract.payment_method
    invoice.customer_details = transmission.customer_details(customer)
    if not invoice.supplies:
        invoice.supplies = [
            {
                "kind": service.kind,
                "label": str(service.get_kind_display()),
                "identifier": service.identifier,
                "address": service.supply_address,
                "power_kw": str(service.power_kw) if service.power_kw else "",
            }
            for service in contract.services.all()
        ]


def _apply_totals(invoice: Invoice, on: date) -> None:
    result = taxes.totals((taxes.VatLine(line.vat_rate, line.amount) for line in invoice.lines.all()), on=on)
    invoice.total_taxable = result.taxable
    invoice.total_vat = result.vat
    invoice.total_outside_vat = result.outside_vat
    invoice.stamp_duty = result.stamp_duty
    invoice.total = result.total


def vat_summary(invoice: Invoice) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(rate, taxable, VAT) per rate, as printed on the invoice."""
    return taxes.totals(
        (taxes.VatLine(line.vat_rate, line.amount) for line in invoice.lines.all()), on=invoice.issued_on
    ).by_rate


@transaction.atomic
def issue_credit_note(*, invoice: Invoice, issued_on: date, reason: str) -> Invoice:
    """Cancel an issued invoice with a credit note that negates every line (the invoice itself never changes)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not invoice.is_issued or invoice.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("Si può rettificare solo una bolletta emessa."))
    if invoice.status == Invoice.Status.CANCELLED:
        raise ValidationError(_("La bolletta %(number)s è già stata annullata.") % {"number": invoice.number})
    note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE,
        contract=invoice.contract,
        customer=invoice.customer,
        corrects=invoice,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        supplies=invoice.supplies,
    )
    _add_lines(
        note,
        [
            LineSpec(
                kind=InvoiceLine.Kind.CORRECTION,
                description=f"{reason} — {line.description}",
                unit_price=-line.unit_price,
                quantity=line.quantity,
                unit=line.unit,
                vat_rate=line.vat_rate,
            )
            for line in invoice.lines.all()
        ],
    )
    note = issue_invoice(invoice=note, issued_on=issued_on)
    # What the customer already paid on the cancelled invoice becomes a credit for the next ones.
    if invoice.amount_paid > ZERO:
        grant_credit(
            customer=invoice.customer,
            contract=invoice.contract,
            reason=Credit.Reason.OVERPAYMENT,
            description=_("Importo pagato sulla bolletta %(number)s annullata") % {"number": invoice.number},
            amount=invoice.amount_paid,
            created_on=issued_on,
            source_key=f"cancelled:{invoice.pk}",
        )
    invoice.status = Invoice.Status.CANCELLED
    invoice.save(update_fields=["status"])
    return note


# ---------------------------------------------------------------------------------------------------------
# Credits and charges
# ---------------------------------------------------------------------------------------------------------


def grant_credit(
    *,
    customer: Customer,
    reason: str,
    description: str,
    amount: Decimal,
    created_on: date,
    source_key: str,
    contract: Contract | None = None,
    pay_by: date | None = None,
) -> Credit:
    """A credit for the customer's next invoices; one per source_key, however often it is asked for."""
    credit, _created = Credit.objects.get_or_create(
        source_key=source_key,
        defaults={
            "customer": customer,
            "contract": contract,
            "reason": reason,
            "description": description,
            "amount": amount,
            "remaining": amount,
            "created_on": created_on,
            "pay_by": pay_by,
        },
    )
    return credit


def grant_indemnity(
    *,
    customer: Customer,
    contract: Contract | None,
    reason: str,
    amount: Decimal,
    created_on: date,
    source_key: str,
    pay_by: date | None = None,
    months_to_pay: int = 6,
) -> Credit:
    """An automatic indemnity: credited on the next invoice with the regulation's wording, and paid at the
    latest on `pay_by` (complaints: 6 or 8 months from receipt, TIQV art. 21), else `months_to_pay` months
    after the cause."""
    return grant_credit(
        customer=customer,
        contract=contract,
        reason=reason,
        description=INDEMNITY_WORDING,
        amount=amount,
        created_on=created_on,
        source_key=source_key,
        pay_by=pay_by or add_months(created_on, months_to_pay),
    )


def credit_lines_for(
    invoice_total: Decimal, *, customer: Customer
) -> tuple[list[LineSpec], list[tuple[Credit, Decimal]]]:
    """Lines deducting the customer's pending credits, oldest first, up to the invoice's total; the rest of a
    larger credit is carried forward to the next invoice."""
    lines, uses = [], []
    left = invoice_total
    for credit in (
        Credit.objects.select_for_update()
        .filter(customer=customer, remaining__gt=ZERO)
        .order_by("created_on", "id")
    ):
        if left <= ZERO:
            break
        used = min(credit.remaining, left)
        kind = (
            InvoiceLine.Kind.CREDIT
            if credit.reason == Credit.Reason.OVERPAYMENT
            else InvoiceLine.Kind.INDEMNITY
        )
        lines.append(LineSpec(kind=kind, description=credit.description, unit_price=-used))
        uses.append((credit, used))
        left -= used
    return lines, uses


def record_credit_uses(invoice: Invoice, uses: list[tuple[Credit, Decimal]]) -> None:
    for credit, amount in uses:
        CreditUse.objects.create(credit=credit, invoice=invoice, amount=amount)
        Credit.objects.filter(pk=credit.pk).update(remaining=F("remaining") - amount)


# ---------------------------------------------------------------------------------------------------------
# Payments
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def record_payment(
    *,
    customer: Customer,
    amount: Decimal,
    received_on: date,
    method: str,
    invoice: Invoice | None = None,
    transaction_id: str | None = None,
    by=None,
) -> Payment:
    """Allocate a payment to the named invoice, else to the oldest debts first (CG 6.1). Late allocations
    charge interest on the next invoice; what is left over becomes a credit."""
    if amount <= ZERO:
        raise ValidationError({"amount": _("L'importo deve essere maggiore di zero.")})
    if invoice is not None and invoice.customer_id != customer.pk:
        raise ValidationError({"invoice": _("La bolletta non è di questo cliente.")})
    payment = Payment.objects.create(
        customer=customer,
        invoice=invoice,
        amount=amount,
        received_on=received_on,
        method=method,
        transaction_id=transaction_id or None,
        registered_by=by,
    )
    good_payer = is_good_payer(customer, on=received_on)
    left = amount
    for target in _allocation_order(customer, invoice):
        if left <= ZERO:
            break
        share = min(left, target.outstanding)
        if share <= ZERO:
            continue
        allocation = PaymentAllocation.objects.create(payment=payment, invoice=target, amount=share)
        target.amount_paid += share
        target.status = Invoice.Status.PAID if target.outstanding == ZERO else Invoice.Status.PARTIALLY_PAID
        if target.status == Invoice.Status.PARTIALLY_PAID and target.due_on < received_on:
            target.status = Invoice.Status.OVERDUE
        target.save(update_fields=["amount_paid", "status"])
        _charge_late_interest(allocation, target, received_on, good_payer)
        left -= share
    if left > ZERO:
        grant_credit(
            customer=customer,
            reason=Credit.Reason.OVERPAYMENT,
            description=_("Pagamento in eccesso del %(day)s") % {"day": formatting.day(received_on)},
            amount=left,
            created_on=received_on,
            source_key=f"overpayment:{payment.pk}",
        )
    from billing.dunning.notices import close_paid_notices  # dunning builds on this module

    close_paid_notices(customer=customer, on=received_on)  # "Paying an invoice closes its dunning"
    return payment


@transaction.atomic
def reverse_payment(*, payment: Payment, reversed_on: date, reason: str, by=None) -> Payment:
    """Undo a payment given back to the customer (a card refund): a negative payment mirrors its allocations,
    so the invoices it paid are owed again — and can be dunned again — and the late interest it caused, not
    yet billed, is dropped (the debt is still running). A negative Payment rather than a Credit: the money left
    us, it is not a deduction from the next bills."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.amount <= ZERO or Payment.objects.filter(reverses=payment).exists():
        raise ValidationError(_("Questo pagamento è già stato stornato."))
    overpayment = Credit.objects.select_for_update().filter(source_key=f"overpayment:{payment.pk}").first()
    if overpayment is not None:
        if overpayment.remaining < overpayment.amount:
            raise ValidationError(_("Il credito nato da questo pagamento è già stato usato in bolletta."))
        overpayment.remaining = ZERO
        overpayment.save(update_fields=["remaining"])
    reversal = Payment.objects.create(
        customer=payment.customer,
        invoice=payment.invoice,
        amount=-payment.amount,
        received_on=reversed_on,
        method=payment.method,
        note=reason[:200],
        registered_by=by,
        reverses=payment,
    )
    for allocation in payment.allocations.order_by("id"):
        invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
        if invoice.status == Invoice.Status.CANCELLED:
            raise ValidationError(
                _("La bolletta %(number)s è stata annullata: il pagamento è già diventato un credito.")
                % {"number": invoice.number}
            )
        PaymentAllocation.objects.create(payment=reversal, invoice=invoice, amount=-allocation.amount)
        invoice.amount_paid -= allocation.amount
        if invoice.due_on < reversed_on:
            invoice.status = Invoice.Status.OVERDUE
        elif invoice.amount_paid > ZERO:
            invoice.status = Invoice.Status.PARTIALLY_PAID
        else:
            invoice.status = Invoice.Status.ISSUED
        if invoice.dunning_due_on is None and not invoice.default_notices.filter(
            status__in=DefaultNotice.OPEN_STATUSES
        ):
            invoice.dunning_due_on = deadlines.dunning_due_date(invoice.due_on)
        invoice.save(update_fields=["amount_paid", "status", "dunning_due_on"])
        Charge.objects.filter(source_key=f"interest:{allocation.pk}", billed_on__isnull=True).delete()
    return reversal


def _allocation_order(customer: Customer, named: Invoice | None) -> list[Invoice]:
    open_invoices = (
        Invoice.objects.select_for_update()
        .filter(customer=customer, kind=Invoice.Kind.INVOICE, status__in=Invoice.OPEN_STATUSES)
        .order_by("due_on", "sequence")
    )
    ordered = list(open_invoices)
    if named is not None:
        ordered.sort(key=lambda inv: inv.pk != named.pk)  # the named invoice first, then oldest first
    return ordered


def _charge_late_interest(
    allocation: PaymentAllocation, invoice: Invoice, paid_on: date, good_payer: bool
) -> None:
    interest = deadlines.late_payment_interest(
        allocation.amount,
        invoice.due_on,
        paid_on,
        good_payer,
        ecb_rates=InterestRate.objects.filter(kind=InterestRate.Kind.ECB),
        legal_rates=InterestRate.objects.filter(kind=InterestRate.Kind.LEGAL),
    )
    if interest > ZERO:
        Charge.objects.create(
            contract=invoice.contract,
            kind=Charge.Kind.LATE_INTEREST,
            description=_("Interessi di mora sulla bolletta %(number)s pagata il %(day)s")
            % {"number": invoice.number, "day": formatting.day(paid_on)},
            amount=interest,
            created_on=paid_on,
            source_key=f"interest:{allocation.pk}",
        )


def is_good_payer(customer: Customer, *, on: date) -> bool:
    """On time in the last two years (CG 6.1): no earlier payment in that window settled a bill late.

    Called before the current payment is allocated, so the bill being paid late now does not count."""
    return not PaymentAllocation.objects.filter(
        invoice__customer=customer,
        payment__received_on__gte=add_months(on, -24),
        payment__received_on__lte=on,
        payment__received_on__gt=F("invoice__due_on"),
    ).exists()


def outstanding_balance(customer: Customer) -> Decimal:
    return sum(
        (
            invoice.outstanding
            for invoice in Invoice.objects.filter(customer=customer, status__in=Invoice.OPEN_STATUSES)
        ),
        ZERO,
    )
