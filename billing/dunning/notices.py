"""The default notice itself: invoices due for one, preparing it, sending it, its receipt, closing it.

1. The daily sweeps mark unpaid invoices overdue and put every invoice overdue by N days of a customer into
   ONE notice (`prepare_default_notice`); until staff send it, invoices that become due later join it.
   An anomalous invoice under complaint is kept out while a complaint's DunningBlock holds it
   (`block_dunning`, `lift_dunning_block`, called by the complaints app); a sent notice whose every bill
   still due is held does not become "suspension allowed".
2. Staff send it (`queue_sending`, rendered in Celery): by PEC, which goes out at once and prints the exact
   deadline; or by raccomandata, written to the outbox to be printed, whose posting date — recorded on the
   letter (billing/dunning/letters.py) or with `record_dispatch` — starts the 40-day payment term.
3. Receipt, when known, replaces the presumed one (`record_receipt`) and moves `suspension_allowed_on`,
   which a second sweep turns into "suspension allowed" (`reach_suspension_allowed`); the steps that may
   follow are billing/dunning/steps.py.
4. Payment closes a notice no step has followed (`close_paid_notices`); staff may cancel one
   (`cancel_notice`).

Locking, so that two sweep workers, a payment and a staff member never deadlock: the sweep act never waits
(it skips a customer or an invoice that someone else holds, and picks it up on the next run); everyone else
locks a customer's invoices before its notices, as `services.record_payment` does.

Functions are keyword-only and transactional; time comes in as `today` / `now`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer
from billing import instalments
from billing.deadlines import dunning_due_date
from billing.dunning import letters
from billing.dunning.lifecycle import OPEN_STATUSES, Operation, allows, condition
from billing.dunning.selectors import amount_still_due, every_bill_held
from billing.dunning.steps import INTERVENTION_KINDS, earliest_step_day
from billing.models import (
    ZERO,
    DefaultNotice,
    DefaultNoticeItem,
    DunningBlock,
    Invoice,
    SuspensionStep,
)
from portal.lib import formatting
from portal.lib.dates import add_days, add_months, rome_date
from portal.lib.emails import absolute_url
from portal.notifications.models import Delivery
from portal.notifications.services import notify, record_letter_delivery, record_letter_dispatch

logger = logging.getLogger(__name__)

CLOSED_TEMPLATE = "default_notice_closed"

# CG 6.2: a new notice within 90 days of the last suspension request may use shorter terms (flag only).
REPEAT_DEFAULT_DAYS = 90

# ARERA (December 2025): an invoice above 1.5 times the average of the last 12 months' invoices, under a
# complaint, cannot lead to suspension before the reasoned reply — unless the anomalous part is at most 50 €
# or the complaint came more than 10 days after the due date.
ANOMALOUS_FACTOR = Decimal("1.5")
ANOMALOUS_MONTHS = 12
ANOMALOUS_MIN_EXCESS = Decimal("50.00")
ANOMALOUS_COMPLAINT_DAYS_AFTER_DUE = 10


# ---------------------------------------------------------------------------------------------------------
# Overdue invoices and anomalous-invoice blocks
# ---------------------------------------------------------------------------------------------------------


def mark_overdue(*, invoice: Invoice, today: date) -> None:
    """Sweep act: an unpaid invoice past its due date (payment on the due date itself is on time)."""
    if invoice.due_on < today and invoice.status in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
        invoice.status = Invoice.Status.OVERDUE
        invoice.save(update_fields=["status"])


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
    """Whether a complaint about `invoice`, whatever kind the sender chose, must keep it from leading to
    suspension (complaints.services.apply_dunning_block then blocks it). The average is over the contract's
    invoices issued in the 12 months before it, credit-noted ones excluded."""
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


def active_blocks(*, complaint=None, invoice: Invoice | None = None) -> QuerySet[DunningBlock]:
    """The blocks holding an invoice now, of a complaint or on an invoice."""
    blocks = DunningBlock.objects.filter(lifted_at__isnull=True).select_related("complaint", "invoice")
    if complaint is not None:
        blocks = blocks.filter(complaint=complaint)
    if invoice is not None:
        blocks = blocks.filter(invoice=invoice)
    return blocks


def lifted_by_hand(*, complaint, invoice: Invoice) -> bool:
    """Staff lifted this complaint's block on the invoice while the case was open: their decision stands
    against the rule, until they block it again."""
    return DunningBlock.objects.filter(complaint=complaint, invoice=invoice, lifted_by_hand=True).exists()


@transaction.atomic
def block_dunning(
    *, invoice: Invoice, complaint, reason: str, manual: bool = False, by=None, now: datetime | None = None
) -> DunningBlock:
    """Keep an invoice out of default notices and suspensions until `complaint` is answered: an anomalous
    invoice under complaint (ARERA), or staff's decision on the case (`manual`). Called by the complaints
    app. A second block of the same complaint adds nothing, but a manual one makes it staff's (the rule no
    longer lifts it)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Indica il motivo del blocco.")})
    if complaint.answered_on is not None:
        raise ValidationError(
            _("Il reclamo %(code)s ha già una risposta: non blocca più la bolletta.")
            % {"code": complaint.code}
        )
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued:
        raise ValidationError(_("Si bloccano i solleciti solo di una bolletta emessa."))
    block = active_blocks(complaint=complaint, invoice=invoice).first()
    if block is None:
        block = DunningBlock.objects.create(
            invoice=invoice,
            complaint=complaint,
            manual=manual,
            reason=reason[:300],
            set_by=by,
            set_at=now or timezone.now(),
        )
    elif manual and not block.manual:
        block.manual, block.reason, block.set_by = True, reason[:300], by
        block.save(update_fields=["manual", "reason", "set_by"])
    _follow_blocks(invoice)
    # Out of the notice still being collected: no letter may demand it. A notice already sent keeps it, and
    # record_suspension_step refuses any step while it is blocked.
    for item in DefaultNoticeItem.objects.filter(
        condition(Operation.SEND, prefix="notice__"), invoice=invoice
    ):
        notice = DefaultNotice.objects.select_for_update().get(pk=item.notice_id)
        item.delete()
        if notice.items.exists():
            _update_total(notice)
        else:
            notice.delete()  # nothing left to demand, and it never went out
    _hold_notices(invoice)
    return block


