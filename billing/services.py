"""Invoices, credit notes, payments, credits and charges: the billing rules that change state.

Every function is keyword-only and transactional. Amounts are Decimal euro, rounded once per line with
portal.lib.money.round_money; VAT is summarised per rate (billing/taxes.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
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
from portal.lib import dates, formatting
from portal.lib.dates import add_months
from portal.lib.money import CENT, round_money

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
    supply: str = ""  # the supply's identifier (POD, PDR, line, SIM) when the line bills one
    corrects_line_id: int | None = None  # on a credit note: the invoice line it takes back

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
    rebills: Invoice | None = None,
) -> Invoice:
    invoice = Invoice.objects.create(
        contract=contract,
        customer=contract.customer,
        period_start=period_start,
        period_end=period_end,
        is_closing=is_closing,
        rebills=rebills,
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
            supply_identifier=spec.supply,
            corrects_line_id=spec.corrects_line_id,
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
        invoice.status = Invoice.Status.CREDIT_NOTE_ISSUED
    invoice.sequence, invoice.number = _next_number(issued_on.year)
    invoice.year = issued_on.year
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        # Checked once the year's counter is locked, so no document of the series can slip in meanwhile.
        _check_series_date(invoice, issued_on)
    else:
        # Only what is to be paid gets a payment code: a credit note is paid by nobody.
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


# ---------------------------------------------------------------------------------------------------------
# Credit notes: the whole invoice, chosen lines, or an amount
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditNotePlan:
    """What a credit note takes back, before it is issued: the preview staff see is what is issued."""

    lines: list[LineSpec]
    totals: taxes.Totals
    cancels: bool  # nothing of the invoice is left to pay afterwards: it is cancelled

    @property
    def amount(self) -> Decimal:
        """What the customer gets back, VAT included (the note's total is its negative)."""
        return -self.totals.total


def creditable_amount(invoice: Invoice) -> Decimal:
    """What credit notes may still take back from the invoice, VAT included."""
    return invoice.total - invoice.amount_credited


def creditable_lines(invoice: Invoice) -> list[InvoiceLine]:
    """The lines a credit note may still take back: charged (not a deduction) and not taken back yet."""
    return list(invoice.lines.filter(amount__gt=ZERO, corrections__isnull=True).order_by("position", "id"))


def plan_credit_note(
    *,
    invoice: Invoice,
    reason: str,
    on: date,
    lines: list[InvoiceLine] | None = None,
    amount: Decimal | None = None,
) -> CreditNotePlan:
    """The credit note for the whole invoice (neither `lines` nor `amount`), for the chosen lines, or for an
    amount (VAT included) split over the invoice's VAT rates in proportion to what is left at each rate."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Indicare il motivo della rettifica.")})
    if not invoice.is_issued or invoice.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("Si può rettificare solo una bolletta emessa."))
    if invoice.status == Invoice.Status.CANCELLED:
        raise ValidationError(_("La bolletta %(number)s è già stata annullata.") % {"number": invoice.number})
    if lines is not None and amount is not None:
        raise ValidationError(_("Indicare le righe da stornare oppure un importo, non entrambi."))
    left = creditable_amount(invoice)
    whole = lines is None and amount is None
    if whole and invoice.amount_credited > ZERO:
        # Earlier notes took back part of it: what is left goes back as an amount, split by rate.
        amount, whole = left, False
    if whole:
        specs = [_taking_back(line, reason) for line in invoice.lines.filter(corrections__isnull=True)]
    elif lines is not None:
        specs = _line_credits(invoice, lines, reason)
    else:
        specs = _amount_credits(invoice, amount, reason, left)
    result = taxes.totals((taxes.VatLine(spec.vat_rate, spec.amount) for spec in specs), on=on)
    if not whole and -result.total > left:
        raise ValidationError(
            _("La nota di credito (%(amount)s) supera quanto resta da stornare della bolletta (%(left)s).")
            % {"amount": formatting.euro(-result.total), "left": formatting.euro(left)}
        )
    everything_taken_back = lines is not None and len(lines) == len(creditable_lines(invoice))
    # What is left afterwards at most the stamp duty, which goes with the invoice (as for a whole note).
    cancels = whole or everything_taken_back or left + result.total <= invoice.stamp_duty
    return CreditNotePlan(lines=specs, totals=result, cancels=cancels)


def _taking_back(line: InvoiceLine, reason: str) -> LineSpec:
    return LineSpec(
        kind=InvoiceLine.Kind.CORRECTION,
        description=f"{reason} — {line.description}"[:300],
        unit_price=-line.unit_price,
        quantity=line.quantity,
        unit=line.unit,
        vat_rate=line.vat_rate,
        supply=line.supply_identifier,
        corrects_line_id=line.pk,
    )


def _line_credits(invoice: Invoice, lines: list[InvoiceLine], reason: str) -> list[LineSpec]:
    if not lines:
        raise ValidationError({"lines": _("Scegliere almeno una riga da stornare.")})
    open_lines = {line.pk: line for line in creditable_lines(invoice)}
    refused = [line.description for line in lines if line.pk not in open_lines]
    if refused:
        raise ValidationError(
            {
                "lines": _("Righe non stornabili (già stornate o non di questa bolletta): %(lines)s")
                % {"lines": "; ".join(refused)}
            }
        )
    return [_taking_back(open_lines[line.pk], reason) for line in lines]


def _amount_credits(invoice: Invoice, amount: Decimal, reason: str, left: Decimal) -> list[LineSpec]:
    if amount is None or amount <= ZERO:
        raise ValidationError({"amount": _("L'importo deve essere maggiore di zero.")})
    # The stamp duty is not taken back by rate: what is left without it is the most an amount can be.
    limit = left - invoice.stamp_duty
    if amount > limit:
        raise ValidationError(
            {"amount": _("Resta da stornare al massimo %(left)s.") % {"left": formatting.euro(limit)}}
        )
    # Shares in proportion to what is left at each rate (each note rounded its own VAT, so these add up to
    # `limit` give or take a cent: the last rate takes the exact rest). Outside VAT last: it is exact.
    remaining = _remaining_by_rate(invoice)
    base = sum(remaining.values(), ZERO)
    rates = sorted(remaining, key=lambda rate: (rate is None, rate or ZERO))
    taxables, carried, given = {}, ZERO, ZERO
    for index, rate in enumerate(rates):
        # Each rate's share of the gross amount, the last one taking what rounding left.
        share = amount - given if index == len(rates) - 1 else round_money(amount * remaining[rate] / base)
        given += share
        taxables[rate] = _taxable_within(share + carried, rate)
        carried = share + carried - _gross(taxables[rate], rate)
    # With VAT rounded to the cent not every gross figure is reachable at one rate: the cent left over goes
    # to a rate where one more cent of taxable adds exactly that.
    for rate in rates:
        if carried > ZERO and _gross(taxables[rate] + CENT, rate) - _gross(taxables[rate], rate) == carried:
            taxables[rate] += CENT
            carried = ZERO
    label = _("rettifica della bolletta %(number)s") % {"number": invoice.number}
    return [
        LineSpec(
            kind=InvoiceLine.Kind.CORRECTION,
            description=f"{reason} — {label} ({rate_label(rate)})"[:300],
            unit_price=-taxable,
            vat_rate=rate,
        )
        for rate, taxable in taxables.items()
        if taxable > ZERO
    ]


def rate_label(rate: Decimal | None) -> str:
    if rate is None:
        return _("fuori campo IVA")
    return _("IVA %(rate)s%%") % {"rate": f"{rate.normalize():f}"}


def _remaining_by_rate(invoice: Invoice) -> dict[Decimal | None, Decimal]:
    """The gross amount still billed at each VAT rate (None: outside VAT), net of earlier credit notes."""
    taxable: dict[Decimal | None, Decimal] = {}
    issued_notes = Q(invoice__corrects=invoice, invoice__number__isnull=False)
    for line in InvoiceLine.objects.filter(Q(invoice=invoice) | issued_notes).only("vat_rate", "amount"):
        taxable[line.vat_rate] = taxable.get(line.vat_rate, ZERO) + line.amount
    gross = {rate: _gross(value, rate) for rate, value in taxable.items()}
    return {rate: value for rate, value in gross.items() if value > ZERO}


def _gross(taxable: Decimal, rate: Decimal | None) -> Decimal:
    return taxable if rate is None else taxable + round_money(taxable * rate / Decimal(100))


def _taxable_within(gross: Decimal, rate: Decimal | None) -> Decimal:
    """The largest taxable amount whose gross (VAT rounded as on the invoice) is at most `gross`: with VAT
    rounded to the cent not every gross figure is reachable, the cent left over goes to the next rate."""
    if rate is None or gross <= ZERO:
        return max(gross, ZERO)
    taxable = round_money(gross * 100 / (100 + rate)) + CENT
    while taxable > ZERO and _gross(taxable, rate) > gross:
        taxable -= CENT
    return taxable


def check_credit_note_date(*, invoice: Invoice, issued_on: date, today: date | None = None) -> None:
    """A credit note is dated on or after the invoice it corrects and never in the future (its number is
    taken in the year of its date, after every document of that series issued so far)."""
    today = today or dates.today()
    if issued_on < invoice.issued_on:
        raise ValidationError(
            {
                "issued_on": _("La nota di credito non può precedere la bolletta che rettifica (%(day)s).")
                % {"day": formatting.day(invoice.issued_on)}
            }
        )
    if issued_on > today:
        raise ValidationError({"issued_on": _("La data di emissione non può essere nel futuro.")})
    last = _last_date_in_series(issued_on.year)
    if last is not None and issued_on < last:
        raise ValidationError({"issued_on": _series_message(issued_on.year, last)})


def _last_date_in_series(year: int, *, excluding: int | None = None) -> date | None:
    documents = Invoice.objects.filter(year=year, number__isnull=False)
    if excluding is not None:
        documents = documents.exclude(pk=excluding)
    return documents.aggregate(last=Max("issued_on"))["last"]


def _series_message(year: int, last: date) -> str:
    return _(
        "Nella numerazione %(year)s è già stato emesso un documento il %(day)s: la nota di credito non può "
        "avere una data precedente (art. 21 DPR 633/72)."
    ) % {"year": year, "day": formatting.day(last)}


def _check_series_date(document: Invoice, issued_on: date) -> None:
    """The number is taken in the year of the date (so never in another year); within that series the
    date may not precede a document already numbered."""
    last = _last_date_in_series(issued_on.year, excluding=document.pk)
    if last is not None and issued_on < last:
        raise ValidationError({"issued_on": _series_message(issued_on.year, last)})


@transaction.atomic
def issue_credit_note(
    *,
    invoice: Invoice,
    issued_on: date,
    reason: str,
    lines: list[InvoiceLine] | None = None,
    amount: Decimal | None = None,
    by=None,
    today: date | None = None,
) -> Invoice:
    """Take back the whole invoice, the chosen lines or an amount with a credit note (the invoice itself
    never changes). What is taken back is no longer owed; what the customer paid beyond what is still owed
    becomes a credit for the next invoices. A note that leaves nothing owed cancels the invoice."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    plan = plan_credit_note(invoice=invoice, reason=reason, on=issued_on, lines=lines, amount=amount)
    check_credit_note_date(invoice=invoice, issued_on=issued_on, today=today)
    note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE,
        contract=invoice.contract,
        customer=invoice.customer,
        corrects=invoice,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        supplies=invoice.supplies,
        credit_reason=reason.strip(),
        issued_by=by,
    )
    _add_lines(note, plan.lines)
    note = issue_invoice(invoice=note, issued_on=issued_on)
    invoice.amount_credited += -note.total
    if plan.cancels:
        # What the customer already paid on the cancelled invoice becomes a credit for the next ones.
        if invoice.amount_paid > ZERO:
            grant_credit(
                customer=invoice.customer,
                contract=invoice.contract,
                reason=Credit.Reason.OVERPAYMENT,
                description=_("Importo pagato sulla bolletta %(number)s annullata")
                % {"number": invoice.number},
                amount=invoice.amount_paid,
                created_on=issued_on,
                source_key=f"cancelled:{invoice.pk}",
            )
        invoice.status = Invoice.Status.CANCELLED
    else:
        overpaid = invoice.amount_paid + invoice.amount_credited - invoice.total
        if overpaid > ZERO:
            grant_credit(
                customer=invoice.customer,
                contract=invoice.contract,
                reason=Credit.Reason.OVERPAYMENT,
                description=_("Rettifica della bolletta %(number)s già pagata (nota di credito %(note)s)")
                % {"number": invoice.number, "note": note.number},
                amount=min(overpaid, -note.total),
                created_on=issued_on,
                source_key=f"credit_note:{note.pk}",
            )
        if invoice.status in Invoice.OPEN_STATUSES and invoice.outstanding == ZERO:
            invoice.status = Invoice.Status.PAID
    invoice.save(update_fields=["status", "amount_credited"])
    from billing.dunning.notices import close_paid_notices  # dunning builds on this module

    close_paid_notices(customer=invoice.customer, on=issued_on)  # nothing left owed: its dunning ends
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


