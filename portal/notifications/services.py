"""The outbox's business rules: create communications once, deliver them once, record letters' dates.

Time is always a parameter (`now`); only the tasks, views and admin read the clock.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, models, transaction
from django.db.models import Case, DateTimeField, Q, Value, When
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from portal.lib import formatting
from portal.lib.dates import rome_date
from portal.lib.emails import absolute_url
from portal.notifications import handlers, rendering
from portal.notifications.models import Communication, Delivery

logger = logging.getLogger(__name__)

# After this many failed attempts an e-mail is marked failed and waits for staff (admin: "Riprova ora").
MAX_ATTEMPTS = 8
# Retry n waits 2**n minutes, at most this long: 2, 4, 8 … minutes, about 4 hours in all before failing.
MAX_BACKOFF = timedelta(hours=2)
# A delivery still `sending` after this long was claimed by a worker that died before recording the outcome.
# Longer than CELERY_TASK_TIME_LIMIT (15 minutes), so a live task is always killed before its claim is
# considered abandoned and the same e-mail is sent by two workers at once.
CLAIM_TIMEOUT = timedelta(minutes=20)


# --------------------------------------------------------------------------
# Creating communications
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Someone not (yet) identified as a customer: the public complaint form's sender, by e-mail; the sender
    of a letter who gave no e-mail address, by ordinary post. Never in an inbox."""

    name: str
    email: str = ""
    language: str = "it"
    # As the sender wrote it: street, then postcode and town (one line or several).
    postal_address: str = ""

    def address(self, channel: str) -> str:
        if channel == Delivery.Channel.EMAIL:
            address = self.email
        elif channel == Delivery.Channel.POST:
            address = f"{self.name}\n{self.postal_address}" if self.postal_address.strip() else ""
        else:
            raise ValueError("a recipient who is not a customer is reached by e-mail or ordinary post only")
        if not address.strip():
            raise ValueError(f"recipient {self.name!r} has no address for channel {channel!r}")
        return address


def notify(
    *,
    customer: Customer | None = None,
    recipient: Recipient | None = None,
    template_key: str,
    context: dict,
    channels: Iterable[str],
    dedupe_key: str,
    document: bytes | File | None = None,
    document_name: str = "",
    about: models.Model | None = None,
    link: str = "",
) -> Communication:
    """Write a communication to `customer`, rendered in their language, and queue it on `channels`.

    `link` is the page the communication is about, an absolute URL (portal.lib.emails.absolute_url): the
    message leads there. Without one, a customer's leads to their inbox.

    Runs in the caller's transaction: a sweep that writes a notice and its communication commits or rolls
    back both, and e-mails are queued only after the commit. Calling it again with the same `dedupe_key`
    returns the communication already written, even from another process at the same moment; nothing is
    rendered or queued twice.
    """
    if (customer is None) == (recipient is None):
        raise ValueError("a communication goes to a customer or to a recipient, exactly one of them")
    existing = Communication.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return _same_communication(existing, customer=customer, template_key=template_key)

    channels = list(dict.fromkeys(channels))
    if customer is not None:
        addresses = {channel: _address(customer, channel) for channel in channels}
        recipient_name, language = customer.display_name, customer.language
    else:
        addresses = {channel: recipient.address(channel) for channel in channels}
        recipient_name, language = recipient.name, recipient.language
    language = rendering.supported_language(language)
    if not link and customer is not None:
        link = absolute_url("notifications:inbox")
    rendered = rendering.render_communication(
        template_key=template_key,
        context={
            **context,
            "link": link,
            "customer": customer,
            "recipient_name": recipient_name,
            "supplier": settings.SUPPLIER,
            "has_document": bool(document),
        },
        language=language,
    )
    communication = Communication(
        customer=customer,
        recipient_name=recipient_name,
        recipient_email=recipient.email if recipient else "",
        template_key=template_key,
        language=language,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        dedupe_key=dedupe_key,
        about=about,
    )
    if document is not None:
        communication.document_name = document_name or f"{template_key.replace('/', '-')}.pdf"
        if isinstance(document, bytes):
            document = ContentFile(document)
        communication.document.save(communication.document_name, document, save=False)

    try:
        # A savepoint: on a duplicate key only this insert is undone, not the caller's transaction. Under
        # concurrency the second insert waits on the unique index until the first commits, then fails here.
        with transaction.atomic():
            communication.save()
            deliveries = Delivery.objects.bulk_create(
                Delivery(
                    communication=communication,
                    channel=channel,
                    address=addresses[channel],
                    message_id=rendering.new_message_id(),
                    next_attempt_at=communication.created_at if channel in Delivery.ELECTRONIC else None,
                )
                for channel in channels
            )
    except IntegrityError:
        if communication.document:
            communication.document.delete(save=False)
        existing = Communication.objects.filter(dedupe_key=dedupe_key).first()
        if existing is None:
            raise
        return _same_communication(existing, customer=customer, template_key=template_key)

    for delivery in deliveries:
        if delivery.channel in Delivery.ELECTRONIC:
            _queue_email(delivery.pk)
    return communication


