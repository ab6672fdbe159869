"""E-mails that lead somewhere: every customer e-mail links to the page it is about, answers at customer
service, and every automatic e-mail says so (Auto-Submitted) with a Message-ID in the portal's domain.

Each kind is triggered through the real service, sent through the portal's backend (around locmem) and read
back with the standard library's parser, as a mail client would."""

import email
import email.policy
import html
import re
from datetime import date
from decimal import Decimal
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone

from billing import services as billing_services
from billing.dunning import notices
from billing.models import DefaultNotice, InvoiceLine
from billing.services import LineSpec
from billing.tasks import send_staff_alert as billing_staff_alert
from complaints import services as complaint_services
from complaints.models import Complaint
from complaints.tasks import send_staff_alert as complaint_staff_alert
from complaints.tasks import send_tracking_link
from contracts import services as contract_services
from contracts import tasks as contract_tasks
from portal import deadlines
from portal.lib import emails
from portal.lib.dates import ROME, add_days, rome_date
from portal.notifications.services import notify, send_due_emails
from tests.factories import ContractFactory, CustomerFactory, UserFactory, active_contract

pytestmark = pytest.mark.django_db

BASE = "https://areaclienti.example.it"
DOMAIN = "areaclienti.example.it"
CUSTOMER_SERVICE = "servizioclienti@optimaitalia.com"


@pytest.fixture(autouse=True)
def portal_backend(settings, outbox_settings):
    """The portal's own backend, as in production, delivering to locmem instead of SMTP."""
    settings.EMAIL_BACKEND = "portal.lib.emails.EmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PORTAL_BASE_URL = BASE
    settings.EMAIL_MESSAGE_ID_DOMAIN = DOMAIN
    settings.SUPPLIER = {**settings.SUPPLIER, "email": CUSTOMER_SERVICE}
    cache.clear()


def sent() -> list:
    """Send what the outbox holds and return the messages as a mail client parses them."""
    send_due_emails(now=timezone.now())
    return [parse(message) for message in mail.outbox]


def parse(message):
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def only(messages):
    assert len(messages) == 1, [m["Subject"] for m in messages]
    return messages[0]


def subject_of(parsed) -> str:
    # Django folds a non-ASCII subject onto a continuation line: the parser keeps the fold's space.
    return str(parsed["Subject"]).strip()


def text_of(parsed) -> str:
    return parsed.get_body(preferencelist=("plain",)).get_content()


def html_of(parsed) -> str:
    return parsed.get_body(preferencelist=("html",)).get_content()


def assert_automatic(parsed):
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(rf"<[^@<>]+@{re.escape(DOMAIN)}>", parsed["Message-ID"]), parsed["Message-ID"]


def assert_customer_email(parsed, *, language="it"):
    """A customer e-mail: automatic, answered at customer service, the branded HTML in `language`."""
    assert_automatic(parsed)
    assert parsed["Reply-To"] == CUSTOMER_SERVICE
    page = html_of(parsed)
    assert f'<html lang="{language}">' in page
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and unescape(title[1]) == subject_of(parsed)
    assert "Optima Italia S.p.A." in page and "Optima Italia S.p.A." in text_of(parsed)  # the layout's footer


def assert_links_to(parsed, url):
    """`url` is in both parts, as a link in the HTML one."""
    assert url.startswith(BASE + "/")
    assert url in text_of(parsed)
    assert f'href="{html.escape(url)}"' in html_of(parsed)


def assert_opens(client, url, *, contains=""):
    parts = urlsplit(url)
    response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert response.status_code == 200
    if contains:
        assert contains in response.content.decode()
    return response


# ---------------------------------------------------------------------------------------------------------
# Complaints
# ---------------------------------------------------------------------------------------------------------


