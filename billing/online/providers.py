"""The portal's test gateway: django-payments' DummyProvider made to behave like a real one.

The library's DummyProvider takes the outcome from the customer's browser form. This one shows its own page
(billing.online.views.test_gateway) where the customer confirms or refuses, and tells the portal the outcome
only as a signed notification, through the same handler the webhook URL calls for a real provider.
"""

import json
import time
from decimal import Decimal
from uuid import uuid4

from django.conf import settings
from django.urls import reverse
from payments import RedirectNeeded
from payments.dummy import DummyProvider

from billing.online import services, signatures


class SignedDummyProvider(DummyProvider):
    def get_form(self, payment, data=None):
        raise RedirectNeeded(reverse("billing:online_payment_test_gateway", args=[payment.token]))

    def charge(self, payment, *, approved: bool) -> None:
        """What the gateway does when the customer presses a button on its page: it notifies the portal."""
        event = {
            "id": f"evt_{uuid4().hex}",
            "type": "payment.succeeded" if approved else "payment.failed",
            "data": {
                "token": str(payment.token),
                "transaction_id": f"dummy_{uuid4().hex}",
                "amount": str(payment.total),
            },
        }
        body = json.dumps(event).encode()
        header = signatures.sign(body, secret=settings.PAYMENTS_WEBHOOK_SECRET, timestamp=int(time.time()))
        services.receive_notification(variant=payment.variant, body=body, signature=header)

    def parse_event(self, payload: dict) -> services.PaymentEvent:
        data = payload["data"]
        return services.PaymentEvent(
            event_id=payload["id"],
            token=data["token"],
            succeeded=payload["type"] == "payment.succeeded",
            transaction_id=data["transaction_id"],
            amount=Decimal(data["amount"]),
        )

    def refund(self, payment, amount=None):
        return amount or payment.captured_amount
