"""Complaints and written requests: filing, working the case, the reasoned reply, the indemnity.

The legal clock is stored on the case (answer_due_on and the sweep dates derived from it) from the pure
rules in complaints/deadlines.py, by receipt date. Sending the reasoned reply stops it; a late reply
computes the automatic indemnity and creates the credit that billing deducts from the next invoice. A reply
that goes by post is sent on the posting date staff record on its letter: importing this module registers
that handler (`_reply_posted`), and every process that records a posting (admin, tasks) imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer
from billing import dunning
from billing.models import Credit
from billing.services import grant_indemnity
from complaints import communications, deadlines, reply_templates, selectors, staff_alerts
from complaints.models import Complaint, ComplaintAttachment, ComplaintCounter, ComplaintEvent
from contracts.models import Contract, Service
from portal.lib import formatting
from portal.lib.dates import add_days
from portal.notifications import handlers
from portal.notifications.models import Delivery

REMINDER_DAYS_BEFORE = 5


def _next_code(year: int) -> str:
    return f"R-{year}-{ComplaintCounter.take_next(year):06d}"


def _set_clock(complaint: Complaint) -> None:
    """Every date the sweeps look at, from the kind and the receipt date (recomputed on reclassification)."""
    due = deadlines.answer_due_date(complaint.kind, complaint.received_on, complaint.four_monthly_billing)
    complaint.answer_due_on = due
    complaint.reminder_due_on = add_days(due, -REMINDER_DAYS_BEFORE)
    complaint.overdue_on = add_days(due, 1)
    complaint.conciliation_due_on = deadlines.conciliation_available_on(complaint.sent_on)


def effective_kind(kind: str, service: Service | None) -> str:
    """Complaints about communications services (fibre, mobile) follow AGCOM 255/24/CONS, the others ARERA's
    TIQV: the supply decides, whatever the sender ticked. Information requests stay what they are."""
    if kind == Complaint.Kind.INFORMATION_REQUEST or service is None:
        return kind
    if service.is_communications:
        return Complaint.Kind.TELECOM_COMPLAINT
    if kind == Complaint.Kind.TELECOM_COMPLAINT:
        return Complaint.Kind.COMPLAINT
    return kind


@transaction.atomic
def file_complaint(
    *,
    kind: str,
    topic: str,
    channel: str,
    description: str,
    sent_on: date,
    received_on: date | None = None,
    customer: Customer | None = None,
    contract: Contract | None = None,
    service: Service | None = None,
    invoice=None,
    sender_name: str = "",
    sender_tax_id: str = "",
    sender_email: str = "",
    supply_reference: str = "",
    reply_address: str = "",
    reply_address_confirmed: bool = False,
    attachments: Iterable[UploadedFile] = (),
    submission_token: str | None = None,
    reference_identifies_supply: bool = True,
    by=None,
) -> Complaint:
    """Register a complaint or request. Online and e-mail ones are received on the day they are sent.

    A complaint whose supply cannot be identified is handled as an information request, and the reply asks
    for what is missing; when in doubt it stays a complaint (REGULATION.md). One about a communications
    service is AGCOM's, one about energy ARERA's, whatever kind was ticked (`effective_kind`): the same for
    the online forms and for staff registering a letter or a call. The same submission token
    returns the case already filed (double click, retry). The public form passes
    `reference_identifies_supply=False` when the POD/PDR or customer code the sender typed matched none of
    ours: the reference is kept on the case as written, but it does not identify the supply.

    The acknowledgement with the PDF copy of the form is sent by a task once the case is committed."""
    if submission_token:
        existing = Complaint.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            return existing
    if service is not None and contract is None:
        contract = service.contract
    if contract is not None and customer is None:
        customer = contract.customer
    kind = effective_kind(kind, service)
    identified_supply = (
        service is not None
        or contract is not None
        or (bool(supply_reference) and reference_identifies_supply)
    )
    if kind == Complaint.Kind.COMPLAINT and not identified_supply:
        kind = Complaint.Kind.INFORMATION_REQUEST
    if customer is not None:
        sender_name = sender_name or customer.display_name
        sender_tax_id = sender_tax_id or customer.partita_iva or customer.codice_fiscale
        sender_email = sender_email or customer.email
        reply_address = reply_address or customer.reply_address
    if not reply_address:
        raise ValidationError({"reply_address": _("Indica dove vuoi ricevere la risposta scritta.")})
    checked = _check_new_attachments(attachments)
    complaint = Complaint(
        kind=kind,
        topic=topic,
        channel=channel,
        customer=customer,
        contract=contract,
        service=service,
        invoice=invoice,
        sender_name=sender_name,
        sender_tax_id=sender_tax_id,
        sender_email=sender_email,
        supply_reference=supply_reference or (service.identifier if service else ""),
        supply_address=service.supply_address if service else "",
        reply_address=reply_address,
        reply_address_confirmed=reply_address_confirmed,
        description=description,
        sent_on=sent_on,
        received_on=received_on or sent_on,
        four_monthly_billing=False,
        submission_token=submission_token or None,
    )
    _set_clock(complaint)
    # Read now, not under the counter's lock: what is left after the code is taken are inserts and row locks.
    protects = protects_invoice(complaint)
    try:
        with transaction.atomic():
            # The code is taken last, so the year's counter row stays locked only for the inserts left before
            # the commit; and in the savepoint of the insert, so a second submission of the same token (it
            # waits here for the first to commit, then fails on the unique token) gives its number back.
            complaint.code = _next_code(sent_on.year)
            complaint.save()
    except IntegrityError:
        # Expected only from a second submission of the same token: the first one's case is the answer.
        existing = submission_token and Complaint.objects.filter(submission_token=submission_token).first()
        if not existing:
            raise
        return existing
    event = _record(complaint, ComplaintEvent.Kind.FILED, by=by, text=complaint.get_channel_display())
    for upload, content_type in checked:
        _store_attachment(complaint, upload, content_type, by=by, event=event)
    apply_dunning_block(complaint, by=by, protects=protects)
    _queue_acknowledgement(complaint)
    return complaint


def _queue_acknowledgement(complaint: Complaint) -> None:
    from complaints.tasks import send_acknowledgement  # here: complaints.tasks imports this module

    # The PDF copy is rendered by a worker once the case is committed (DESIGN.md §4). robust: a broker outage
    # must not turn a filed complaint into an error page; the failure is logged.
    transaction.on_commit(lambda: send_acknowledgement.delay(complaint.pk), robust=True)


def send_acknowledgement(complaint: Complaint) -> None:
    """Acknowledge a filed case once: called by the task queued at filing and by the catch-up sweep for what
    a broker outage left unsent. The row lock makes a redelivered task and the sweep wait for each other."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
        if complaint.acknowledged_at is not None:
            return
        communications.acknowledge(complaint)
        Complaint.objects.filter(pk=complaint.pk).update(acknowledged_at=timezone.now())


