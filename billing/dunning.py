"""Dunning: the default notice (costituzione in mora, CG 6.2), its 40-day payment term, and the power
reduction, suspension and reactivation that may follow — never before the regulation allows them.

The life of a notice:

1. The daily sweep (billing/sweeps.py) finds a customer's invoices overdue by N days and prepares ONE notice
   covering all of them; until staff send it, invoices that become due later join the same notice.
2. Staff send it: by PEC, which goes out at once and prints the exact deadline; or by raccomandata, whose
   letter is written to the outbox ("Lettere da spedire") and printed. The letter cannot know the day it will
   be posted, so it states the rule ("entro 40 giorni dalla data di invio"); recording the posting date — in
   the notifications admin or here — starts the payment term (`DefaultNotice.payment_due_on`).
3. Receipt (PEC delivery receipt, return receipt), when known, replaces the presumed one (sending + 10 days,
   CG 9.3) and moves `suspension_allowed_on`, which a second sweep turns into "suspension allowed".
4. Staff record each step with the distributor; `record_suspension_step` refuses one taken too early, unless
   forced with a reason, in which case the customer gets the automatic indemnity and pays no fees.

Locking, so that two sweep workers, a payment and a staff member never deadlock: the sweep act never waits
(it skips a customer or an invoice that someone else holds, and picks it up on the next run); everyone else
locks a customer's invoices before its notices, as `services.record_payment` does.

Functions are keyword-only and transactional; time comes in as `today` / `now`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import deadlines
from billing.models import ZERO, Credit, DefaultNotice, DefaultNoticeItem, Invoice, SuspensionStep
from contracts.deadlines import presumed_receipt
from contracts.models import Contract, Customer, Service
from portal.lib.dates import add_days, add_months, rome_date
from portal.notifications import handlers
from portal.notifications.models import Communication, Delivery
from portal.notifications.services import notify, record_letter_delivery, record_letter_dispatch

logger = logging.getLogger(__name__)

NOTICE_TEMPLATE = "default_notice"
CLOSED_TEMPLATE = "default_notice_closed"

# The portal stores the contracted power, not the connection voltage. Italian distributors connect in low
# voltage up to 100 kW (ARERA TIC); above that, in medium voltage. Every low-voltage supply goes through the
# power reduction to 15% first (CG 6.3), which is the protective reading when in doubt.
LOW_VOLTAGE_MAX_KW = Decimal("100")

# CP-LG 6.5: the automatic indemnities of the suspension procedure, paid "entro otto mesi".
INDEMNITY_WITHOUT_NOTICE = Decimal("30.00")
INDEMNITY_TERMS_NOT_RESPECTED = Decimal("20.00")
INDEMNITY_MONTHS_TO_PAY = 8

# CG 6.2: a new notice within 90 days of the last suspension request may use shorter terms (flag only).
REPEAT_DEFAULT_DAYS = 90
# CG 12.2: express termination after 2 notices, or 1 suspension, in the last 12 months.
EXPRESS_TERMINATION_MONTHS = 12
EXPRESS_TERMINATION_NOTICES = 2

# The services a notice may lead to suspend (CG 6.2: "tutti i Servizi attivati"); add-ons are not supplies.
SUSPENDABLE_KINDS = (*Service.ENERGY_KINDS, *Service.COMMUNICATION_KINDS)
INTERVENTION_KINDS = (
    SuspensionStep.Kind.POWER_REDUCTION,
    SuspensionStep.Kind.SUSPENSION_REQUEST,
    SuspensionStep.Kind.SUSPENSION_EXECUTED,
)
SUSPENSION_KINDS = (SuspensionStep.Kind.SUSPENSION_REQUEST, SuspensionStep.Kind.SUSPENSION_EXECUTED)
# Notices in which a step may be recorded: sent, not closed.
STEP_STATUSES = (
    DefaultNotice.Status.DISPATCHED,
    DefaultNotice.Status.SUSPENSION_ALLOWED,
    DefaultNotice.Status.POWER_REDUCED,
    DefaultNotice.Status.SUSPENSION_REQUESTED,
    DefaultNotice.Status.SUSPENDED,
)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def notice_after_days_overdue() -> int:
    """A notice covers invoices overdue by this many days (issue 5, item 7; setting, default 10)."""
    return settings.DEFAULT_NOTICE_AFTER_DAYS_OVERDUE


def dunning_due_date(due_on: date) -> date:
    """The day an unpaid invoice becomes due for a default notice (stored as `Invoice.dunning_due_on`)."""
    return add_days(due_on, notice_after_days_overdue())


# ---------------------------------------------------------------------------------------------------------
# Overdue invoices and anomalous-invoice blocks
# ---------------------------------------------------------------------------------------------------------


def mark_overdue(*, invoice: Invoice, today: date) -> None:
    """Sweep act: an unpaid invoice past its due date (payment on the due date itself is on time)."""
    if invoice.due_on < today and invoice.status in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
        invoice.status = Invoice.Status.OVERDUE
        invoice.save(update_fields=["status"])


# ARERA (December 2025): an invoice above 1.5 times the average of the last 12 months' invoices, under a
# complaint, cannot lead to suspension before the reasoned reply — unless the anomalous part is at most 50 €
# or the complaint came more than 10 days after the due date.
ANOMALOUS_FACTOR = Decimal("1.5")
ANOMALOUS_MONTHS = 12
ANOMALOUS_MIN_EXCESS = Decimal("50.00")
ANOMALOUS_COMPLAINT_DAYS_AFTER_DUE = 10


def anomalous_invoice_is_protected(
    *, total: Decimal, average: Decimal | None, due_on: date, complaint_received_on: date
) -> bool:
    """The pure rule. The anomalous part is what the invoice asks above the average; without earlier
    invoices there is no average to be anomalous against."""
    if average is None or average <= ZERO or total <= ANOMALOUS_FACTOR * average:
        return False
    if total - average <= ANOMALOUS_MIN_EXCESS:
        return False
    return complaint_received_on <= add_days(due_on, ANOMALOUS_COMPLAINT_DAYS_AFTER_DUE)


def is_anomalous_for_complaint(*, invoice: Invoice, complaint_received_on: date) -> bool:
    """Whether a billing-rectification complaint about `invoice` must keep it from leading to suspension
    (then the complaints app calls `block_dunning`). The average is over the contract's invoices issued in
    the 12 months before it, credit-noted ones excluded."""
    if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued or invoice.due_on is None:
        return False
    earlier = [
        other.total
        for other in Invoice.objects.filter(
            contract_id=invoice.contract_id,
            kind=Invoice.Kind.INVOICE,
            issued_on__gte=add_months(invoice.issued_on, -ANOMALOUS_MONTHS),
            issued_on__lt=invoice.issued_on,
        ).exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.CANCELLED])
    ]
    average = sum(earlier, ZERO) / len(earlier) if earlier else None
    return anomalous_invoice_is_protected(
        total=invoice.total,
        average=average,
        due_on=invoice.due_on,
        complaint_received_on=complaint_received_on,
    )


@transaction.atomic
def block_dunning(*, invoice: Invoice, reason: str) -> Invoice:
    """Keep an invoice out of default notices and suspensions, e.g. an anomalous invoice under a
    billing-rectification complaint until the reasoned reply (ARERA). Called by the complaints app."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Indica il motivo del blocco.")})
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    invoice.dunning_blocked = True
    invoice.dunning_blocked_reason = reason[:300]
    invoice.save(update_fields=["dunning_blocked", "dunning_blocked_reason"])
    # Out of the notice still being collected: no letter may demand it. A notice already sent keeps it, and
    # record_suspension_step refuses any step while it is blocked.
    for item in DefaultNoticeItem.objects.filter(
        invoice=invoice, notice__status=DefaultNotice.Status.PREPARED, notice__communication__isnull=True
    ):
        notice = DefaultNotice.objects.select_for_update().get(pk=item.notice_id)
        item.delete()
        if notice.items.exists():
            _update_total(notice)
        else:
            notice.delete()  # nothing left to demand, and it never went out
    return invoice