def file_complaint(*, customer=None, contract=None, **sender):
    complaint = complaint_services.file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL if contract else Complaint.Channel.PUBLIC_FORM,
        description="La bolletta di settembre è il doppio del solito: chiedo una verifica delle letture.",
        sent_on=add_days(rome_date(timezone.now()), -3),
        customer=customer,
        contract=contract,
        service=contract.services.get() if contract else None,
        **sender,
    )
    complaint_services.send_acknowledgement(complaint)
    return complaint


@pytest.fixture
def alices_complaint(alice):
    return file_complaint(contract=active_contract(alice, activated_on=date(2025, 6, 1)))


@pytest.fixture
def public_complaint(db):
    return file_complaint(
        sender_name="Paolo Gialli",
        sender_email="paolo.gialli@example.it",
        reply_address="Via Toledo 5, 80134 Napoli",
    )


def case_page(complaint):
    return BASE + reverse("complaints:detail", args=[complaint.code])


def tracking_page(complaint):
    return f"{BASE}{reverse('complaints:track_request')}?codice={complaint.code}"


def test_the_acknowledgement_leads_a_customer_to_the_case_page(alices_complaint, alice_client):
    message = only(sent())
    assert_customer_email(message)
    assert_links_to(message, case_page(alices_complaint))
    assert_opens(alice_client, case_page(alices_complaint), contains=alices_complaint.code)


def test_the_acknowledgement_leads_a_sender_without_account_to_segui_la_tua_pratica_with_the_code(
    public_complaint, client
):
    message = only(sent())
    assert_customer_email(message)
    url = tracking_page(public_complaint)
    assert_links_to(message, url)
    assert "Segui la tua pratica" in unescape(html_of(message))
    page = assert_opens(client, url)
    assert f'value="{public_complaint.code}"' in page.content.decode()


def test_a_customer_without_an_account_is_led_to_the_tracking_page_too(client):
    customer = CustomerFactory(
        user=None, first_name="Carla", last_name="Esposito", email="carla@example.it", code="C900001234"
    )
    complaint = file_complaint(contract=active_contract(customer, activated_on=date(2025, 6, 1)))
    message = only(sent())
    assert_links_to(message, tracking_page(complaint))
    assert case_page(complaint) not in text_of(message)


def test_a_request_for_information_leads_to_the_case(alices_complaint, alice_client):
    complaint_services.ask_customer(
        complaint=alices_complaint, text="Ci mandi la foto del contatore?", by=None
    )
    message = sent()[-1]  # after the acknowledgement
    assert "informazioni" in subject_of(message)
    assert_customer_email(message)
    assert_links_to(message, case_page(alices_complaint))
    assert_opens(alice_client, case_page(alices_complaint))


def test_a_status_report_to_a_sender_without_account_leads_to_the_tracking_page(public_complaint, client):
    complaint_services.request_status_report(complaint=public_complaint)
    message = sent()[-1]
    assert "Resoconto" in subject_of(message)
    assert_customer_email(message)
    assert_links_to(message, tracking_page(public_complaint))
    assert_opens(client, tracking_page(public_complaint))


def test_the_reply_leads_to_the_case(alices_complaint, alice_client):
    for field, text in {
        "reply_complaint": "Ci ha scritto che la bolletta di settembre è il doppio del solito.",
        "reply_checks": "Abbiamo esaminato le letture del distributore.",
        "reply_conclusions": "La lettura era stimata: rettificheremo la bolletta.",
        "reply_rights": "Può rivolgersi al Servizio Conciliazione di ARERA.",
    }.items():
        setattr(alices_complaint, field, text)
    alices_complaint.save()
    complaint_services.send_reply(complaint=alices_complaint, answered_on=rome_date(timezone.now()), by=None)
    message = sent()[-1]
    assert "risposta" in subject_of(message)
    assert_customer_email(message)
    assert_links_to(message, case_page(alices_complaint))
    assert_opens(alice_client, case_page(alices_complaint))


