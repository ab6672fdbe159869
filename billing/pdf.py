"""The invoice document: its context, its rendering and its one stored copy (DESIGN.md §4, STYLE 9).

`invoice_context(invoice)` turns an issued invoice (its frozen copies, lines and supplies as billed) into
what templates/pdf/invoice.html prints; `render_invoice(invoice)` renders it (the bytes) in the customer's
language; `store_invoice_pdf(invoice)` renders it once and keeps the file — an issued invoice never
changes, so it is never rendered again unless staff ask for it (`force=True`) — and, for a contract with
paper bills, puts a copy in the letters to post. Rendering runs in Celery (billing.tasks.render_invoice_pdf,
queue "pdf"), never inside a web request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import selectors, services
from billing.models import Invoice, InvoiceLine
from contracts import mandates
from contracts.models import Contract, MeterReading, Service
from portal.lib.emails import absolute_url
from portal.lib.pdf import ARCHIVAL, render_pdf
from portal.notifications.models import Delivery
from portal.notifications.services import notify

TEMPLATE = "pdf/invoice.html"
CHART_PERIODS = 12

_POSTCODE_SPLIT = re.compile(r"^(?P<street>.*?),\s*(?P<town>\d{5}\s.*)$")


# ---------------------------------------------------------------------------------------------------------
# Rendering and storage
# ---------------------------------------------------------------------------------------------------------


def render_invoice(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes, in the customer's language."""
    language = invoice.customer.language
    with override(language):  # numbers and labels computed in the context follow the language too
        context = invoice_context(invoice)
    # PDF/A-3a: an invoice is kept for ten years and must stay readable as it was issued, by everyone.
    return render_pdf(TEMPLATE, context, language=language, pdf_variant=ARCHIVAL)


def invoice_file_name(invoice: Invoice) -> str:
    kind = "nota-di-credito" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "bolletta"
    return f"{kind}-{invoice.number.replace('/', '-')}.pdf"


def store_invoice_pdf(invoice: Invoice, *, force: bool = False) -> Invoice:
    """Render the issued invoice once and save it to `invoice.pdf` (Django storage), with the time.

    An invoice already stored is returned as it is — a second task delivery, a second click — unless
    `force` (staff's explicit request), which stores a fresh copy and removes the old file afterwards.
    The row stays locked while rendering, so two workers never render the same invoice at once.
    """
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("customer", "contract")
            .get(pk=invoice.pk)
        )
        if not invoice.is_issued:
            raise ValidationError(_("Una bozza non si stampa: prima si emette la bolletta."))
        if invoice.pdf and not force:
            return invoice
        data = render_invoice(invoice)
        old_name = invoice.pdf.name if invoice.pdf else None
        field = invoice.pdf.field
        target = field.generate_filename(invoice, invoice_file_name(invoice))
        if old_name is None and field.storage.exists(target):
            # Left by a render whose worker was killed before it committed (the row was not updated): under
            # the row lock nobody else writes this invoice's file, so the orphan is replaced, not kept beside.
            field.storage.delete(target)
        name = field.storage.save(target, ContentFile(data))
        rendered_at = timezone.now()
        # A queryset update: an issued invoice is never saved whole again.
        Invoice.objects.filter(pk=invoice.pk).update(pdf=name, pdf_rendered_at=rendered_at)
        if old_name and old_name != name:
            transaction.on_commit(lambda: field.storage.delete(old_name))
        if invoice.contract.paper_bills:
            _post_paper_copy(invoice, data)
    invoice.pdf.name, invoice.pdf_rendered_at = name, rendered_at
    return invoice


def _post_paper_copy(invoice: Invoice, data: bytes) -> None:
    """The paper bill: the PDF as rendered at issue, in the letters to post (admin "Lettere da spedire"), by
    ordinary post: no legal term counts from its posting, so it needs no raccomandata. Once per invoice,
    however often the PDF is stored: the dedupe key names the invoice."""
    notify(
        customer=invoice.customer,
        template_key="paper_bill",
        context={"invoice": invoice},
        channels=[Delivery.Channel.POST],
        dedupe_key=f"billing.paper_bill:{invoice.pk}",
        document=data,
        document_name=invoice_file_name(invoice),
        about=invoice,
        link=absolute_url("billing:invoice", invoice.pk),
    )