def _same_communication(
    existing: Communication, *, customer: Customer | None, template_key: str
) -> Communication:
    # A dedupe key names one notice to one customer; reusing it for another is a bug, never a duplicate.
    if existing.customer_id != (customer.pk if customer else None) or existing.template_key != template_key:
        raise ValueError(
            f"dedupe key {existing.dedupe_key!r} already names communication {existing.pk} "
            f"({existing.template_key}) to customer {existing.customer_id}"
        )
    return existing


def _address(customer: Customer, channel: str) -> str:
    if channel == Delivery.Channel.EMAIL:
        address = customer.email
    elif channel == Delivery.Channel.PEC:
        address = customer.pec
    elif channel in Delivery.POSTAL:
        # Poste Italiane's layout: name, street, then "CAP COMUNE PROVINCIA" on the last line.
        address = (
            f"{customer.display_name}\n{customer.billing_street}\n"
            f"{customer.billing_postcode} {customer.billing_city.upper()} {customer.billing_province}"
        )
    else:
        raise ValueError(f"unknown channel {channel!r} (the inbox needs none: every communication is in it)")
    if not address.strip():
        raise ValidationError(
            _("Il cliente %(customer)s non ha un indirizzo per il canale %(channel)s.")
            % {"customer": customer, "channel": Delivery.Channel(channel).label}
        )
    return address


def _queue_email(delivery_id: int) -> None:
    from portal.notifications.tasks import deliver_email

    # robust: a broker outage must not turn a committed request into an error page; the beat-scheduled
    # sweep sends whatever was not queued.
    transaction.on_commit(lambda: deliver_email.delay(delivery_id), robust=True)


def mark_communication_read(*, communication: Communication, now: datetime) -> None:
    if communication.read_at is None:
        Communication.objects.filter(pk=communication.pk, read_at__isnull=True).update(read_at=now)
        communication.read_at = now


# --------------------------------------------------------------------------
# Sending e-mails and PEC
# --------------------------------------------------------------------------


def send_pending_delivery(delivery_id: int, *, now: datetime) -> bool:
    """Send one e-mail/PEC delivery if it is due. False when it is not (sent, failed, claimed elsewhere)."""
    delivery = _claim(Delivery.objects.filter(pk=delivery_id), now=now)
    if delivery is None:
        return False
    _send_claimed(delivery, now=now)
    return True


def send_due_emails(*, now: datetime, batch: int = 50) -> int:
    """The delivery sweep: release abandoned claims, then send up to `batch` due e-mails. Returns how many
    were attempted. Several workers can run it at once: each claims different rows."""
    release_stale_claims(now=now)
    attempted = 0
    while attempted < batch:
        delivery = _claim(Delivery.objects.all(), now=now)
        if delivery is None:
            break
        _send_claimed(delivery, now=now)
        attempted += 1
    return attempted


def release_stale_claims(*, now: datetime) -> int:
    """Put back deliveries whose worker died between claiming and recording the outcome, so they are
    retried; those that have used up their attempts are marked failed for staff."""
    exhausted = Q(attempts__gte=MAX_ATTEMPTS)
    return Delivery.objects.stale_claims(now - CLAIM_TIMEOUT).update(
        status=Case(
            When(exhausted, then=Value(Delivery.Status.FAILED)), default=Value(Delivery.Status.PENDING)
        ),
        next_attempt_at=Case(
            When(exhausted, then=Value(None, output_field=DateTimeField())),
            default=Value(now, output_field=DateTimeField()),
        ),
        last_error="Il worker si è fermato durante l'invio (nessun esito registrato).",
    )


def _claim(queryset, *, now: datetime) -> Delivery | None:
    """Move one due delivery from pending to sending, and commit, before anything is sent.

    The status is the guard against a second send: once committed as `sending`, no other worker (nor this
    task redelivered by the broker after a crash, acks_late) can claim it again until `release_stale_claims`
    decides its worker is gone.
    """
    with transaction.atomic():
        delivery = (
            queryset.due_emails(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("communication")
            .order_by("next_attempt_at")
            .first()
        )
        if delivery is None:
            return None
        delivery.status = Delivery.Status.SENDING
        delivery.claimed_at = now
        delivery.attempts += 1
        delivery.save(update_fields=["status", "claimed_at", "attempts"])
    return delivery


def _send_claimed(delivery: Delivery, *, now: datetime) -> None:
    try:
        rendering.build_email(delivery).send()
    except Exception as error:
        logger.warning(
            "Delivery %s (attempt %s) failed: %s", delivery.pk, delivery.attempts, error, exc_info=True
        )
        _record_failure(delivery, error=error, now=now)
        return
    # `attempts` fences the update: if this worker was so slow that its claim was released *and taken again*
    # by another worker, the row is no longer ours to close. Released but not yet retaken, it is: recording
    # the send now spares the customer a second copy.
    Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).exclude(
        status=Delivery.Status.SENT
    ).update(status=Delivery.Status.SENT, sent_at=now, next_attempt_at=None, last_error="")


