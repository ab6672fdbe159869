"""The life of an electronic invoice at the SdI: created with the invoice, sent, answered by receipts.

    to send ──send──> sent ──RicevutaConsegna──────────> delivered
       ^                 ├──NotificaMancataConsegna──> not delivered (in the Agenzia's reserved area)
       └──resend (staff)─┴──NotificaScarto───────────> rejected

Every change goes through the functions below, inside a transaction: the send sweep (billing.einvoice_send)
calls `send` on a row it has locked (two workers send a document once), a channel failure leaves the row to
send with the next attempt backed off, and a notification that names no document of the portal, or is not
one, raises NotificationError and touches nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer
from billing import deadlines
from billing.einvoice import channels, document
from billing.einvoice.notifications import NotificationError, parse
from billing.models import EInvoice, EInvoiceFileCounter, Invoice, SdiReceipt
from portal import roles
from portal.lib.dates import rome_date

logger = logging.getLogger(__name__)

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)


# ---------------------------------------------------------------------------------------------------------
# The document's identity: what the invoice names, and the file it travels in
# ---------------------------------------------------------------------------------------------------------


def customer_details(customer: Customer) -> dict:
    """The customer as the e-invoice names them, copied onto the invoice when it is issued."""
    return {
        "kind": customer.kind,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "company_name": customer.company_name,
        "codice_fiscale": customer.codice_fiscale,
        "partita_iva": customer.partita_iva,
        "street": customer.billing_street,
        "postcode": customer.billing_postcode,
        "city": customer.billing_city,
        "province": customer.billing_province,
        "sdi_code": customer.sdi_code,
        "sdi_pec": customer.sdi_pec,
    }


def _new_file_name() -> tuple[str, str]:
    """A progressivo never used before (5 base-36 characters, about 60 million files) and the SdI file name
    built on it: country and tax id of the transmitter, underscore, progressivo."""
    number = EInvoiceFileCounter.take_next(0)
    progressivo = ""
    while number:
        number, digit = divmod(number, 36)
        progressivo = _BASE36[digit] + progressivo
    progressivo = progressivo.rjust(5, "0")
    if len(progressivo) > 5:
        raise RuntimeError("I progressivi dei file SdI a 5 caratteri sono esauriti.")
    country, code = document.transmitter_id()
    return progressivo, f"{country}{code}_{progressivo}.xml"


def create_for(invoice: Invoice) -> EInvoice:
    """The transmission of a just-issued invoice, in the issue's transaction: no issued document without one."""
    progressivo, file_name = _new_file_name()
    return EInvoice.objects.create(
        invoice=invoice,
        progressivo=progressivo,
        file_name=file_name,
        queued_on=invoice.issued_on,
        accept_by=deadlines.einvoice_accept_by(invoice.issued_on),
        alert_on=deadlines.einvoice_alert_on(invoice.issued_on),
    )


def einvoice_of(invoice: Invoice) -> EInvoice:
    """The issued invoice's transmission; EInvoiceError for a draft, which has none."""
    einvoice = EInvoice.objects.filter(invoice=invoice).first() if invoice.is_issued else None
    if einvoice is None:
        raise document.EInvoiceError(document.DRAFT_HAS_NONE)
    return einvoice


def build_xml(invoice: Invoice) -> bytes:
    return document.to_xml(document.fattura(invoice, progressivo=einvoice_of(invoice).progressivo))


# ---------------------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------------------


def send(einvoice: EInvoice, *, now: datetime) -> bool:
    """Build, validate and send one document (its row locked by the caller). True if it left. A document
    that does not build or validate, or a channel that fails, leaves it to send: the error is kept for staff
    and the next attempt waits, 5 minutes, then twice as long each time, at most 6 hours."""
    invoice = einvoice.invoice
    try:
        xml = document.to_xml(document.fattura(invoice, progressivo=einvoice.progressivo))
        channels.get_channel().send(einvoice.file_name, xml)
    except (document.EInvoiceError, channels.ChannelError) as exc:
        einvoice.attempts += 1
        einvoice.last_error = str(exc)
        einvoice.next_attempt_at = now + min(FIRST_RETRY * 2 ** (einvoice.attempts - 1), LONGEST_RETRY)
        einvoice.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        logger.warning("e-invoice %s not sent (attempt %s): %s", einvoice.file_name, einvoice.attempts, exc)
        return False
    einvoice.xml.save(einvoice.file_name, ContentFile(xml), save=False)
    einvoice.status = EInvoice.Status.SENT
    einvoice.sent_at = now
    einvoice.attempts += 1
    einvoice.last_error = ""
    einvoice.next_attempt_at = None
    einvoice.save(update_fields=["xml", "status", "sent_at", "attempts", "last_error", "next_attempt_at"])
    return True