@transaction.atomic
def grant_manual_credit(
    *,
    customer: Customer,
    amount: Decimal,
    reason: str,
    granted_on: date,
    by,
    contract: Contract | None = None,
) -> Credit:
    """A credit an officer grants (a goodwill gesture, a rectification promised in a reply): deducted from
    the customer's next invoices like any other credit, its reason printed on the line that deducts it."""
    errors = {}
    if amount is None or amount <= ZERO:
        errors["amount"] = _("L'importo deve essere maggiore di zero.")
    if not (reason or "").strip():
        errors["reason"] = _("Indicare il motivo del credito.")
    if contract is not None and contract.customer_id != customer.pk:
        errors["contract"] = _("Il contratto non è di questo cliente.")
    if errors:
        raise ValidationError(errors)
    return Credit.objects.create(
        customer=customer,
        contract=contract,
        reason=Credit.Reason.MANUAL,
        description=reason.strip()[:300],
        amount=amount,
        remaining=amount,
        created_on=granted_on,
        source_key=f"manual:{uuid.uuid4().hex}",
        granted_by=by,
        granted_at=timezone.now(),
    )


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
            if credit.reason in (Credit.Reason.OVERPAYMENT, Credit.Reason.MANUAL)
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
        _allocate(payment, target, share, good_payer=good_payer)
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


