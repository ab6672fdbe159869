"""What people see of the electronic invoice: the customer's bill page and PDF (a courtesy copy, and where the
original is), the XML download, a business's recipient code or PEC in its contact details, and the billing
officers' screens (the SdI status of each invoice, the receipts, resending a rejected document).

Documents are moved through the real services: `transmission.send` to the per-test SdI folder and
`transmission.record_notification` with the SdI's notification files."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from lxml import etree

from accounts.models import Customer
from billing import services
from billing.einvoice import EInvoiceError, transmission
from billing.models import EInvoice, Invoice, InvoiceLine, Tariff
from billing.pdf import render_invoice
from billing.services import LineSpec
from contracts.models import MeterReading, Service
from portal import roles
from portal.lib import dates
from portal.lib.dates import rome_date
from tests.factories import CustomerFactory, UserFactory, active_contract
from tests.pdf_utils import pdf_pages

pytestmark = pytest.mark.django_db

D = Decimal
FATTURA_NS = {"p": "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"}
CONSUMER_ORIGINAL = (
    "l'originale è la fattura elettronica trasmessa al Sistema di Interscambio (SdI); la trovi nella tua area "
    "riservata sul sito dell'Agenzia delle Entrate (Fatture e Corrispettivi)"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


@pytest.fixture
def on(monkeypatch):
    def set_today(day: date):
        monkeypatch.setattr(dates, "today", lambda: day)

    set_today(date(2026, 11, 10))
    return set_today


def business(email="gennaro@example.it", **fields):
    return CustomerFactory(
        **{
            "user__email": email,
            "kind": Customer.Kind.BUSINESS,
            "company_name": "Pizzeria Da Gennaro S.r.l.",
            "first_name": "",
            "last_name": "",
            "partita_iva": "07643520567",
            "codice_fiscale": "07643520567",
            **fields,
        }
    )


def issue(customer, *, issued_on=date(2026, 11, 2), month=10):
    contract = customer.contracts.first() or active_contract(customer, activated_on=date(2026, 2, 1))
    draft = services.create_draft(
        contract=contract,
        period_start=date(2026, month, 1),
        period_end=date(2026, month, 28),
        lines=[
            LineSpec(
                kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=D("44.80"), vat_rate=D("10")
            )
        ],
    )
    return services.issue_invoice(invoice=draft, issued_on=issued_on)


def sent(invoice):
    einvoice = invoice.einvoice
    assert transmission.send(einvoice, now=timezone.now())
    einvoice.refresh_from_db()
    return einvoice


def notification(einvoice, kind, *, number=1):
    """The SdI's notification about the document's file, as the intermediary hands it over."""
    root = {"RC": "RicevutaConsegna", "MC": "NotificaMancataConsegna", "NS": "NotificaScarto"}[kind]
    body = {
        "RC": "<DataOraConsegna>2026-11-03T10:00:00.000+01:00</DataOraConsegna>",
        "MC": "<Descrizione>Il file non è stato recapitato: è nell'area riservata.</Descrizione>",
        "NS": "<ListaErrori><Errore><Codice>00305</Codice><Descrizione>IdFiscaleIVA del CessionarioCommittente "
        "non valido</Descrizione><Suggerimento>Verificare la partita IVA</Suggerimento></Errore></ListaErrori>",
    }[kind]
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<ns3:{root} xmlns:ns3="http://ivaservizi.agenziaentrate.gov.it/docs/xsd/messaggi/v1.0" versione="1.0">
  <IdentificativoSdI>1234567</IdentificativoSdI>
  <NomeFile>{einvoice.file_name}</NomeFile>
  <DataOraRicezione>2026-11-02T10:00:00.000+01:00</DataOraRicezione>
  {body}
  <MessageId>99{number}</MessageId>
</ns3:{root}>"""
    name = f"{einvoice.file_name.removesuffix('.xml')}_{kind}_{number:03d}.xml"
    transmission.record_notification(name, xml.encode())
    einvoice.refresh_from_db()
    return einvoice


def html_of(response):
    return response.content.decode()


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_of(response))).replace("\xa0", " ")


def page(client, invoice):
    response = client.get(reverse("billing:invoice", args=[invoice.pk]))
    assert response.status_code == 200
    return text_of(response)


def login(client, customer):
    client.force_login(customer.user)
    return client


# ---------------------------------------------------------------------------------------------------------
# The bill page
# ---------------------------------------------------------------------------------------------------------