def _record(
    complaint: Complaint, kind: str, *, by=None, text: str = "", internal: bool = False
) -> ComplaintEvent:
    return ComplaintEvent.objects.create(
        complaint=complaint, kind=kind, text=text, internal=internal, actor=by
    )


# ---------------------------------------------------------------------------------------------------------
# The anomalous-bill block (ARERA): it follows the case
# ---------------------------------------------------------------------------------------------------------


def protects_invoice(complaint: Complaint) -> bool:
    """The rule: any complaint about an anomalous invoice — whatever kind the sender chose, only an
    information request is not one — keeps it from leading to suspension until the reasoned reply
    (REGULATION.md; the numbers are billing.dunning's)."""
    return (
        complaint.invoice is not None
        and complaint.answered_on is None
        and complaint.kind != Complaint.Kind.INFORMATION_REQUEST
        and dunning.is_anomalous_for_complaint(
            invoice=complaint.invoice, complaint_received_on=complaint.received_on
        )
    )


def apply_dunning_block(complaint: Complaint, *, by=None, protects: bool | None = None) -> None:
    """(Re)apply the block for the case as it stands now: at filing, when its invoice is linked or changed,
    when it is reclassified, and at the reply, which lifts it. Staff's own decisions stand: a block they set
    holds until the reply or until they lift it; one they lifted is not set again by the rule. `protects`:
    the rule, when the caller read it already (`protects_invoice`)."""
    protects = protects_invoice(complaint) if protects is None else protects
    awaiting_reply = complaint.answered_on is None
    for block in dunning.active_blocks(complaint=complaint):
        if not awaiting_reply:
            dunning.lift_dunning_block(block=block, by=by, by_hand=False)
        elif block.invoice_id != complaint.invoice_id:
            dunning.lift_dunning_block(
                block=block, reason=_("Il reclamo non riguarda più questa bolletta."), by=by, by_hand=False
            )
        elif not block.manual and not protects:
            dunning.lift_dunning_block(
                block=block,
                reason=_("La regola non si applica più al caso (%(kind)s).")
                % {"kind": complaint.get_kind_display()},
                by=by,
                by_hand=False,
            )
    if (
        protects
        and not dunning.active_blocks(complaint=complaint, invoice=complaint.invoice).exists()
        and not dunning.lifted_by_hand(complaint=complaint, invoice=complaint.invoice)
    ):
        dunning.block_dunning(
            invoice=complaint.invoice,
            complaint=complaint,
            reason=_("Bolletta anomala rispetto alla media degli ultimi 12 mesi"),
            by=by,
        )


