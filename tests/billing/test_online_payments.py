"""Paying by card in the Area Clienti (billing/online/): the test gateway, its signed notifications, the
receipt and the staff refund."""

import json
import logging
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from payments import PaymentStatus

from billing import services
from billing.dunning import notices
from billing.models import DefaultNotice, Invoice, InvoiceLine, OnlinePayment, Payment
from billing.online import services as online_services
from billing.online import signatures
from billing.services import LineSpec
from contracts.models import Contract
from portal import deadlines
from portal.lib import dates
from portal.notifications.models import Communication
from tests.factories import active_contract
from tests.pdf_utils import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal
PAY = "/bollette/paga/"
WEBHOOK = "/bollette/paga/notifiche/card/"


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []


def ago(days):
    return dates.today() - timedelta(days=days)


def issue(contract, *, issued_on, amount="100.00"):
    draft = services.create_draft(
        contract=contract,
        period_start=issued_on.replace(day=1),
        period_end=issued_on.replace(day=1) + timedelta(days=27),
        lines=[
            LineSpec(
                kind=InvoiceLine.Kind.CHARGE, description="Consumi", unit_price=D(amount), vat_rate=D("0")
            )
        ],
    )
    return services.issue_invoice(invoice=draft, issued_on=issued_on)


@pytest.fixture
def contract(alice):
    return active_contract(alice, activated_on=ago(200), payment_method=Contract.PaymentMethod.POSTAL_SLIP)


@pytest.fixture
def overdue(contract):
    """Issued 60 days ago: due 45 days ago, overdue."""
    return issue(contract, issued_on=ago(60))


def start(client, invoice, **extra):
    response = client.post(PAY, {"bolletta": invoice.pk, **extra})
    assert response.status_code == 302, response
    return response["Location"]


def confirm(client, gateway_url, outcome="paga"):
    response = client.post(gateway_url, {"esito": outcome})
    assert response.status_code == 302
    return response["Location"]


def signed_post(client, body: bytes, *, timestamp=None, secret=None, settings=None):
    header = signatures.sign(
        body, secret=secret or settings.PAYMENTS_WEBHOOK_SECRET, timestamp=timestamp or int(time.time())
    )
    return client.post(WEBHOOK, body, content_type="application/json", HTTP_PAYMENTS_SIGNATURE=header)


def success_event(online, *, event_id="evt_1", transaction_id="dummy_txn_1", amount=None):
    return json.dumps(
        {
            "id": event_id,
            "type": "payment.succeeded",
            "data": {
                "token": online.token,
                "transaction_id": transaction_id,
                "amount": str(amount or online.total),
            },
        }
    ).encode()


def test_paying_an_invoice_by_card_records_the_payment_closes_the_notice_and_sends_a_receipt(
    alice_client, overdue, django_capture_on_commit_callbacks
):
    overdue.customer.pec = "alice@pec.example.it"
    overdue.customer.save()
    deadlines.run_sweep("billing.default_notices", now=timezone.now())
    notice = DefaultNotice.objects.get(items__invoice=overdue)
    notices.record_dispatch(notice=notice, channel="pec", sent_on=dates.today(), by=None, now=timezone.now())

    gateway = start(alice_client, overdue)
    assert not Payment.objects.exists()  # starting pays nothing
    page = alice_client.get(gateway)
    assert "100,00" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = confirm(alice_client, gateway)

    payment = Payment.objects.get()
    online = OnlinePayment.objects.get()
    assert (payment.method, payment.amount, payment.invoice) == (Payment.Method.CARD, D("100.00"), overdue)
    assert payment.transaction_id == online.transaction_id
    overdue.refresh_from_db()
    assert overdue.status == Invoice.Status.PAID
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.CLOSED_PAID
    assert "Pagamento ricevuto" in alice_client.get(outcome).content.decode()

    receipt = Communication.objects.get(template_key="payment_receipt")
    text = pdf_text(receipt.document.read())
    assert online.transaction_id in text and "100,00" in text and overdue.number in text
    assert any(online.transaction_id in message.body for message in mail.outbox)
    assert reverse("billing:payments") in receipt.body_text


def test_the_redirect_back_marks_nothing_paid(alice_client, overdue):
    gateway = start(alice_client, overdue)
    online = OnlinePayment.objects.get()
    response = alice_client.get(reverse("billing:online_payment_outcome", args=[online.token]))
    assert "in attesa di conferma" in response.content.decode()
    assert gateway and not Payment.objects.exists()
    overdue.refresh_from_db()
    assert overdue.outstanding == D("100.00")


