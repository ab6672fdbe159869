"""Billing's Celery entry points — thin tasks that take ids and call services — and its deadline sweeps.

Celery and portal.deadlines discover `tasks` modules only, so every process that loads the sweeps (web,
worker, `run_deadlines`) imports this one: that registers the sweeps below with portal.deadlines, the tasks
with Celery, and — through billing.dunning.notices, which imports billing.dunning.letters — the handlers of
the default notice's letter (its posting and its return receipt, recorded in the notifications admin).
"""

import logging
from datetime import date

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from billing import instalments
from billing.dunning import letters, notices  # noqa: F401  (letters: registers the letter handlers)
from billing.dunning.lifecycle import Operation, condition
from billing.einvoice import transmission
from billing.generation import generate_invoices
from billing.models import DefaultNotice, EInvoice, Instalment, Invoice, OnlinePayment
from billing.online import services as online_services
from portal import deadlines
from portal.lib.dates import add_months, first_of_month, rome_date

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------------------------------------


@shared_task(queue="pdf")
def render_invoice_pdf(invoice_id: int, force: bool = False) -> None:
    """Render an issued invoice once and store it, on the `pdf` queue (DESIGN.md §4: never in a request).

    A second delivery of the message (acks_late) finds the file stored and does nothing.
    """
    from billing.pdf import store_invoice_pdf  # here: web processes never load WeasyPrint

    store_invoice_pdf(Invoice.objects.get(pk=invoice_id), force=force)


@shared_task(queue="pdf")
def send_online_payment_receipt(online_payment_id: int) -> None:
    """The receipt of a card payment, queued when its notification commits: rendered here, never in the
    webhook's request. A redelivery finds it sent and does nothing."""
    online_services.send_receipt(OnlinePayment.objects.get(pk=online_payment_id))


@shared_task
def generate_invoices_task(period: str | None = None, issued_on: str | None = None) -> dict:
    """The monthly invoice run, for beat: bills the periods ending in `period` (default: last month),
    issued on `issued_on` (default: today in Rome). Idempotent, so a repeated tick creates nothing."""
    today = date.fromisoformat(issued_on) if issued_on else rome_date(timezone.now())
    report = generate_invoices(period=period or add_months(first_of_month(today), -1), issued_on=today)
    return report.as_dict()


# A month's run outlasts the default limits (one contract a few tenths of a second, thousands of them); its
# own queue keeps it from delaying the sweeps and the PDFs. Redelivered while it runs, it finds the job
# claimed (billing/jobs.py).
@shared_task(queue="billing", time_limit=4 * 3600, soft_time_limit=4 * 3600 - 60)
def run_billing_job(job_id: int) -> None:
    """The invoice run a billing officer confirmed in admin (billing.jobs.start_invoice_run)."""
    from billing import jobs  # billing.jobs queues this task

    jobs.run_job(job_id)


@shared_task(acks_late=True)
def send_default_notices(notice_ids: list[int], channel: str, user_id: int | None = None) -> int:
    """Send each notice still to be sent, as staff chose in admin (`notices.queue_sending`): by PEC now, or
    as a raccomandata written for printing. One transaction per notice; a notice already written is skipped,
    so a redelivered message sends nothing twice. Returns how many were sent or written."""
    by = User.objects.filter(pk=user_id).first() if user_id else None
    done = 0
    for notice in DefaultNotice.objects.filter(condition(Operation.SEND), pk__in=notice_ids).order_by("pk"):
        now = timezone.now()
        try:
            if channel == DefaultNotice.Channel.PEC:
                notices.record_dispatch(
                    notice=notice, channel=channel, sent_on=rome_date(now), by=by, now=now
                )
            else:
                notices.issue_notice_letter(notice=notice)
        except ValidationError as error:
            logger.warning("Default notice %s not sent: %s", notice.pk, " ".join(error.messages))
            continue
        except Exception:
            # One broken notice (a customer without an address, a template error) must not stop the others.
            logger.exception("Default notice %s: sending failed", notice.pk)
            continue
        done += 1
    return done


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_staff_alert(subject: str, body: str, emails: list[str]) -> None:
    """An internal alert e-mail to billing officers; retried on connection errors, harmless if sent twice."""
    send_mail(subject, body, None, emails)


@shared_task
def import_sdi_receipts() -> int:
    """Beat, every few minutes: record the SdI notifications dropped in the inbox. Returns how many."""
    results = transmission.import_folder(settings.EINVOICE["inbox"])
    return sum(1 for result in results if result.receipt and not result.already_recorded)


# ---------------------------------------------------------------------------------------------------------
# Sweeps (registered with portal.deadlines on import)
# ---------------------------------------------------------------------------------------------------------


class DayAfterSweep(deadlines.Sweep):
    """A row is due the day AFTER its date: an invoice paid on its due date is paid on time (CG 4.1)."""

    def due(self, today: date) -> QuerySet:
        return self.pending().filter(**{f"{self.due_field}__lt": today})


OVERDUE_INVOICES = deadlines.register(
    DayAfterSweep(
        name="billing.overdue_invoices",
        description="Bollette non pagate alla scadenza: diventano «scadute»",
        pending=lambda: Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE, status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID]
        ),
        due_field="due_on",  # served by the partial index invoice_open_due
        act=lambda invoice, ctx: notices.mark_overdue(invoice=invoice, today=ctx.today),
    )
)