@transaction.atomic
def block_invoice_dunning(*, complaint: Complaint, reason: str, by) -> Complaint:
    """Staff hold the case's invoice out of dunning until the reply, whatever the rule says: the block names
    this complaint, and the reason stays on it and in the history."""
    complaint = _open_case(complaint)
    if complaint.invoice is None:
        raise ValidationError(_("Collega prima la bolletta contestata al caso."))
    if not reason.strip():
        raise ValidationError({"reason": _("Indica il motivo del blocco.")})
    dunning.block_dunning(invoice=complaint.invoice, complaint=complaint, reason=reason, manual=True, by=by)
    _record(
        complaint,
        ComplaintEvent.Kind.DUNNING_BLOCKED,
        by=by,
        internal=True,
        text=f"{complaint.invoice.number}: {reason.strip()}",
    )
    return complaint


@transaction.atomic
def lift_invoice_dunning(*, complaint: Complaint, reason: str, by) -> Complaint:
    """Staff lift the case's block before the reply: a reason is needed, kept on the block and in the
    history, and the rule does not set it again for this case."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    blocks = list(dunning.active_blocks(complaint=complaint))
    if not blocks:
        raise ValidationError(_("Il caso %(code)s non blocca nessuna bolletta.") % {"code": complaint.code})
    for block in blocks:
        dunning.lift_dunning_block(block=block, reason=reason, by=by)
    _record(
        complaint,
        ComplaintEvent.Kind.DUNNING_UNBLOCKED,
        by=by,
        internal=True,
        text=", ".join(f"{block.invoice.number}: {reason.strip()}" for block in blocks),
    )
    return complaint


@transaction.atomic
def link_invoice(*, complaint: Complaint, invoice, by) -> Complaint:
    """Link the contested invoice to the case (or change it), then apply the block as at filing."""
    complaint = _open_case(complaint)
    if (
        invoice is not None
        and complaint.customer_id is not None
        and invoice.customer_id != complaint.customer_id
    ):
        raise ValidationError({"invoice": _("La bolletta non è intestata al cliente del reclamo.")})
    old = complaint.invoice
    complaint.invoice = invoice
    complaint.save(update_fields=["invoice"])
    _record(
        complaint,
        ComplaintEvent.Kind.INVOICE_LINKED,
        by=by,
        internal=True,
        text=f"{old.number if old else '—'} → {invoice.number if invoice else '—'}",
    )
    apply_dunning_block(complaint, by=by)
    return complaint


# ---------------------------------------------------------------------------------------------------------
# Attachments
# ---------------------------------------------------------------------------------------------------------

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Checked on the file's first bytes, never on its name or the browser's word.
SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def sniff_content_type(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def validate_attachment(upload: UploadedFile) -> str:
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("Il file «%(name)s» supera 10 MB.") % {"name": upload.name}, code="attachment_too_large"
        )
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise ValidationError(
            _("Il file «%(name)s» non è un PDF, un JPEG o un PNG.") % {"name": upload.name},
            code="attachment_type",
        )
    return content_type


@transaction.atomic
def attach(
    *, complaint: Complaint, upload: UploadedFile, by=None, event=None, internal=False, note: str = ""
) -> ComplaintAttachment:
    """Add a document to the case; staff may describe it in a `note`, kept as an internal note."""
    content_type = validate_attachment(upload)
    if complaint.attachments.filter(internal=False).count() >= MAX_ATTACHMENTS and not internal:
        raise _too_many_attachments()
    attachment = _store_attachment(complaint, upload, content_type, by=by, event=event, internal=internal)
    if note:
        add_note(complaint=complaint, text=f"Allegato «{attachment.original_name}»: {note}", by=by)
    return attachment


def _check_new_attachments(uploads: Iterable[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """The uploads of a case being filed, each with its checked content type."""
    checked = [(upload, validate_attachment(upload)) for upload in uploads]
    if len(checked) > MAX_ATTACHMENTS:
        raise _too_many_attachments()
    return checked


def _too_many_attachments() -> ValidationError:
    return ValidationError(_("Si possono allegare al massimo 5 file."), code="too_many_attachments")


def _store_attachment(
    complaint: Complaint, upload: UploadedFile, content_type: str, *, by, event, internal=False
) -> ComplaintAttachment:
    attachment = ComplaintAttachment(
        complaint=complaint,
        event=event,
        original_name=upload.name[:200],
        content_type=content_type,
        size=upload.size,
        internal=internal,
        uploaded_by=by,
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    return attachment


# ---------------------------------------------------------------------------------------------------------
# Working the case
# ---------------------------------------------------------------------------------------------------------


def _open_case(complaint: Complaint) -> Complaint:
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if not complaint.is_open:
        raise ValidationError(
            _("Il caso %(code)s è già chiuso o ha già una risposta.") % {"code": complaint.code}
        )
    return complaint


@transaction.atomic
def assign(*, complaint: Complaint, to, by) -> Complaint:
    complaint = _open_case(complaint)
    complaint.assignee = to
    if complaint.status == Complaint.Status.RECEIVED:
        complaint.status = Complaint.Status.IN_PROGRESS
    complaint.save(update_fields=["assignee", "status"])
    _record(complaint, ComplaintEvent.Kind.ASSIGNED, by=by, text=str(to), internal=True)
    return complaint


@transaction.atomic
def add_note(*, complaint: Complaint, text: str, by) -> ComplaintEvent:
    return _record(complaint, ComplaintEvent.Kind.NOTE, by=by, text=text, internal=True)


@transaction.atomic
def ask_customer(*, complaint: Complaint, text: str, by) -> Complaint:
    """Ask the customer for information. The clock does not stop: the answer is still due by the same day."""
    complaint = _open_case(complaint)
    complaint.status = Complaint.Status.WAITING_CUSTOMER
    complaint.save(update_fields=["status"])
    _record(complaint, ComplaintEvent.Kind.INFORMATION_REQUESTED, by=by, text=text)
    communications.information_requested(complaint, text=text)
    return complaint


@transaction.atomic
def customer_message(
    *, complaint: Complaint, text: str, attachments: Iterable[UploadedFile] = (), by=None
) -> ComplaintEvent:
    """A message from the customer on an open case. A reminder within the deadline is not a new complaint."""
    complaint = _open_case(complaint)
    if complaint.status == Complaint.Status.WAITING_CUSTOMER:
        complaint.status = Complaint.Status.IN_PROGRESS
        complaint.save(update_fields=["status"])
    event = _record(complaint, ComplaintEvent.Kind.MESSAGE_FROM_CUSTOMER, by=by, text=text)
    for upload in attachments:
        attach(complaint=complaint, upload=upload, by=by, event=event)
    return event


@transaction.atomic
def reclassify(*, complaint: Complaint, kind: str, reason: str, by) -> Complaint:
    """Complaint ↔ information request (and the other kinds): the answer-by date follows the new kind,
    still counted from the original receipt date."""
    complaint = _open_case(complaint)
    old = complaint.get_kind_display()
    complaint.kind = kind
    _set_clock(complaint)
    complaint.save()
    _record(
        complaint,
        ComplaintEvent.Kind.RECLASSIFIED,
        by=by,
        text=f"{old} → {complaint.get_kind_display()}: {reason}",
    )
    apply_dunning_block(complaint, by=by)
    return complaint


@transaction.atomic
def request_status_report(*, complaint: Complaint, by=None) -> ComplaintEvent:
    """AGCOM 255/24/CONS: the customer may ask at any time how the case stands; the answer is the history."""
    event = _record(complaint, ComplaintEvent.Kind.STATUS_REPORT, by=by, text=complaint.get_status_display())
    communications.status_report(complaint, event=event)
    return event


@transaction.atomic
def exclude_indemnity(*, complaint: Complaint, exclusion: str, reason: str, by) -> Complaint:
    """Record, before the reply, why no automatic indemnity is due (TIQV art. 18, 20). A reason is required."""
    complaint = _open_case(complaint)
    if not reason.strip():
        raise ValidationError({"indemnity_exclusion_reason": _("Indica il motivo dell'esclusione.")})
    complaint.indemnity_exclusion = exclusion
    complaint.indemnity_exclusion_reason = reason
    complaint.save(update_fields=["indemnity_exclusion", "indemnity_exclusion_reason"])
    _record(
        complaint,
        ComplaintEvent.Kind.INDEMNITY,
        by=by,
        internal=True,
        text=f"{complaint.get_indemnity_exclusion_display()}: {reason}",
    )
    return complaint


@transaction.atomic
def restart_reply(*, complaint: Complaint, outcome: str = reply_templates.OPEN, template=None) -> Complaint:
    """Replace the four sections of the reply with the templates' draft for `outcome` (`template` first,
    when staff chose one)."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if not complaint.is_open:
        raise ValidationError(_("La risposta è già stata inviata."))
    for name, value in reply_templates.draft(complaint, outcome, template).as_fields().items():
        setattr(complaint, name, value)
    complaint.save(update_fields=list(reply_templates.SECTION_FIELDS))
    return complaint