@transaction.atomic
def unblock_dunning(*, invoice: Invoice) -> Invoice:
    """Lift the block (the complaint was answered): an invoice still unpaid is due for a notice again."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    invoice.dunning_blocked = False
    invoice.dunning_blocked_reason = ""
    fields = ["dunning_blocked", "dunning_blocked_reason"]
    in_open_notice = invoice.default_notice_items.filter(
        notice__status__in=DefaultNotice.OPEN_STATUSES
    ).exists()
    if (
        invoice.kind == Invoice.Kind.INVOICE
        and invoice.status in Invoice.OPEN_STATUSES
        and invoice.dunning_due_on is None
        and not in_open_notice
    ):
        invoice.dunning_due_on = dunning_due_date(invoice.due_on)
        fields.append("dunning_due_on")
    invoice.save(update_fields=fields)
    return invoice


# ---------------------------------------------------------------------------------------------------------
# Preparing the notice (sweep act)
# ---------------------------------------------------------------------------------------------------------


def prepare_default_notice(*, customer: Customer, today: date) -> DefaultNotice | None:
    """Sweep act: put all the customer's invoices due for a notice into their notice being prepared (one
    per customer: created if there is none). Runs in the sweep's savepoint.

    Returns None, changing nothing, when another worker holds the customer or its notice at this moment:
    that worker takes every invoice it can, and what is left is due again on the next run. Waiting instead
    could deadlock two workers that each hold invoices the other needs.
    """
    # FOR NO KEY UPDATE: payments and communications of the customer (KEY SHARE through their foreign key)
    # are not held up by it; a second sweep worker is.
    if (
        Customer.objects.select_for_update(skip_locked=True, no_key=True).filter(pk=customer.pk).first()
        is None
    ):
        logger.info("default notice of customer %s: being prepared by another worker", customer.pk)
        return None
    invoices = list(
        Invoice.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            customer=customer,
            kind=Invoice.Kind.INVOICE,
            status__in=Invoice.OPEN_STATUSES,
            dunning_blocked=False,
            dunning_due_on__lte=today,
        )
        .order_by("due_on", "sequence")
    )
    settled = [invoice.pk for invoice in invoices if invoice.outstanding <= ZERO]
    invoices = [invoice for invoice in invoices if invoice.outstanding > ZERO]
    Invoice.objects.filter(pk__in=settled).update(dunning_due_on=None)
    if not invoices:
        return None

    collecting = DefaultNotice.objects.filter(
        customer=customer, status=DefaultNotice.Status.PREPARED, communication__isnull=True
    )
    notice = collecting.select_for_update(skip_locked=True).first()
    if notice is None:
        if collecting.exists():  # staff are sending it right now: these invoices wait for the next run
            return None
        notice = DefaultNotice.objects.create(
            customer=customer,
            prepared_on=today,
            channel=DefaultNotice.Channel.PEC if customer.pec else DefaultNotice.Channel.RACCOMANDATA,
            repeat_default=_is_repeat_default(customer, today),
        )
    DefaultNoticeItem.objects.bulk_create(
        DefaultNoticeItem(notice=notice, invoice=invoice, amount_due=invoice.outstanding)
        for invoice in invoices
    )
    # In a notice now: no longer due for one (the sweep's partial index forgets them).
    Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices]).update(dunning_due_on=None)
    _update_total(notice)
    return notice


def _is_repeat_default(customer: Customer, today: date) -> bool:
    return SuspensionStep.objects.filter(
        service__contract__customer=customer,
        kind__in=INTERVENTION_KINDS,
        requested_on__gte=add_days(today, -REPEAT_DEFAULT_DAYS),
    ).exists()


def _update_total(notice: DefaultNotice) -> None:
    notice.total_due = sum((item.amount_due for item in notice.items.all()), ZERO)
    notice.save(update_fields=["total_due"])


# ---------------------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------------------


def _lock_collecting(notice: DefaultNotice) -> DefaultNotice:
    notice = DefaultNotice.objects.select_for_update().select_related("customer").get(pk=notice.pk)
    if not notice.is_collecting:
        if notice.communication_id and notice.status == DefaultNotice.Status.PREPARED:
            raise ValidationError(
                _(
                    "La raccomandata %(reference)s è già pronta in «Lettere da spedire»: registrane la spedizione."
                )
                % {"reference": notice.reference}
            )
        raise ValidationError(
            _("La costituzione in mora %(reference)s non è da inviare (stato: %(status)s).")
            % {"reference": notice.reference, "status": notice.get_status_display()}
        )
    return notice


def _freeze(notice: DefaultNotice) -> list[DefaultNoticeItem]:
    """The amounts the document will demand: what is still due on each invoice now. Invoices paid or
    cancelled since the notice was prepared leave it."""
    items = list(notice.items.select_related("invoice"))
    kept = []
    for item in items:
        outstanding = item.invoice.outstanding
        if outstanding <= ZERO:
            item.delete()
            continue
        if item.amount_due != outstanding:
            item.amount_due = outstanding
            item.save(update_fields=["amount_due"])
        kept.append(item)
    _update_total(notice)
    if not kept:
        raise ValidationError(
            _(
                "Nessuna bolletta della costituzione in mora %(reference)s è ancora da pagare: non c'è nulla da inviare."
            )
            % {"reference": notice.reference}
        )
    return kept


@transaction.atomic
def issue_notice_letter(*, notice: DefaultNotice) -> DefaultNotice:
    """Write the raccomandata to the outbox, where staff print it. Its posting date, recorded with the
    letter (notifications admin) or with `record_dispatch`, starts the payment term."""
    notice = _lock_collecting(notice)
    _freeze(notice)
    notice.channel = DefaultNotice.Channel.RACCOMANDATA
    notice.communication = _write(notice, channel=Delivery.Channel.LETTER)
    notice.save(update_fields=["channel", "communication"])
    return notice


@transaction.atomic
def record_dispatch(
    *,
    notice: DefaultNotice,
    channel: str,
    sent_on: date,
    tracking_number: str = "",
    by=None,
    now: datetime | None = None,
) -> DefaultNotice:
    """The notice goes out; `sent_on` starts the 40-day payment term (CG 6.2).

    PEC: written and queued now, so it is sent today and its PDF carries the exact deadline; the tracking
    number defaults to the message's Message-ID. Raccomandata: the posting of the letter prepared with
    `issue_notice_letter`, recorded on the letter itself (the same as "Registra spedizione" in the
    notifications admin, which calls back `_letter_dispatched`).
    """
    now = _now(now)
    if channel == DefaultNotice.Channel.PEC:
        return _dispatch_by_pec(notice, sent_on=sent_on, tracking_number=tracking_number, by=by, now=now)
    if channel != DefaultNotice.Channel.RACCOMANDATA:
        raise ValueError(f"unknown channel {channel!r}")
    letter = _letter_of(notice)
    if letter is None:
        raise ValidationError(
            _("Prepara prima la raccomandata (azione «Prepara le raccomandate»), stampala e spediscila.")
        )
    record_letter_dispatch(
        delivery=letter, dispatched_on=sent_on, tracking_number=tracking_number, by=by, now=now
    )
    notice.refresh_from_db()
    return notice


def _dispatch_by_pec(notice, *, sent_on, tracking_number, by, now) -> DefaultNotice:
    notice = _lock_collecting(notice)
    today = rome_date(now)
    if not notice.customer.pec:
        raise ValidationError(
            _(
                "Il cliente %(customer)s non ha un indirizzo PEC: invia la costituzione in mora per raccomandata."
            )
            % {"customer": notice.customer}
        )
    if sent_on != today:
        raise ValidationError(
            {"sent_on": _("La PEC parte adesso: la data di invio è oggi, %(day)s.") % {"day": _day(today)}}
        )
    _freeze(notice)
    notice.channel = DefaultNotice.Channel.PEC
    _set_term(notice, sent_on=sent_on)  # before writing: the PDF prints the deadline
    notice.communication = _write(notice, channel=Delivery.Channel.PEC)
    pec = notice.communication.deliveries.get(channel=Delivery.Channel.PEC)
    _start_payment_term(
        notice, sent_on=sent_on, tracking_number=tracking_number or pec.message_id, by=by, at=now
    )
    return notice


def _letter_of(notice: DefaultNotice) -> Delivery | None:
    if notice.communication_id is None:
        return None
    return Delivery.objects.filter(
        communication_id=notice.communication_id, channel=Delivery.Channel.LETTER
    ).first()


def _write(notice: DefaultNotice, *, channel: str) -> Communication:
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
    )


def notice_context(notice: DefaultNotice) -> dict:
    """What the letter, the PEC and the inbox message of a notice read (pdf/default_notice.html)."""
    customer = notice.customer
    supplies = _supplies_of(notice)
    by_rule = {"electricity_lv": [], "electricity_mv": [], "gas": [], "communications": []}
    for service in supplies:
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


# ---------------------------------------------------------------------------------------------------------
# The payment term and receipt
# ---------------------------------------------------------------------------------------------------------


@handlers.on_letter_dispatched(NOTICE_TEMPLATE)
def _letter_dispatched(*, delivery: Delivery, dispatched_on: date) -> None:
    """Staff recorded the posting of the raccomandata (in this transaction): the payment term starts."""
    notice = (
        DefaultNotice.objects.select_for_update().filter(communication_id=delivery.communication_id).first()
    )
    if notice is None:
        logger.warning("letter %s has the default-notice template but no notice", delivery.pk)
        return
    if notice.status != DefaultNotice.Status.PREPARED:
        raise ValidationError(
            _(
                "La costituzione in mora %(reference)s è «%(status)s» dal %(day)s: questa lettera non va spedita."
            )
            % {
                "reference": notice.reference,
                "status": notice.get_status_display(),
                "day": _day(notice.closed_on or notice.prepared_on),
            }
        )
    _start_payment_term(
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
    _apply_receipt(
        notice,
        received_on=delivered_on,
        by=delivery.receipt_recorded_by,
        at=delivery.receipt_recorded_at or timezone.now(),
    )


def _set_term(notice: DefaultNotice, *, sent_on: date) -> None:
    notice.sent_on = sent_on
    notice.payment_due_on = deadlines.default_notice_payment_deadline(sent_on)
    notice.suspension_allowed_on = earliest_step_day(notice)


def _start_payment_term(notice: DefaultNotice, *, sent_on: date, tracking_number: str, by, at) -> None:
    _set_term(notice, sent_on=sent_on)
    notice.status = DefaultNotice.Status.DISPATCHED
    notice.tracking_number = tracking_number
    notice.dispatch_recorded_by = by
    notice.dispatch_recorded_at = at
    notice.save()
    _flag_notices_in_12_months(notice)


@transaction.atomic
def record_receipt(
    *, notice: DefaultNotice, received_on: date, by=None, now: datetime | None = None
) -> DefaultNotice:
    """The day the customer received the notice (PEC delivery receipt, return receipt of the letter). It
    replaces the presumed receipt and moves the day a suspension may be asked for."""
    now = _now(now)
    letter = _letter_of(notice)
    if letter is not None and letter.dispatched_on is not None and letter.delivered_on is None:
        # Recorded on the letter too, so both admins agree; the letter calls back _letter_delivered.
        record_letter_delivery(delivery=letter, delivered_on=received_on, by=by, now=now)
        notice.refresh_from_db()
        return notice
    notice = DefaultNotice.objects.select_for_update().get(pk=notice.pk)
    _apply_receipt(notice, received_on=received_on, by=by, at=now)
    return notice


def _apply_receipt(notice: DefaultNotice, *, received_on: date, by, at: datetime) -> None:
    if notice.sent_on is None:
        raise ValidationError(_("Registra prima l'invio della costituzione in mora."))
    if received_on < notice.sent_on:
        raise ValidationError(
            {
                "received_on": _("La ricezione non può precedere l'invio (%(day)s).")
                % {"day": _day(notice.sent_on)}
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


# ---------------------------------------------------------------------------------------------------------
# When a step is allowed
# ---------------------------------------------------------------------------------------------------------


def supply_rule(service: Service) -> str:
    """The supply kind of billing.deadlines.earliest_suspension_request for a service.

    Low-voltage electricity is decided by the contracted power (see LOW_VOLTAGE_MAX_KW). Fibre and mobile
    have no receipt term in TIMOE/TIMG; they get the longer one (40 days, as gas), so a multi-service notice
    never lets them go first."""
    if service.kind == Service.Kind.ELECTRICITY:
        if service.power_kw is None or service.power_kw <= LOW_VOLTAGE_MAX_KW:
            return "electricity_lv"
        return "electricity_mv"
    return "gas"


def _supplies_of(notice: DefaultNotice) -> list[Service]:
    """The supplies of the contracts whose invoices the notice covers."""
    return list(
        Service.objects.filter(
            contract__invoices__default_notice_items__notice=notice,
            kind__in=SUSPENDABLE_KINDS,
        )
        .exclude(status__in=[Service.Status.PENDING, Service.Status.CANCELLED])
        .select_related("contract")
        .distinct()
        .order_by("contract_id", "id")
    )


def receipt_day(notice: DefaultNotice) -> date:
    """The proven receipt when recorded, else the presumed one: sending + 10 days (CG 9.3)."""
    return presumed_receipt(notice.sent_on, notice.received_on)


def allowed_on_for(notice: DefaultNotice, service: Service) -> date:
    """The first day a power reduction or suspension of this supply may be asked for (CG 6.2, TIMOE/TIMG)."""
    return deadlines.earliest_suspension_request(
        notice.payment_due_on, receipt_day(notice), supply_rule(service)
    )


def earliest_step_day(notice: DefaultNotice) -> date:
    """The first day any step of the notice is allowed: what the `billing.suspension_allowed` sweep waits for."""
    days = [allowed_on_for(notice, service) for service in _supplies_of(notice)]
    if not days:
        return deadlines.earliest_suspension_request(notice.payment_due_on, receipt_day(notice), "gas")
    return min(days)


def _executed_power_reduction(notice: DefaultNotice, service: Service) -> SuspensionStep | None:
    return (
        notice.steps.filter(
            service=service, kind=SuspensionStep.Kind.POWER_REDUCTION, executed_on__isnull=False
        )
        .order_by("-executed_on")
        .first()
    )


def step_allowed_on(notice: DefaultNotice, service: Service, kind: str) -> tuple[date | None, str]:
    """(the first day this step is allowed, the rule that sets it); None when it needs an earlier step."""
    allowed = allowed_on_for(notice, service)
    rule = _(
        "%(working)d giorni lavorativi dopo il termine di pagamento del %(deadline)s e %(receipt_days)d giorni "
        "dalla ricezione (%(receipt)s)"
    ) % {
        "working": deadlines.WORKING_DAYS_AFTER_PAYMENT_DEADLINE,
        "deadline": _day(notice.payment_due_on),
        "receipt_days": deadlines.SUSPENSION_DAYS_FROM_NOTICE_RECEIPT[supply_rule(service)],
        "receipt": _day(receipt_day(notice)) + ("" if notice.received_on else " " + _("presunta")),
    }
    if kind in SUSPENSION_KINDS and supply_rule(service) == "electricity_lv":
        reduction = _executed_power_reduction(notice, service)
        if reduction is None:
            return None, _(
                "per la luce in bassa tensione la potenza va prima ridotta al 15%%: la sospensione è consentita "
                "%(days)d giorni dopo la riduzione eseguita (art. 6.3)"
            ) % {"days": deadlines.SUSPENSION_DAYS_AFTER_POWER_REDUCTION}
        after_reduction = deadlines.suspension_after_power_reduction(reduction.executed_on)
        if after_reduction > allowed:
            return after_reduction, _(
                "%(days)d giorni dopo la riduzione di potenza eseguita il %(reduced)s (art. 6.3)"
            ) % {
                "days": deadlines.SUSPENSION_DAYS_AFTER_POWER_REDUCTION,
                "reduced": _day(reduction.executed_on),
            }
    return allowed, rule


# ---------------------------------------------------------------------------------------------------------
# Steps: power reduction, suspension, reactivation
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def record_suspension_step(
    *,
    notice: DefaultNotice | None,
    service: Service,
    kind: str,
    requested_on: date,
    executed_on: date | None = None,
    distributor_reference: str = "",
    override_reason: str = "",
    by=None,
    now: datetime | None = None,
) -> SuspensionStep:
    """Record a step staff took with the distributor. A step before the day the regulation allows it is
    refused, naming that day; forced with a reason it is recorded with the 20 € indemnity and no fees. A step
    without any default notice (notice=None) needs a reason too and carries the 30 € indemnity (CP-LG 6.5).
    Reactivation after a notice goes through `reactivate`."""
    now = _now(now)
    today = rome_date(now)
    override_reason = override_reason.strip()
    _check_step_dates(kind=kind, requested_on=requested_on, executed_on=executed_on, today=today)
    if service.kind not in SUSPENDABLE_KINDS:
        raise ValidationError(
            {"service": _("Si sospendono solo forniture di luce e gas, linee fibra e mobile.")}
        )
    if kind == SuspensionStep.Kind.POWER_REDUCTION and (
        service.kind != Service.Kind.ELECTRICITY or supply_rule(service) != "electricity_lv"
    ):
        raise ValidationError(
            {"kind": _("La riduzione di potenza al 15% riguarda solo la luce in bassa tensione (art. 6.3).")}
        )
    step = SuspensionStep(
        service=service,
        kind=kind,
        requested_on=requested_on,
        executed_on=executed_on,
        distributor_reference=distributor_reference.strip(),
        override_reason=override_reason,
        recorded_by=by,
        recorded_at=now,
    )
    if notice is None:
        return _record_step_without_notice(step)
    if kind == SuspensionStep.Kind.REACTIVATION:
        raise ValidationError(
            {"kind": _("La riattivazione dopo una costituzione in mora si registra con «Riattiva».")}
        )

    notice = DefaultNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status not in STEP_STATUSES:
        raise ValidationError(
            _("Nessun intervento è possibile per la costituzione in mora %(reference)s (stato: %(status)s).")
            % {"reference": notice.reference, "status": notice.get_status_display()}
        )
    if service.pk not in {supply.pk for supply in _supplies_of(notice)}:
        raise ValidationError({"service": _("La fornitura non è tra quelle della costituzione in mora.")})
    blocked = [
        item.invoice.number
        for item in notice.items.select_related("invoice")
        if item.invoice.dunning_blocked and item.invoice.outstanding > ZERO
    ]
    if blocked:
        # ARERA: an anomalous invoice under complaint cannot lead to suspension before the reasoned reply.
        raise ValidationError(
            _(
                "La bolletta %(numbers)s è contestata con un reclamo per bolletta anomala: nessuna riduzione o "
                "sospensione prima della risposta motivata. Attendi la risposta, oppure annulla questa "
                "costituzione in mora: la prossima sarà preparata senza la bolletta contestata."
            )
            % {"numbers": ", ".join(blocked)}
        )

    allowed_on, rule = step_allowed_on(notice, service, kind)
    early = allowed_on is None or requested_on < allowed_on
    if early and not override_reason:
        if allowed_on is None:
            message = _("Intervento non consentito: %(rule)s.") % {"rule": rule}
        else:
            message = _("Intervento non consentito prima del %(day)s (%(rule)s).") % {
                "day": _day(allowed_on),
                "rule": rule,
            }
        raise ValidationError(
            {
                "requested_on": message
                + " "
                + _(
                    "Per procedere comunque indica il motivo: sarà riconosciuto l'indennizzo automatico di 20 €."
                )
            }
        )
    step.notice = notice
    step.allowed_on = allowed_on
    step.fees_waived = early or notice.steps.filter(service=service, fees_waived=True).exists()
    step.save()
    if early:
        step.indemnity = _grant(
            step,
            amount=INDEMNITY_TERMS_NOT_RESPECTED,
            source_key=f"default-indemnity:terms:{notice.pk}:{service.pk}",
        )
        step.save(update_fields=["indemnity"])
    _update_status_from_steps(notice)
    _flag_suspension(step)
    return step


def _check_step_dates(*, kind: str, requested_on: date, executed_on: date | None, today: date) -> None:
    errors = {}
    if requested_on > today:
        errors["requested_on"] = _("La data della richiesta non può essere nel futuro.")
    if executed_on is not None:
        if executed_on < requested_on:
            errors["executed_on"] = _("L'esecuzione non può precedere la richiesta.")
        elif executed_on > today:
            errors["executed_on"] = _("La data di esecuzione non può essere nel futuro.")
    elif kind == SuspensionStep.Kind.SUSPENSION_EXECUTED:
        errors["executed_on"] = _("Indica il giorno in cui la sospensione è stata eseguita.")
    if errors:
        raise ValidationError(errors)


def _record_step_without_notice(step: SuspensionStep) -> SuspensionStep:
    if step.kind == SuspensionStep.Kind.REACTIVATION:
        step.fees_waived = True
        step.save()
        return step
    if not step.override_reason:
        raise ValidationError(
            {
                "override_reason": _(
                    "Senza costituzione in mora nessuna riduzione o sospensione è consentita. Se è avvenuta, "
                    "indica il motivo: sarà riconosciuto l'indennizzo automatico di 30 € (art. 6.5)."
                )
            }
        )
    step.fees_waived = True
    step.save()
    # One indemnity per episode: the steps on this supply since its last reactivation.
    episode = SuspensionStep.objects.filter(service=step.service, notice__isnull=True).exclude(
        kind=SuspensionStep.Kind.REACTIVATION
    )
    last_reactivation = (
        SuspensionStep.objects.filter(service=step.service, kind=SuspensionStep.Kind.REACTIVATION)
        .exclude(pk=step.pk)
        .order_by("-id")
        .first()
    )
    if last_reactivation is not None:
        episode = episode.filter(pk__gt=last_reactivation.pk)
    first = episode.order_by("id").first() or step
    step.indemnity = _grant(
        step, amount=INDEMNITY_WITHOUT_NOTICE, source_key=f"default-indemnity:no-notice:{first.pk}"
    )
    step.save(update_fields=["indemnity"])
    _flag_suspension(step)
    return step


def _grant(step: SuspensionStep, *, amount: Decimal, source_key: str) -> Credit:
    from billing import services  # billing.services calls back into this module

    return services.grant_indemnity(
        customer=step.service.contract.customer,
        contract=step.service.contract,
        reason=Credit.Reason.DEFAULT_INDEMNITY,
        amount=amount,
        created_on=step.executed_on or step.requested_on,
        source_key=source_key,
        months_to_pay=INDEMNITY_MONTHS_TO_PAY,
    )


@transaction.atomic
def record_step_execution(
    *, step: SuspensionStep, executed_on: date, by=None, now: datetime | None = None
) -> SuspensionStep:
    """The distributor confirmed it executed a requested step (e.g. the power reduction, from which the
    15 days before suspension run)."""
    now = _now(now)
    step = SuspensionStep.objects.select_for_update().get(pk=step.pk)
    if step.executed_on is not None:
        raise ValidationError(_("Esecuzione già registrata il %(day)s.") % {"day": _day(step.executed_on)})
    _check_step_dates(
        kind=step.kind, requested_on=step.requested_on, executed_on=executed_on, today=rome_date(now)
    )
    step.executed_on = executed_on
    step.execution_recorded_by = by
    step.execution_recorded_at = now
    step.save(update_fields=["executed_on", "execution_recorded_by", "execution_recorded_at"])
    if step.notice_id is not None and step.kind != SuspensionStep.Kind.REACTIVATION:
        notice = DefaultNotice.objects.select_for_update().get(pk=step.notice_id)
        if notice.status in STEP_STATUSES:
            _update_status_from_steps(notice)
    _flag_suspension(step)
    return step


def _update_status_from_steps(notice: DefaultNotice) -> None:
    """The notice shows the furthest step taken on any of its supplies."""
    steps = list(notice.steps.exclude(kind=SuspensionStep.Kind.REACTIVATION))
    Kind = SuspensionStep.Kind
    if any(step.kind in SUSPENSION_KINDS and step.executed_on for step in steps):
        status = DefaultNotice.Status.SUSPENDED
    elif any(step.kind == Kind.SUSPENSION_REQUEST for step in steps):
        status = DefaultNotice.Status.SUSPENSION_REQUESTED
    elif any(step.kind == Kind.POWER_REDUCTION and step.executed_on for step in steps):
        status = DefaultNotice.Status.POWER_REDUCED
    elif steps:  # a power reduction asked for, not yet executed
        status = DefaultNotice.Status.SUSPENSION_REQUESTED
    else:
        return
    if notice.status != status:
        notice.status = status
        notice.save(update_fields=["status"])


@transaction.atomic
def reactivate(
    *,
    notice: DefaultNotice,
    proven_payment_on: date,
    requested_on: date | None = None,
    by=None,
    now: datetime | None = None,
) -> list[SuspensionStep]:
    """The customer proved full payment (CG 6.5): ask the distributor to restore every supply the notice
    reduced or suspended. Fees are waived where the procedure waived them."""
    now = _now(now)
    today = rome_date(now)
    requested_on = requested_on or proven_payment_on
    notice = DefaultNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status not in (
        DefaultNotice.Status.POWER_REDUCED,
        DefaultNotice.Status.SUSPENSION_REQUESTED,
        DefaultNotice.Status.SUSPENDED,
    ):
        raise ValidationError(
            _(
                "Nessuna fornitura da riattivare per la costituzione in mora %(reference)s (stato: %(status)s)."
            )
            % {"reference": notice.reference, "status": notice.get_status_display()}
        )
    errors = {}
    if proven_payment_on > today:
        errors["proven_payment_on"] = _("La data non può essere nel futuro.")
    elif notice.sent_on and proven_payment_on < notice.sent_on:
        errors["proven_payment_on"] = _(
            "La prova di pagamento non può precedere l'invio della costituzione in mora."
        )
    if requested_on > today or requested_on < proven_payment_on:
        errors["requested_on"] = _("La richiesta di riattivazione va tra la prova di pagamento e oggi.")
    if errors:
        raise ValidationError(errors)
    steps = list(notice.steps.exclude(kind=SuspensionStep.Kind.REACTIVATION).select_related("service"))
    reactivations = []
    for service in {step.service_id: step.service for step in steps}.values():
        reactivations.append(
            SuspensionStep.objects.create(
                notice=notice,
                service=service,
                kind=SuspensionStep.Kind.REACTIVATION,
                requested_on=requested_on,
                fees_waived=any(step.fees_waived for step in steps if step.service_id == service.pk),
                recorded_by=by,
                recorded_at=now,
            )
        )
    notice.status = DefaultNotice.Status.REACTIVATED
    notice.payment_proven_on = proven_payment_on
    notice.closed_on = requested_on
    notice.closed_by = by
    notice.save(update_fields=["status", "payment_proven_on", "closed_on", "closed_by"])
    return reactivations


# ---------------------------------------------------------------------------------------------------------
# Closing: payment, cancellation, the suspension-allowed sweep
# ---------------------------------------------------------------------------------------------------------


def amount_still_due(notice: DefaultNotice) -> Decimal:
    return sum((item.invoice.outstanding for item in notice.items.select_related("invoice")), ZERO)


def close_paid_notices(*, customer: Customer, on: date) -> list[DefaultNotice]:
    """ "Paying an invoice closes its dunning": every notice of the customer whose invoices are now all paid
    (or cancelled) closes, and a customer who was sent one is told. Called by services.record_payment,
    in its transaction, after the payment is allocated. Notices that already led to a step stay open: the
    supply is restored through `reactivate`."""
    closed = []
    for notice in DefaultNotice.objects.select_for_update().filter(
        customer=customer, status__in=DefaultNotice.CLOSABLE_BY_PAYMENT
    ):
        if amount_still_due(notice) > ZERO:
            continue
        _close(notice, status=DefaultNotice.Status.CLOSED_PAID, on=on)
        closed.append(notice)
    return closed


def _close(notice: DefaultNotice, *, status: str, on: date, by=None, reason: str = "") -> None:
    notice.status = status
    notice.closed_on = on
    notice.closed_by = by
    notice.cancel_reason = reason
    notice.save(update_fields=["status", "closed_on", "closed_by", "cancel_reason"])
    if notice.communication_id is None:
        return  # the customer was never told of it
    notify(
        customer=notice.customer,
        template_key=CLOSED_TEMPLATE,
        context={"notice": notice, "paid": status == DefaultNotice.Status.CLOSED_PAID},
        channels=[Delivery.Channel.EMAIL],
        dedupe_key=f"billing.default_notice_closed:{notice.pk}",
        about=notice,
    )


@transaction.atomic
def cancel_notice(
    *, notice: DefaultNotice, reason: str, by=None, now: datetime | None = None
) -> DefaultNotice:
    """Withdraw a notice no step has followed (sent in error, invoice under review). Its invoices still
    unpaid are due for a notice again: block an invoice (`block_dunning`) to keep it out."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Indica il motivo dell'annullamento.")})
    invoice_ids = list(notice.items.values_list("invoice_id", flat=True))
    # Invoices before the notice, in the order record_payment locks them.
    invoices = list(
        Invoice.objects.select_for_update().filter(pk__in=invoice_ids).order_by("due_on", "sequence")
    )
    notice = DefaultNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status not in DefaultNotice.CLOSABLE_BY_PAYMENT:
        raise ValidationError(
            _("La costituzione in mora %(reference)s non si può annullare (stato: %(status)s).")
            % {"reference": notice.reference, "status": notice.get_status_display()}
        )
    _close(notice, status=DefaultNotice.Status.CANCELLED, on=rome_date(_now(now)), by=by, reason=reason)
    for invoice in invoices:
        if invoice.status in Invoice.OPEN_STATUSES and invoice.dunning_due_on is None:
            invoice.dunning_due_on = dunning_due_date(invoice.due_on)
            invoice.save(update_fields=["dunning_due_on"])
    return notice


