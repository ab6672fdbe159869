"""Following a case: the detail page, messages, the status report, the answer, conciliation and the dossier,
with a login or with the link sent by e-mail; and nobody else's case, ever."""

import io
import re
import time
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing import services as billing_services
from billing.models import InvoiceLine
from billing.services import LineSpec
from complaints import communications, selectors, services, views
from complaints.models import Complaint, ComplaintEvent
from portal.lib import dates
from portal.notifications.services import notify
from tests.complaints.lines import mobile_line
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a stand-in document\n%%EOF\n"
REPLY_PDF = b"%PDF-1.4\n% the reply letter\n%%EOF\n"
COMPANY_VAT = "07469040633"


@pytest.fixture(autouse=True)
def environment(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The reply letter's own template is the staff side's: a stand-in keeps these tests about tracking.
    monkeypatch.setattr(communications, "render_reply_letter", lambda complaint, language=None: REPLY_PDF)
    cache.clear()


@pytest.fixture
def on(monkeypatch):
    def set_today(day: date):
        monkeypatch.setattr(dates, "today", lambda: day)

    set_today(date(2026, 3, 2))
    return set_today


@pytest.fixture
def contract(alice):
    return active_contract(alice, activated_on=date(2025, 6, 1))


@pytest.fixture
def complaint(alice, contract, django_capture_on_commit_callbacks):
    """Alice's complaint, filed online on 2 March 2026 with one attachment, and its acknowledgement sent."""
    with django_capture_on_commit_callbacks(execute=True):
        return services.file_complaint(
            kind="complaint",
            topic="fatturazione",
            channel="portal",
            description="Consumi stimati troppo alti.",
            sent_on=date(2026, 3, 2),
            customer=alice,
            service=contract.services.get(),
            attachments=[SimpleUploadedFile("lettura.pdf", PDF)],
            by=alice.user,
        )


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob.user)
    return client


def answer(complaint, staff_user, *, on_day):
    complaint.reply_complaint = "Ci ha scritto dei consumi."
    complaint.reply_checks = "Abbiamo verificato le letture."
    complaint.reply_conclusions = "Le letture sono corrette."
    complaint.reply_rights = "Può rivolgersi al Servizio Conciliazione."
    complaint.save()
    return services.send_reply(complaint=complaint, answered_on=on_day, by=staff_user)


def detail(client, complaint):
    return client.get(reverse("complaints:detail", args=[complaint.code]))


def zip_names(response) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist())


# ---------------------------------------------------------------------------------------------------------
# The detail page
# ---------------------------------------------------------------------------------------------------------


def test_the_detail_shows_status_dates_history_and_attachments(alice_client, complaint, on):
    on(date(2026, 3, 20))
    html = detail(alice_client, complaint).content.decode()
    assert complaint.code in html
    assert "Ricevuto" in html  # status
    assert "02/03/2026" in html and "01/04/2026" in html
    assert "mancano 12 giorni" in html
    assert "Pratica ricevuta" in html
    assert "lettura.pdf" in html
    assert "Consumi stimati troppo alti." in html


def test_internal_notes_and_internal_attachments_are_never_shown_or_served(
    alice_client, complaint, staff_user, on
):
    services.add_note(complaint=complaint, text="Cliente difficile, sentire il distributore", by=staff_user)
    internal = services.attach(
        complaint=complaint,
        upload=SimpleUploadedFile("verifica-interna.pdf", PDF),
        by=staff_user,
        internal=True,
    )
    services.assign(complaint=complaint, to=staff_user, by=staff_user)
    html = detail(alice_client, complaint).content.decode()
    assert "Cliente difficile" not in html
    assert "verifica-interna.pdf" not in html
    assert "Nota interna" not in html and "Assegnato" not in html
    response = alice_client.get(reverse("complaints:attachment", args=[complaint.code, internal.pk]))
    assert response.status_code == 404