@transaction.atomic
def send_reply(*, complaint: Complaint, answered_on: date, by, delay_cause: str = "") -> Complaint:
    """Send the reasoned reply: the sending date stops the clock. A late reply creates the indemnity credit.

    A reply that goes by post (selectors.replies_by_post) is sent when it is posted: here its letter goes to
    the letters to post and the case waits, no longer worked but unanswered, its clock and sweeps running;
    the posting date staff record on the letter is the answer date (`_reply_posted`).

    Every section must be written, with no "[da completare: …]" left; `delay_cause`, when given, is recorded
    for the register as why the reply left late."""
    complaint = _open_case(complaint)
    if not all(getattr(complaint, name).strip() for name in reply_templates.SECTION_FIELDS):
        raise ValidationError(_("La risposta motivata deve avere tutte e quattro le sezioni."))
    unfinished = reply_templates.unfinished_sections_of(complaint)
    if unfinished:  # a "[da completare: …]" of the template left in
        raise ValidationError(
            _("Completa la risposta prima di inviarla: %(sections)s.") % {"sections": ", ".join(unfinished)}
        )
    if answered_on < complaint.received_on:
        raise ValidationError(_("La risposta non può precedere la ricezione del reclamo."))
    if delay_cause.strip():
        complaint.delay_cause = delay_cause.strip()
    if selectors.replies_by_post(complaint):
        complaint.status = Complaint.Status.REPLY_TO_POST
        complaint.save()
        _record(complaint, ComplaintEvent.Kind.REPLY_TO_POST, by=by, internal=True)
        communications.reply(complaint)
        return complaint
    _record_answer(complaint, answered_on=answered_on, by=by)
    communications.reply(complaint)
    return complaint