@transaction.atomic
def resend(einvoice: EInvoice, *, today: date) -> EInvoice:
    """Send a rejected document again, once staff fixed its cause: the same invoice, number and date, under a
    new file name (the SdI refuses a file name it has seen). The customer's identity and e-invoice address are
    copied again from the customer record, where a wrong tax code or recipient code is corrected."""
    einvoice = EInvoice.objects.select_for_update().select_related("invoice__customer").get(pk=einvoice.pk)
    if einvoice.status != EInvoice.Status.REJECTED:
        raise ValidationError("Si reinvia solo una fattura elettronica scartata dallo SdI.")
    invoice = einvoice.invoice
    invoice.customer_details = customer_details(invoice.customer)
    invoice.save(update_fields=["customer_details"])
    einvoice.progressivo, einvoice.file_name = _new_file_name()
    einvoice.status = EInvoice.Status.TO_SEND
    einvoice.queued_on = today
    einvoice.attempts = 0
    einvoice.next_attempt_at = None
    einvoice.last_error = ""
    einvoice.resend_by = None
    # The rejected send's time and SdI identifier stay on its NotificaScarto; its file until the new one leaves.
    einvoice.sent_at = None
    einvoice.sdi_identifier = ""
    einvoice.outcome_at = None
    einvoice.save()
    return einvoice


# ---------------------------------------------------------------------------------------------------------
# Receipts
# ---------------------------------------------------------------------------------------------------------

_OUTCOMES = {
    SdiReceipt.Kind.DELIVERY: EInvoice.Status.DELIVERED,
    SdiReceipt.Kind.NOT_DELIVERED: EInvoice.Status.NOT_DELIVERED,
    SdiReceipt.Kind.REJECTION: EInvoice.Status.REJECTED,
}


# A delivery (or undeliverable) receipt is final even after a rejection of the same file name: the SdI rejects
# a second copy of a file it has already received (error 00002, "file duplicato"), which is what a send whose
# database commit failed after the file left would produce; the receipt of the first copy then still counts.
_MAY_RECEIVE = {
    SdiReceipt.Kind.DELIVERY: (EInvoice.Status.TO_SEND, EInvoice.Status.SENT, EInvoice.Status.REJECTED),
    SdiReceipt.Kind.NOT_DELIVERED: (EInvoice.Status.TO_SEND, EInvoice.Status.SENT, EInvoice.Status.REJECTED),
    SdiReceipt.Kind.REJECTION: (EInvoice.Status.TO_SEND, EInvoice.Status.SENT),
}


@dataclass(frozen=True)
class ReceiptResult:
    receipt: SdiReceipt
    already_recorded: bool = False


