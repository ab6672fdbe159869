"""The public complaint form (no account), and the Assistenza e Reclami page."""

import re
from datetime import date

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse

from complaints import views
from complaints.models import Complaint
from portal.lib import dates
from portal.notifications.models import Communication
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a stand-in document\n%%EOF\n"
COMPANY_VAT = "07469040633"  # a valid partita IVA (check digit)


@pytest.fixture(autouse=True)
def environment(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(dates, "today", lambda: date(2026, 7, 1))
    cache.clear()


@pytest.fixture
def contract(alice):
    return active_contract(alice, activated_on=date(2025, 6, 1))


def token_of(response) -> str:
    return re.search(r'name="submission_token" value="([^"]+)"', response.content.decode())[1]


def public_data(**overrides):
    data = {
        "sender_name": "Alice Verdi",
        "tax_id": "",
        "supply_reference": "",
        "email": "alice.personale@example.org",
        "reply_address": "Via Toledo 10, 80134 Napoli (NA)",
        "kind": "complaint",
        "topic": "misura",
        "description": "Il contatore segna consumi impossibili da due mesi.",
        "website": "",
    }
    data.update(overrides)
    return data


def post_public(client, **overrides):
    token = token_of(client.get(reverse("complaints:public_new")))
    return client.post(
        reverse("complaints:public_new"), {**public_data(**overrides), "submission_token": token}
    )


def test_the_form_is_open_to_everyone(client):
    response = client.get(reverse("complaints:public_new"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Codice fiscale o partita IVA" in html and "POD, PDR o codice cliente" in html
    assert "<legend" in html  # radio groups are fieldsets with a legend


def test_tax_id_and_pod_of_one_supply_identify_the_customer(client, alice, contract):
    service = contract.services.get()
    response = post_public(client, tax_id=alice.codice_fiscale.lower(), supply_reference=f" {service.pod} ")

    assert response.status_code == 302 and response["Location"] == reverse("complaints:public_done")
    complaint = Complaint.objects.get()
    assert complaint.customer == alice and complaint.contract == contract and complaint.service == service
    assert complaint.kind == Complaint.Kind.COMPLAINT
    assert complaint.channel == Complaint.Channel.PUBLIC_FORM
    assert complaint.sender_email == "alice.personale@example.org"
    assert complaint.sender_tax_id == alice.codice_fiscale
    assert complaint.reply_address == "Via Toledo 10, 80134 Napoli (NA)"
    assert complaint.supply_address == service.supply_address


def test_tax_id_and_customer_code_identify_the_customer(client, alice, contract):
    post_public(client, tax_id=alice.codice_fiscale, supply_reference=alice.code)
    complaint = Complaint.objects.get()
    assert complaint.customer == alice
    assert complaint.contract == contract  # the customer's only contract
    assert complaint.kind == Complaint.Kind.COMPLAINT


def test_a_right_tax_id_with_a_wrong_supply_is_an_unidentified_information_request(client, alice, contract):
    identified = post_public(
        client, tax_id=alice.codice_fiscale, supply_reference=contract.services.get().pod
    )
    identified_page = client.get(identified["Location"]).content.decode()
    Complaint.objects.all().delete()

    other = post_public(client, tax_id=alice.codice_fiscale, supply_reference="IT001E99999999")
    complaint = Complaint.objects.get()
    assert complaint.customer is None and complaint.service is None
    assert complaint.kind == Complaint.Kind.INFORMATION_REQUEST
    assert complaint.supply_reference == "IT001E99999999"  # kept as the sender wrote it
    assert complaint.sender_tax_id == alice.codice_fiscale

    # Never reveal whether the tax id matched: the same redirect and the same page but for the code.
    unidentified_page = client.get(other["Location"]).content.decode()
    assert identified["Location"] == other["Location"]
    assert "Richiesta di informazioni" not in unidentified_page
    codes = re.compile(r"R-\d{4}-\d{6}")
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", codes.sub("CODE", identified_page)) == strip.sub(
        "", codes.sub("CODE", unidentified_page)
    )


def test_an_unknown_sender_gets_the_acknowledgement_at_the_given_address(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_public(
            client, tax_id=COMPANY_VAT, supply_reference="C000000000", sender_name="Pizzeria Sole srl"
        )
    complaint = Complaint.objects.get()
    assert complaint.customer is None and complaint.sender_name == "Pizzeria Sole srl"

    assert [message.to for message in mail.outbox] == [["alice.personale@example.org"]]
    message = mail.outbox[0]
    assert complaint.code in message.subject
    assert "Segui la tua pratica" in message.body
    assert "Trovi questa comunicazione anche nella tua Area Clienti" not in message.body
    assert message.attachments[0][0] == f"reclamo-{complaint.code}.pdf"
    assert Communication.objects.get(template_key="complaint_ack").customer is None

    # The confirmation page says the code and the dates; the case itself is reached through the e-mails.
    html = client.get(response["Location"]).content.decode()
    assert complaint.code in html and "01/07/2026" in html and "31/07/2026" in html
    assert client.get(reverse("complaints:detail", args=[complaint.code])).status_code == 302  # login


def test_an_identified_senders_case_is_reached_only_through_the_customers_own_address(
    client, alice, contract, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_public(client, tax_id=alice.codice_fiscale, supply_reference=contract.services.get().pod)
    complaint = Complaint.objects.get()
    assert complaint.customer == alice and complaint.sender_email == "alice.personale@example.org"
    # The acknowledgement went to the customer's address on file, like every communication of the case.
    assert Communication.objects.get(template_key="complaint_ack").customer == alice

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        typed = client.post(
            reverse("complaints:track_request"),
            {"code": complaint.code, "email": "alice.personale@example.org"},
        )
        on_file = client.post(
            reverse("complaints:track_request"), {"code": complaint.code, "email": alice.email}
        )
    assert typed["Location"] == on_file["Location"]
    assert [message.to for message in mail.outbox] == [[alice.email]]


def test_attachments_are_checked_like_in_the_area_clienti(client):
    token = token_of(client.get(reverse("complaints:public_new")))
    fake = SimpleUploadedFile("foto.png", b"GIF89a not a png", content_type="image/png")
    good = SimpleUploadedFile("bolletta.pdf", PDF, content_type="application/pdf")
    data = {**public_data(tax_id=COMPANY_VAT, supply_reference="C1"), "submission_token": token}
    response = client.post(reverse("complaints:public_new"), {**data, "attachments": [fake, good]})
    assert response.status_code == 200
    assert "Il file «foto.png» non è un PDF, un JPEG o un PNG." in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_double_submit_files_one_case(client):
    token = token_of(client.get(reverse("complaints:public_new")))
    data = {**public_data(tax_id=COMPANY_VAT, supply_reference="C1"), "submission_token": token}
    client.post(reverse("complaints:public_new"), data)
    client.post(reverse("complaints:public_new"), data)
    assert Complaint.objects.count() == 1


def test_the_honeypot_files_nothing_and_answers_as_usual(client):
    response = post_public(client, tax_id=COMPANY_VAT, supply_reference="C1", website="http://spam.example")
    assert response.status_code == 302 and response["Location"] == reverse("complaints:public_done")
    assert not Complaint.objects.exists()
    assert client.get(response["Location"]).status_code == 200


def test_the_form_is_rate_limited_per_client_address(client):
    for _attempt in range(views.RATE_LIMIT):
        assert post_public(client, tax_id=COMPANY_VAT, supply_reference="C1").status_code == 302
    response = post_public(client, tax_id=COMPANY_VAT, supply_reference="C1")
    assert response.status_code == 429
    assert "troppi invii" in response.content.decode()
    assert Complaint.objects.count() == views.RATE_LIMIT

    # Another address is not affected.
    other = client.get(reverse("complaints:public_new"))
    data = {**public_data(tax_id=COMPANY_VAT, supply_reference="C1"), "submission_token": token_of(other)}
    assert client.post(reverse("complaints:public_new"), data, REMOTE_ADDR="10.0.0.9").status_code == 302


@pytest.mark.parametrize(
    "overrides",
    [
        {"tax_id": "RSSMRA80A01F839X"},  # wrong check character
        {"tax_id": "12345678901"},
        {"tax_id": "x" * 40},
        {"supply_reference": ""},
        {"email": "not-an-address"},
        {"reply_address": ""},
        {"sender_name": ""},
        {"kind": "whatever"},
        {"topic": ""},
        {"description": ""},
    ],
)
def test_bad_input_is_answered_with_a_message_never_an_error(client, overrides):
    data = {"tax_id": COMPANY_VAT, "supply_reference": "C1", **overrides}
    response = client.post(reverse("complaints:public_new"), public_data(**data))
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_wrong_tax_id_says_what_is_wrong_with_the_format_only(client):
    response = client.post(
        reverse("complaints:public_new"), public_data(tax_id="RSSMRA80A01F839X", supply_reference="C1")
    )
    assert (
        "Scrivi un codice fiscale (16 caratteri) o una partita IVA (11 cifre) validi."
        in response.content.decode()
    )


# ---------------------------------------------------------------------------------------------------------
# Assistenza e Reclami
# ---------------------------------------------------------------------------------------------------------


def test_the_assistenza_page_carries_the_suppliers_channels(client, settings):
    response = client.get(reverse("complaints:help"))
    html = response.content.decode()
    assert response.status_code == 200
    supplier = settings.SUPPLIER
    for text in (
        supplier["phone_private"],
        supplier["phone_business"],
        supplier["phone_mobile"],
        supplier["email"],
        supplier["pec"],
        supplier["address"],
        "dal lunedì al venerdì 8:30 – 21:30",
        "Servizio Conciliazione",
        "40 giorni",
        "Conciliaweb",
        "255/24/CONS",
    ):
        assert text in html, text
    for name in (
        "complaints:form_pdf",
        "complaints:public_new",
        "complaints:new",
        "complaints:track_request",
    ):
        assert f'href="{reverse(name)}"' in html, name


def test_the_quality_indicators_link_is_shown_only_when_the_page_exists(client, monkeypatch):
    try:
        quality_url = reverse("complaints_quality:public")
    except NoReverseMatch:
        quality_url = None
    if quality_url:
        assert f'href="{quality_url}"' in client.get(reverse("complaints:help")).content.decode()

    def no_quality_page(name, *args, **kwargs):
        if name == "complaints_quality:public":
            raise NoReverseMatch(name)
        return reverse(name, *args, **kwargs)

    monkeypatch.setattr(views, "reverse", no_quality_page)
    response = client.get(reverse("complaints:help"))
    assert response.status_code == 200
    assert "Vedi gli indicatori di qualità" not in response.content.decode()


def test_every_page_links_to_the_assistenza_page(client):
    assert f'href="{reverse("complaints:help")}"' in client.get(reverse("login")).content.decode()
