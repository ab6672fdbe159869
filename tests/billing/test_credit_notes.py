"""Credit notes for the whole invoice, chosen lines or an amount; manual credits; re-billing a period after a
credit note — through the services, the FatturaPA and the PDF the customer reads."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from lxml import etree

from billing import services
from billing.einvoice import fattura_xml
from billing.generation import generate_invoices, rebill_period
from billing.models import Credit, Invoice, InvoiceLine, Tariff
from billing.pdf import render_invoice
from contracts.models import MeterReading, Service
from portal import roles
from portal.lib import dates
from tests.billing.test_einvoice import assert_cross_checks
from tests.billing.test_services import energy_lines, issued
from tests.factories import UserFactory, active_contract
from tests.pdf_utils import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = date(2026, 12, 7)
NS = {"p": "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def contract():
    return active_contract()


@pytest.fixture
def officer():
    return UserFactory(email="bollette@optima.example", is_staff=True)


def credit(invoice, on=date(2026, 11, 20), reason="Lettura errata", **kwargs):
    return services.issue_credit_note(invoice=invoice, issued_on=on, reason=reason, today=TODAY, **kwargs)


def mixed_rates_invoice(contract):
    """Energy and fixed fee at 10% (39.36 + 3.94), Teleconsulto at 22% (4.90 + 1.08): 49.28 €."""
    return issued(contract)


class TestAnAmount:
    def test_the_rectification_a_reply_promises_is_split_over_the_vat_rates_and_adds_up_exactly(
        self, contract, officer
    ):
        invoice = mixed_rates_invoice(contract)
        note = credit(invoice, amount=D("48.20"), reason="Rettifica promessa nel reclamo", by=officer)

        assert note.total == D("-48.20")
        # 43.30 € billed at 10%, 5.98 € at 22%: the note takes back from each in proportion.
        assert [(line.vat_rate, line.amount) for line in note.lines.all()] == [
            (D("10.00"), D("-38.51")),
            (D("22.00"), D("-4.79")),
        ]
        assert services.vat_summary(note) == [
            (D("10.00"), D("-38.51"), D("-3.85")),
            (D("22.00"), D("-4.79"), D("-1.05")),
        ]
        assert (note.credit_reason, note.issued_by) == ("Rettifica promessa nel reclamo", officer)
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.ISSUED and invoice.outstanding == D("1.08")
        assert invoice.amount_credited == D("48.20")

    def test_no_more_than_what_is_left_and_never_nothing(self, contract):
        invoice = mixed_rates_invoice(contract)
        credit(invoice, amount=D("40.00"))
        with pytest.raises(ValidationError) as error:
            credit(invoice, amount=D("9.29"))
        assert error.value.message_dict["amount"] == ["Resta da stornare al massimo 9,28\xa0€."]
        with pytest.raises(ValidationError):
            credit(invoice, amount=D("0"))
        # The rest taken back: the invoice is cancelled, nothing owed.
        credit(invoice, amount=D("9.28"))
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.CANCELLED and invoice.outstanding == D("0.00")

    def test_a_paid_invoice_gives_the_amount_back_as_a_credit_on_the_next_bills(self, contract):
        invoice = mixed_rates_invoice(contract)
        services.record_payment(
            customer=contract.customer,
            amount=invoice.total,
            received_on=date(2026, 11, 10),
            method="bank_transfer",
        )
        note = credit(invoice, amount=D("48.20"))

        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
        [given_back] = Credit.objects.filter(customer=contract.customer)
        assert (given_back.amount, given_back.remaining) == (D("48.20"), D("48.20"))
        assert note.number in given_back.description

    def test_the_reason_is_required(self, contract):
        with pytest.raises(ValidationError) as error:
            credit(mixed_rates_invoice(contract), amount=D("10"), reason="  ")
        assert error.value.message_dict["reason"] == ["Indicare il motivo della rettifica."]


class TestChosenLines:
    def test_the_chosen_lines_are_taken_back_each_at_its_own_rate(self, contract):
        invoice = mixed_rates_invoice(contract)
        energy, _fee, addon = invoice.lines.all()
        note = credit(invoice, lines=[energy, addon], reason="Consumo fatturato due volte")

        assert [
            (line.description, line.amount, line.vat_rate, line.corrects_line) for line in note.lines.all()
        ] == [
            ("Consumo fatturato due volte — Energia", D("-30.86"), D("10.00"), energy),
            ("Consumo fatturato due volte — Teleconsulto Medico", D("-4.90"), D("22.00"), addon),
        ]
        assert note.total == -(D("30.86") + D("3.09") + D("4.90") + D("1.08"))
        invoice.refresh_from_db()
        assert invoice.outstanding == invoice.total + note.total == D("9.35")
        # A line goes back once.
        with pytest.raises(ValidationError) as error:
            credit(invoice, lines=[energy])
        assert "già stornate" in str(error.value)

    def test_taking_back_every_line_cancels_the_invoice(self, contract):
        invoice = mixed_rates_invoice(contract)
        credit(invoice, lines=list(invoice.lines.all()[:1]))
        credit(invoice, lines=list(invoice.lines.all()[1:]))
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.CANCELLED


class TestTheDocument:
    def test_a_credit_note_is_never_to_pay_and_has_no_payment_code(self, contract):
        invoice = mixed_rates_invoice(contract)
        note = credit(invoice, amount=D("48.20"))
        assert note.status == Invoice.Status.CREDIT_NOTE_ISSUED and note.get_status_display() != "Da pagare"
        assert note.payment_notice_code == "" and note.due_on is None
        assert invoice.payment_notice_code  # the invoice has its own

    def test_its_date_cannot_precede_the_last_number_of_its_series(self, contract):
        invoice = mixed_rates_invoice(contract)  # 02/11/2026
        issued(contract, issued_on=date(2026, 12, 2), period=(date(2026, 11, 1), date(2026, 11, 30)))
        with pytest.raises(ValidationError) as error:
            credit(invoice, on=date(2026, 11, 20), amount=D("10"))
        assert "già stato emesso un documento il 02/12/2026" in str(error.value)
        with pytest.raises(ValidationError, match="non può precedere la bolletta"):
            credit(invoice, on=date(2026, 11, 1), amount=D("10"))
        with pytest.raises(ValidationError, match="futuro"):
            credit(invoice, on=date(2026, 12, 8), amount=D("10"))
        note = credit(invoice, on=date(2026, 12, 2), amount=D("10"))
        assert (note.number, note.year, note.issued_on) == ("2026/000003", 2026, date(2026, 12, 2))
        assert Invoice.objects.get(pk=invoice.pk).amount_credited == D(
            "10.00"
        )  # the refused ones left nothing

    def test_a_partial_credit_note_is_a_valid_td04_naming_the_invoice_and_its_reason(self, contract):
        invoice = issued(
            contract,
            lines=[
                *energy_lines(),
                services.LineSpec(
                    kind=InvoiceLine.Kind.DEPOSIT, description="Deposito cauzionale", unit_price=D("80.00")
                ),
            ],
        )
        note = credit(invoice, amount=D("48.20"), reason="Rettifica lettura")
        xml = fattura_xml(note)
        assert_cross_checks(note, xml)  # the official XSD, sums per rate, TD04 and DatiFattureCollegate
        root = etree.fromstring(xml)
        general = "FatturaElettronicaBody/DatiGenerali/DatiGeneraliDocumento"
        assert root.findtext(f"{general}/ImportoTotaleDocumento") == "48.20"
        assert "Motivo: Rettifica lettura" in [c.text for c in root.iterfind(f"{general}/Causale")]
        assert root.find("FatturaElettronicaBody/DatiPagamento") is None
        # The part taken back outside VAT (the deposit) is N1, as the deposit is.
        natures = {
            line.findtext("Natura")
            for line in root.iterfind("FatturaElettronicaBody/DatiBeniServizi/DettaglioLinee")
        }
        assert natures == {None, "N1"}

    def test_the_pdf_says_by_how_much_it_reduces_the_invoice_and_why(self, contract):
        invoice = mixed_rates_invoice(contract)
        note = credit(invoice, amount=D("48.20"), reason="Rettifica promessa nel reclamo R-2026-000002")
        text = pdf_text(render_invoice(note))
        assert "Nota di credito n. 2026/000002" in text and "Importo a Suo credito 48,20 €" in text
        assert f"riduce di 48,20 € la bolletta n. {invoice.number} del 02/11/2026" in text
        assert "Motivo della rettifica: Rettifica promessa nel reclamo R-2026-000002" in text
        assert "codice avviso" not in text and "Paghi entro" not in text


class TestManualCredit:
    def test_an_officer_grants_a_credit_deducted_from_the_next_bill_with_its_reason(self, contract, officer):
        granted = services.grant_manual_credit(
            customer=contract.customer,
            contract=contract,
            amount=D("15.00"),
            reason="Rimborso spese di spedizione del modem",
            granted_on=date(2026, 11, 5),
            by=officer,
        )
        assert (granted.reason, granted.granted_by) == (Credit.Reason.MANUAL, officer)
        assert granted.granted_at is not None
        lines, uses = services.credit_lines_for(D("49.28"), customer=contract.customer)
        assert [(line.kind, line.description, line.amount) for line in lines] == [
            (InvoiceLine.Kind.CREDIT, "Rimborso spese di spedizione del modem", D("-15.00"))
        ]

    def test_it_needs_an_amount_a_reason_and_the_customers_own_contract(self, contract, officer):
        with pytest.raises(ValidationError) as error:
            services.grant_manual_credit(
                customer=contract.customer,
                contract=active_contract(),
                amount=D("0"),
                reason="",
                granted_on=date(2026, 11, 5),
                by=officer,
            )
        assert set(error.value.message_dict) == {"amount", "reason", "contract"}


OFFER = "Optima Super Casa Smart con Teleconsulto Medico"


class TestRebilling:
    @pytest.fixture
    def metered(self):
        Tariff.objects.create(
            offer_name=OFFER,
            energy_price_kwh=D("0.120000"),
            gas_price_smc=D("0.900000"),
            electricity_monthly_fee=D("8.00"),
        )
        contract = active_contract()
        self.service = contract.services.get(kind=Service.Kind.ELECTRICITY)
        for day, value in [(date(2026, 9, 30), 1400), (date(2026, 10, 31), 11400)]:
            MeterReading.objects.create(service=self.service, read_on=day, value=value, source="distributor")
        generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
        return contract

    def test_after_taking_back_the_energy_the_period_is_billed_again_from_the_corrected_reading(
        self, metered
    ):
        invoice = metered.invoices.get()
        energy = invoice.lines.get(kind=InvoiceLine.Kind.ENERGY)
        assert energy.quantity == D("10000") and energy.supply_identifier == self.service.pod
        note = credit(invoice, lines=[energy], reason="Lettura del 31/10 errata")
        # The distributor corrects the reading: 1,400 kWh, not 10,000.
        MeterReading.objects.filter(service=self.service, read_on=date(2026, 10, 31)).update(value=2800)

        rebill = rebill_period(credit_note=note, issued_on=date(2026, 11, 21))

        assert (rebill.kind, rebill.rebills, rebill.period_start) == (
            Invoice.Kind.INVOICE,
            note,
            invoice.period_start,
        )
        [line] = rebill.lines.all()  # the fixed fee stays billed on the original invoice
        assert (line.kind, line.quantity, line.amount) == (InvoiceLine.Kind.ENERGY, D("1400"), D("168.00"))
        assert rebill.total == D("184.80") and rebill.payment_notice_code
        # Nothing twice: the same note again, and the periodic run for the month.
        with pytest.raises(ValidationError, match="già stato rifatturato"):
            rebill_period(credit_note=note, issued_on=date(2026, 11, 21))
        report = generate_invoices(period="2026-10", issued_on=date(2026, 11, 21))
        assert report.created == [] and report.already_billed == [metered.number]
        assert metered.invoices.filter(kind=Invoice.Kind.INVOICE).count() == 2

    def test_a_cancelled_invoice_is_billed_again_whole(self, metered):
        invoice = metered.invoices.get()
        note = credit(invoice, reason="Bolletta da rifare")
        rebill = rebill_period(credit_note=note, issued_on=date(2026, 11, 21))
        assert [line.kind for line in rebill.lines.all()] == [
            InvoiceLine.Kind.ENERGY,
            InvoiceLine.Kind.FIXED_FEE,
        ]
        assert rebill.total == invoice.total

    def test_an_amount_credit_has_nothing_to_rebill(self, metered):
        note = credit(metered.invoices.get(), amount=D("48.20"))
        with pytest.raises(ValidationError, match="non righe"):
            rebill_period(credit_note=note, issued_on=date(2026, 11, 21))


# ---------------------------------------------------------------------------------------------------------
# Back office
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def billing_officer(client):
    user = UserFactory(email="bollette@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[roles.BILLING_OFFICER])
    client.force_login(user)
    return client, user


class TestAdmin:
    def test_the_officer_previews_then_issues_the_48_20_rectification(
        self, billing_officer, contract, monkeypatch
    ):
        monkeypatch.setattr(dates, "today", lambda: TODAY)
        client, user = billing_officer
        invoice = mixed_rates_invoice(contract)
        change_page = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
        url = reverse("admin:billing_invoice_credit_note", args=[invoice.pk])
        assert url in change_page

        form = {
            "what": "amount",
            "amount": "48,20",
            "reason": "Rettifica promessa",
            "issued_on": "2026-11-20",
        }
        preview = client.post(url, {**form, "preview": "1"})
        page = preview.content.decode()
        assert preview.status_code == 200 and "Anteprima della nota di credito" in page
        assert "-48,20 €" in page and "La bolletta sarà ridotta di 48,20 €" in page
        assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()  # a preview issues nothing

        issued_response = client.post(url, {**form, "issue": "1"})
        note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
        assert issued_response.status_code == 302
        assert (note.total, note.issued_by, note.credit_reason) == (D("-48.20"), user, "Rettifica promessa")
        note_page = client.get(issued_response["Location"]).content.decode()
        assert "Rettifica promessa" in note_page and "Nota di credito emessa" in note_page

    def test_refusals_land_on_the_form(self, billing_officer, contract, monkeypatch):
        monkeypatch.setattr(dates, "today", lambda: TODAY)
        client, _user = billing_officer
        invoice = mixed_rates_invoice(contract)
        url = reverse("admin:billing_invoice_credit_note", args=[invoice.pk])
        too_much = client.post(
            url, {"what": "amount", "amount": "60", "reason": "x", "issued_on": "2026-11-20", "issue": "1"}
        )
        assert (
            too_much.status_code == 200 and "Resta da stornare al massimo 49,28" in too_much.content.decode()
        )
        no_lines = client.post(url, {"what": "lines", "reason": "x", "issued_on": "2026-11-20", "issue": "1"})
        assert "Scegliere almeno una riga da stornare." in no_lines.content.decode()
        early = client.post(url, {"what": "whole", "reason": "x", "issued_on": "2026-10-01", "issue": "1"})
        assert "non può precedere la bolletta" in early.content.decode()
        assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()

    def test_the_officer_grants_a_manual_credit_recorded_with_who_and_when(self, billing_officer, contract):
        client, user = billing_officer
        response = client.post(
            reverse("admin:billing_credit_add"),
            {
                "customer": contract.customer.pk,
                "contract": contract.pk,
                "amount": "25,00",
                "reason": "Rimborso spese di spedizione",
                "granted_on": "2026-11-05",
            },
        )
        assert response.status_code == 302
        granted = Credit.objects.get()
        assert (granted.amount, granted.reason, granted.granted_by) == (
            D("25.00"),
            Credit.Reason.MANUAL,
            user,
        )
        page = client.get(response["Location"]).content.decode()
        assert "Rimborso spese di spedizione" in page and "bollette@optima.example" in page