def _allocate(payment: Payment, target: Invoice, share: Decimal, *, good_payer: bool) -> PaymentAllocation:
    """`share` of `payment` pays `target` (locked by the caller), with interest when paid after its due date."""
    allocation = PaymentAllocation.objects.create(payment=payment, invoice=target, amount=share)
    target.amount_paid += share
    target.status = Invoice.Status.PAID if target.outstanding == ZERO else Invoice.Status.PARTIALLY_PAID
    if target.status == Invoice.Status.PARTIALLY_PAID and target.due_on < payment.received_on:
        target.status = Invoice.Status.OVERDUE
    target.save(update_fields=["amount_paid", "status"])
    _charge_late_interest(allocation, target, payment.received_on, good_payer)
    return allocation


@transaction.atomic
def match_payment(*, payment: Payment, invoice: Invoice) -> PaymentAllocation:
    """Staff match to `invoice` the part of `payment` that paid no bill and became a credit (money received
    before its bill was issued, or when nothing was owed): it pays the bill as on the day it was received,
    and the credit is reduced by as much, so the next bill no longer deducts it."""
    credit = Credit.objects.select_for_update().filter(source_key=f"overpayment:{payment.pk}").first()
    if credit is None or credit.remaining <= ZERO:
        raise ValidationError(_("Questo pagamento è già tutto su bollette: non resta nulla da abbinare."))
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.customer_id != payment.customer_id:
        raise ValidationError({"invoice": _("La bolletta non è di questo cliente.")})
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status not in Invoice.OPEN_STATUSES:
        raise ValidationError(
            {"invoice": _("La bolletta %(number)s non ha nulla da pagare.") % {"number": invoice.number}}
        )
    share = min(credit.remaining, invoice.outstanding)
    good_payer = is_good_payer(payment.customer, on=payment.received_on)
    allocation = _allocate(payment, invoice, share, good_payer=good_payer)
    Credit.objects.filter(pk=credit.pk).update(remaining=F("remaining") - share)
    from billing.dunning.notices import close_paid_notices  # dunning builds on this module

    close_paid_notices(customer=payment.customer, on=payment.received_on)
    return allocation


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