def test_the_40_day_conciliation_notice_to_a_sender_without_account_leads_to_the_tracking_page(
    public_complaint, client
):
    complaint_services.tell_about_conciliation(public_complaint, today=rome_date(timezone.now()))
    message = sent()[-1]
    assert "conciliazione" in subject_of(message)
    assert_customer_email(message)
    assert_links_to(message, tracking_page(public_complaint))
    assert_opens(client, tracking_page(public_complaint))


def test_the_tracking_link_is_an_automatic_customer_email_in_the_visitors_language(public_complaint, client):
    sent()  # the acknowledgement
    mail.outbox = []
    send_tracking_link(
        public_complaint.code,
        "paolo.gialli@example.it",
        language="en",
        site_url=BASE,
        request_id="request-1",
    )
    message = only(sent())
    assert_customer_email(message, language="en")
    link = re.search(rf"{re.escape(BASE)}/reclami/segui/\S+/", text_of(message))[0]
    assert f'href="{link}"' in html_of(message)
    response = client.get(urlsplit(link).path, follow=True)
    assert response.status_code == 200 and public_complaint.code in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------------------


def at(day: date, hour=6):
    return timezone.datetime(day.year, day.month, day.day, hour, tzinfo=ROME)


@pytest.fixture
def contract(alice):
    return active_contract(alice, activated_on=date(2026, 2, 15))  # expiry 01/03/2027


def contract_page(contract):
    return BASE + reverse("contracts:detail", args=[contract.number])


def test_the_renewal_notice_leads_to_the_contract(contract, alice_client):
    deadlines.run_sweep("contracts.renewal_notices", now=at(date(2026, 11, 21)))
    message = only(sent())
    assert "Rinnovo del contratto" in subject_of(message)
    assert_customer_email(message)
    assert_links_to(message, contract_page(contract))
    assert_opens(alice_client, contract_page(contract), contains=contract.number)


def test_a_condition_change_leads_to_the_contract_in_english_for_an_english_reader(contract, alice_client):
    contract.customer.language = "en"
    contract.customer.save()
    change = contract_services.start_condition_change(
        title="Nuovo corrispettivo",
        description="Da 8 a 10 € al mese.",
        effective_on=date(2027, 4, 1),
        raises_prices=True,
        sent_on=date(2026, 11, 25),
        contracts=[contract],
    )
    contract_services.send_condition_change_notice(change.notices.get(), today=date(2026, 11, 25))
    message = only(sent())
    assert_customer_email(message, language="en")
    assert_links_to(message, contract_page(contract))
    assert "See your contract" in text_of(message)
    assert_opens(alice_client, contract_page(contract))


def test_the_withdrawal_receipt_leads_to_the_withdrawal_page(contract, alice_client):
    withdrawal = contract_services.request_withdrawal(
        contract=contract, kind="switch", received_on=date(2026, 3, 10)
    )
    contract_tasks.send_withdrawal_receipt(withdrawal.pk)
    message = only(sent())
    url = BASE + reverse("contracts:withdrawal_done", args=[contract.number, withdrawal.pk])
    assert_customer_email(message)
    assert_links_to(message, url)
    assert_opens(alice_client, url)


# ---------------------------------------------------------------------------------------------------------
# Billing: the default notice (by PEC) and its closing
# ---------------------------------------------------------------------------------------------------------


def issue(contract, *, issued_on, period_month=1, amount="100.00"):
    draft = billing_services.create_draft(
        contract=contract,
        period_start=date(2026, period_month, 1),
        period_end=date(2026, period_month, 28),
        lines=[
            LineSpec(
                kind=InvoiceLine.Kind.CHARGE, description="Consumi", unit_price=Decimal(amount), vat_rate=0
            )
        ],
    )
    return billing_services.issue_invoice(invoice=draft, issued_on=issued_on)