class TestInvoicePage:
    def test_a_consumer_reads_that_the_pdf_is_a_courtesy_copy_and_where_the_original_is(
        self, alice_client, alice, on
    ):
        invoice = issue(alice)
        text = page(alice_client, invoice)
        assert "Il PDF è una copia di cortesia" in text
        assert CONSUMER_ORIGINAL in text
        assert "Fattura elettronica In corso di trasmissione al Sistema di Interscambio (SdI)" in text
        assert "Scarica la fattura elettronica (XML)" in text
        assert reverse("billing:invoice_xml", args=[invoice.pk]) in html_of(
            alice_client.get(reverse("billing:invoice", args=[invoice.pk]))
        )

    def test_a_business_reads_its_recipient_code_and_when_the_document_left(self, client, on):
        customer = business(sdi_code="M5UXCR1")
        invoice = issue(customer)
        einvoice = sent(invoice)
        text = page(login(client, customer), invoice)
        assert "copia di cortesia" in text and "che la recapita al tuo codice destinatario M5UXCR1" in text
        assert "Agenzia delle Entrate" not in text
        assert (
            f"Trasmessa allo SdI il {rome_date(einvoice.sent_at):%d/%m/%Y}, in attesa della consegna" in text
        )

    def test_a_delivered_document_says_when_and_to_which_pec(self, client, on):
        customer = business(sdi_pec="fatture@pec.gennaro.it")
        invoice = issue(customer)
        notification(sent(invoice), "RC")
        text = page(login(client, customer), invoice)
        assert "Consegnata il 03/11/2026 alla PEC fatture@pec.gennaro.it" in text
        assert "che la recapita alla tua PEC fatture@pec.gennaro.it" in text

    def test_a_business_whose_document_could_not_be_delivered_is_sent_to_the_reserved_area_and_its_details(
        self, client, on
    ):
        customer = business(sdi_code="M5UXCR1")
        invoice = issue(customer)
        notification(sent(invoice), "MC")
        response = login(client, customer).get(reverse("billing:invoice", args=[invoice.pk]))
        assert "Non consegnata: disponibile nell'area riservata dell'Agenzia delle Entrate" in text_of(
            response
        )
        assert reverse("contracts:contact_details") in html_of(response)

    def test_for_a_consumer_the_reserved_area_is_where_the_invoice_is_meant_to_be(
        self, alice_client, alice, on
    ):
        invoice = issue(alice)
        notification(sent(invoice), "MC")
        text = page(alice_client, invoice)
        assert "Disponibile dal 02/11/2026 nella tua area riservata dell'Agenzia delle Entrate" in text
        assert "Non consegnata" not in text

    def test_a_rejected_document_is_still_being_sent_for_the_customer_with_no_sdi_errors(
        self, alice_client, alice, on
    ):
        invoice = issue(alice)
        assert notification(sent(invoice), "NS").status == EInvoice.Status.REJECTED
        text = page(alice_client, invoice)
        assert "In corso di trasmissione al Sistema di Interscambio (SdI)" in text
        for alarming in ("00305", "scartat", "Scartat", "IdFiscaleIVA", "non valido"):
            assert alarming not in text

    def test_the_page_still_costs_the_same_number_of_queries(
        self, alice_client, alice, on, django_assert_max_num_queries
    ):
        invoice = issue(alice)
        with django_assert_max_num_queries(25) as before:
            alice_client.get(reverse("billing:invoice", args=[invoice.pk]))
        notification(sent(invoice), "MC")
        with django_assert_max_num_queries(len(before)):
            alice_client.get(reverse("billing:invoice", args=[invoice.pk]))


# ---------------------------------------------------------------------------------------------------------
# The XML download
# ---------------------------------------------------------------------------------------------------------


def xml_url(invoice):
    return reverse("billing:invoice_xml", args=[invoice.pk])