def test_an_attachment_is_served_to_its_owner(alice_client, complaint):
    item = complaint.attachments.get()
    response = alice_client.get(reverse("complaints:attachment", args=[complaint.code, item.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert 'filename="lettura.pdf"' in response["Content-Disposition"]


def test_a_message_with_attachments_reaches_the_case_and_answers_a_request_for_information(
    alice_client, complaint, staff_user
):
    services.ask_customer(complaint=complaint, text="Ci mandi la foto del contatore?", by=staff_user)
    html = detail(alice_client, complaint).content.decode()
    assert "Ci mandi la foto del contatore?" in html and "Rispondi" in html

    photo = SimpleUploadedFile("contatore.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    response = alice_client.post(
        reverse("complaints:detail", args=[complaint.code]), {"text": "Ecco la foto.", "attachments": [photo]}
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.IN_PROGRESS
    message = complaint.events.get(kind=ComplaintEvent.Kind.MESSAGE_FROM_CUSTOMER)
    assert message.text == "Ecco la foto." and message.attachments.get().original_name == "contatore.png"


def test_a_message_is_refused_with_a_message_when_the_case_would_exceed_five_attachments(
    alice_client, complaint
):
    files = [SimpleUploadedFile(f"f{n}.pdf", PDF) for n in range(5)]  # the case has one already
    response = alice_client.post(
        reverse("complaints:detail", args=[complaint.code]), {"text": "Altri documenti", "attachments": files}
    )
    assert response.status_code == 200
    assert "Puoi allegare al massimo 4 file: ne hai scelti 5." in response.content.decode()
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.MESSAGE_FROM_CUSTOMER).exists()


@pytest.mark.parametrize("data", [{}, {"text": ""}, {"text": "x" * 5001}])
def test_a_bad_message_is_answered_with_a_message_never_an_error(alice_client, complaint, data):
    response = alice_client.post(reverse("complaints:detail", args=[complaint.code]), data)
    assert response.status_code == 200 and "alert-danger" in response.content.decode()


def test_the_status_report_button_records_the_request_and_says_the_state(
    alice_client, complaint, on, django_capture_on_commit_callbacks
):
    on(date(2026, 3, 20))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("complaints:status_report", args=[complaint.code]), follow=True)
    html = response.content.decode()
    assert complaint.events.filter(kind=ComplaintEvent.Kind.STATUS_REPORT).count() == 1
    assert f"Stato della pratica {complaint.code}: Ricevuto." in html
    assert "Risposta entro il 01/04/2026: mancano 12 giorni." in html
    assert len(mail.outbox) == 1 and complaint.code in mail.outbox[0].subject
    assert "Stato: Ricevuto." in mail.outbox[0].body

    # A double click asks once.
    alice_client.post(reverse("complaints:status_report", args=[complaint.code]))
    assert complaint.events.filter(kind=ComplaintEvent.Kind.STATUS_REPORT).count() == 1


def test_the_status_report_needs_a_post(alice_client, complaint):
    assert alice_client.get(reverse("complaints:status_report", args=[complaint.code])).status_code == 405


# ---------------------------------------------------------------------------------------------------------
# The answer, the indemnity, conciliation and the dossier
# ---------------------------------------------------------------------------------------------------------


def test_the_answer_shows_the_reply_letter_and_unsatisfactory_opens_conciliation_and_the_dossier(
    alice_client, complaint, contract, staff_user, on, alice
):
    answer(complaint, staff_user, on_day=date(2026, 3, 20))
    on(date(2026, 3, 25))
    html = detail(alice_client, complaint).content.decode()
    assert "Ti abbiamo inviato la risposta motivata il 20/03/2026." in html
    assert reverse("complaints:reply_pdf", args=[complaint.code]) in html
    assert "Puoi chiedere la conciliazione" not in html
    reply = alice_client.get(reverse("complaints:reply_pdf", args=[complaint.code]))
    assert b"".join(reply.streaming_content) == REPLY_PDF

    response = alice_client.post(reverse("complaints:unsatisfactory", args=[complaint.code]), follow=True)
    html = response.content.decode()
    complaint.refresh_from_db()
    assert complaint.unsatisfactory
    assert complaint.events.filter(kind=ComplaintEvent.Kind.UNSATISFACTORY).count() == 1
    assert "Puoi chiedere la conciliazione" in html
    assert "Servizio Conciliazione" in html and "www.arera.it" in html
    assert "La risposta non mi soddisfa" not in html  # asked once

    # The contract's letters and the contested bills are in the owner's dossier.
    notify(
        customer=alice,
        template_key="generic",
        context={"title": "Rinnovo", "message": "Il contratto si rinnova."},
        channels=[],
        dedupe_key="test.renewal",
        document=PDF,
        document_name="rinnovo.pdf",
        about=contract,
    )
    invoice = issued_invoice(contract, issued_on=date(2026, 2, 2))
    invoice.pdf.save("b.pdf", ContentFile(PDF))
    dossier = alice_client.get(reverse("complaints:dossier", args=[complaint.code]))
    assert dossier.status_code == 200 and dossier["Content-Type"] == "application/zip"
    names = zip_names(dossier)
    assert f"01-reclamo-{complaint.code}.pdf" in names
    assert f"02-risposta-{complaint.code}.pdf" in names
    assert "allegati/01-lettura.pdf" in names
    assert any(name.startswith("contratto/") and name.endswith("rinnovo.pdf") for name in names)
    assert f"bollette/bolletta-{invoice.number.replace('/', '-')}.pdf" in names
    assert "indice.txt" in names


def test_unsatisfactory_before_the_answer_is_refused_politely(alice_client, complaint):
    response = alice_client.post(reverse("complaints:unsatisfactory", args=[complaint.code]), follow=True)
    assert response.status_code == 200
    assert "dopo averla ricevuta" in response.content.decode()
    complaint.refresh_from_db()
    assert not complaint.unsatisfactory


def test_conciliation_is_offered_40_days_after_sending_without_an_answer(alice_client, complaint, on):
    on(date(2026, 4, 10))  # 39 days
    assert "Puoi chiedere la conciliazione" not in detail(alice_client, complaint).content.decode()
    on(date(2026, 4, 11))  # 40 days
    html = detail(alice_client, complaint).content.decode()
    assert "Puoi chiedere la conciliazione" in html
    assert "in ritardo di 10 giorni" in html


def test_a_communications_complaint_points_to_conciliaweb(alice_client, contract, alice, on):
    mobile = mobile_line(contract)
    complaint = services.file_complaint(
        kind="telecom_complaint",
        topic="qualita_commerciale",
        channel="portal",
        description="Nessun segnale.",
        sent_on=date(2026, 3, 2),
        customer=alice,
        service=mobile,
    )
    on(date(2026, 4, 20))
    html = detail(alice_client, complaint).content.decode()
    assert "Conciliaweb" in html and "Co.re.com" in html
    assert "www.arera.it" not in html


def issued_invoice(contract, *, issued_on, price="40.00"):
    draft = billing_services.create_draft(
        contract=contract,
        period_start=date(issued_on.year, issued_on.month, 1),
        period_end=date(issued_on.year, issued_on.month, 1),
        lines=[
            LineSpec(
                kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=Decimal(price), vat_rate=10
            )
        ],
    )
    return billing_services.issue_invoice(invoice=draft, issued_on=issued_on)


def test_a_late_answer_shows_the_indemnity_and_the_invoice_it_was_credited_on(
    alice_client, complaint, contract, staff_user, on
):
    answer(complaint, staff_user, on_day=date(2026, 4, 10))  # due 01/04/2026: 9 days late
    complaint.refresh_from_db()
    assert complaint.indemnity_amount == Decimal("30.00")
    on(date(2026, 4, 12))
    html = detail(alice_client, complaint).content.decode()
    assert "30,00" in html and "Lo detraiamo dalla prossima bolletta" in html

    invoice = issued_invoice(contract, issued_on=date(2026, 5, 2))
    billing_services.record_credit_uses(invoice, [(complaint.indemnity_credit, Decimal("30.00"))])
    html = detail(alice_client, complaint).content.decode()
    assert f"bolletta n. {invoice.number}" in html
    assert reverse("billing:invoice", args=[invoice.pk]) in html


# ---------------------------------------------------------------------------------------------------------
# Tracking without an account: the link by e-mail
# ---------------------------------------------------------------------------------------------------------


def file_public(client, email="pippo@example.org"):
    page = client.get(reverse("complaints:public_new")).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', page)[1]
    client.post(
        reverse("complaints:public_new"),
        {
            "sender_name": "Pippo Bianchi",
            "tax_id": COMPANY_VAT,
            "supply_reference": "IT001E12345678",
            "email": email,
            "reply_address": "Via Po 1, 10121 Torino (TO)",
            "kind": "complaint",
            "topic": "contratti",
            "description": "Non ho mai firmato questo contratto.",
            "submission_token": token,
        },
    )
    return Complaint.objects.get(sender_email=email)


def test_code_and_email_bring_a_link_that_opens_the_case(client, django_capture_on_commit_callbacks, on):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = file_public(client)
    client.cookies.clear()  # later, from another device
    assert detail(client, complaint).status_code == 302  # to the login page: no access yet

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("complaints:track_request"),
            {"code": complaint.code.lower(), "email": "PIPPO@example.org"},
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Se i dati corrispondono a una pratica, riceverai a breve una e-mail con il link." in page

    assert [message.to for message in mail.outbox] == [["pippo@example.org"]]
    link = re.search(r"http://testserver(/reclami/segui/[^\s]+/)", mail.outbox[0].body)[1]
    assert "7 giorni" in mail.outbox[0].body

    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == reverse(
        "complaints:detail", args=[complaint.code]
    )
    html = client.get(opened["Location"]).content.decode()
    assert complaint.code in html and "Richiesta di informazioni" in html and "In attesa" not in html
    assert "01/04/2026" in html

    # The visitor can ask for a status report and download the copy, but sees no contract or bills.
    client.post(reverse("complaints:status_report", args=[complaint.code]))
    assert complaint.events.filter(kind=ComplaintEvent.Kind.STATUS_REPORT, actor=None).count() == 1
    assert client.get(reverse("complaints:copy_pdf", args=[complaint.code])).status_code == 200
    names = zip_names(client.get(reverse("complaints:dossier", args=[complaint.code])))
    assert not any(name.startswith(("contratto/", "bollette/")) for name in names)


def test_a_wrong_email_gets_the_same_answer_and_no_link(client, django_capture_on_commit_callbacks):
    complaint = file_public(client)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        wrong = client.post(
            reverse("complaints:track_request"), {"code": complaint.code, "email": "x@example.org"}
        )
        right = client.post(
            reverse("complaints:track_request"), {"code": complaint.code, "email": "pippo@example.org"}
        )
    assert wrong["Location"] == right["Location"]
    assert [message.to for message in mail.outbox] == [["pippo@example.org"]]


def test_a_tampered_link_shows_a_clear_page(client, complaint):
    token = selectors.make_tracking_token(complaint)
    response = client.get(reverse("complaints:track", args=[token[:-2] + "xx"]))
    assert response.status_code == 404
    assert "Il link non è valido" in response.content.decode()
    assert detail(client, complaint).status_code == 302  # no access was granted


def test_an_expired_link_shows_a_clear_page(client, complaint, monkeypatch):
    eight_days_ago = time.time() - 8 * 86400
    monkeypatch.setattr(signing.time, "time", lambda: eight_days_ago)
    token = selectors.make_tracking_token(complaint)
    monkeypatch.undo()
    response = client.get(reverse("complaints:track", args=[token]))
    assert response.status_code == 410
    assert "Il link è scaduto" in response.content.decode()
    assert detail(client, complaint).status_code == 302


def test_a_link_stops_working_when_the_cases_secret_changes(client, complaint):
    token = selectors.make_tracking_token(complaint)
    Complaint.objects.filter(pk=complaint.pk).update(tracking_secret="rotated")
    assert client.get(reverse("complaints:track", args=[token])).status_code == 404


def test_tracking_requests_are_rate_limited(client):
    for _attempt in range(views.RATE_LIMIT):
        client.post(reverse("complaints:track_request"), {"code": "R-2026-000001", "email": "a@example.org"})
    response = client.post(
        reverse("complaints:track_request"), {"code": "R-2026-000001", "email": "a@example.org"}
    )
    assert response.status_code == 429


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"code": "12", "email": "a@example.org"},
        {"code": "R-2026-000001", "email": "nope"},
        {"code": "x" * 50},
    ],
)
def test_bad_tracking_input_is_answered_with_a_message_never_an_error(client, data):
    response = client.post(reverse("complaints:track_request"), data)
    assert response.status_code == 200 and "alert-danger" in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Nobody else's case
