"""Reads for the customer's complaint pages, the public form and the tracking links.

A customer only ever reaches their own cases: views look them up in `complaints_of(customer)`, and every
attachment, document and invoice through the case found there, so another customer's code is simply not
found (404). Internal events and internal attachments never leave this module.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from accounts.validators import compact_codice_fiscale
from billing.models import Invoice
from complaints import deadlines
from complaints.models import Complaint, ComplaintAttachment, ComplaintEvent
from contracts.models import Contract, Service
from contracts.selectors import contract_documents, customer_of
from portal import roles
from portal.lib.dates import add_days, add_months, days_between
from portal.notifications.models import Communication

__all__ = ["customer_of"]

# Events whose text the customer reads as it was written: messages both ways and staff explanations.
EVENTS_WITH_TEXT = frozenset(
    {
        ComplaintEvent.Kind.MESSAGE_TO_CUSTOMER,
        ComplaintEvent.Kind.MESSAGE_FROM_CUSTOMER,
        ComplaintEvent.Kind.INFORMATION_REQUESTED,
        ComplaintEvent.Kind.RECLASSIFIED,
    }
)

# What each event is called on the customer's side of the case.
CUSTOMER_EVENT_LABELS = {
    ComplaintEvent.Kind.FILED: _("Pratica ricevuta"),
    ComplaintEvent.Kind.MESSAGE_TO_CUSTOMER: _("Messaggio dal Servizio Clienti"),
    ComplaintEvent.Kind.MESSAGE_FROM_CUSTOMER: _("Il tuo messaggio"),
    ComplaintEvent.Kind.INFORMATION_REQUESTED: _("Ti abbiamo chiesto alcune informazioni"),
    ComplaintEvent.Kind.RECLASSIFIED: _("Tipo di pratica cambiato"),
    ComplaintEvent.Kind.STATUS_REPORT: _("Hai chiesto un resoconto sullo stato"),
    ComplaintEvent.Kind.REPLIED: _("Risposta motivata inviata"),
    ComplaintEvent.Kind.INDEMNITY: _("Indennizzo automatico riconosciuto"),
    ComplaintEvent.Kind.UNSATISFACTORY: _("Hai segnalato che la risposta non ti soddisfa"),
    ComplaintEvent.Kind.CONCILIATION: _("Ti abbiamo informato sulla conciliazione"),
    ComplaintEvent.Kind.CLOSED: _("Pratica chiusa"),
}

# A billing complaint's dossier carries the contract's bills of the year before the complaint.
DOSSIER_INVOICE_MONTHS = 12


# ---------------------------------------------------------------------------------------------------------
# The customer's cases
# ---------------------------------------------------------------------------------------------------------


def complaints_of(customer: Customer | None) -> QuerySet[Complaint]:
    """The customer's cases, newest first; none for an account without a customer record."""
    if customer is None:
        return Complaint.objects.none()
    return Complaint.objects.filter(customer=customer).select_related("contract", "service", "invoice")


def days_left(complaint: Complaint, *, today: date) -> int:
    """Calendar days from today to the answer-by date: 0 on the day, negative once it has passed."""
    return days_between(today, complaint.answer_due_on)


@dataclass(frozen=True)
class Clock:
    """Where a case stands against its answer-by date, as the pages say it."""

    due_on: date
    answered_on: date | None
    days_left: int

    @property
    def days_late(self) -> int:
        return -self.days_left

    @property
    def state(self) -> str:
        if self.answered_on is not None:
            return "answered"
        if self.days_left > 0:
            return "running"
        return "due_today" if self.days_left == 0 else "late"


def clock(complaint: Complaint, *, today: date) -> Clock:
    return Clock(
        due_on=complaint.answer_due_on,
        answered_on=complaint.answered_on,
        days_left=days_left(complaint, today=today),
    )


def with_clock(complaints, *, today: date) -> list[Complaint]:
    """The cases with their `clock` set, for lists."""
    complaints = list(complaints)
    for complaint in complaints:
        complaint.clock = clock(complaint, today=today)
    return complaints