class TestXmlDownload:
    def test_it_is_the_file_sent_to_the_sdi_named_as_at_the_sdi(self, alice_client, alice, sdi_folders):
        invoice = issue(alice)
        einvoice = sent(invoice)
        response = alice_client.get(xml_url(invoice))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/xml"
        assert response["Content-Disposition"] == f'attachment; filename="{einvoice.file_name}"'
        assert response.content == (sdi_folders / "outbox" / einvoice.file_name).read_bytes()
        root = etree.fromstring(response.content)
        assert root.findtext(".//DatiGeneraliDocumento/Numero", namespaces=FATTURA_NS) == invoice.number

    def test_before_it_is_sent_it_is_the_document_as_it_will_leave(self, alice_client, alice):
        invoice = issue(alice)
        response = alice_client.get(xml_url(invoice))
        assert response.status_code == 200
        assert invoice.einvoice.file_name in response["Content-Disposition"]
        root = etree.fromstring(response.content)
        assert root.findtext(".//DatiGeneraliDocumento/Numero", namespaces=FATTURA_NS) == invoice.number
        assert root.findtext(".//CodiceDestinatario", namespaces=FATTURA_NS) == "0000000"

    def test_a_resent_document_is_served_under_its_new_name_not_the_rejected_file(self, alice_client, alice):
        invoice = issue(alice)
        rejected = notification(sent(invoice), "NS")
        resent = transmission.resend(rejected, today=date(2026, 11, 5))
        response = alice_client.get(xml_url(invoice))
        assert response.status_code == 200
        assert resent.file_name in response["Content-Disposition"] and rejected.file_name != resent.file_name
        assert f"<ProgressivoInvio>{resent.progressivo}</ProgressivoInvio>" in response.content.decode()

    def test_another_customers_invoice_a_draft_and_no_login_are_refused(self, client, alice, bob):
        bobs = issue(bob)
        draft = services.create_draft(
            contract=alice.contracts.first() or active_contract(alice),
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            lines=[
                LineSpec(
                    kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=D("1"), vat_rate=D("10")
                )
            ],
        )
        anonymous = client.get(xml_url(bobs))
        assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
        login(client, alice)
        assert client.get(xml_url(bobs)).status_code == 404
        assert client.get(xml_url(draft)).status_code == 404
        assert client.get("/bollette/99999999999999999999/xml/").status_code == 404

    def test_a_document_that_does_not_build_is_not_found_never_a_server_error(
        self, alice_client, alice, monkeypatch
    ):
        invoice = issue(alice)

        def broken(invoice):
            raise EInvoiceError("La fattura elettronica non rispetta lo schema FatturaPA 1.2.2")

        monkeypatch.setattr("billing.einvoice.fattura_xml", broken)
        assert alice_client.get(xml_url(invoice)).status_code == 404


# ---------------------------------------------------------------------------------------------------------
# The PDF: a courtesy copy, still two pages
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def tariff():
    Tariff.objects.create(
        offer_name="Optima Super Casa Smart con Teleconsulto Medico",
        energy_price_kwh=D("0.120000"),
        gas_price_smc=D("0.900000"),
        electricity_monthly_fee=D("8.00"),
    )


def ordinary_bill(customer):
    """A monthly electricity bill from the invoice run, with readings and the consumption chart."""
    from billing.generation import generate_invoices

    contract = active_contract(customer)
    service = contract.services.get(kind=Service.Kind.ELECTRICITY)
    for day, value in [(date(2026, 8, 31), 1000), (date(2026, 9, 30), 1400), (date(2026, 10, 31), 1700)]:
        MeterReading.objects.create(service=service, read_on=day, value=value, source="distributor")
    generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
    return contract.invoices.get(kind=Invoice.Kind.INVOICE, period_start=date(2026, 10, 1))


class TestPdf:
    def test_a_consumers_bill_says_it_is_a_courtesy_copy_and_where_the_original_is(self, tariff, alice):
        pages = pdf_pages(render_invoice(ordinary_bill(alice)))
        assert len(pages) == 2
        assert "copia di cortesia" not in pages[0]
        assert (
            "Questo documento è una copia di cortesia: l'originale è la fattura elettronica trasmessa al Sistema "
            "di Interscambio (SdI); la trova nella Sua area riservata sul sito dell'Agenzia delle Entrate "
            "(Fatture e Corrispettivi)." in pages[1]
        )

    def test_a_business_bill_names_the_recipient_code_it_goes_to(self, tariff):
        pages = pdf_pages(render_invoice(ordinary_bill(business(sdi_code="M5UXCR1"))))
        assert len(pages) == 2
        assert "che la recapita al Suo codice destinatario M5UXCR1." in pages[1]
        assert "Agenzia delle Entrate" not in pages[1]

    def test_a_customer_who_reads_english_gets_the_note_in_english(self, tariff, alice):
        alice.language = "en"
        alice.save()
        pages = pdf_pages(render_invoice(ordinary_bill(alice)))
        assert len(pages) == 2
        assert "This document is a courtesy copy" in pages[1] and "Fatture e Corrispettivi" in pages[1]

    def test_a_business_bill_names_the_pec_it_goes_to(self, tariff):
        pages = pdf_pages(render_invoice(ordinary_bill(business(sdi_pec="fatture@pec.gennaro.it"))))
        assert "che la recapita alla Sua PEC fatture@pec.gennaro.it." in pages[-1]