@transaction.atomic
def record_notification(file_name: str, content: bytes) -> ReceiptResult:
    """Store an SdI notification as received and move its document on. The same notification file twice is
    recorded once. NotificationError (nothing stored) if it is not a notification, or names no document the
    portal sent, or arrives for a document the SdI has already decided on."""
    notification = parse(content)
    existing = SdiReceipt.objects.filter(file_name=file_name).first()
    if existing is not None:
        return ReceiptResult(existing, already_recorded=True)
    einvoice = (
        EInvoice.objects.select_for_update()
        .select_related("invoice")
        .filter(file_name=notification.invoice_file_name)
        .first()
    )
    if einvoice is None:
        raise NotificationError(
            f"riguarda il file {notification.invoice_file_name}, che non è un invio in corso del portale"
        )
    if einvoice.status not in _MAY_RECEIVE[notification.kind]:
        raise NotificationError(
            f"il file {einvoice.file_name} ha già un esito ({einvoice.get_status_display()})"
        )
    receipt = SdiReceipt.objects.create(
        einvoice=einvoice,
        kind=notification.kind,
        file_name=file_name,
        invoice_file_name=notification.invoice_file_name,
        sdi_identifier=notification.sdi_identifier,
        received_at=notification.received_at,
        delivered_at=notification.delivered_at,
        description=notification.description,
        errors=notification.errors,
        content=content.decode("utf-8", errors="replace"),
    )
    now = timezone.now()
    einvoice.status = _OUTCOMES[notification.kind]
    einvoice.sdi_identifier = notification.sdi_identifier
    einvoice.outcome_at = notification.delivered_at or notification.received_at or now
    einvoice.resend_by = None
    if notification.kind == SdiReceipt.Kind.REJECTION:
        einvoice.resend_by = deadlines.einvoice_resend_by(rome_date(now))
        errors = "\n".join(f"  {e['code']} {e['description']}" for e in notification.errors)
        _alert_officers(
            einvoice,
            f"Fattura elettronica scartata: {einvoice.invoice.number}",
            f"Lo SdI ha scartato il file {einvoice.file_name}:\n{errors}\n"
            f"Correggere la causa e reinviare entro il {einvoice.resend_by:%d/%m/%Y}.",
        )
    einvoice.save(update_fields=["status", "sdi_identifier", "outcome_at", "resend_by"])
    return ReceiptResult(receipt)


@dataclass(frozen=True)
class ImportedFile:
    name: str
    receipt: SdiReceipt | None
    error: str = ""
    already_recorded: bool = False


def import_folder(folder: str | Path, *, move: bool = True) -> list[ImportedFile]:
    """Record every notification file (*.xml) in `folder`, oldest name first, each in its own transaction.
    With `move`, a recorded file goes to `processed/` and one that cannot be read to `errors/`, so that the
    inbox holds only what is still to read."""
    folder = Path(folder)
    results = []
    for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
        try:
            result = record_notification(path.name, path.read_bytes())
        except NotificationError as exc:
            logger.warning("SdI notification %s not recorded: %s", path.name, exc)
            results.append(ImportedFile(path.name, None, error=str(exc)))
            destination = "errors"
        else:
            results.append(ImportedFile(path.name, result.receipt, already_recorded=result.already_recorded))
            destination = "processed"
        if move:
            (folder / destination).mkdir(exist_ok=True)
            path.replace(folder / destination / path.name)
    return results


# ---------------------------------------------------------------------------------------------------------
# The 12-day limit (billing.einvoice_alerts, billing.einvoice_overdue)
# ---------------------------------------------------------------------------------------------------------


def alert_not_accepted(einvoice: EInvoice, *, now: datetime) -> None:
    _alert_officers(
        einvoice,
        f"Fattura elettronica non ancora accettata: {einvoice.invoice.number}",
        f"Il file {einvoice.file_name} è «{einvoice.get_status_display()}»: lo SdI deve accettarlo entro il "
        f"{einvoice.accept_by:%d/%m/%Y} (12 giorni dalla data della bolletta).",
    )
    einvoice.alerted_at = now
    einvoice.save(update_fields=["alerted_at"])


def mark_overdue(einvoice: EInvoice, *, today: date) -> None:
    einvoice.overdue_since = today
    einvoice.save(update_fields=["overdue_since"])
    _alert_officers(
        einvoice,
        f"Fattura elettronica fuori termine: {einvoice.invoice.number}",
        f"Il file {einvoice.file_name} non è stato accettato dallo SdI entro il {einvoice.accept_by:%d/%m/%Y}: "
        f"la bolletta è emessa in ritardo (art. 21 DPR 633/72).",
    )


def _alert_officers(einvoice: EInvoice, subject: str, body: str) -> None:
    emails = roles.billing_officer_emails()
    if not emails:
        return
    link = settings.PORTAL_BASE_URL + reverse("admin:billing_einvoice_change", args=[einvoice.pk])
    from billing.tasks import send_staff_alert  # billing.tasks imports this module

    transaction.on_commit(lambda: send_staff_alert.delay(subject, f"{body}\n{link}\n", emails), robust=True)