# ---------------------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------------------


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """What pdf/invoice.html prints, from the invoice's frozen copies. Numbers are formatted in the
    active language (render_invoice activates the customer's)."""
    lines = list(invoice.lines.all())
    is_credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
    kind_label = _("Nota di credito") if is_credit_note else _("Bolletta")
    # The payment method frozen at issue: a mandate signed later applies from the next invoice.
    paid_by_direct_debit = invoice.payment_method_code == Contract.PaymentMethod.SDD
    mandate = (
        mandates.mandate_at_issue(contract_id=invoice.contract_id, issued_on=invoice.issued_on)
        if paid_by_direct_debit
        else None
    )
    street, town = _address_lines(invoice.billing_address)
    supplies = [_supply(invoice, supply) for supply in invoice.supplies]
    indemnities = [line for line in lines if line.kind == InvoiceLine.Kind.INDEMNITY]
    credits = sum((line.amount for line in lines if line.kind in CREDIT_KINDS), Decimal("0.00"))
    return {
        "invoice": invoice,
        "is_credit_note": is_credit_note,
        "title": f"{kind_label} n. {invoice.number}",
        "recipient_name": invoice.customer_name,
        "recipient_address": [street, town] if town else [street],
        "document_date": invoice.issued_on,
        "corrected": invoice.corrects,
        # A note that cancels its invoice says so; a partial one says by how much it reduces it.
        "cancels_corrected": is_credit_note and invoice.corrects.status == Invoice.Status.CANCELLED,
        # A credit note shows what it credits; an invoice covered by credits shows 0.
        "amount_due": abs(invoice.total) if is_credit_note else max(invoice.total, Decimal("0.00")),
        "paid_by_direct_debit": paid_by_direct_debit,
        "mandate": mandate,
        "mandate_iban": mandates.masked_iban(mandate.iban) if mandate else "",
        # The choice in force when the invoice is issued (the PDF is rendered then, once).
        "paper_bill": invoice.contract.paper_bills,
        "bill_delivery_chosen_at": invoice.contract.bill_delivery_chosen_at,
        "supplies": supplies,
        "metered_supplies": [supply for supply in supplies if supply["metered"]],
        "lines": [_line(line) for line in lines],
        "vat_summary": services.vat_summary(invoice),
        "charged_outside_vat": invoice.total_outside_vat - credits,
        "credits": credits,
        "indemnities": indemnities,
        "has_deposit": any(line.kind == InvoiceLine.Kind.DEPOSIT for line in lines),
        # The PDF is the courtesy copy of the electronic invoice: where the original goes.
        "einvoice_recipient": selectors.einvoice_recipient(invoice),
    }


CREDIT_KINDS = (InvoiceLine.Kind.INDEMNITY, InvoiceLine.Kind.CREDIT)

IDENTIFIER_LABELS = {
    Service.Kind.ELECTRICITY: "POD",
    Service.Kind.GAS: "PDR",
    Service.Kind.FIBRE: "Linea",
    Service.Kind.MOBILE: "SIM",
}


def _address_lines(address: str) -> tuple[str, str]:
    """ "Via Roma 1, 80100 Napoli (NA)" → ("Via Roma 1", "80100 Napoli (NA)"), for the envelope window."""
    match = _POSTCODE_SPLIT.match(address or "")
    return (match["street"], match["town"]) if match else (address, "")


def _decimal(value) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _reading(data: dict | None) -> dict | None:
    if not data:
        return None
    return {
        "date": date.fromisoformat(data["date"]),
        "value": data["value"],
        "source": MeterReading.Source(data["source"]).label if data.get("source") else "",
        "source_key": data.get("source", ""),
    }


def _supply(invoice: Invoice, supply: dict) -> dict[str, Any]:
    kind = supply.get("kind", "")
    metered = kind in Service.METERED_KINDS and "consumption" in supply
    result = {
        "kind": kind,
        "label": Service.Kind(kind).label if kind in Service.Kind.values else supply.get("label", ""),
        "identifier_label": IDENTIFIER_LABELS.get(kind, ""),
        "identifier": supply.get("identifier", ""),
        "address": supply.get("address", ""),
        "power_kw": _decimal(supply.get("power_kw")),
        "meter_class": supply.get("meter_class", ""),
        "domestic_resident": supply.get("domestic_resident"),
        "metered": metered,
    }
    if metered:
        result.update(
            unit=supply.get("unit", ""),
            estimated=supply.get("estimated", False),
            consumption=_decimal(supply.get("consumption")),
            estimates_deducted=_decimal(supply.get("estimates_deducted")) or Decimal("0"),
            daily_average=_decimal(supply.get("daily_average")),
            reading_start=_reading(supply.get("reading_start")),
            reading_end=_reading(supply.get("reading_end")),
        )
        bars = consumption_history(invoice, supply["identifier"])
        # One bar compares nothing: the chart starts with the second billed period.
        result["chart"] = consumption_chart(bars, unit=result["unit"]) if len(bars) >= 2 else None
    return result


def _line(line: InvoiceLine) -> dict[str, Any]:
    return {
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        # Prices per kWh/Smc keep up to 6 decimals; amounts in euro always 2 (floatformat "4g": 0,1284).
        "price_format": f"{max(2, min(6, -line.unit_price.normalize().as_tuple().exponent))}g",
        "vat_rate": line.vat_rate,
        "amount": line.amount,
    }


# ---------------------------------------------------------------------------------------------------------
# Consumption chart: the last 12 billed periods of a supply, as inline SVG bars
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str  # "10/26", or "09-10/26" for a bimonthly period
    amount: Decimal
    estimated: bool
    current: bool