# ---------------------------------------------------------------------------------------------------------
# A business's recipient code or PEC, in its contact details
# ---------------------------------------------------------------------------------------------------------

CONTACT_DETAILS = "/contratti/recapiti/"


def contact_data(**overrides):
    return {
        "phone": "",
        "pec": "",
        "reply_street": "",
        "reply_postcode": "",
        "reply_city": "",
        "reply_province": "",
        "language": "it",
        "sdi_code": "",
        "sdi_pec": "",
        **overrides,
    }


def field_errors(response, field):
    return " ".join(str(error) for error in response.context["form"].errors.get(field, []))


class TestBusinessContactDetails:
    @pytest.fixture
    def gennaro(self):
        return business()

    @pytest.fixture
    def gennaro_client(self, client, gennaro):
        return login(client, gennaro)

    def test_a_business_finds_the_two_fields_and_what_they_are_for(self, gennaro_client):
        text = text_of(gennaro_client.get(CONTACT_DETAILS))
        assert "Fatturazione elettronica" in text
        assert "Codice destinatario" in text and "PEC per le fatture elettroniche" in text
        assert "Copiato sulle prossime bollette emesse" in text
        profile = text_of(gennaro_client.get(reverse("profile")))
        assert "Fatture elettroniche" in profile and "area riservata dell'Agenzia delle Entrate" in profile

    def test_a_consumer_has_nothing_to_choose(self, alice_client, alice):
        text = text_of(alice_client.get(CONTACT_DETAILS))
        assert "Codice destinatario" not in text and "Fatturazione elettronica" not in text
        response = alice_client.post(CONTACT_DETAILS, contact_data(sdi_code="M5UXCR1"))
        assert response.status_code == 302
        alice.refresh_from_db()
        assert alice.sdi_code == ""

    def test_the_code_is_saved_as_the_sdi_knows_it_and_goes_on_the_next_bill(
        self, gennaro_client, gennaro, on
    ):
        before = issue(gennaro)
        response = gennaro_client.post(CONTACT_DETAILS, contact_data(sdi_code=" m5u xcr1 "))
        assert response.status_code == 302 and response["Location"] == reverse("profile")
        gennaro.refresh_from_db()
        assert (gennaro.sdi_code, gennaro.sdi_pec) == ("M5UXCR1", "")
        assert "al codice destinatario M5UXCR1" in text_of(gennaro_client.get(reverse("profile")))

        after = issue(gennaro, issued_on=date(2026, 12, 2), month=11)
        assert "al tuo codice destinatario M5UXCR1" in page(gennaro_client, after)
        assert "M5UXCR1" not in page(gennaro_client, before)  # issued before: the reserved area, as it was

    def test_a_pec_alone_is_saved(self, gennaro_client, gennaro):
        response = gennaro_client.post(CONTACT_DETAILS, contact_data(sdi_pec="fatture@pec.gennaro.it"))
        assert response.status_code == 302
        gennaro.refresh_from_db()
        assert gennaro.sdi_pec == "fatture@pec.gennaro.it"

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"sdi_code": "M5UXC"}, "sdi_code", "Il codice destinatario è di 7 caratteri"),
            ({"sdi_code": "M5UXCR1!"}, "sdi_code", "Il codice destinatario è di 7 caratteri"),
            ({"sdi_pec": "non-una-pec"}, "sdi_pec", "Scrivi un indirizzo PEC completo"),
            (
                {"sdi_code": "M5UXCR1", "sdi_pec": "fatture@pec.gennaro.it"},
                "sdi_pec",
                "Indica il codice destinatario oppure la PEC, non entrambi",
            ),
        ],
    )
    def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
        self, gennaro_client, gennaro, overrides, field, message
    ):
        response = gennaro_client.post(CONTACT_DETAILS, contact_data(**overrides))
        assert response.status_code == 200
        assert message in field_errors(response, field)
        assert escape(message) in html_of(response)
        gennaro.refresh_from_db()
        assert (gennaro.sdi_code, gennaro.sdi_pec) == ("", "")


