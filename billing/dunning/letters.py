"""The notice as a document: what the letter, the PEC and the inbox message read, writing it to the outbox,
and the two facts about the sent document that start its clocks — the day it went out (the 40-day payment
term) and the day it was received.

The raccomandata cannot know the day it will be posted, so it states the rule ("entro 40 giorni dalla data
di invio"); staff record the posting on the letter (notifications admin, "Lettere da spedire"), which calls
the handler below in its transaction. A PEC goes out as it is written and prints the exact deadline
(notices.record_dispatch). Importing this module registers the handlers: billing/tasks.py does, so every
process that loads the sweeps has them.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import deadlines
from billing.deadlines import supply_rule
from billing.dunning.lifecycle import Operation, allows
from billing.dunning.steps import earliest_step_day, flag_notices_in_12_months, supplies_of
from billing.models import DefaultNotice
from contracts.models import Service
from portal.lib import formatting
from portal.lib.dates import rome_date
from portal.lib.emails import absolute_url
from portal.notifications import handlers
from portal.notifications.models import Communication, Delivery
from portal.notifications.services import notify

logger = logging.getLogger(__name__)

NOTICE_TEMPLATE = "default_notice"


def notice_context(notice: DefaultNotice) -> dict:
    """What the letter, the PEC and the inbox message of a notice read (pdf/default_notice.html)."""
    customer = notice.customer
    by_rule = {"electricity_lv": [], "electricity_mv": [], "gas": [], "communications": []}
    for service in supplies_of(notice):
        if service.kind in Service.COMMUNICATION_KINDS:
            by_rule["communications"].append(service)
        else:
            by_rule[supply_rule(service)].append(service)
    return {
        "notice": notice,
        "customer": customer,
        "items": list(
            notice.items.select_related("invoice").order_by("invoice__due_on", "invoice__sequence")
        ),
        "total_due": notice.total_due,
        "sent_on": notice.sent_on,
        "payment_due_on": notice.payment_due_on,
        "low_voltage_supplies": by_rule["electricity_lv"],
        "medium_voltage_supplies": by_rule["electricity_mv"],
        "gas_supplies": by_rule["gas"],
        "communication_services": by_rule["communications"],
        "payment_days": deadlines.DEFAULT_NOTICE_PAYMENT_DAYS,
        "working_days_after_deadline": deadlines.WORKING_DAYS_AFTER_PAYMENT_DEADLINE,
        "lv_days_from_receipt": deadlines.SUSPENSION_DAYS_FROM_NOTICE_RECEIPT["electricity_lv"],
        "gas_days_from_receipt": deadlines.SUSPENSION_DAYS_FROM_NOTICE_RECEIPT["gas"],
        "days_after_power_reduction": deadlines.SUSPENSION_DAYS_AFTER_POWER_REDUCTION,
        # pdf/base.html
        "recipient_name": customer.display_name,
        "recipient_address": [
            customer.billing_street,
            f"{customer.billing_postcode} {customer.billing_city} ({customer.billing_province})",
        ],
        "customer_code": customer.code,
        "reference": format_lazy(
            gettext_lazy("Costituzione in mora n. {reference}"), reference=notice.reference
        ),
        "delivery": (
            gettext_lazy("Via PEC")
            if notice.channel == DefaultNotice.Channel.PEC
            else gettext_lazy("Raccomandata A/R")
        ),
    }


def write_notice(notice: DefaultNotice, *, channel: str) -> Communication:
    """Render the notice and write it to the outbox on `channel` (a PEC leaves at once, a letter waits)."""
    from portal.lib.pdf import render_pdf  # here: loading WeasyPrint is the rendering worker's business

    customer = notice.customer
    context = notice_context(notice)
    return notify(
        customer=customer,
        template_key=NOTICE_TEMPLATE,
        context=context,
        channels=[channel],
        dedupe_key=f"billing.default_notice:{notice.pk}",
        document=render_pdf("pdf/default_notice.html", context, language=customer.language),
        document_name=f"costituzione-in-mora-{notice.reference.replace('/', '-')}.pdf",
        about=notice,
        link=notice_url(notice),
    )


def notice_url(notice: DefaultNotice) -> str:
    """The page an e-mail about the notice leads to: the bill's own page when it is about one bill (it shows
    the notice's deadline and how to pay), else the bills."""
    invoice_ids = list(notice.items.values_list("invoice_id", flat=True)[:2])
    if len(invoice_ids) == 1:
        return absolute_url("billing:invoice", invoice_ids[0])
    return absolute_url("billing:invoices")