def consumption_history(invoice: Invoice, identifier: str) -> list[Bar]:
    """The consumption billed for a supply over this and the previous invoices of the contract (up to 12
    periods, oldest first), from the supplies frozen on each invoice; consumption between readings when
    the invoices say nothing (invoices not made by the run)."""
    invoices = (
        Invoice.objects.filter(
            contract_id=invoice.contract_id,
            kind=Invoice.Kind.INVOICE,
            number__isnull=False,
            period_start__lte=invoice.period_start,
        )
        .exclude(status=Invoice.Status.CANCELLED)
        .exclude(pk=invoice.pk)
        .order_by("-period_start")
        .only("period_start", "period_end", "supplies")[: CHART_PERIODS - 1]
    )
    own = invoice.corrects if invoice.kind == Invoice.Kind.CREDIT_NOTE and invoice.corrects else invoice
    bars = []
    for source in [own, *invoices]:
        for supply in source.supplies:
            if supply.get("identifier") == identifier and "consumption" in supply:
                bars.append(
                    Bar(
                        label=_period_label(source.period_start, source.period_end),
                        # What was billed for the period: bars add up to what the customer paid for.
                        amount=Decimal(supply["consumption"]),
                        estimated=bool(supply.get("estimated")),
                        current=source.pk == own.pk,
                    )
                )
    if len(bars) >= 2:
        return bars[::-1]
    return _history_from_readings(invoice, identifier)


def _history_from_readings(invoice: Invoice, identifier: str) -> list[Bar]:
    readings = list(
        MeterReading.objects.filter(
            Q(service__pod=identifier) | Q(service__pdr=identifier),
            service__contract_id=invoice.contract_id,
            source__in=[MeterReading.Source.CUSTOMER, MeterReading.Source.DISTRIBUTOR],
            read_on__lte=invoice.period_end,
        ).order_by("-read_on", "-id")[: CHART_PERIODS + 1]
    )[::-1]
    bars = []
    for previous, current in zip(readings, readings[1:], strict=False):
        if current.read_on > previous.read_on:
            bars.append(
                Bar(
                    label=current.read_on.strftime("%m/%y"),
                    amount=Decimal(max(current.value - previous.value, 0)),
                    estimated=False,
                    current=current.read_on >= invoice.period_start,
                )
            )
    return bars


def _period_label(start: date, end: date) -> str:
    """The month the period ends in, "10/26": every label the same width, also for bimonthly periods."""
    return end.strftime("%m/%y")


# Geometry in user units; the SVG is drawn 88 × 26 mm on the page (1 unit = 0.22 mm). The period labels
# are one line of text under it, spaced by the template's CSS to sit under the bars (`.chart-labels`).
_W, _H = 400, 118
_LEFT, _RIGHT, _TOP, _BOTTOM = 4, 4, 16, 2
_CURRENT, _MEASURED, _ESTIMATED, _GREY, _INK = "#0b4f8a", "#6f9ccc", "#c9dbee", "#4a4a48", "#1d1d1b"


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    labels: str  # "11/25 12/25 … 10/26", one per bar, under the bars


def consumption_chart(bars: list[Bar], *, unit: str) -> Chart:
    """Bars of the billed consumption: the current period dark with its amount above it, earlier periods
    lighter, estimated ones pale.

    Each SVG <text> costs WeasyPrint a Pango layout (~0.7 ms; 26 of them made a quarter of the render),
    so the only text inside the SVG is the current amount and the period labels are a single line of
    text below (tabular figures: every label has the same width, see `.chart-labels`)."""
    bars = bars[-CHART_PERIODS:]
    top = max((bar.amount for bar in bars), default=Decimal("0")) or Decimal("1")
    plot_h = _H - _TOP - _BOTTOM
    band = (_W - _LEFT - _RIGHT) / CHART_PERIODS
    width = band * 0.62
    baseline = _TOP + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="88mm" height="26mm" '
        f'viewBox="0 0 {_W} {_H}">',
        f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{baseline}" y2="{baseline}" stroke="{_GREY}" stroke-width="1"/>',
    ]
    for index, bar in enumerate(bars):
        height = max(float(max(bar.amount, Decimal("0")) / top) * plot_h, 0.5)
        x = _LEFT + band * index + (band - width) / 2
        fill = _ESTIMATED if bar.estimated else (_CURRENT if bar.current else _MEASURED)
        outline = f' stroke="{_CURRENT}" stroke-width="2"' if bar.current and bar.estimated else ""
        parts.append(
            f'<rect x="{x:.1f}" y="{baseline - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{fill}"{outline}/>'
        )
        if bar.current:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{baseline - height - 4:.1f}" text-anchor="middle" '
                f'font-family="Source Sans 3" font-size="13" font-weight="bold" fill="{_INK}">'
                f"{_number(bar.amount)}</text>"
            )
    parts.append("</svg>")
    # Only coordinates and a number formatted here are interpolated.
    return Chart(svg=mark_safe("".join(parts)), labels=" ".join(bar.label for bar in bars))  # noqa: S308


def _number(value: Decimal) -> str:
    return number_format(value.quantize(Decimal("1")), force_grouping=True)
