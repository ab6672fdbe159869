"""The billing deadline sweeps (registered with portal.deadlines on import; billing/tasks.py imports this).

Importing billing.dunning here also registers its letter handlers (the posting and the return receipt of a
default notice), and billing.dunning_tasks its Celery tasks, so that every process that loads the sweeps —
web, worker, `run_deadlines` — has them.
"""

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from billing import dunning, dunning_tasks  # noqa: F401
from billing.models import DefaultNotice, Invoice
from portal import deadlines


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
        act=lambda invoice, ctx: dunning.mark_overdue(invoice=invoice, today=ctx.today),
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
        act=lambda invoice, ctx: dunning.prepare_default_notice(customer=invoice.customer, today=ctx.today),
    )
)

SUSPENSION_ALLOWED = deadlines.register(
    deadlines.Sweep(
        name="billing.suspension_allowed",
        description=(
            "Costituzioni in mora non pagate: dal giorno consentito il personale può chiedere la riduzione "
            "di potenza o la sospensione (art. 6.2–6.3)"
        ),
        pending=lambda: DefaultNotice.objects.filter(status=DefaultNotice.Status.DISPATCHED),
        due_field="suspension_allowed_on",  # served by the partial index notice_suspension_allowed_due
        act=lambda notice, ctx: dunning.reach_suspension_allowed(notice, today=ctx.today),
    )
)


def _missing_pdf():
    # A few minutes' grace: the PDF queued at issue is normally rendered by then; only what a broker outage
    # or a lost message left behind is caught up here.
    return Invoice.objects.filter(issued_on__isnull=False, pdf="").filter(
        created_at__lt=timezone.now() - deadlines.QUEUED_WORK_GRACE
    )


def _render_missing_pdf(invoice, ctx):
    from billing.pdf import store_invoice_pdf  # here: web processes never load WeasyPrint

    store_invoice_pdf(invoice)


MISSING_PDFS = deadlines.register(
    deadlines.Sweep(
        name="billing.missing_pdfs",
        description="Bollette e note di credito emesse ancora senza PDF (coda non raggiunta): le stampa",
        pending=_missing_pdf,
        due_field="issued_on",  # served by the partial index invoice_pdf_missing
        act=_render_missing_pdf,
        schedule=deadlines.CATCH_UP_INTERVAL,
        batch_size=20,  # each row renders a PDF inside the batch's transaction
    )
)