DEFAULT_NOTICES = deadlines.register(
    deadlines.Sweep(
        name="billing.default_notices",
        description=(
            "Costituzione in mora (art. 6.2): una per cliente, con tutte le bollette scadute da "
            "DEFAULT_NOTICE_AFTER_DAYS_OVERDUE giorni e non bloccate da un reclamo"
        ),
        pending=lambda: Invoice.objects.filter(
            status__in=Invoice.OPEN_STATUSES, dunning_blocked=False, dunning_due_on__isnull=False
        ).select_related("customer"),
        due_field="dunning_due_on",  # served by the partial index invoice_dunning_due
        act=lambda invoice, ctx: notices.prepare_default_notice(customer=invoice.customer, today=ctx.today),
    )
)

SUSPENSION_ALLOWED = deadlines.register(
    deadlines.Sweep(
        name="billing.suspension_allowed",
        description=(
            "Costituzioni in mora non pagate: dal giorno consentito il personale può chiedere la riduzione "
            "di potenza o la sospensione (art. 6.2–6.3)"
        ),
        pending=lambda: DefaultNotice.objects.filter(condition(Operation.ALLOW_SUSPENSION)),
        due_field="suspension_allowed_on",  # served by the partial index notice_suspension_allowed_due
        act=lambda notice, ctx: notices.reach_suspension_allowed(notice, today=ctx.today),
    )
)


def _render_missing_pdf(invoice, ctx):
    from billing.pdf import store_invoice_pdf  # here: web processes never load WeasyPrint

    store_invoice_pdf(invoice)


INSTALMENTS = deadlines.register(
    deadlines.Sweep(
        name="billing.instalments",
        description=(
            "Rate delle rateizzazioni alla fine della tolleranza: pagate, oppure il piano decade e le bollette "
            "tornano nella procedura di morosità (il cliente è avvisato)"
        ),
        pending=lambda: Instalment.objects.filter(status=Instalment.Status.PENDING),
        due_field="check_on",  # served by the partial index instalment_due
        act=lambda instalment, ctx: instalments.check_instalment(instalment, today=ctx.today),
    )
)


MISSING_PDFS = deadlines.register(
    deadlines.catch_up(
        name="billing.missing_pdfs",
        description="Bollette e note di credito emesse ancora senza PDF (coda non raggiunta): le stampa",
        unsent=lambda: Invoice.objects.filter(issued_on__isnull=False, pdf=""),
        due_field="issued_on",  # served by the partial index invoice_pdf_missing
        act=_render_missing_pdf,
    )
)


ONLINE_PAYMENT_RECEIPTS = deadlines.register(
    deadlines.catch_up(
        name="billing.online_payment_receipts",
        description="Pagamenti con carta confermati ancora senza ricevuta (coda non raggiunta): la invia",
        unsent=lambda: OnlinePayment.objects.filter(receipt_sent_at__isnull=True, confirmed_at__isnull=False),
        due_field="confirmed_at",  # served by the partial index online_payment_receipt_pending
        queued_at="confirmed_at",
        act=lambda online_payment, ctx: online_services.send_receipt(online_payment),
    )
)


# Not a legal clock of its own but the start of one: a document to send goes as soon as a worker gets to it,
# retried with backoff (next_attempt_at) when the channel fails. Each row is locked while it is sent, so two
# workers send it once; a small batch commits each sent state soon after the file left.
EINVOICE_SEND = deadlines.register(
    deadlines.Sweep(
        name="billing.einvoice_send",
        description="Fatture elettroniche da inviare allo SdI (con nuovi tentativi se il canale non risponde)",
        pending=lambda: (
            EInvoice.objects.filter(status=EInvoice.Status.TO_SEND)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
            .select_related("invoice")
        ),
        due_field="queued_on",  # served by the partial index einvoice_to_send
        act=lambda einvoice, ctx: transmission.send(einvoice, now=ctx.now),
        schedule=300.0,
        batch_size=10,
    )
)

EINVOICE_ALERTS = deadlines.register(
    deadlines.Sweep(
        name="billing.einvoice_alerts",
        description="Fatture elettroniche non ancora accettate dallo SdI a 3 giorni dal limite di 12: avvisa gli addetti",
        pending=lambda: EInvoice.objects.filter(
            status__in=EInvoice.NOT_ACCEPTED_STATUSES, alerted_at__isnull=True
        ).select_related("invoice"),
        due_field="alert_on",  # served by the partial index einvoice_alert_due
        act=lambda einvoice, ctx: transmission.alert_not_accepted(einvoice, now=ctx.now),
    )
)

EINVOICE_OVERDUE = deadlines.register(
    DayAfterSweep(
        name="billing.einvoice_overdue",
        description="Fatture elettroniche non accettate dallo SdI entro 12 giorni dalla data: fuori termine",
        pending=lambda: EInvoice.objects.filter(
            status__in=EInvoice.NOT_ACCEPTED_STATUSES, overdue_since__isnull=True
        ).select_related("invoice"),
        due_field="accept_by",  # served by the partial index einvoice_accept_due
        act=lambda einvoice, ctx: transmission.mark_overdue(einvoice, today=ctx.today),
    )
)