def visible_events(complaint: Complaint) -> list[ComplaintEvent]:
    """The history the customer sees: never internal notes, assignments or staff reminders."""
    attachments = ComplaintAttachment.objects.filter(internal=False).order_by("uploaded_at", "id")
    events = list(
        complaint.events.filter(internal=False)
        .select_related("actor")
        .prefetch_related(Prefetch("attachments", queryset=attachments, to_attr="visible_attachments"))
    )
    for event in events:
        event.label = CUSTOMER_EVENT_LABELS.get(event.kind, event.get_kind_display())
        event.shows_text = event.kind in EVENTS_WITH_TEXT and bool(event.text.strip())
        event.from_customer = event.kind in (
            ComplaintEvent.Kind.MESSAGE_FROM_CUSTOMER,
            ComplaintEvent.Kind.FILED,
            ComplaintEvent.Kind.STATUS_REPORT,
            ComplaintEvent.Kind.UNSATISFACTORY,
        )
    return events


def visible_attachments(complaint: Complaint) -> QuerySet[ComplaintAttachment]:
    return complaint.attachments.filter(internal=False).order_by("uploaded_at", "id")


def visible_attachment_count(complaint: Complaint) -> int:
    return complaint.attachments.filter(internal=False).count()


def recent_status_report(complaint: Complaint, *, since) -> bool:
    """Whether a status report was asked for after `since` (a double click asks once)."""
    return complaint.events.filter(kind=ComplaintEvent.Kind.STATUS_REPORT, at__gte=since).exists()


# ---------------------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------------------


def _communication(complaint: Complaint, template_key: str) -> Communication | None:
    return (
        Communication.objects.filter(
            about_type=ContentType.objects.get_for_model(Complaint),
            about_id=complaint.pk,
            template_key=template_key,
        )
        .exclude(document="")
        .order_by("-created_at", "-pk")
        .first()
    )


def acknowledgement(complaint: Complaint) -> Communication | None:
    """The acknowledgement: its document is the customer's copy of the filed form."""
    return _communication(complaint, "complaint_ack")


def reply_letter(complaint: Complaint) -> Communication | None:
    """The reasoned reply: its document is the reply letter."""
    return _communication(complaint, "complaint_reply")


def indemnity_invoices(complaint: Complaint) -> list[Invoice]:
    """The invoices the automatic indemnity was deducted from (more than one when it was carried forward)."""
    if complaint.indemnity_credit_id is None:
        return []
    uses = complaint.indemnity_credit.uses.select_related("invoice").order_by("invoice__issued_on", "pk")
    invoices = []
    for use in uses:
        use.invoice.credited_amount = use.amount
        invoices.append(use.invoice)
    return invoices


def dossier_invoices(complaint: Complaint) -> list[Invoice]:
    """The bills a conciliation body needs: the contested one, those the indemnity was deducted from, and for
    a billing complaint the contract's bills of the year before it. Stored PDFs of the customer's own only."""
    if complaint.customer_id is None:
        return []
    related = Q(pk=complaint.invoice_id) if complaint.invoice_id else Q(pk__in=[])
    if complaint.indemnity_credit_id:
        related |= Q(credit_uses__credit_id=complaint.indemnity_credit_id)
    billing_case = complaint.topic == Complaint.Topic.BILLING or complaint.kind in (
        Complaint.Kind.BILLING_RECTIFICATION,
        Complaint.Kind.DOUBLE_BILLING,
    )
    if billing_case and complaint.contract_id:
        related |= Q(
            contract_id=complaint.contract_id,
            issued_on__gte=add_months(complaint.received_on, -DOSSIER_INVOICE_MONTHS),
            issued_on__lte=complaint.received_on,
        )
    return list(
        Invoice.objects.filter(related, customer_id=complaint.customer_id, number__isnull=False)
        .exclude(pdf="")
        .distinct()
        .order_by("issued_on", "sequence")
    )


def dossier_contract_documents(complaint: Complaint) -> list[Communication]:
    """The contract's letters with a PDF (renewal notices, condition changes, withdrawal receipts)."""
    if complaint.contract_id is None or complaint.customer_id is None:
        return []
    return list(contract_documents(complaint.contract).exclude(document="").order_by("created_at", "pk"))


# ---------------------------------------------------------------------------------------------------------
# The online forms
# ---------------------------------------------------------------------------------------------------------


def supplies_of(customer: Customer) -> list[Contract]:
    """The customer's contracts with their services, for the "which supply" choice (newest first)."""
    return list(
        Contract.objects.filter(customer=customer)
        .exclude(status=Contract.Status.CANCELLED)
        .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("id")))
        .order_by("-proposed_on", "number")
    )


