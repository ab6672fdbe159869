"""Celery entry points of billing: thin tasks that take ids and call services.

The billing deadline sweeps live in billing/sweeps.py; importing it here registers them, because Celery
and portal.deadlines discover `tasks` modules only.
"""

from datetime import date

from celery import shared_task
from django.utils import timezone

from billing import sweeps  # noqa: F401
from billing.generation import generate_invoices
from billing.models import Invoice
from portal.lib.dates import add_months, first_of_month, rome_date


@shared_task(queue="pdf")
def render_invoice_pdf(invoice_id: int, force: bool = False) -> None:
    """Render an issued invoice once and store it, on the `pdf` queue (DESIGN.md §4: never in a request).

    A second delivery of the message (acks_late) finds the file stored and does nothing.
    """
    from billing.pdf import store_invoice_pdf  # here: web processes never load WeasyPrint

    store_invoice_pdf(Invoice.objects.get(pk=invoice_id), force=force)


@shared_task
def generate_invoices_task(period: str | None = None, issued_on: str | None = None) -> dict:
    """The monthly invoice run, for beat: bills the periods ending in `period` (default: last month),
    issued on `issued_on` (default: today in Rome). Idempotent, so a repeated tick creates nothing."""
    today = date.fromisoformat(issued_on) if issued_on else rome_date(timezone.now())
    report = generate_invoices(period=period or add_months(first_of_month(today), -1), issued_on=today)
    return report.as_dict()