# ---------------------------------------------------------------------------------------------------------
# Back office
# ---------------------------------------------------------------------------------------------------------


def staff_client(client, role):
    user = UserFactory(email=f"{role.lower().replace(' ', '.')}@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[role])
    client.force_login(user)
    return client


@pytest.fixture
def officer(client):
    return staff_client(client, roles.BILLING_OFFICER)


INVOICES = reverse("admin:billing_invoice_changelist")
EINVOICES = reverse("admin:billing_einvoice_changelist")


def change_url(einvoice):
    return reverse("admin:billing_einvoice_change", args=[einvoice.pk])


@pytest.fixture
def four(alice, bob):
    """Four documents: to send, sent, rejected, delivered; the rejected one overdue too."""
    gennaro = business(sdi_code="M5UXCR1")
    to_send = issue(alice)
    waiting = issue(bob)
    sent(waiting)
    rejected = issue(gennaro)
    notification(sent(rejected), "NS")
    EInvoice.objects.filter(invoice=rejected).update(overdue_since=date(2026, 11, 15))
    delivered = issue(gennaro, month=9)
    notification(sent(delivered), "RC")
    return {"to_send": to_send, "sent": waiting, "rejected": rejected, "delivered": delivered}


def numbers_listed(response, invoices):
    html = html_of(response)
    return {name for name, invoice in invoices.items() if invoice.number in html}


class TestInvoiceList:
    def test_each_invoice_shows_its_sdi_status(self, officer, four):
        text = text_of(officer.get(INVOICES))
        # In two words, so that the list fits 1280 px; the full wording is on the invoice's page.
        for label in ("SdI: da inviare", "SdI: inviata", "SdI: scartata", "SdI: consegnata"):
            assert label in text
        assert "fuori termine" in text

    @pytest.mark.parametrize(
        ("choice", "expected"),
        [
            ("scartate", {"rejected"}),
            ("non-accettate", {"to_send", "sent", "rejected"}),
            ("fuori-termine", {"rejected"}),
            ("accettate", {"delivered"}),
        ],
    )
    def test_the_fattura_elettronica_filter(self, officer, four, choice, expected):
        response = officer.get(INVOICES, {"sdi": choice})
        assert response.status_code == 200
        assert numbers_listed(response, four) == expected
        assert "Per fattura elettronica" in text_of(officer.get(INVOICES))  # the filter

    def test_the_list_costs_the_same_for_many_invoices(self, officer, alice, django_assert_max_num_queries):
        issue(alice)
        with django_assert_max_num_queries(30) as one:
            officer.get(INVOICES)
        for month in range(1, 9):
            notification(sent(issue(alice, month=month)), "MC")
        with django_assert_max_num_queries(len(one)):
            officer.get(INVOICES)

    def test_the_invoice_page_links_to_its_electronic_invoice(self, officer, four):
        rejected = four["rejected"]
        html = html_of(officer.get(reverse("admin:billing_invoice_change", args=[rejected.pk])))
        assert change_url(rejected.einvoice) in html and rejected.einvoice.file_name in html
        assert "Scartata dallo SdI" in html


class TestEInvoiceAdmin:
    def test_the_list_names_invoice_customer_status_file_and_deadline(self, officer, four):
        response = officer.get(EINVOICES)
        text = text_of(response)
        rejected = four["rejected"]
        assert rejected.number in text and rejected.einvoice.file_name in text
        assert "Pizzeria Da Gennaro S.r.l." in text and "Scartata dallo SdI" in text
        assert f"{rejected.einvoice.accept_by:%d/%m/%Y}" in text and "15/11/2026" in text
        assert numbers_listed(officer.get(EINVOICES, {"sdi": "scartate"}), four) == {"rejected"}

    def test_a_rejected_document_shows_the_sdi_errors_and_the_file_received(self, officer, four):
        einvoice = four["rejected"].einvoice
        response = officer.get(change_url(einvoice))
        assert response.status_code == 200
        text = text_of(response)
        assert "00305 IdFiscaleIVA del CessionarioCommittente non valido Verificare la partita IVA" in text
        assert "Notifica di scarto" in text
        assert re.search(r"<pre[^>]*>.*?NotificaScarto", html_of(response), re.S)
        assert "Reinvia allo SdI" in text
        assert 'name="csrfmiddlewaretoken"' in html_of(response)

    @pytest.mark.parametrize("state", ["to_send", "sent", "delivered"])
    def test_only_a_rejected_document_has_the_resend_button(self, officer, four, state):
        response = officer.get(change_url(four[state].einvoice))
        assert response.status_code == 200 and "Reinvia allo SdI" not in text_of(response)

    def test_resending_gives_a_new_file_name_and_says_so(self, officer, four):
        einvoice = four["rejected"].einvoice
        old_name = einvoice.file_name
        response = officer.post(reverse("admin:billing_einvoice_resend", args=[einvoice.pk]), follow=True)
        assert response.status_code == 200
        einvoice.refresh_from_db()
        assert einvoice.status == EInvoice.Status.TO_SEND and einvoice.file_name != old_name
        [message] = [str(m) for m in get_messages(response.wsgi_request)]
        assert einvoice.file_name in message and old_name in message
        assert "Reinvia allo SdI" not in text_of(response)  # no longer rejected

    def test_a_second_resend_is_an_error_message_never_a_server_error(self, officer, four):
        einvoice = four["rejected"].einvoice
        url = reverse("admin:billing_einvoice_resend", args=[einvoice.pk])
        officer.post(url)
        response = officer.post(url, follow=True)
        assert response.status_code == 200
        assert "Si reinvia solo una fattura elettronica scartata dallo SdI." in text_of(response)

    def test_resending_needs_a_post_and_a_billing_officer(self, client, four):
        einvoice = four["rejected"].einvoice
        url = reverse("admin:billing_einvoice_resend", args=[einvoice.pk])
        complaints = staff_client(client, roles.COMPLAINTS_OFFICER)
        page = complaints.get(change_url(einvoice))
        assert page.status_code == 200 and "Reinvia allo SdI" not in text_of(page)
        assert complaints.post(url).status_code == 403
        officer = staff_client(client, roles.BILLING_OFFICER)
        assert officer.get(url).status_code == 405
        einvoice.refresh_from_db()
        assert einvoice.status == EInvoice.Status.REJECTED

    def test_staff_may_look_but_not_change_or_delete(self, officer, four):
        einvoice = four["sent"].einvoice
        assert 'name="_save"' not in html_of(officer.get(change_url(einvoice)))
        assert officer.get(reverse("admin:billing_einvoice_delete", args=[einvoice.pk])).status_code == 403
        assert officer.get(reverse("admin:billing_einvoice_add")).status_code == 403

    def test_the_file_sent_can_be_downloaded(self, officer, four, sdi_folders):
        einvoice = four["sent"].einvoice
        response = officer.get(reverse("admin:billing_einvoice_xml", args=[einvoice.pk]))
        assert response.status_code == 200
        assert (
            b"".join(response.streaming_content) == (sdi_folders / "outbox" / einvoice.file_name).read_bytes()
        )
        assert (
            officer.get(reverse("admin:billing_einvoice_xml", args=[four["to_send"].einvoice.pk])).status_code
            == 404
        )


class TestCustomerAdmin:
    def test_the_recipient_code_and_pec_have_their_own_section(self, client):
        officer = staff_client(client, roles.BILLING_OFFICER)
        gennaro = business()
        url = reverse("admin:accounts_customer_change", args=[gennaro.pk])
        response = officer.get(url)
        assert response.status_code == 200
        text = text_of(response)
        assert "Fatturazione elettronica" in text
        assert 'name="sdi_code"' in html_of(response) and 'name="sdi_pec"' in html_of(response)

    def test_both_are_refused_and_a_code_is_normalised(self, client):
        from tests.contracts.admin_helpers import form_data

        officer = staff_client(client, roles.BILLING_OFFICER)
        gennaro = business()
        url = reverse("admin:accounts_customer_change", args=[gennaro.pk])
        data = form_data(officer.get(url))
        data.update(user=gennaro.user_id, sdi_code="M5UXCR1", sdi_pec="fatture@pec.gennaro.it")
        response = officer.post(url, data)
        assert response.status_code == 200
        assert "non entrambi" in text_of(response)
        data.update(sdi_code="m5uxcr1", sdi_pec="")
        assert officer.post(url, data).status_code == 302
        gennaro.refresh_from_db()
        assert gennaro.sdi_code == "M5UXCR1"