def invoices_for_complaint(customer: Customer) -> QuerySet[Invoice]:
    """The bills a customer may contest: their own issued invoices (not credit notes), newest first."""
    return Invoice.objects.filter(
        customer=customer, number__isnull=False, kind=Invoice.Kind.INVOICE
    ).order_by("-issued_on", "-sequence")


def compact_reference(value: str) -> str:
    """A POD, PDR, line or SIM number or customer code as stored: no spaces, upper case."""
    return "".join(value.split()).upper()


@dataclass(frozen=True)
class Identification:
    customer: Customer | None = None
    contract: Contract | None = None
    service: Service | None = None

    @property
    def identified(self) -> bool:
        return self.customer is not None


def identify_sender(*, tax_id: str, reference: str) -> Identification:
    """Who sent a public complaint: the customer whose codice fiscale or partita IVA is `tax_id` *and* who
    holds the supply `reference` names (POD, PDR, line or SIM number) or whose customer code it is.

    Nothing else identifies: a right tax id with a wrong reference is an unidentified sender, and the caller
    never tells the sender which of the two was the case."""
    tax_id, reference = compact_codice_fiscale(tax_id), compact_reference(reference)
    if not tax_id or not reference:
        return Identification()
    holders = Customer.objects.filter(Q(codice_fiscale=tax_id) | Q(partita_iva=tax_id))
    service = (
        Service.objects.filter(contract__customer__in=holders)
        .filter(Q(pod=reference) | Q(pdr=reference) | Q(line_number=reference) | Q(sim_number=reference))
        .select_related("contract__customer")
        .order_by("-contract__proposed_on", "-pk")
        .first()
    )
    if service is not None:
        return Identification(customer=service.contract.customer, contract=service.contract, service=service)
    customer = holders.filter(code__iexact=reference).first()
    if customer is None:
        return Identification()
    # A customer code alone names the supply only when the customer has just one.
    contracts = list(customer.contracts.exclude(status=Contract.Status.CANCELLED)[:2])
    contract = contracts[0] if len(contracts) == 1 else None
    services = list(contract.services.all()[:2]) if contract else []
    return Identification(
        customer=customer, contract=contract, service=services[0] if len(services) == 1 else None
    )


# ---------------------------------------------------------------------------------------------------------
# Tracking without an account: code + e-mail → a signed link
# ---------------------------------------------------------------------------------------------------------

TRACKING_LINK_MAX_AGE = timedelta(days=7)
_TRACKING_SALT = "complaints.tracking-link"


class InvalidTrackingLink(Exception):
    """The link is forged or altered, or names a case that no longer matches it."""


class ExpiredTrackingLink(InvalidTrackingLink):
    """The link was genuine but is older than TRACKING_LINK_MAX_AGE."""


def case_for_tracking(*, code: str, email: str) -> Complaint | None:
    """The case with this code and this e-mail address on file; None otherwise.

    The address on file is the customer's own when the sender was identified as a customer (every
    communication of the case goes there), else the one the sender gave: an address typed in the public
    form never opens a customer's case."""
    email = email.strip()
    if not code or not email:
        return None
    return (
        Complaint.objects.filter(code__iexact=code.strip())
        .filter(Q(customer__isnull=True, sender_email__iexact=email) | Q(customer__email__iexact=email))
        .select_related("customer")
        .first()
    )


def _secret_digest(complaint: Complaint) -> str:
    # The case's tracking secret, hashed: rotating it in the database invalidates every link already sent.
    return hashlib.sha256(complaint.tracking_secret.encode()).hexdigest()[:16]


def make_tracking_token(complaint: Complaint) -> str:
    return signing.TimestampSigner(salt=_TRACKING_SALT).sign_object(
        {"c": complaint.pk, "s": _secret_digest(complaint)}, compress=True
    )