def reach_suspension_allowed(notice: DefaultNotice, *, today: date) -> None:
    """Sweep act: the notice's first step day has come. Still unpaid: staff may now act (worklist);
    paid meanwhile (e.g. by a credit note): closed."""
    if amount_still_due(notice) <= ZERO:
        _close(notice, status=DefaultNotice.Status.CLOSED_PAID, on=today)
        return
    notice.status = DefaultNotice.Status.SUSPENSION_ALLOWED
    notice.save(update_fields=["status"])


# ---------------------------------------------------------------------------------------------------------
# Express termination grounds (CG 12.2)
# ---------------------------------------------------------------------------------------------------------


def _flag_notices_in_12_months(notice: DefaultNotice) -> None:
    since = add_months(notice.sent_on, -EXPRESS_TERMINATION_MONTHS)
    sent = DefaultNotice.objects.filter(
        customer=notice.customer, sent_on__gt=since, sent_on__lte=notice.sent_on
    ).exclude(status=DefaultNotice.Status.CANCELLED)
    if sent.count() >= EXPRESS_TERMINATION_NOTICES:
        _flag_contracts(
            Contract.objects.filter(invoices__default_notice_items__notice__in=sent), on=notice.sent_on
        )


def _flag_suspension(step: SuspensionStep) -> None:
    if step.kind in SUSPENSION_KINDS and step.executed_on is not None:
        _flag_contracts(Contract.objects.filter(pk=step.service.contract_id), on=step.executed_on)


def _flag_contracts(contracts, *, on: date) -> None:
    # The field belongs to contracts but is "flagged by billing" (contracts.models): only ever set, once.
    Contract.objects.filter(Q(pk__in=contracts.values("pk")), termination_grounds_since__isnull=True).update(
        termination_grounds_since=on
    )