def test_a_replayed_notification_records_one_payment(client, alice_client, overdue, settings):
    start(alice_client, overdue)
    online = OnlinePayment.objects.get()
    body = success_event(online)
    assert signed_post(client, body, settings=settings).status_code == 200
    assert signed_post(client, body, settings=settings).status_code == 200
    assert Payment.objects.count() == 1
    overdue.refresh_from_db()
    assert overdue.amount_paid == D("100.00")


def test_a_forged_signature_is_refused_logged_and_records_nothing(
    client, alice_client, overdue, settings, caplog
):
    start(alice_client, overdue)
    online = OnlinePayment.objects.get()
    with caplog.at_level(logging.WARNING, logger="billing.online.views"):
        response = signed_post(client, success_event(online), secret="whsec_not_ours", settings=settings)
    assert response.status_code == 400
    assert "payment notification refused" in caplog.text
    assert not Payment.objects.exists()
    online.refresh_from_db()
    assert online.status == PaymentStatus.WAITING


def test_an_unsigned_notification_is_refused(client, alice_client, overdue):
    start(alice_client, overdue)
    body = success_event(OnlinePayment.objects.get())
    assert client.post(WEBHOOK, body, content_type="application/json").status_code == 400
    assert not Payment.objects.exists()


def test_a_notification_signed_too_long_ago_is_refused(client, alice_client, overdue, settings):
    start(alice_client, overdue)
    old = int(time.time()) - settings.PAYMENTS_WEBHOOK_TOLERANCE - 1
    response = signed_post(
        client, success_event(OnlinePayment.objects.get()), timestamp=old, settings=settings
    )
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_paying_twice_in_two_tabs_allocates_once_and_refunds_the_second(alice_client, overdue):
    first, second = start(alice_client, overdue), start(alice_client, overdue)
    confirm(alice_client, first)
    confirm(alice_client, second)

    assert Payment.objects.count() == 1
    overdue.refresh_from_db()
    assert overdue.amount_paid == D("100.00")
    refunded = OnlinePayment.objects.get(status=PaymentStatus.REFUNDED)
    assert refunded.refunded_amount == D("100.00")
    page = alice_client.get(reverse("billing:online_payment_outcome", args=[refunded.token]))
    assert "Nulla da pagare" in page.content.decode()


def test_a_third_start_after_paying_is_refused_before_any_charge(alice_client, overdue):
    confirm(alice_client, start(alice_client, overdue))
    response = alice_client.post(PAY, {"bolletta": overdue.pk})
    assert response["Location"] == reverse("billing:invoice", args=[overdue.pk])
    assert OnlinePayment.objects.count() == 1


def test_a_refused_payment_leaves_the_invoice_unpaid_and_says_so(alice_client, overdue):
    outcome = confirm(alice_client, start(alice_client, overdue), outcome="rifiuta")
    assert "non è andato a buon fine" in alice_client.get(outcome).content.decode()
    assert not Payment.objects.exists()
    overdue.refresh_from_db()
    assert overdue.status == Invoice.Status.OVERDUE or overdue.outstanding == D("100.00")
    assert OnlinePayment.objects.get().status == PaymentStatus.REJECTED


def test_another_customers_invoice_is_not_found(client, bob, overdue):
    client.force_login(bob.user)
    assert client.post(PAY, {"bolletta": overdue.pk}).status_code == 404
    assert not OnlinePayment.objects.exists()


def test_another_customers_payment_page_is_not_found(client, alice_client, bob, overdue):
    gateway = start(alice_client, overdue)
    client.force_login(bob.user)
    assert client.get(gateway).status_code == 404


def test_the_amount_is_the_servers_whatever_the_form_says(alice_client, overdue):
    start(alice_client, overdue, amount="1.00", total="1.00")
    assert OnlinePayment.objects.get().total == D("100.00")


def test_the_whole_balance_pays_every_invoice_payable_online(alice_client, contract, overdue):
    later = issue(contract, issued_on=ago(30), amount="40.00")
    response = alice_client.post(PAY, {"tutto": "1"})
    confirm(alice_client, response["Location"])
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [D("40.00"), D("100.00")]
    for invoice in (overdue, later):
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID


def test_a_direct_debit_invoice_not_yet_due_has_no_pay_button(alice, alice_client):
    contract = active_contract(alice, activated_on=ago(200), payment_method=Contract.PaymentMethod.SDD)
    invoice = issue(contract, issued_on=dates.today())
    page = alice_client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert "addebito diretto SEPA" in page
    assert f'action="{PAY}"' not in page
    assert alice_client.post(PAY, {"bolletta": invoice.pk}).status_code == 302
    assert not OnlinePayment.objects.exists()


def test_an_overdue_direct_debit_invoice_can_be_paid_by_card(alice, alice_client):
    contract = active_contract(alice, activated_on=ago(200), payment_method=Contract.PaymentMethod.SDD)
    invoice = issue(contract, issued_on=ago(60))
    assert (
        "Paga ora con carta"
        in alice_client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    )


def test_staff_refund_goes_through_the_provider_and_the_invoice_is_owed_again(
    alice_client, overdue, staff_user
):
    confirm(alice_client, start(alice_client, overdue))
    online = OnlinePayment.objects.get()
    online_services.refund_online_payment(
        online_payment=online, by=staff_user, reason="Addebito contestato", now=timezone.now()
    )
    online.refresh_from_db()
    assert (online.status, online.refunded_by, online.refund_reason) == (
        PaymentStatus.REFUNDED,
        staff_user,
        "Addebito contestato",
    )
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [D("-100.00"), D("100.00")]
    overdue.refresh_from_db()
    assert (overdue.amount_paid, overdue.status) == (D("0.00"), Invoice.Status.OVERDUE)
    with pytest.raises(Exception, match="confermato"):
        online_services.refund_online_payment(
            online_payment=online, by=staff_user, reason="ancora", now=timezone.now()
        )


def test_the_admin_lists_online_payments_by_status_and_refunds_one(client, alice_client, overdue, staff_user):
    confirm(alice_client, start(alice_client, overdue))
    confirm(alice_client, start(alice_client, issue(overdue.contract, issued_on=ago(30))), outcome="rifiuta")
    client.force_login(staff_user)
    listing = client.get("/admin/billing/onlinepayment/?status__exact=rejected")
    assert listing.status_code == 200 and "1 pagamento online" in listing.content.decode()
    online = OnlinePayment.objects.get(status=PaymentStatus.CONFIRMED)
    client.post(
        "/admin/billing/onlinepayment/",
        {"action": "refund", "_selected_action": [online.pk], "apply": "1", "reason": "Doppio addebito"},
    )
    online.refresh_from_db()
    assert online.status == PaymentStatus.REFUNDED and online.refunded_by == staff_user


def test_bills_selected_in_the_list_are_paid_together_and_nothing_selected_pays_nothing(
    alice_client, contract, overdue
):
    later = issue(contract, issued_on=ago(30), amount="40.00")
    page = alice_client.get(reverse("billing:invoices")).content.decode()
    assert "Paga con carta le selezionate" in page and 'formaction="/bollette/paga/"' in page
    response = alice_client.post(PAY, {"anno": overdue.year})  # the button, with no bill ticked
    assert response["Location"] == reverse("billing:invoices")
    assert not OnlinePayment.objects.exists()
    confirm(alice_client, alice_client.post(PAY, {"bolletta": [overdue.pk, later.pk]})["Location"])
    assert OnlinePayment.objects.get().total == D("140.00")
    for invoice in (overdue, later):
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID


def test_a_receipt_whose_task_never_ran_is_sent_by_the_catch_up_sweep(alice_client, overdue):
    confirm(alice_client, start(alice_client, overdue))  # on-commit callbacks not run: the task is "lost"
    online = OnlinePayment.objects.get()
    assert online.receipt_sent_at is None
    assert deadlines.run_sweep("billing.online_payment_receipts", now=timezone.now()).acted == 0  # grace
    OnlinePayment.objects.filter(pk=online.pk).update(confirmed_at=timezone.now() - timedelta(minutes=10))
    run = deadlines.run_sweep("billing.online_payment_receipts", now=timezone.now())
    assert (run.acted, run.failed) == (1, 0)
    online.refresh_from_db()
    assert online.receipt_sent_at is not None
    assert Communication.objects.filter(template_key="payment_receipt").count() == 1
    assert deadlines.run_sweep("billing.online_payment_receipts", now=timezone.now()).acted == 0


def test_the_how_to_pay_box_shows_no_template_comment(alice_client, overdue):
    page = alice_client.get(reverse("billing:invoice", args=[overdue.pk])).content.decode()
    assert "Paga ora con carta" in page
    assert "{#" not in page and "#}" not in page