def read_tracking_token(token: str) -> tuple[Complaint, float]:
    """The case a valid link names and when the link stops working (a Unix time); ExpiredTrackingLink or
    InvalidTrackingLink otherwise."""
    signer = signing.TimestampSigner(salt=_TRACKING_SALT)
    try:
        payload = signer.unsign_object(token, max_age=TRACKING_LINK_MAX_AGE)
        complaint_id, digest = int(payload["c"]), str(payload["s"])
        # The signature is valid, so the timestamp it covers can be trusted: "payload:timestamp".
        issued_at = signing.b62_decode(signing.Signer.unsign(signer, token).rsplit(signer.sep, 1)[1])
    except signing.SignatureExpired:
        raise ExpiredTrackingLink from None
    except (signing.BadSignature, KeyError, TypeError, ValueError, IndexError):
        raise InvalidTrackingLink from None
    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None or _secret_digest(complaint) != digest:
        raise InvalidTrackingLink
    return complaint, issued_at + TRACKING_LINK_MAX_AGE.total_seconds()


def conciliation_opens_on(complaint: Complaint) -> date:
    return deadlines.conciliation_available_on(complaint.sent_on)


def replies_by_post(complaint: Complaint) -> bool:
    """A sender with neither a customer record nor an e-mail address (a letter or a call from someone who is
    not a customer): every communication of the case goes by ordinary post to the reply address, and the
    reply is sent when staff post it."""
    return complaint.customer_id is None and not complaint.sender_email


def is_communications_case(complaint: Complaint) -> bool:
    """Communications services (fibre, mobile): conciliation through Conciliaweb / Co.re.com, not ARERA."""
    if complaint.kind == Complaint.Kind.TELECOM_COMPLAINT:
        return True
    return complaint.service is not None and complaint.service.is_communications


# ---------------------------------------------------------------------------------------------------------
# Staff work: the register's deadline views, who can be given a case, what can be done with it
# ---------------------------------------------------------------------------------------------------------

# "Due soon": the cases whose answer-by date is at most this many days away.
DUE_SOON_DAYS = 5


def overdue(complaints: QuerySet[Complaint], *, today: date) -> QuerySet[Complaint]:
    """Still unanswered after their answer-by date."""
    return complaints.filter(answered_on__isnull=True, answer_due_on__lt=today)


def due_soon(complaints: QuerySet[Complaint], *, today: date) -> QuerySet[Complaint]:
    """Unanswered, due today or within DUE_SOON_DAYS."""
    return complaints.filter(
        answered_on__isnull=True,
        answer_due_on__gte=today,
        answer_due_on__lte=add_days(today, DUE_SOON_DAYS),
    )


def due_today(complaints: QuerySet[Complaint], *, today: date) -> QuerySet[Complaint]:
    """Unanswered, with today as their answer-by date: the reply leaves today or the case is late."""
    return complaints.filter(answered_on__isnull=True, answer_due_on=today)


