"""Stripe Checkout as the production card provider: django-payments' StripeProviderV3 creates the Checkout
Session and refunds; the portal reads Stripe's events through its own signed-notification path.

Configure it with PAYMENT_VARIANTS, e.g.
    {"stripe": ["billing.online.stripe_checkout.StripeCheckoutProvider", {"api_key": "sk_live_…"}]}
and PAYMENTS_WEBHOOK_SECRET = the endpoint's signing secret (whsec_…); point the Stripe endpoint at
/bollette/paga/notifiche/stripe/ with the events checkout.session.completed, .async_payment_succeeded,
.async_payment_failed and .expired. Stripe signs with the scheme billing.online.signatures checks (header
`Stripe-Signature`); the library's own webhook handling (process_data) is not used.
"""

from decimal import Decimal

import stripe
from payments import PaymentError
from payments.stripe import StripeProviderV3

from billing.online import services

SUCCEEDED = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
FAILED = {"checkout.session.async_payment_failed", "checkout.session.expired"}


class StripeCheckoutProvider(StripeProviderV3):
    def __init__(self, api_key, api_base=None, **kwargs):
        # `api_base`: another Stripe API address (a test double, a proxy); the SDK's default otherwise.
        super().__init__(api_key, **kwargs)
        self.api_base = api_base

    def _use_api(self):
        stripe.api_key = self.api_key
        if self.api_base:
            stripe.api_base = self.api_base

    def create_session(self, payment):
        self._use_api()
        return super().create_session(payment)

    def parse_event(self, payload: dict) -> services.PaymentEvent | None:
        """A Checkout Session event in the portal's terms; None for one that decides nothing yet (a session
        completed with a payment still pending, e.g. a bank debit, or another event type)."""
        session = payload["data"]["object"]
        kind = payload["type"]
        if kind in SUCCEEDED and session["payment_status"] == "paid":
            succeeded = True
        elif kind in FAILED:
            succeeded = False
        else:
            return None
        return services.PaymentEvent(
            event_id=payload["id"],
            token=session["client_reference_id"],
            succeeded=succeeded,
            # The PaymentIntent is what Stripe refunds and what the bank statement shows.
            transaction_id=session.get("payment_intent") or session["id"],
            amount=Decimal(session.get("amount_total") or 0) / 100,
        )

    def refund(self, payment, amount=None):
        """Refund (part of) the charge through Stripe: the PaymentIntent recorded from the event."""
        to_refund = amount or payment.captured_amount
        self._use_api()
        try:
            stripe.Refund.create(
                payment_intent=payment.transaction_id,
                amount=self.convert_amount(payment.currency, to_refund),
                reason="requested_by_customer",
            )
        except stripe.StripeError as error:
            raise PaymentError(str(error)) from error
        return to_refund
