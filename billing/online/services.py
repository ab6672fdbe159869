"""Card payments: start one for invoices, apply the provider's signed notification, give the receipt, refund.

A payment is recorded only here, from a notification whose signature checks out: one Payment per invoice
(billing.services.record_payment with the invoice named), so that the customer's choice of invoices is what
gets paid, not the oldest debts. What nothing is left to pay for by then (paid in another tab, by transfer) is
refunded through the provider at once and recorded on the online payment: never allocated twice.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from payments import PaymentError, PaymentStatus
from payments.core import provider_factory

from accounts.models import Customer
from billing import selectors, services
from billing.models import ZERO, Invoice, OnlinePayment, OnlinePaymentItem, Payment
from billing.online import signatures
from portal.lib.dates import rome_date
from portal.lib.emails import absolute_url
from portal.lib.pdf import render_pdf
from portal.notifications.models import Delivery
from portal.notifications.services import notify

logger = logging.getLogger(__name__)

RECEIPT_TEMPLATE = "payment_receipt"
# Statuses the provider may still move: anything else is final, and a notification about it changes nothing.
OPEN_STATUSES = (PaymentStatus.WAITING, PaymentStatus.INPUT, PaymentStatus.PREAUTH)


@dataclass(frozen=True)
class PaymentEvent:
    """A provider's notification, in the portal's terms (each provider's `parse_event`)."""

    event_id: str
    token: str
    succeeded: bool
    transaction_id: str
    amount: Decimal


class InvalidNotification(Exception):
    """A notification the portal refuses (answered 400): bad signature, old, malformed, unknown payment."""


@transaction.atomic
def start_online_payment(*, customer: Customer, invoices: list[Invoice], today: date) -> OnlinePayment:
    """An online payment of what `invoices` have outstanding now: the amount is always the portal's."""
    if not invoices or any(not selectors.can_pay_online(invoice, today=today) for invoice in invoices):
        raise ValidationError(_("Non c'è nulla da pagare online con la carta per queste bollette."))
    total = sum((invoice.outstanding for invoice in invoices), ZERO)
    online = OnlinePayment.objects.create(
        variant=settings.PAYMENT_VARIANT,
        customer=customer,
        currency="EUR",
        total=total,
        description=ngettext("Bolletta %(numbers)s", "Bollette %(numbers)s", len(invoices))
        % {"numbers": ", ".join(invoice.number for invoice in invoices)},
        billing_first_name=customer.first_name,
        billing_last_name=customer.last_name or customer.company_name,
        billing_email=customer.email,
    )
    OnlinePaymentItem.objects.bulk_create(
        OnlinePaymentItem(online_payment=online, invoice=invoice, amount=invoice.outstanding)
        for invoice in invoices
    )
    return online


def receive_notification(
    *, variant: str, body: bytes, signature: str, now: float | None = None
) -> OnlinePayment | None:
    """Check a provider's notification (signature and its age) and apply it. The one way in, for the webhook
    URL and for the test gateway alike."""
    try:
        signatures.verify(
            body,
            signature,
            secret=settings.PAYMENTS_WEBHOOK_SECRET,
            now=time.time() if now is None else now,
            tolerance=settings.PAYMENTS_WEBHOOK_TOLERANCE,
        )
        provider = provider_factory(variant)
        event = provider.parse_event(json.loads(body))
    except (signatures.InvalidSignature, ValueError, KeyError, TypeError, InvalidOperation) as error:
        raise InvalidNotification(str(error)) from error
    if event is None:  # signed and well-formed, but it decides nothing (yet): acknowledged, nothing changes
        return None
    return apply_event(event=event, now=timezone.now())


@transaction.atomic
def apply_event(*, event: PaymentEvent, now: datetime) -> OnlinePayment:
    """Record what the provider says happened. The row lock makes a replayed or concurrent notification
    wait, then find the payment final and change nothing: the same event twice records one payment."""
    online = OnlinePayment.objects.select_for_update().filter(token=event.token).first()
    if online is None:
        raise InvalidNotification(f"no online payment {event.token}")
    if online.status not in OPEN_STATUSES:
        logger.info("online payment %s: event %s about a final payment, ignored", online.pk, event.event_id)
        return online
    if not event.succeeded:
        online.status = PaymentStatus.REJECTED
        online.save(update_fields=["status", "modified"])
        return online
    if event.amount != online.total:
        # The provider charged what it says it charged: that is what is recorded, and any excess refunded.
        logger.warning("online payment %s: charged %s, asked %s", online.pk, event.amount, online.total)
    online.status = PaymentStatus.CONFIRMED
    online.transaction_id = event.transaction_id
    online.captured_amount = event.amount
    online.confirmed_at = now
    recorded = _record_items(online, received_on=rome_date(now))
    excess = event.amount - recorded
    if excess > ZERO:
        provider_factory(online.variant).refund(online, excess)
        online.refunded_amount = excess
        online.refunded_at = now
        online.refund_reason = _("Rimborso automatico: le bollette risultavano già pagate.")
        if recorded == ZERO:
            online.status = PaymentStatus.REFUNDED
            online.confirmed_at = None  # nothing paid: no receipt
    online.save()
    if recorded > ZERO:
        _queue_receipt(online)
    return online


def _record_items(online: OnlinePayment, *, received_on: date) -> Decimal:
    """A payment per invoice, of what it still has outstanding under the lock (at most what was asked)."""
    items = list(online.items.order_by("id"))
    invoices = Invoice.objects.select_for_update().in_bulk([item.invoice_id for item in items])
    recorded = ZERO
    for position, item in enumerate(items, start=1):
        invoice = invoices[item.invoice_id]
        share = min(item.amount, invoice.outstanding) if invoice.awaits_payment else ZERO
        if share <= ZERO:
            continue
        item.payment = services.record_payment(
            customer=online.customer,
            amount=share,
            received_on=received_on,
            method=Payment.Method.CARD,
            invoice=invoice,
            # Payment.transaction_id is unique: several invoices paid by one charge get a suffix each.
            transaction_id=online.transaction_id
            if len(items) == 1
            else f"{online.transaction_id}/{position}",
        )
        item.save(update_fields=["payment"])
        recorded += share
    return recorded


def _queue_receipt(online: OnlinePayment) -> None:
    from billing.tasks import send_online_payment_receipt  # billing.tasks imports this module

    transaction.on_commit(lambda: send_online_payment_receipt.delay(online.pk), robust=True)


def send_receipt(online: OnlinePayment) -> None:
    """The receipt of a confirmed payment, PDF in Comunicazioni and by e-mail (billing.tasks, after the
    commit; the catch-up sweep if that task never ran). Run again, it finds it sent and renders nothing."""
    with transaction.atomic():
        online = OnlinePayment.objects.select_for_update().select_related("customer").get(pk=online.pk)
        if online.receipt_sent_at is not None or online.confirmed_at is None:
            return
        customer = online.customer
        items = [item for item in online.items.select_related("invoice", "payment") if item.payment_id]
        context = {
            "online_payment": online,
            "items": items,
            "paid": sum((item.payment.amount for item in items), ZERO),
            "paid_on": rome_date(online.confirmed_at),
            "recipient_name": customer.display_name,
            "recipient_address": customer.billing_address,
            "customer_code": customer.code,
            "reference": online.transaction_id,
        }
        notify(
            customer=customer,
            template_key=RECEIPT_TEMPLATE,
            context=context,
            channels=[Delivery.Channel.EMAIL],
            dedupe_key=f"billing.online_payment_receipt:{online.pk}",
            document=render_pdf("pdf/payment_receipt.html", context, language=customer.language),
            document_name=f"ricevuta-pagamento-{online.transaction_id}.pdf",
            about=online,
            link=absolute_url("billing:payments"),
        )
        online.receipt_sent_at = timezone.now()
        online.save(update_fields=["receipt_sent_at", "modified"])


@transaction.atomic
def refund_online_payment(*, online_payment: OnlinePayment, by, reason: str, now: datetime) -> OnlinePayment:
    """Give a confirmed card payment back through the provider. Each Payment it recorded is undone by a
    negative one (services.reverse_payment), so its invoices are owed again; who, when and why are kept."""
    online = OnlinePayment.objects.select_for_update().get(pk=online_payment.pk)
    if online.status != PaymentStatus.CONFIRMED:
        raise ValidationError(_("Si rimborsa solo un pagamento online confermato e non già rimborsato."))
    if not reason.strip():
        raise ValidationError({"reason": _("Indica il motivo del rimborso.")})
    amount = ZERO
    for item in online.items.select_related("payment").filter(payment__isnull=False):
        services.reverse_payment(payment=item.payment, reversed_on=rome_date(now), reason=reason, by=by)
        amount += item.payment.amount
    # Last, so that a refusal of the database above leaves the customer's money where it is.
    try:
        provider_factory(online.variant).refund(online, amount)
    except PaymentError as error:
        raise ValidationError(
            _("Il gestore dei pagamenti ha rifiutato il rimborso: %(error)s") % {"error": error}
        ) from error
    online.status = PaymentStatus.REFUNDED
    online.refunded_amount += amount
    online.refund_reason = reason
    online.refunded_by = by
    online.refunded_at = now
    online.save()
    return online
