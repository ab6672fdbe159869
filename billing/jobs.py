"""The month's invoice run as a job started from admin: checked and previewed first, then recorded as a
`BillingJob` row and run by `billing.tasks.run_billing_job` on the `billing` queue, which writes its
progress and final report on the row (the admin's progress page reads it).

The rules are billing.generation's (which month may be billed, what the preview counts); this module only
records the job and hands it to the worker. A job is run once: the task claims the row first, so a message
delivered twice (acks_late, Redis' visibility timeout on a long run) finds it claimed and does nothing; a
job whose worker was lost (no heartbeat for JOB_STALE_AFTER) is taken over by the next delivery, and the
invoice run being idempotent, it then issues only what the lost worker had not.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from billing import generation
from billing.models import BillingJob

logger = logging.getLogger(__name__)

JOB_STALE_AFTER = timedelta(minutes=5)


def start_invoice_run(
    *, month: date, issued_on: date, today: date, closing_only: bool = False, by=None
) -> BillingJob:
    """Record the confirmed run and queue it once the row commits (ValidationError: the run is refused)."""
    generation.check_run(month=month, issued_on=issued_on, today=today, closing_only=closing_only)
    job = BillingJob.objects.create(
        period=month, issued_on=issued_on, closing_only=closing_only, requested_by=by
    )
    from billing.tasks import run_billing_job  # billing.tasks imports the services this module uses

    # Robust: with the broker down the job stays "In coda" on its page, and can be queued again from there.
    transaction.on_commit(lambda: run_billing_job.delay(job.pk), robust=True)
    return job


def queue_again(job: BillingJob) -> None:
    """A job still waiting (its message lost with the broker) or whose worker was lost: queue it once more."""
    from billing.tasks import run_billing_job

    transaction.on_commit(lambda: run_billing_job.delay(job.pk), robust=True)


def is_stuck(job: BillingJob, *, now) -> bool:
    """Queued or running with no sign of a worker for JOB_STALE_AFTER: shown with a button to queue it again."""
    if job.is_finished:
        return False
    last_sign = job.heartbeat_at or job.created_at
    return now - last_sign > JOB_STALE_AFTER


def run_job(job_id: int, *, now=None) -> BillingJob | None:
    """Run the job if nobody else is running it: the invoice run, its progress after every contract, and
    its report. Returns the job, or None when it was finished or is being run by a live worker."""
    now = now or timezone.now()
    with transaction.atomic():
        job = BillingJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished or (job.status == BillingJob.Status.RUNNING and not is_stuck(job, now=now)):
            return None
        job.status = BillingJob.Status.RUNNING
        job.started_at = job.heartbeat_at = now
        job.save(update_fields=["status", "started_at", "heartbeat_at"])

    def progress(done: int, total: int, contract_number: str) -> None:
        # Each contract has committed its invoice by now: the page shows what is really issued.
        BillingJob.objects.filter(pk=job.pk).update(
            contracts_done=done, contracts_total=total, heartbeat_at=timezone.now()
        )

    try:
        report = generation.generate_invoices(
            period=job.period, issued_on=job.issued_on, progress=progress, closing_only=job.closing_only
        )
    except Exception as exc:
        logger.exception("Billing job %s failed", job.pk)
        BillingJob.objects.filter(pk=job.pk).update(
            status=BillingJob.Status.FAILED, finished_at=timezone.now(), error=str(exc) or type(exc).__name__
        )
        return BillingJob.objects.get(pk=job.pk)  # recorded on the job: what each contract issued stands
    BillingJob.objects.filter(pk=job.pk).update(
        status=BillingJob.Status.DONE, finished_at=timezone.now(), report=report.as_dict()
    )
    job.refresh_from_db()
    return job
