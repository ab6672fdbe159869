"""The invoice PDF: what the customer reads on it, and that an issued invoice is rendered once and stored."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from billing import services, tasks
from billing.generation import generate_invoices
from billing.models import Credit, Invoice, InvoiceLine, Tariff
from billing.pdf import invoice_context, render_invoice, store_invoice_pdf
from billing.services import INDEMNITY_WORDING
from contracts.models import MeterReading, Service
from tests.factories import active_contract
from tests.pdf_utils import pdf_conformance, pdf_language, pdf_pages, pdf_structure, pdf_text

pytestmark = pytest.mark.django_db

D = Decimal
OFFER = "Optima Super Casa Smart con Teleconsulto Medico"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def contract():
    Tariff.objects.create(
        offer_name=OFFER,
        energy_price_kwh=D("0.120000"),
        gas_price_smc=D("0.900000"),
        electricity_monthly_fee=D("8.00"),
    )
    contract = active_contract()
    service = contract.services.get(kind=Service.Kind.ELECTRICITY)
    for day, value in [(date(2026, 8, 31), 1000), (date(2026, 9, 30), 1400), (date(2026, 10, 31), 11400)]:
        MeterReading.objects.create(service=service, read_on=day, value=value, source="distributor")
    return contract


def invoice_for(contract, period="2026-10", issued_on=date(2026, 11, 2)):
    generate_invoices(period=period, issued_on=issued_on)
    return contract.invoices.get(period_start=date(int(period[:4]), int(period[5:]), 1))


def test_the_cover_shows_number_amount_and_due_date_in_italian_format(contract):
    invoice = invoice_for(contract)
    # 10,000 kWh × 0.12 = 1,200 € + 8 € fixed fee, 10% VAT: 1,328.80 €
    assert invoice.total == D("1328.80")
    pages = pdf_pages(render_invoice(invoice))
    assert len(pages) == 2
    cover = pages[0]
    assert "Bolletta n. 2026/000001" in cover
    assert "Importo da pagare 1.328,80 €" in cover and "Scadenza 17/11/2026" in cover
    assert contract.customer.code in cover and contract.number in cover and OFFER in cover
    assert "01/10/2026 – 31/10/2026" in cover
    assert invoice.payment_notice_code in cover
    assert "Addebito diretto SEPA" in cover
    assert "Dettaglio degli importi" not in cover


def test_the_breakdown_shows_the_supply_readings_lines_and_vat(contract):
    invoice = invoice_for(contract)
    text = pdf_pages(render_invoice(invoice))[1]
    pod = contract.services.get().pod
    assert f"POD {pod}" in text and "Via Roma 1, 80100 Napoli (NA)" in text and "3 kW" in text
    assert "1.400 (30/09/26) → 11.400 (31/10/26)" in text
    assert "10.000 kWh 0,12 € 10% 1.200,00 €" in text
    assert "Aliquota 10% 1.208,00 € 120,80 €" in text
    assert "Totale 1.328,80 €" in text


def test_the_complaint_channels_are_on_every_page(contract):
    for page in pdf_pages(render_invoice(invoice_for(contract))):
        assert "Reclami scritti" in page and "Area Clienti" in page


def test_an_indemnity_is_printed_with_the_regulations_wording(contract):
    services.grant_indemnity(
        customer=contract.customer,
        contract=contract,
        reason=Credit.Reason.COMPLAINT_INDEMNITY,
        amount=D("30.00"),
        created_on=date(2026, 10, 20),
        source_key="complaint:1",
    )
    text = pdf_text(render_invoice(invoice_for(contract)))
    assert f"{INDEMNITY_WORDING}: -30,00 €" in text
    assert "Importo da pagare 1.298,80 €" in text


def test_a_postal_slip_customer_is_told_to_pay_with_the_payment_notice_code(contract):
    contract.payment_method = "postal_slip"
    contract.save()
    invoice = invoice_for(contract)
    assert f"con il codice avviso di pagamento {invoice.payment_notice_code}" in pdf_text(
        render_invoice(invoice)
    )


def test_an_estimate_is_said_to_be_one(contract):
    invoice = invoice_for(contract, period="2026-11", issued_on=date(2026, 12, 2))  # no reading in November
    text = pdf_text(render_invoice(invoice))
    assert "stimato" in text and "Ultima lettura 11.400 (31/10/2026)" in text


def test_the_consumption_chart_has_a_bar_per_billed_period(contract):
    invoice_for(contract, period="2026-09", issued_on=date(2026, 10, 2))
    invoice = invoice_for(contract)
    [supply] = invoice_context(invoice)["metered_supplies"]
    assert supply["chart"].labels == "09/26 10/26"
    assert supply["chart"].svg.count("<rect") == 2


def test_a_credit_note_names_the_invoice_it_corrects(contract):
    invoice = invoice_for(contract)
    note = services.issue_credit_note(invoice=invoice, issued_on=date(2026, 11, 10), reason="Lettura errata")
    text = pdf_text(render_invoice(note))
    assert "Nota di credito n. 2026/000002" in text
    assert "Rettifica la bolletta 2026/000001" in text and "Importo a Suo credito 1.328,80 €" in text


class TestStorage:
    def test_it_is_rendered_once_and_stored(self, contract, django_capture_on_commit_callbacks):
        invoice = invoice_for(contract)
        stored = store_invoice_pdf(invoice)
        assert stored.pdf.name.endswith("bolletta-2026-000001.pdf") and stored.pdf_rendered_at is not None
        assert "Bolletta n. 2026/000001" in pdf_text(stored.pdf.read())

        again = store_invoice_pdf(invoice)
        invoice.refresh_from_db()
        assert (again.pdf.name, invoice.pdf_rendered_at) == (stored.pdf.name, stored.pdf_rendered_at)

    def test_staff_can_force_a_new_copy_which_replaces_the_old_file(
        self, contract, django_capture_on_commit_callbacks
    ):
        first = store_invoice_pdf(invoice_for(contract))
        old_path = first.pdf.path
        with django_capture_on_commit_callbacks(execute=True):
            second = store_invoice_pdf(first, force=True)
        assert second.pdf_rendered_at > first.pdf_rendered_at
        assert second.pdf.storage.exists(second.pdf.name) and second.pdf.name != first.pdf.name
        assert not second.pdf.storage.exists(old_path)

    def test_a_file_left_by_a_render_killed_before_its_commit_is_replaced_not_kept_beside(self, contract):
        invoice = invoice_for(contract)
        field = invoice.pdf.field
        target = field.generate_filename(invoice, "bolletta-2026-000001.pdf")
        field.storage.save(target, ContentFile(b"%PDF- half-written by a killed worker"))

        stored = store_invoice_pdf(invoice)
        assert stored.pdf.name == target
        assert "Bolletta n. 2026/000001" in pdf_text(stored.pdf.read())
        assert sorted(p.name for p in (Path(field.storage.location) / "invoices").rglob("*.pdf")) == [
            "bolletta-2026-000001.pdf"
        ]

    def test_a_draft_is_never_rendered(self, contract):
        draft = services.create_draft(
            contract=contract, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), lines=[]
        )
        with pytest.raises(ValidationError):
            store_invoice_pdf(draft)

    def test_the_render_task_stores_the_file(self, contract):
        invoice = invoice_for(contract)
        tasks.render_invoice_pdf.delay(invoice.pk)
        invoice.refresh_from_db()
        assert invoice.pdf and invoice.pdf_rendered_at is not None

    def test_the_task_is_on_the_pdf_queue(self):
        assert tasks.render_invoice_pdf.queue == "pdf"

    def test_the_invoice_run_queues_the_render_after_commit(
        self, contract, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
        invoice = Invoice.objects.get()
        assert invoice.pdf.name and invoice.lines.filter(kind=InvoiceLine.Kind.ENERGY).exists()


def test_the_invoice_is_an_archival_pdf_a_screen_reader_reads_as_headings_and_tables(contract):
    invoice = invoice_for(contract)
    document = render_invoice(invoice)
    assert pdf_conformance(document) == ("3", "A")  # PDF/A-3, level A: archival and tagged
    assert pdf_language(document) == "it"
    tags = pdf_structure(document)
    assert {"H1", "H2", "Table", "TR", "TH", "TD", "P"} <= set(tags)
    assert tags.count("TH") >= 5  # the lines table's column headers are header cells, not bold text