@pytest.fixture
def pec_notice(alice):
    """A default notice for one unpaid bill of 100 €, sent by PEC on 13/03/2026."""
    alice.pec = "alice@pec.example.it"
    alice.save()
    contract = active_contract(alice, activated_on=date(2025, 12, 1))
    invoice = issue(contract, issued_on=date(2026, 1, 15))
    deadlines.run_sweep("billing.default_notices", now=at(date(2026, 2, 9)))
    notice = notices.record_dispatch(
        notice=DefaultNotice.objects.get(),
        channel="pec",
        sent_on=date(2026, 3, 13),
        by=None,
        now=at(date(2026, 3, 13)),
    )
    return notice, invoice


def test_the_default_notice_of_one_bill_leads_to_that_bill(pec_notice, alice_client):
    notice, invoice = pec_notice
    message = only(sent())
    assert message["To"] == "alice@pec.example.it"
    assert_customer_email(message)
    url = BASE + reverse("billing:invoice", args=[invoice.pk])
    assert_links_to(message, url)
    assert_opens(alice_client, url, contains=invoice.number)


def test_the_default_notice_of_several_bills_leads_to_the_bills(alice, alice_client):
    alice.pec = "alice@pec.example.it"
    alice.save()
    contract = active_contract(alice, activated_on=date(2025, 12, 1))
    issue(contract, issued_on=date(2026, 1, 15), period_month=1)
    issue(contract, issued_on=date(2026, 1, 16), period_month=2)
    deadlines.run_sweep("billing.default_notices", now=at(date(2026, 2, 10)))
    notices.record_dispatch(
        notice=DefaultNotice.objects.get(),
        channel="pec",
        sent_on=date(2026, 3, 13),
        by=None,
        now=at(date(2026, 3, 13)),
    )
    message = only(sent())
    assert_links_to(message, BASE + reverse("billing:invoices"))
    assert_opens(alice_client, BASE + reverse("billing:invoices"))


def test_the_closed_notice_leads_to_the_bills(pec_notice, alice, alice_client):
    billing_services.record_payment(
        customer=alice, amount=Decimal("100.00"), received_on=date(2026, 4, 10), method="bank_transfer"
    )
    message = sent()[-1]
    assert "costituzione in mora chiusa" in subject_of(message)
    assert_customer_email(message)
    assert_links_to(message, BASE + reverse("billing:invoices"))
    assert_opens(alice_client, BASE + reverse("billing:invoices"))


# ---------------------------------------------------------------------------------------------------------
# A message with no page of its own, and the default
# ---------------------------------------------------------------------------------------------------------


def test_a_message_about_no_page_leads_to_the_inbox(alice, alice_client):
    notify(
        customer=alice,
        template_key="generic",
        context={"title": "Aggiornamento", "message": "Il tuo contratto è stato aggiornato."},
        channels=["email"],
        dedupe_key="links-generic",
    )
    message = only(sent())
    assert_customer_email(message)
    assert_links_to(message, BASE + reverse("notifications:inbox"))
    assert_opens(alice_client, BASE + reverse("notifications:inbox"), contains="Aggiornamento")


# ---------------------------------------------------------------------------------------------------------
# Account e-mails: activation, already registered, password reset
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def carla(db):
    """A customer with a contract and no portal account yet."""
    customer = CustomerFactory(
        user=None,
        first_name="Carla",
        last_name="Esposito",
        email="carla.vecchia@example.it",
        code="C900001234",
        codice_fiscale="SPSCRL80A41F839C",
    )
    ContractFactory(customer=customer)
    return customer


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("it", "Area Clienti: attiva il tuo account", "Attiva l'account e scegli la password"),
        ("en", "Customer area: activate your account", "Activate your account and choose your password"),
    ],
)
def test_the_activation_email_is_branded_and_in_the_customers_language(
    client, carla, language, subject, words
):
    carla.language = language
    carla.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en" if language == "it" else "it"  # not the page's
    client.post(
        reverse("register"),
        {"tax_id": "SPSCRL80A41F839C", "customer_code": "C900001234", "email": "carla@example.it"},
    )
    message = parse(only(mail.outbox))
    assert subject_of(message) == subject
    assert_customer_email(message, language=language)
    assert words in unescape(html_of(message))
    link = re.search(r"http://testserver(/account/attiva/\S+/)", text_of(message))[1]
    assert f'href="http://testserver{link}"' in html_of(message)
    assert client.get(link).status_code == 200