def _record_answer(complaint: Complaint, *, answered_on: date, by, text: str = "") -> None:
    """The reply is sent on `answered_on`: the clock stops, a late reply gets its indemnity credit, and the
    case's dunning block lifts."""
    complaint.answered_on = answered_on
    complaint.status = Complaint.Status.ANSWERED
    complaint.reminder_due_on = None
    amount = selectors.indemnity_due(complaint, answered_on=answered_on)
    if amount:
        complaint.indemnity_amount = amount
        complaint.indemnity_credit = grant_indemnity(
            customer=complaint.customer,
            contract=complaint.contract,
            reason=Credit.Reason.COMPLAINT_INDEMNITY,
            amount=amount,
            created_on=answered_on,
            source_key=f"complaint:{complaint.pk}",
            pay_by=deadlines.indemnity_payment_due_by(complaint.received_on, complaint.four_monthly_billing),
        )
    complaint.save()
    _record(complaint, ComplaintEvent.Kind.REPLIED, by=by, text=text)
    if complaint.indemnity_amount:
        _record(complaint, ComplaintEvent.Kind.INDEMNITY, by=by, text=f"{complaint.indemnity_amount} €")
    apply_dunning_block(complaint, by=by)  # answered: its block lifts


@handlers.on_letter_dispatched("complaint_reply")
def _reply_posted(*, delivery: Delivery, dispatched_on: date) -> None:
    """Staff recorded the posting of a reply letter (notifications admin, in their transaction): the reply is
    sent on that day, and a late one is indemnified as of that day."""
    about = delivery.communication.about
    if not isinstance(about, Complaint):
        return
    complaint = Complaint.objects.select_for_update().get(pk=about.pk)
    if complaint.status != Complaint.Status.REPLY_TO_POST:
        raise ValidationError(
            _("Il caso %(code)s non ha una risposta in attesa di spedizione.") % {"code": complaint.code}
        )
    if dispatched_on < complaint.received_on:
        raise ValidationError({"dispatched_on": _("La risposta non può precedere la ricezione del reclamo.")})
    _record_answer(
        complaint,
        answered_on=dispatched_on,
        by=delivery.dispatch_recorded_by,
        text=_("Spedita per posta ordinaria il %(day)s.") % {"day": formatting.day(dispatched_on)},
    )


