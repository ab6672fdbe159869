"""The month's invoice run confirmed in admin and run by a real `celery worker` process from the `billing`
queue, over Redis and the test PostgreSQL: the job's row shows its progress and then the report."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.generation import generate_invoices
from billing.models import BillingJob, Invoice
from portal import roles
from portal.lib import dates
from tests.billing.test_generation import tariff  # noqa: F401  (the fixture)
from tests.factories import UserFactory, active_contract
from tests.stack.test_real_beat_and_worker import REDIS_URL, _wait_for, skip_without_redis, stack  # noqa: F401

pytestmark = [pytest.mark.stack, pytest.mark.redis]

DEC_2 = date(2026, 12, 2)


@skip_without_redis
@pytest.mark.django_db(transaction=True)
def test_a_run_confirmed_in_admin_is_run_by_a_real_worker_from_the_billing_queue(
    stack,  # noqa: F811
    tariff,  # noqa: F811
    client,
    monkeypatch,
):
    from billing.tasks import run_billing_job
    from portal.celery import app

    monkeypatch.setattr(dates, "today", lambda: DEC_2)
    contracts = [active_contract() for _ in range(3)]
    generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))

    def to_redis(job_id):
        # A real message (this process runs tasks eagerly), routed as the settings route it: no queue given.
        with app.connection_for_write(REDIS_URL) as conn:
            app.send_task(run_billing_job.name, args=(job_id,), connection=conn)

    monkeypatch.setattr(run_billing_job, "delay", to_redis)
    officer = UserFactory(email="bollette@optima.example", is_staff=True)
    officer.groups.add(roles.sync_roles()[roles.BILLING_OFFICER])
    client.force_login(officer)

    form = {"period": "2026-11", "issued_on": "2026-12-02"}
    preview = client.post(reverse("admin:billing_billingjob_add"), {**form, "preview": "1"}).context[
        "preview"
    ]
    confirmed = client.post(
        reverse("admin:billing_billingjob_add"), {**form, "confirm": "1", "previewed": "2026-11|2026-12-02|0"}
    )
    job = BillingJob.objects.get()
    assert confirmed["Location"] == reverse("admin:billing_billingjob_change", args=[job.pk])
    assert job.status == BillingJob.Status.QUEUED  # nothing ran in this process

    stack.worker(concurrency=1)
    _wait_for(
        lambda: BillingJob.objects.get(pk=job.pk).is_finished,
        timeout=60,
        what="the worker to finish the billing job",
        stack=stack,
    )

    job.refresh_from_db()
    assert job.status == BillingJob.Status.DONE, job.error
    assert "billing.tasks.run_billing_job" in stack.log("worker")
    november = Invoice.objects.filter(period_start=date(2026, 11, 1))
    assert {invoice.contract for invoice in november} == set(contracts)
    assert job.report["created"] == preview.invoice_count == 3
    assert Decimal(job.report["total"]) == preview.total == sum(invoice.total for invoice in november)
    assert (job.contracts_done, job.contracts_total) == (3, 3) and job.started_at and job.finished_at
    page = client.get(confirmed["Location"]).content.decode()
    assert "Completato" in page and 'http-equiv="refresh"' not in page