@transaction.atomic
def lift_dunning_block(
    *, block: DunningBlock, reason: str = "", by=None, by_hand: bool = True, now: datetime | None = None
) -> DunningBlock:
    """Lift one complaint's block. By staff (`by_hand`) before the complaint's reply it needs a reason, kept
    on the block; the reply, or the rule when the case no longer protects the invoice, lifts it with
    `by_hand=False`. The invoice is free again once no other complaint holds it."""
    reason = reason.strip()
    if by_hand and block.complaint.answered_on is None and not reason:
        raise ValidationError(
            {
                "reason": _(
                    "Il reclamo %(code)s non ha ancora una risposta: indica il motivo per togliere il blocco."
                )
                % {"code": block.complaint.code}
            }
        )
    now = now or timezone.now()
    invoice = Invoice.objects.select_for_update().get(pk=block.invoice_id)
    block = DunningBlock.objects.select_for_update().select_related("complaint").get(pk=block.pk)
    if block.lifted_at is not None:
        return block
    block.lifted_at, block.lifted_by = now, by
    block.lifted_by_hand, block.lift_reason = by_hand, reason[:300]
    block.save(update_fields=["lifted_at", "lifted_by", "lifted_by_hand", "lift_reason"])
    if not _follow_blocks(invoice):
        _free(invoice, today=rome_date(now))
    return block


@transaction.atomic
def unblock_dunning(*, invoice: Invoice, reason: str = "", by=None, now: datetime | None = None) -> Invoice:
    """Staff lift every block on the invoice (billing admin): a reason is needed while a complaint holding
    it waits for its reply."""
    for block in active_blocks(invoice=invoice):
        lift_dunning_block(block=block, reason=reason, by=by, now=now)
    invoice.refresh_from_db()
    return invoice


def _follow_blocks(invoice: Invoice) -> bool:
    """Set the invoice's flag and reason from its active blocks (the invoice is locked); whether any holds
    it."""
    codes = list(
        active_blocks(invoice=invoice).order_by("set_at", "pk").values_list("complaint__code", flat=True)
    )
    invoice.dunning_blocked = bool(codes)
    invoice.dunning_blocked_reason = (
        _("Reclamo %(codes)s: nessuna sospensione prima della risposta motivata.")
        % {"codes": ", ".join(codes)}
        if codes
        else ""
    )[:300]
    invoice.save(update_fields=["dunning_blocked", "dunning_blocked_reason"])
    return bool(codes)


def _free(invoice: Invoice, *, today: date) -> None:
    """No complaint holds the invoice any more: still unpaid, it is due for a notice again, and a sent notice
    held only by blocks counts towards suspension again."""
    in_open_notice = invoice.default_notice_items.filter(notice__status__in=OPEN_STATUSES).exists()
    if (
        invoice.kind == Invoice.Kind.INVOICE
        and invoice.status in Invoice.OPEN_STATUSES
        and invoice.dunning_due_on is None
        and not in_open_notice
    ):
        invoice.dunning_due_on = dunning_due_date(invoice.due_on)
        invoice.save(update_fields=["dunning_due_on"])
    _release_notices(invoice, today=today)