@transaction.atomic
def mark_unsatisfactory(*, complaint: Complaint, by=None) -> Complaint:
    """The customer finds the reply unsatisfactory: conciliation becomes available at once."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.answered_on is None:
        raise ValidationError(_("Puoi segnalare la risposta come non soddisfacente dopo averla ricevuta."))
    complaint.unsatisfactory = True
    complaint.save(update_fields=["unsatisfactory"])
    _record(complaint, ComplaintEvent.Kind.UNSATISFACTORY, by=by)
    return complaint


@transaction.atomic
def close(*, complaint: Complaint, by) -> Complaint:
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.answered_on is None:
        raise ValidationError(_("Un caso si chiude dopo la risposta motivata."))
    complaint.status = Complaint.Status.CLOSED
    complaint.save(update_fields=["status"])
    _record(complaint, ComplaintEvent.Kind.CLOSED, by=by)
    apply_dunning_block(complaint, by=by)  # nothing left by the reply
    return complaint


def conciliation_available(complaint: Complaint, *, today: date) -> bool:
    """After an unsatisfactory reply, or 40 days after sending without a reply (AR)."""
    if complaint.unsatisfactory:
        return True
    return complaint.answered_on is None and today >= deadlines.conciliation_available_on(complaint.sent_on)


# ---------------------------------------------------------------------------------------------------------
# Sweep acts
# ---------------------------------------------------------------------------------------------------------


def remind_staff(complaint: Complaint, *, today: date) -> None:
    """5 days before the answer-by date, then on the day: remind the assignee (or the supervisors).

    Which reminder is decided by the sweep's day, not by the one pending: after downtime the day's reminder
    goes out on the day (not the 5-day one), and once the day has passed none does: the overdue alert
    tells supervisors instead, and no "due today" may follow it."""
    due = complaint.answer_due_on
    complaint.reminder_due_on = due if today < due else None
    complaint.save(update_fields=["reminder_due_on"])
    if today > due:
        return
    text = _("Risposta dovuta oggi") if today == due else _("Risposta dovuta entro 5 giorni")
    _record(complaint, ComplaintEvent.Kind.REMINDER, text=text, internal=True)
    staff_alerts.queue(complaint=complaint, subject=f"{complaint.code}: {text}", to_assignee=True)


def mark_overdue(complaint: Complaint, *, today: date) -> None:
    complaint.overdue = True
    complaint.reminder_due_on = None  # the overdue alert supersedes a reminder not yet sent
    complaint.save(update_fields=["overdue", "reminder_due_on"])
    _record(complaint, ComplaintEvent.Kind.OVERDUE, internal=True)
    staff_alerts.queue(
        complaint=complaint,
        subject=_("%(code)s: termine di risposta scaduto il %(day)s")
        % {"code": complaint.code, "day": formatting.day(complaint.answer_due_on)},
        to_assignee=False,
    )


def tell_about_conciliation(complaint: Complaint, *, today: date) -> None:
    complaint.conciliation_notified_on = today
    complaint.save(update_fields=["conciliation_notified_on"])
    _record(complaint, ComplaintEvent.Kind.CONCILIATION)
    communications.conciliation_available(complaint)