# ---------------------------------------------------------------------------------------------------------
# The payment term and receipt
# ---------------------------------------------------------------------------------------------------------


def set_term(notice: DefaultNotice, *, sent_on: date) -> None:
    """The days that follow from the sending (not saved: a PEC prints them before it is written)."""
    notice.sent_on = sent_on
    notice.payment_due_on = deadlines.default_notice_payment_deadline(sent_on)
    notice.suspension_allowed_on = earliest_step_day(notice)


def start_payment_term(notice: DefaultNotice, *, sent_on: date, tracking_number: str, by, at) -> None:
    set_term(notice, sent_on=sent_on)
    notice.status = DefaultNotice.Status.DISPATCHED
    notice.tracking_number = tracking_number
    notice.dispatch_recorded_by = by
    notice.dispatch_recorded_at = at
    notice.save()
    flag_notices_in_12_months(notice)


def apply_receipt(notice: DefaultNotice, *, received_on: date, by, at: datetime) -> None:
    """The proven receipt replaces the presumed one and moves the first day a step is allowed."""
    if notice.sent_on is None:
        raise ValidationError(_("Registra prima l'invio della costituzione in mora."))
    if received_on < notice.sent_on:
        raise ValidationError(
            {
                "received_on": _("La ricezione non può precedere l'invio (%(day)s).")
                % {"day": formatting.day(notice.sent_on)}
            }
        )
    if received_on > rome_date(at):
        raise ValidationError({"received_on": _("La data di ricezione non può essere nel futuro.")})
    notice.received_on = received_on
    notice.receipt_recorded_by = by
    notice.receipt_recorded_at = at
    notice.suspension_allowed_on = earliest_step_day(notice)
    # A late receipt can push the day back into the future: no step has been taken yet in that state.
    if notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED and notice.suspension_allowed_on > rome_date(
        at
    ):
        notice.status = DefaultNotice.Status.DISPATCHED
    notice.save()


@handlers.on_letter_dispatched(NOTICE_TEMPLATE)
def _letter_dispatched(*, delivery: Delivery, dispatched_on: date) -> None:
    """Staff recorded the posting of the raccomandata (in this transaction): the payment term starts."""
    notice = (
        DefaultNotice.objects.select_for_update().filter(communication_id=delivery.communication_id).first()
    )
    if notice is None:
        logger.warning("letter %s has the default-notice template but no notice", delivery.pk)
        return
    if not allows(notice, Operation.RECORD_POSTING):
        raise ValidationError(
            _(
                "La costituzione in mora %(reference)s è «%(status)s» dal %(day)s: questa lettera non va spedita."
            )
            % {
                "reference": notice.reference,
                "status": notice.get_status_display(),
                "day": formatting.day(notice.closed_on or notice.prepared_on),
            }
        )
    start_payment_term(
        notice,
        sent_on=dispatched_on,
        tracking_number=delivery.tracking_number,
        by=delivery.dispatch_recorded_by,
        at=delivery.dispatch_recorded_at,
    )


@handlers.on_letter_delivered(NOTICE_TEMPLATE)
def _letter_delivered(*, delivery: Delivery, delivered_on: date) -> None:
    notice = (
        DefaultNotice.objects.select_for_update().filter(communication_id=delivery.communication_id).first()
    )
    if notice is None:
        return
    apply_receipt(
        notice,
        received_on=delivered_on,
        by=delivery.receipt_recorded_by,
        at=delivery.receipt_recorded_at or timezone.now(),
    )
