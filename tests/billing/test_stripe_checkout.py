"""Stripe Checkout as the card provider, through the real Stripe SDK talking to a Stripe API double on loopback
(no account or network here): the session, the signed events as Stripe sends them, the refund."""

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import stripe
from django.utils import timezone

from billing.models import Invoice, OnlinePayment, Payment
from billing.online import services as online_services
from billing.online import signatures
from contracts.models import Contract
from tests.billing.test_online_payments import PAY, ago, issue
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

D = Decimal
WEBHOOK = "/bollette/paga/notifiche/stripe/"
SECRET = "whsec_test_portal"


class _StripeApi(BaseHTTPRequestHandler):
    """The two Stripe endpoints the portal calls, answering as Stripe's API does (form-encoded in, JSON out)."""

    calls: list[tuple[str, dict]] = []

    def do_POST(self):
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        type(self).calls.append((self.path, form, self.headers.get("Authorization", "")))
        if self.path == "/v1/checkout/sessions":
            answer = {
                "id": "cs_test_1",
                "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                "payment_intent": None,
                "client_reference_id": form["client_reference_id"][0],
            }
        elif self.path == "/v1/refunds":
            answer = {
                "id": "re_1",
                "object": "refund",
                "amount": int(form["amount"][0]),
                "status": "succeeded",
            }
        else:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def overdue(alice):
    contract = active_contract(
        alice, activated_on=ago(200), payment_method=Contract.PaymentMethod.POSTAL_SLIP
    )
    return issue(contract, issued_on=ago(60))


@pytest.fixture(scope="module")
def stripe_api_base():
    # One double for the module: the SDK keeps the API address of its first request for the process.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StripeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def stripe_api(settings, stripe_api_base):
    _StripeApi.calls = []
    settings.PAYMENT_VARIANTS = {
        "stripe": [
            "billing.online.stripe_checkout.StripeCheckoutProvider",
            {"api_key": "sk_test_portal", "api_base": stripe_api_base},
        ]
    }
    settings.PAYMENT_VARIANT = "stripe"
    settings.PAYMENTS_WEBHOOK_SECRET = SECRET
    return _StripeApi


def stripe_event(online, kind="checkout.session.completed", *, paid=True, event_id="evt_1"):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "data": {
                "object": {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "client_reference_id": str(online.token),
                    "payment_intent": "pi_test_1",
                    "payment_status": "paid" if paid else "unpaid",
                    "amount_total": int(online.total * 100),
                    "currency": "eur",
                }
            },
        }
    ).encode()


def post_as_stripe(client, body):
    header = signatures.sign(body, secret=SECRET, timestamp=int(time.time()))
    # What Stripe's own SDK accepts is what Stripe sends: the portal's scheme is Stripe's.
    stripe.Webhook.construct_event(body.decode(), header, SECRET)
    return client.post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def test_a_card_payment_through_stripe_checkout_from_session_to_refund(
    client, alice_client, overdue, stripe_api
):
    response = alice_client.post(PAY, {"bolletta": overdue.pk})
    assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    [(path, form, authorization)] = stripe_api.calls
    assert path == "/v1/checkout/sessions" and authorization == "Bearer sk_test_portal"
    online = OnlinePayment.objects.get()
    assert form["line_items[0][price_data][unit_amount]"] == [str(int(overdue.outstanding * 100))]
    assert form["client_reference_id"] == [str(online.token)]
    assert not Payment.objects.exists()  # the redirect pays nothing

    # A session completed with the payment still pending (a bank debit) decides nothing yet.
    assert post_as_stripe(client, stripe_event(online, paid=False)).json()["status"] == "ignored"
    assert not Payment.objects.exists()

    assert post_as_stripe(client, stripe_event(online, event_id="evt_2")).status_code == 200
    assert post_as_stripe(client, stripe_event(online, event_id="evt_2")).status_code == 200  # Stripe retries
    [payment] = Payment.objects.all()
    assert (payment.transaction_id, payment.amount, payment.invoice) == (
        "pi_test_1",
        overdue.outstanding,
        overdue,
    )
    overdue.refresh_from_db()
    assert overdue.status == Invoice.Status.PAID

    online.refresh_from_db()
    online_services.refund_online_payment(
        online_payment=online, by=None, reason="Doppio addebito", now=timezone.now()
    )
    path, form, _auth = stripe_api.calls[-1]
    assert path == "/v1/refunds"
    assert form["payment_intent"] == ["pi_test_1"] and form["amount"] == [str(int(payment.amount * 100))]
    overdue.refresh_from_db()
    assert overdue.status != Invoice.Status.PAID  # owed again, as before the payment


def test_a_stripe_event_with_a_bad_or_old_signature_is_refused(client, alice_client, overdue, stripe_api):
    alice_client.post(PAY, {"bolletta": overdue.pk})
    body = stripe_event(OnlinePayment.objects.get())
    forged = signatures.sign(body, secret="whsec_someone_else", timestamp=int(time.time()))
    old = signatures.sign(
        body, secret=SECRET, timestamp=int(time.time() - timedelta(hours=1).total_seconds())
    )
    for header in (forged, old):
        response = client.post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
        assert response.status_code == 400
    assert not Payment.objects.exists()