def _hold_notices(invoice: Invoice) -> None:
    """The invoice (locked) is now held, by a complaint or an instalment plan: a notice already "suspension
    allowed" whose every bill still due is held allows nothing — back to its payment term, off the sweep
    until one of them is free again (`_release_notices`)."""
    for notice in DefaultNotice.objects.select_for_update().filter(
        status=DefaultNotice.Status.SUSPENSION_ALLOWED, items__invoice=invoice
    ):
        if every_bill_held(notice):
            notice.status = DefaultNotice.Status.DISPATCHED
            notice.suspension_allowed_on = None
            notice.save(update_fields=["status", "suspension_allowed_on"])


def _release_notices(invoice: Invoice, *, today: date) -> None:
    """The invoice (locked) is free again: a sent notice that was held counts towards suspension again,
    unless another of its bills still holds it."""
    for notice in DefaultNotice.objects.select_for_update().filter(
        status=DefaultNotice.Status.DISPATCHED, suspension_allowed_on__isnull=True, items__invoice=invoice
    ):
        if every_bill_held(notice):
            continue  # another of its bills is still held
        notice.suspension_allowed_on = earliest_step_day(notice)
        notice.save(update_fields=["suspension_allowed_on"])
        if notice.suspension_allowed_on <= today:
            reach_suspension_allowed(notice, today=today)  # as the sweep would on its next run


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
    # Paid meanwhile, or held by an approved instalment plan: no longer due for a notice.
    held = instalments.suspended_invoice_ids(invoice.pk for invoice in invoices)
    settled = [invoice.pk for invoice in invoices if invoice.outstanding <= ZERO or invoice.pk in held]
    invoices = [invoice for invoice in invoices if invoice.outstanding > ZERO and invoice.pk not in held]
    Invoice.objects.filter(pk__in=settled).update(dunning_due_on=None)
    if not invoices:
        return None

    collecting = DefaultNotice.objects.filter(condition(Operation.SEND), customer=customer)
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


@dataclass(frozen=True)
class Queued:
    """What `queue_sending` did with the notices staff selected."""

    sent: list[DefaultNotice]  # queued for sending
    without_pec: int  # to be sent by PEC, but the customer has no PEC address
    skipped: int  # not to be sent (already written, sent or closed)


def queue_sending(*, notices: QuerySet[DefaultNotice], channel: str, by=None) -> Queued:
    """Queue the sending of the notices still to be sent, once the transaction commits: each renders a PDF
    (~0.3 s), so it happens in Celery (`billing.tasks.send_default_notices`), never in the request. Robust: a
    broker outage leaves them "da inviare", visibly."""
    from billing.tasks import send_default_notices  # billing.tasks imports this module

    if channel not in DefaultNotice.Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    selected = notices.count()
    to_send = notices.filter(condition(Operation.SEND))
    without_pec = 0
    if channel == DefaultNotice.Channel.PEC:
        without_pec = to_send.filter(customer__pec="").count()
        to_send = to_send.exclude(customer__pec="")
    sent = list(to_send.order_by("pk"))
    if sent:
        ids, user_id = [notice.pk for notice in sent], getattr(by, "pk", None)
        transaction.on_commit(lambda: send_default_notices.delay(ids, channel, user_id), robust=True)
    return Queued(sent=sent, without_pec=without_pec, skipped=selected - len(sent) - without_pec)