def test_the_already_registered_email_is_branded(client, alice):
    alice.codice_fiscale = "SPSCRL80A41F839C"
    alice.save()
    ContractFactory(customer=alice)
    client.post(
        reverse("register"),
        {"tax_id": "SPSCRL80A41F839C", "customer_code": alice.code, "email": "alice@example.it"},
    )
    message = parse(only(mail.outbox))
    assert_customer_email(message)
    assert 'href="http://testserver/account/accedi/"' in html_of(message)


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("it", "Area Clienti: scegli una nuova password", "Scegli una nuova password"),
        ("en", "Customer area: choose a new password", "Choose a new password"),
    ],
)
def test_the_password_reset_email_is_branded_and_in_the_customers_language(
    client, alice, language, subject, words
):
    alice.language = language
    alice.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en" if language == "it" else "it"  # not the page's
    client.post(reverse("password_reset"), {"email": "alice@example.it"})
    message = parse(only(mail.outbox))
    assert subject_of(message) == subject
    assert_customer_email(message, language=language)
    assert words in html_of(message)
    link = re.search(r"http://testserver(/account/password/reset/\S+/)", text_of(message))[1]
    assert f'href="http://testserver{link}"' in html_of(message)
    assert client.get(link, follow=True).status_code == 200


def test_the_password_reset_of_an_account_without_customer_follows_the_page_language(client):
    UserFactory(email="staff@optima.example", is_staff=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(reverse("password_reset"), {"email": "staff@optima.example"})
    message = parse(only(mail.outbox))
    assert_customer_email(message, language="en")
    assert subject_of(message) == "Customer area: choose a new password"


# ---------------------------------------------------------------------------------------------------------
# Staff alerts and the backend itself
# ---------------------------------------------------------------------------------------------------------


def test_staff_alerts_are_automatic_with_our_message_id(alices_complaint):
    mail.outbox = []
    complaint_staff_alert(alices_complaint.pk, "R: risposta dovuta", ["reclami@optima.example"])
    billing_staff_alert(
        "Fattura elettronica scartata", "Il file è stato scartato.", ["fatture@optima.example"]
    )
    complaint_alert, billing_alert = (parse(message) for message in mail.outbox)
    for alert in (complaint_alert, billing_alert):
        assert_automatic(alert)
    assert alices_complaint.code in complaint_alert.get_content()


def test_the_backend_adds_the_headers_to_any_message_and_keeps_those_it_has():
    plain = EmailMessage("Prova", "Testo", to=["mario.rossi@example.it"])
    fixed = EmailMessage(
        "Prova",
        "Testo",
        to=["mario.rossi@example.it"],
        headers={"Message-ID": "<fixed@example.it>", "auto-submitted": "auto-replied"},
    )
    with get_connection() as connection:
        assert isinstance(connection, emails.EmailBackend)
        assert connection.send_messages([plain, fixed]) == 2

    plain, fixed = (parse(message) for message in mail.outbox)
    assert_automatic(plain)
    assert fixed["Message-ID"] == "<fixed@example.it>" and fixed["Auto-Submitted"] == "auto-replied"


def test_absolute_url_is_on_the_portal_base_url():
    assert emails.absolute_url("billing:invoice", 12) == f"{BASE}/bollette/12/"
    assert emails.absolute_url("complaints:track_request", query={"codice": "R-2026-000001"}) == (
        f"{BASE}/reclami/segui/?codice=R-2026-000001"
    )
