"""Filing a complaint from the Area Clienti: one case per submit, the confirmation, the copy, attachments."""

import re
from datetime import date

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing import services as billing_services
from billing.models import InvoiceLine
from billing.services import LineSpec
from complaints import deadlines
from complaints.models import Complaint
from portal.lib import dates
from portal.notifications.models import Communication
from tests.complaints.lines import fibre_line
from tests.factories import UserFactory, active_contract
from tests.pdf_utils import pdf_text

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a stand-in document\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def environment(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()


@pytest.fixture
def on(monkeypatch):
    """Set the pages' "today" (Europe/Rome)."""

    def set_today(day: date):
        monkeypatch.setattr(dates, "today", lambda: day)

    set_today(date(2026, 1, 31))
    return set_today


@pytest.fixture
def contract(alice):
    return active_contract(alice, activated_on=date(2025, 6, 1))


@pytest.fixture
def service(contract):
    return contract.services.get()


def token_of(response) -> str:
    return re.search(r'name="submission_token" value="([^"]+)"', response.content.decode())[1]


def form_data(service, **overrides):
    data = {
        "supply": f"service:{service.pk}",
        "kind": "complaint",
        "topic": "fatturazione",
        "description": "La bolletta di gennaio riporta consumi che non ho fatto.",
        "reply_address": "",
    }
    data.update(overrides)
    return data


def file_it(client, service, files=(), **overrides):
    token = token_of(client.get(reverse("complaints:new")))
    data = {**form_data(service, **overrides), "submission_token": token}
    if files:
        data["attachments"] = list(files)
    return client.post(reverse("complaints:new"), data)


def test_the_form_lists_only_the_customers_own_supplies_and_prefills_one(alice_client, service, bob, on):
    bob_service = active_contract(bob).services.get()
    response = alice_client.get(reverse("complaints:new"))
    html = response.content.decode()
    assert response.status_code == 200
    assert service.pod in html
    assert bob_service.pod not in html
    assert f'value="service:{service.pk}" selected' in html
    # Every kind says how long we have to answer, by the standard in force today.
    assert "risposta entro 30 giorni" in html and "risposta entro 15 giorni" in html


def test_a_double_submit_files_one_case(alice_client, service, on, alice):
    token = token_of(alice_client.get(reverse("complaints:new")))
    data = {**form_data(service), "submission_token": token}
    first = alice_client.post(reverse("complaints:new"), data)
    second = alice_client.post(reverse("complaints:new"), data)

    assert Complaint.objects.count() == 1
    complaint = Complaint.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/reclami/{complaint.code}/?inviato=1"
    assert complaint.customer == alice and complaint.service == service
    assert complaint.channel == Complaint.Channel.PORTAL
    assert complaint.reply_address == alice.reply_address


def test_the_confirmation_shows_the_code_the_receipt_and_the_answer_by_date(
    alice_client, service, on, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = file_it(alice_client, service)
    page = alice_client.get(response["Location"])
    html = page.content.decode()
    complaint = Complaint.objects.get()

    due = deadlines.answer_due_date("complaint", date(2026, 1, 31))
    assert due == date(2026, 3, 2)  # 30 days from 31 January 2026
    assert complaint.code.startswith("R-2026-")
    assert complaint.code in html
    assert "Abbiamo ricevuto la tua richiesta" in html
    assert "31/01/2026" in html and "02/03/2026" in html
    assert "mancano 30 giorni" in html
    assert "Riceverai una e-mail di conferma" in html
    assert reverse("complaints:copy_pdf", args=[complaint.code]) in html


def test_the_pdf_copy_has_the_code_the_receipt_and_the_answer_by_date(
    alice_client, service, on, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        file_it(alice_client, service)
    complaint = Complaint.objects.get()

    def refuse(*args, **kwargs):
        raise AssertionError("the copy is the stored document: nothing is rendered in the request")

    monkeypatch.setattr("portal.lib.pdf.render_pdf", refuse)
    monkeypatch.setattr("portal.lib.pdf.html_to_pdf", refuse)
    response = alice_client.get(reverse("complaints:copy_pdf", args=[complaint.code]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="reclamo-{complaint.code}.pdf"' in response["Content-Disposition"]
    text = pdf_text(b"".join(response.streaming_content))
    assert complaint.code in text
    assert "31/01/2026" in text  # sent and received the same day (online)
    assert "02/03/2026" in text
    assert service.pod in text
    assert "Mario Rossi" not in text and "Alice Verdi" in text


def test_filing_sends_the_acknowledgement_with_the_copy_and_puts_it_in_the_inbox(
    alice_client, service, on, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        file_it(alice_client, service)
    complaint = Complaint.objects.get()

    assert [message.to for message in mail.outbox] == [[alice.email]]
    message = mail.outbox[0]
    assert complaint.code in message.subject
    assert "02/03/2026" in message.body
    assert "Reclami e richieste" in message.body
    assert message.attachments[0][0] == f"reclamo-{complaint.code}.pdf"
    assert Communication.objects.for_customer(alice).filter(template_key="complaint_ack").count() == 1


def test_valid_attachments_are_kept_and_listed(alice_client, service, on):
    files = [
        SimpleUploadedFile("contatore.png", PNG, content_type="image/png"),
        SimpleUploadedFile("bolletta.pdf", PDF, content_type="application/pdf"),
    ]
    response = file_it(alice_client, service, files=files)
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert sorted(complaint.attachments.values_list("original_name", "content_type")) == [
        ("bolletta.pdf", "application/pdf"),
        ("contatore.png", "image/png"),
    ]
    html = alice_client.get(reverse("complaints:detail", args=[complaint.code])).content.decode()
    assert "contatore.png" in html and "bolletta.pdf" in html


def test_a_pdf_that_is_really_text_is_refused_with_a_message(alice_client, service, on):
    fake = SimpleUploadedFile("bolletta.pdf", b"just some text, not a PDF", content_type="application/pdf")
    response = file_it(alice_client, service, files=[fake])

    assert response.status_code == 200
    assert "Il file «bolletta.pdf» non è un PDF, un JPEG o un PNG." in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_file_over_10_mb_is_refused_with_a_message(alice_client, service, on):
    big = SimpleUploadedFile("scansione.pdf", PDF + b"0" * (10 * 1024 * 1024), content_type="application/pdf")
    response = file_it(alice_client, service, files=[big])

    assert response.status_code == 200
    assert "Il file «scansione.pdf» supera 10 MB." in response.content.decode()
    assert not Complaint.objects.exists()


def test_six_attachments_are_refused(alice_client, service, on):
    files = [SimpleUploadedFile(f"foto{n}.png", PNG, content_type="image/png") for n in range(6)]
    response = file_it(alice_client, service, files=files)

    assert response.status_code == 200
    assert "Puoi allegare al massimo 5 file: ne hai scelti 6." in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_complaint_about_fibre_is_an_agcom_complaint(alice_client, contract, on):
    fibre = fibre_line(contract)
    file_it(alice_client, fibre, kind="complaint", topic="qualita_commerciale")
    assert Complaint.objects.get().kind == Complaint.Kind.TELECOM_COMPLAINT


def test_a_contested_invoice_is_kept_on_the_case(alice_client, service, contract, on):
    draft = billing_services.create_draft(
        contract=contract,
        period_start=date(2025, 12, 1),
        period_end=date(2025, 12, 31),
        lines=[LineSpec(kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=50, vat_rate=10)],
    )
    invoice = billing_services.issue_invoice(invoice=draft, issued_on=date(2026, 1, 5))
    file_it(alice_client, service, kind="complaint", invoice=str(invoice.pk))
    complaint = Complaint.objects.get()
    assert complaint.invoice == invoice
    html = alice_client.get(reverse("complaints:detail", args=[complaint.code])).content.decode()
    assert f"n. {invoice.number}" in html


@pytest.mark.parametrize(
    "overrides",
    [
        {"supply": ""},
        {"supply": "service:999999"},
        {"supply": "contract:not-a-number"},
        {"supply": "garbage"},
        {"kind": "telecom"},
        {"kind": ""},
        {"topic": "everything"},
        {"description": ""},
        {"description": "x" * 10_001},
        {"invoice": "abc"},
        {"invoice": "999999"},
        {"reply_address": "x" * 301},
        {"submission_token": "not-a-uuid", "description": ""},
    ],
)
def test_bad_input_is_answered_with_a_message_never_an_error(alice_client, service, on, overrides):
    response = alice_client.post(reverse("complaints:new"), form_data(service, **overrides))
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert not Complaint.objects.exists()


def test_another_customers_supply_or_invoice_is_refused(alice_client, service, bob, on):
    bob_contract = active_contract(bob)
    response = alice_client.post(
        reverse("complaints:new"), form_data(service, supply=f"service:{bob_contract.services.get().pk}")
    )
    assert response.status_code == 200 and not Complaint.objects.exists()
    assert "Scegli un contratto o una fornitura dall&#x27;elenco." in response.content.decode()


def test_an_account_without_a_customer_is_sent_to_the_public_form(client, on):
    client.force_login(UserFactory(email="staff-no-customer@optima.example"))
    response = client.get(reverse("complaints:new"))
    assert response.status_code == 200
    assert reverse("complaints:public_new") in response.content.decode()
    assert client.post(reverse("complaints:new"), {"supply": "x"}).status_code == 200
    assert not Complaint.objects.exists()


def test_the_list_shows_code_kind_status_and_days_left(alice_client, service, on):
    file_it(alice_client, service)
    complaint = Complaint.objects.get()
    on(date(2026, 2, 20))
    html = alice_client.get(reverse("complaints:list")).content.decode()
    assert complaint.code in html
    assert "Reclamo scritto" in html
    assert "Ricevuto" in html  # the status badge
    assert "02/03/2026" in html and "mancano 10 giorni" in html


def test_the_list_needs_a_login(client):
    response = client.get(reverse("complaints:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