def answered_late(complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
    return complaints.filter(answered_on__gt=F("answer_due_on"))


def open_cases(complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """Not yet answered: being worked, waiting for the customer, or with its reply waiting to be posted (its
    clock still runs, so the officer keeps seeing it until the posting date is recorded)."""
    return complaints.filter(status__in=Complaint.UNANSWERED_STATUSES)


def waiting_for_customer(complaints: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """Asked the customer for information and not heard back (the clock keeps running)."""
    return complaints.filter(status=Complaint.Status.WAITING_CUSTOMER)


def queue_opens_on_own_cases(user) -> bool:
    """Whether the complaint queue opens on the user's own cases: an officer's does; a supervisor's, and that
    of staff who read cases without being given any, opens on the whole team's."""
    return user.has_perm("complaints.change_complaint") and not roles.is_supervisor(user)


def days_answered_late(complaint: Complaint) -> int:
    """How many days after the answer-by date the reply left: 0 when on time or not sent yet."""
    if complaint.answered_on is None:
        return 0
    return max(days_between(complaint.answer_due_on, complaint.answered_on), 0)


def complaint_staff():
    """Who can be given a case: active staff allowed to work complaints."""
    permission = Q(
        groups__permissions__codename="change_complaint",
        groups__permissions__content_type__app_label="complaints",
    ) | Q(
        user_permissions__codename="change_complaint",
        user_permissions__content_type__app_label="complaints",
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | permission)
        .distinct()
        .order_by("first_name", "last_name", "email")
    )


# What staff can do with a case; the services refuse the rest (an answered case is no longer worked).
OPEN_CASE_OPERATIONS = (
    "assign",
    "assign_to_me",
    "note",
    "ask_customer",
    "reclassify",
    "exclusion",
    "reply_draft",
    "send_reply",
)


def staff_operations(complaint: Complaint) -> list[str]:
    """The operations offered on the case page, by where the case stands."""
    operations = ["reply_preview", "attach"]
    if complaint.is_open:
        operations = [*operations, *OPEN_CASE_OPERATIONS]
        if complaint.invoice_id is not None:
            # Its invoice held out of dunning until the reply, or not: the officer may decide either way.
            holds = complaint.dunning_blocks.filter(lifted_at__isnull=True).exists()
            operations.append("lift_dunning" if holds else "block_dunning")
        return operations
    operations.append("note")
    if complaint.status == Complaint.Status.ANSWERED:
        operations.append("close")
    return operations


# ---------------------------------------------------------------------------------------------------------
# The automatic indemnity: what a reply grants, and why none is due
# ---------------------------------------------------------------------------------------------------------


def indemnity_due(complaint: Complaint, *, answered_on: date) -> Decimal | None:
    """The automatic indemnity a reply sent on `answered_on` grants, None when none is due: a late reply to a
    kind with indemnities, to an identified customer, unless staff recorded an exclusion (TIQV art. 18, 20).

    `services.send_reply` grants this amount; the case page and the letter preview show it beforehand."""
    if complaint.indemnity_exclusion or complaint.customer_id is None:
        return None
    amount = deadlines.indemnity_amount(
        complaint.kind,
        complaint.received_on,
        max(answered_on, complaint.received_on),
        complaint.four_monthly_billing,
    )
    return amount or None


class Indemnity(enum.StrEnum):
    GRANTED = "granted"  # answered late: the amount was credited
    IF_SENT_TODAY = "if_sent_today"  # open and late: what a reply sent today would grant
    NONE_IF_ON_TIME = "none_if_on_time"  # open: none while the reply leaves by the answer-by date
    EXCLUDED = "excluded"  # staff recorded an exclusion
    ON_TIME = "on_time"  # answered within the answer-by date
    NOT_PROVIDED = "not_provided"  # the kind has no automatic indemnity
    NOT_A_CUSTOMER = "not_a_customer"  # the sender is not an identified customer


@dataclass(frozen=True)
class IndemnityOutlook:
    """Where the case stands on the automatic indemnity, and the figures behind it."""

    status: Indemnity
    base: Decimal  # the base in force on the receipt date
    amount: Decimal | None = None  # granted, or what a reply sent today would grant
    band: int = 0  # the multiplier of the base
    days_to_answer: int | None = None  # granted: days from receipt to the reply


def indemnity_outlook(complaint: Complaint, *, today: date) -> IndemnityOutlook:
    """The indemnity granted on an answered case (or why none was), on an open one what a reply sent today
    would grant (or why none would)."""
    base = deadlines.indemnity_base(complaint.received_on)
    indemnified_kind = complaint.kind in deadlines.INDEMNIFIED_KINDS
    if complaint.answered_on is None:
        amount = indemnity_due(complaint, answered_on=today)
        if amount:
            band = deadlines.indemnity_band(
                complaint.kind, complaint.received_on, today, complaint.four_monthly_billing
            )
            return IndemnityOutlook(Indemnity.IF_SENT_TODAY, base, amount, band)
        if not indemnified_kind:
            return IndemnityOutlook(Indemnity.NOT_PROVIDED, base)
        if complaint.indemnity_exclusion:
            return IndemnityOutlook(Indemnity.EXCLUDED, base)
        if complaint.customer_id is None:  # whenever the reply leaves: nobody to credit (indemnity_due)
            return IndemnityOutlook(Indemnity.NOT_A_CUSTOMER, base)
        return IndemnityOutlook(Indemnity.NONE_IF_ON_TIME, base)
    if complaint.indemnity_amount:
        band = deadlines.indemnity_band(
            complaint.kind, complaint.received_on, complaint.answered_on, complaint.four_monthly_billing
        )
        days = days_between(complaint.received_on, complaint.answered_on)
        return IndemnityOutlook(Indemnity.GRANTED, base, complaint.indemnity_amount, band, days)
    if complaint.indemnity_exclusion:
        return IndemnityOutlook(Indemnity.EXCLUDED, base)
    if complaint.answered_on <= complaint.answer_due_on:
        return IndemnityOutlook(Indemnity.ON_TIME, base)
    if not indemnified_kind:
        return IndemnityOutlook(Indemnity.NOT_PROVIDED, base)
    return IndemnityOutlook(Indemnity.NOT_A_CUSTOMER, base)