def _record_failure(delivery: Delivery, *, error: Exception, now: datetime) -> None:
    failed = delivery.attempts >= MAX_ATTEMPTS
    Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts
    ).update(
        status=Delivery.Status.FAILED if failed else Delivery.Status.PENDING,
        next_attempt_at=None if failed else now + backoff(delivery.attempts),
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return min(timedelta(minutes=2**attempts), MAX_BACKOFF)


def retry_delivery(*, delivery: Delivery, now: datetime) -> bool:
    """Staff's "retry now": a failed or waiting e-mail gets one more attempt at once. False if it is not
    an e-mail waiting or failed (sent ones are never sent again)."""
    updated = Delivery.objects.filter(
        pk=delivery.pk,
        channel__in=Delivery.ELECTRONIC,
        status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED],
    ).update(status=Delivery.Status.PENDING, next_attempt_at=now)
    if updated:
        _queue_email(delivery.pk)
    return bool(updated)


# --------------------------------------------------------------------------
# Letters: registered (raccomandata A/R) and ordinary post
# --------------------------------------------------------------------------


@transaction.atomic
def record_letter_dispatch(
    *, delivery: Delivery, dispatched_on: date, tracking_number: str = "", by: User, now: datetime
) -> Delivery:
    """Record that staff posted a letter: the date legal deadlines count from. A registered letter needs its
    number; an ordinary one has none.

    Calls the handlers registered for the communication's template key, in this transaction.
    """
    letter = _locked_letter(delivery)
    tracking_number = tracking_number.strip()
    registered = letter.channel == Delivery.Channel.LETTER
    errors = {}
    if letter.dispatched_on is not None:
        if not registered:
            raise ValidationError(
                _("La spedizione di questa lettera è già stata registrata: spedita il %(date)s.")
                % {"date": formatting.day(letter.dispatched_on)}
            )
        raise ValidationError(
            _(
                "La spedizione di questa lettera è già stata registrata: spedita il %(date)s, raccomandata %(number)s."
            )
            % {"date": formatting.day(letter.dispatched_on), "number": letter.tracking_number}
        )
    created_on = rome_date(letter.communication.created_at)
    if dispatched_on > rome_date(now):
        errors["dispatched_on"] = _("La data di spedizione non può essere nel futuro.")
    elif dispatched_on < created_on:
        errors["dispatched_on"] = _(
            "La data di spedizione non può precedere la creazione della comunicazione (%(date)s)."
        ) % {"date": formatting.day(created_on)}
    if registered and not tracking_number:
        errors["tracking_number"] = _("Indica il numero della raccomandata.")
    elif not registered and tracking_number:
        errors["tracking_number"] = _("Una lettera in posta ordinaria non ha numero di raccomandata.")
    if errors:
        raise ValidationError(errors)

    letter.dispatched_on = dispatched_on
    letter.tracking_number = tracking_number
    letter.status = Delivery.Status.SENT
    letter.sent_at = now
    letter.dispatch_recorded_by = by
    letter.dispatch_recorded_at = now
    letter.save(
        update_fields=[
            "dispatched_on",
            "tracking_number",
            "status",
            "sent_at",
            "dispatch_recorded_by",
            "dispatch_recorded_at",
        ]
    )
    handlers.run_dispatch_handlers(
        letter.communication.template_key, delivery=letter, dispatched_on=dispatched_on
    )
    return letter


@transaction.atomic
def record_letter_delivery(*, delivery: Delivery, delivered_on: date, by: User, now: datetime) -> Delivery:
    """Record the date on the return receipt (the registered letter reached the customer)."""
    letter = _locked_letter(delivery)
    if letter.channel != Delivery.Channel.LETTER:
        raise ValidationError(_("Solo le raccomandate A/R hanno una ricevuta di ritorno."))
    if letter.dispatched_on is None:
        raise ValidationError(_("Registra prima la spedizione della lettera."))
    if letter.delivered_on is not None:
        raise ValidationError(
            _("La consegna di questa lettera è già stata registrata: consegnata il %(date)s.")
            % {"date": formatting.day(letter.delivered_on)}
        )
    if delivered_on > rome_date(now):
        raise ValidationError({"delivered_on": _("La data di consegna non può essere nel futuro.")})
    if delivered_on < letter.dispatched_on:
        raise ValidationError(
            {
                "delivered_on": _("La data di consegna non può precedere la spedizione (%(date)s).")
                % {"date": formatting.day(letter.dispatched_on)}
            }
        )
    letter.delivered_on = delivered_on
    letter.receipt_recorded_by = by
    letter.receipt_recorded_at = now
    letter.save(update_fields=["delivered_on", "receipt_recorded_by", "receipt_recorded_at"])
    handlers.run_receipt_handlers(
        letter.communication.template_key, delivery=letter, delivered_on=delivered_on
    )
    return letter


def _locked_letter(delivery: Delivery) -> Delivery:
    # Re-read under a row lock: two staff members recording the same letter at once record it once.
    letter = (
        Delivery.objects.select_for_update(of=("self",)).select_related("communication").get(pk=delivery.pk)
    )
    if letter.channel not in Delivery.POSTAL:
        raise ValidationError(_("Solo le raccomandate e la posta ordinaria si spediscono a mano."))
    return letter