def _lock_collecting(notice: DefaultNotice) -> DefaultNotice:
    notice = DefaultNotice.objects.select_for_update().select_related("customer").get(pk=notice.pk)
    if not allows(notice, Operation.SEND):
        if allows(notice, Operation.RECORD_POSTING):
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
    notice.communication = letters.write_notice(notice, channel=Delivery.Channel.LETTER)
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
    notifications admin, which calls back the letter handler in letters.py).
    """
    now = now or timezone.now()
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
            {
                "sent_on": _("La PEC parte adesso: la data di invio è oggi, %(day)s.")
                % {"day": formatting.day(today)}
            }
        )
    _freeze(notice)
    notice.channel = DefaultNotice.Channel.PEC
    letters.set_term(notice, sent_on=sent_on)  # before writing: the PDF prints the deadline
    notice.communication = letters.write_notice(notice, channel=Delivery.Channel.PEC)
    pec = notice.communication.deliveries.get(channel=Delivery.Channel.PEC)
    letters.start_payment_term(
        notice, sent_on=sent_on, tracking_number=tracking_number or pec.message_id, by=by, at=now
    )
    return notice


def _letter_of(notice: DefaultNotice) -> Delivery | None:
    if notice.communication_id is None:
        return None
    return Delivery.objects.filter(
        communication_id=notice.communication_id, channel=Delivery.Channel.LETTER
    ).first()


@transaction.atomic
def record_receipt(
    *, notice: DefaultNotice, received_on: date, by=None, now: datetime | None = None
) -> DefaultNotice:
    """The day the customer received the notice (PEC delivery receipt, return receipt of the letter). It
    replaces the presumed receipt and moves the day a suspension may be asked for."""
    now = now or timezone.now()
    letter = _letter_of(notice)
    if letter is not None and letter.dispatched_on is not None and letter.delivered_on is None:
        # Recorded on the letter too, so both admins agree; the letter calls back letters._letter_delivered.
        record_letter_delivery(delivery=letter, delivered_on=received_on, by=by, now=now)
        notice.refresh_from_db()
        return notice
    notice = DefaultNotice.objects.select_for_update().get(pk=notice.pk)
    letters.apply_receipt(notice, received_on=received_on, by=by, at=now)
    return notice


# ---------------------------------------------------------------------------------------------------------
# Closing: payment, cancellation, the suspension-allowed sweep
# ---------------------------------------------------------------------------------------------------------


def close_paid_notices(*, customer: Customer, on: date) -> list[DefaultNotice]:
    """ "Paying an invoice closes its dunning": every notice of the customer whose invoices are now all paid
    (or cancelled) closes, and a customer who was sent one is told. Called by services.record_payment,
    in its transaction, after the payment is allocated. Notices that already led to a step stay open: the
    supply is restored through `steps.reactivate`."""
    closed = []
    for notice in DefaultNotice.objects.select_for_update().filter(
        condition(Operation.CLOSE_PAID), customer=customer
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
        link=absolute_url("billing:invoices"),
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
    if not allows(notice, Operation.CANCEL):
        raise ValidationError(
            _("La costituzione in mora %(reference)s non si può annullare (stato: %(status)s).")
            % {"reference": notice.reference, "status": notice.get_status_display()}
        )
    _close(
        notice,
        status=DefaultNotice.Status.CANCELLED,
        on=rome_date(now or timezone.now()),
        by=by,
        reason=reason,
    )
    for invoice in invoices:
        if invoice.status in Invoice.OPEN_STATUSES and invoice.dunning_due_on is None:
            invoice.dunning_due_on = dunning_due_date(invoice.due_on)
            invoice.save(update_fields=["dunning_due_on"])
    return notice


def reach_suspension_allowed(notice: DefaultNotice, *, today: date) -> None:
    """Sweep act: the notice's first step day has come. Still unpaid: staff may now act (worklist);
    paid meanwhile (e.g. by a credit note): closed; every bill still due held by a complaint or an
    instalment plan: held."""
    if amount_still_due(notice) <= ZERO:
        _close(notice, status=DefaultNotice.Status.CLOSED_PAID, on=today)
        return
    if every_bill_held(notice):
        # ARERA: nothing it demands may lead to suspension before the reasoned replies; nor while the plan
        # covering it runs. Held, off the sweep: freeing a bill sets the day again (`_release_notices`).
        notice.suspension_allowed_on = None
        notice.save(update_fields=["suspension_allowed_on"])
        return
    notice.status = DefaultNotice.Status.SUSPENSION_ALLOWED
    notice.save(update_fields=["status"])


# ---------------------------------------------------------------------------------------------------------
# Instalment plans (billing/instalments.py): an approved plan holds its bills out of the procedure
# ---------------------------------------------------------------------------------------------------------


def suspend_for_instalment_plan(*, invoice: Invoice) -> None:
    """An approved plan covers the invoice (locked by the caller): no longer due for a notice, and out of
    the notice still being collected. A notice already sent keeps it, but record_suspension_step refuses
    any step while the plan runs, and a sent notice whose every bill still due is held stays in (or goes
    back to) its payment term, as for a complaint."""
    invoice.dunning_due_on = None
    invoice.save(update_fields=["dunning_due_on"])
    collecting = DefaultNoticeItem.objects.filter(
        condition(Operation.SEND, prefix="notice__"), invoice=invoice
    )
    for item in collecting:
        notice = DefaultNotice.objects.select_for_update().get(pk=item.notice_id)
        item.delete()
        if notice.items.exists():
            _update_total(notice)
        else:
            notice.delete()  # nothing left to demand, and it never went out
    _hold_notices(invoice)


def resume_after_instalment_plan(*, invoice: Invoice, today: date) -> None:
    """The plan covering the invoice (locked by the caller) lapsed: still unpaid and in no open notice, it
    is due for a notice at once — its due date passed long ago. One in a sent notice goes on with it: a
    notice the plan held counts towards suspension again, from the day its terms allow."""
    in_open_notice = invoice.default_notice_items.filter(notice__status__in=OPEN_STATUSES).exists()
    still_due = invoice.awaits_payment and invoice.outstanding > ZERO
    if still_due and invoice.dunning_due_on is None and not in_open_notice:
        invoice.dunning_due_on = today
        invoice.save(update_fields=["dunning_due_on"])
    _release_notices(invoice, today=today)
