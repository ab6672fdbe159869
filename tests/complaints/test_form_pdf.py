"""The standard complaint form: blank for download, and pre-filled as the customer's copy."""

from datetime import date

import pytest
from django.core.cache import cache
from django.urls import reverse

from complaints import communications, complaint_form, services, views
from complaints.models import Complaint
from portal.lib.pdf import render_pdf
from tests.factories import active_contract
from tests.pdf_utils import pdf_conformance, pdf_form_fields, pdf_pages, pdf_structure, pdf_text

pytestmark = pytest.mark.django_db

TOPICS = [
    "Contratti",
    "Morosità e sospensione",
    "Mercato",
    "Fatturazione",
    "Misura",
    "Connessioni, lavori e qualità tecnica",
    "Bonus sociale",
    "Qualità commerciale",
    "Altro",
]


@pytest.fixture(autouse=True)
def environment(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(views, "_blank_forms", {})
    cache.clear()


@pytest.fixture
def blank(client):
    response = client.get(reverse("complaints:form_pdf"))
    assert response.status_code == 200
    return response


def test_the_blank_form_is_a_pdf_download_for_anyone(blank):
    assert blank["Content-Type"] == "application/pdf"
    assert 'filename="modulo-reclamo.pdf"' in blank["Content-Disposition"]
    assert blank.content.startswith(b"%PDF-")


def test_the_blank_form_has_every_topic_and_every_channel(blank, settings):
    text = pdf_text(blank.content)
    for topic in TOPICS:
        assert topic in text, topic
    supplier = settings.SUPPLIER
    assert f"Raccomandata a.r. all'indirizzo {supplier['name']}, {supplier['address']}" in text
    assert f"E-mail all'indirizzo {supplier['email']}" in text
    assert f"PEC all'indirizzo {supplier['pec']}" in text
    assert "Online dall'Area Clienti" in text and "senza registrazione" in text


def test_the_blank_form_has_every_field_the_regulation_lists(blank):
    text = pdf_text(blank.content)
    for field in (
        "Nome e cognome o ragione sociale",
        "Energia elettrica",
        "Gas naturale",
        "Entrambi (luce e gas)",
        "Internet fibra",
        "Mobile",
        "Servizi aggiuntivi (Teleconsulto Medico, Assistenza H24)",
        "Indirizzo di fornitura",
        "POD (luce) o PDR (gas), oppure codice cliente",
        "prima pagina della bolletta",  # where to find them
        "Indirizzo per la risposta",
        "Solo se diverso dall'indirizzo di fatturazione",
        "Descrizione",
        "Data",
        "Firma",
    ):
        assert field in text, field


def test_the_blank_form_has_no_addressee_and_no_date(blank):
    first_page = pdf_pages(blank.content)[0]
    assert "Codice pratica" not in first_page
    assert "Napoli, " not in first_page  # the masthead's "place, date"


def test_the_blank_form_is_rendered_once_per_process_and_language(client, monkeypatch):
    calls = []

    def counting(template, context=None, *, language=None, **options):
        calls.append(language)
        return b"%PDF-1.7 stand-in"

    monkeypatch.setattr(complaint_form, "render_pdf", counting)
    for _request in range(3):
        assert client.get(reverse("complaints:form_pdf")).content == b"%PDF-1.7 stand-in"
    client.cookies["django_language"] = "en"
    client.get(reverse("complaints:form_pdf"))
    client.get(reverse("complaints:form_pdf"))
    assert calls == ["it", "en"]


def test_the_copy_shows_the_case_first_and_the_filled_fields(alice):
    contract = active_contract(alice, activated_on=date(2025, 6, 1))
    service = contract.services.get()
    complaint = services.file_complaint(
        kind="complaint",
        topic="misura",
        channel="portal",
        description="Il contatore gira anche a luce spenta.",
        sent_on=date(2026, 1, 31),
        customer=alice,
        service=service,
        reply_address="Via Toledo 10, 80134 Napoli (NA)",
    )
    pages = pdf_pages(render_pdf("pdf/complaint_form.html", communications.form_context(complaint)))
    first = pages[0]
    assert "Copia del modulo di reclamo inviato" in first
    # The case code, the sending date and the answer-by date, before anything else in the body.
    assert first.index("Codice della pratica") < first.index("1. Chi presenta il reclamo")
    assert f"Codice della pratica {complaint.code}" in first
    assert "Inviato il 31/01/2026" in first
    assert "Risposta entro il 02/03/2026" in first
    text = " ".join(pages)
    for value in (
        "Alice Verdi",
        alice.codice_fiscale,
        service.pod,
        service.supply_address,
        "Via Toledo 10, 80134 Napoli (NA)",
        "Il contatore gira anche a luce spenta.",
        alice.code,
    ):
        assert value in text, value


def test_the_copy_of_an_unidentified_sender_shows_what_they_wrote(client):
    complaint = services.file_complaint(
        kind="complaint",
        topic="altro",
        channel="public_form",
        description="Chi siete?",
        sent_on=date(2026, 7, 1),
        sender_name="Pizzeria Sole srl",
        sender_tax_id="07469040633",
        sender_email="sole@example.org",
        supply_reference="IT001E99999999",
        reference_identifies_supply=False,
        reply_address="Via Po 1, 10121 Torino (TO)",
    )
    assert complaint.kind == Complaint.Kind.INFORMATION_REQUEST
    text = pdf_text(render_pdf("pdf/complaint_form.html", communications.form_context(complaint)))
    assert "Pizzeria Sole srl" in text and "IT001E99999999" in text and complaint.code in text
    assert "Modulo online senza registrazione" in text


def test_the_blank_form_is_fillable_on_screen_and_every_field_is_named_for_a_screen_reader(blank):
    fields = pdf_form_fields(blank.content)
    text_fields = {name: label for name, (kind, label) in fields.items() if kind == "/Tx"}
    assert set(text_fields.values()) >= {
        "Nome e cognome o ragione sociale",
        "Codice fiscale o partita IVA",
        "E-mail o telefono",
        "Indirizzo di fornitura",
        "POD (luce) o PDR (gas), oppure codice cliente",
        "Bolletta contestata",
        "Indirizzo per la risposta",
        "Descrizione",
        "Data",
    }
    checkboxes = [label for kind, label in fields.values() if kind == "/Btn"]
    assert set(TOPICS) <= set(checkboxes)
    assert {"Energia elettrica", "Reclamo", "Rettifica di doppia fatturazione"} <= set(checkboxes)
    # Still a printable form: the labels are text on the page, not only field names.
    assert "Nome e cognome o ragione sociale" in pdf_text(blank.content)


def test_the_form_blank_and_filled_is_pdf_a_and_tagged(blank, alice):
    contract = active_contract(alice, activated_on=date(2025, 6, 1))
    complaint = services.file_complaint(
        kind="complaint",
        topic="misura",
        channel="portal",
        description="Il contatore gira anche a luce spenta.",
        sent_on=date(2026, 1, 31),
        customer=alice,
        service=contract.services.get(),
    )
    copy = complaint_form.filled(communications.form_context(complaint), language="it")
    for document in (blank.content, copy):
        assert pdf_conformance(document) == ("3", "A")
        tags = pdf_structure(document)
        assert {"H1", "H2", "Table", "TH", "TD"} <= set(tags)
    assert pdf_form_fields(copy) == {}  # the customer's copy records what was sent: nothing to fill in