# ---------------------------------------------------------------------------------------------------------


def test_bob_gets_404_for_everything_of_alices_case(bob_client, complaint, staff_user):
    answer(complaint, staff_user, on_day=date(2026, 3, 20))
    code = complaint.code
    item = complaint.attachments.get()
    for url in (
        reverse("complaints:detail", args=[code]),
        reverse("complaints:copy_pdf", args=[code]),
        reverse("complaints:reply_pdf", args=[code]),
        reverse("complaints:dossier", args=[code]),
        reverse("complaints:attachment", args=[code, item.pk]),
    ):
        assert bob_client.get(url).status_code == 404, url
    for url in (
        reverse("complaints:detail", args=[code]),
        reverse("complaints:status_report", args=[code]),
        reverse("complaints:unsatisfactory", args=[code]),
    ):
        assert bob_client.post(url, {"text": "hello"}).status_code == 404, url
    complaint.refresh_from_db()
    assert not complaint.unsatisfactory
    assert not complaint.events.filter(kind__in=["status_report", "message_from_customer"]).exists()
    assert code not in bob_client.get(reverse("complaints:list")).content.decode()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, complaint):
    response = client.get(reverse("complaints:dossier", args=[complaint.code]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_attachment_of_another_case_is_404_even_with_the_right_code(alice_client, complaint, bob):
    bob_complaint = services.file_complaint(
        kind="complaint",
        topic="altro",
        channel="portal",
        description="x",
        sent_on=date(2026, 3, 2),
        customer=bob,
        service=active_contract(bob).services.get(),
        attachments=[SimpleUploadedFile("bob.pdf", PDF)],
    )
    response = alice_client.get(
        reverse("complaints:attachment", args=[complaint.code, bob_complaint.attachments.get().pk])
    )
    assert response.status_code == 404
