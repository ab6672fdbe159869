"""The legal clocks on the real processes: `celery beat` and `celery worker` as subprocesses, over the test
PostgreSQL and the real Redis, with every sweep's interval shortened by DEADLINE_SWEEP_INTERVAL.

Nothing here is faked: if beat did not schedule a sweep, its SweepRun row would never appear.
"""

import contextlib
import os
import shelve
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from portal import deadlines
from portal.lib.dates import rome_date
from portal.models import SweepFailure, SweepRun

pytestmark = [pytest.mark.stack, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
# One Redis database per xdist worker, so that two stack tests never share a queue.
REDIS_DB = 6 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 4
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
INTERVAL = 2  # seconds between two runs of every sweep


def _redis_answers():
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


skip_without_redis = pytest.mark.skipif(not _redis_answers(), reason=f"no Redis at {REDIS_URL}")


def _stack_env(tmp_path):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace("@", f":{db['PASSWORD']}@", 1)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEADLINE_SWEEP_INTERVAL": str(INTERVAL),
        "SDI_INBOX_INTERVAL": str(INTERVAL),
        "PORTAL_DATA_DIR": str(tmp_path),
        "EMAIL_URL": f"filemail://{tmp_path}/mail",
    }


class Stack:
    """Real worker and beat processes; stopped (and killed if need be) when the test ends."""

    def __init__(self, tmp_path):
        self.tmp_path, self.env, self.procs = tmp_path, _stack_env(tmp_path), {}
        redis.Redis.from_url(REDIS_URL).flushdb()

    def start(self, name, *args):
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen(
            [CELERY, "-A", "portal", *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        return self.procs[name]

    def worker(self, concurrency=2):
        return self.start(
            "worker",
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "-Q",
            "celery,pdf,billing",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"stack-{REDIS_DB}@%h",
        )

    def beat(self, schedule_file):
        return self.start("beat", "beat", "--loglevel", "INFO", "--schedule", str(schedule_file))

    def log(self, name):
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def stack(tmp_path):
    running = Stack(tmp_path)
    yield running
    running.stop()


def _children_of(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _wait_for(condition, *, timeout, what, stack=None, poll=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(poll)
    logs = "" if stack is None else "\n".join(f"--- {n}\n{stack.log(n)[-3000:]}" for n in stack.procs)
    what = what() if callable(what) else what
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{logs}")


@skip_without_redis
@pytest.mark.django_db(transaction=True)
def test_real_beat_writes_one_schedule_entry_per_registered_sweep(stack, tmp_path):
    deadlines.autodiscover()
    expected = {f"sweep {sweep.name}" for sweep in deadlines.sweeps()} - {"sweep tests.reminders"}
    schedule_file = tmp_path / "celerybeat-schedule"
    stack.beat(schedule_file)

    def entries():
        try:
            with shelve.open(str(schedule_file), flag="r") as db:
                return set(db.get("entries", {}))
        except Exception:  # not written yet
            return set()

    found = _wait_for(
        lambda: expected <= entries() and entries(), timeout=30, what="beat's schedule file", stack=stack
    )
    assert expected <= found, f"missing from beat's schedule: {sorted(expected - found)}"
    assert len(expected) >= 11
    assert {"worker-heartbeat", "deliver-pending-emails", "generate-invoices", "import-sdi-receipts"} <= found


def _add_what_the_demo_lacks(today):
    """A pending row for each sweep the demo data leaves with none, made the way staff and customers make
    them: a condition change announced, an add-on withdrawn, and an acknowledgement and a receipt left
    unsent as by a broker outage, and a PDF never rendered. (The default notice to dispatch comes from the
    sweeps themselves.)"""
    from billing.models import Invoice
    from complaints.models import Complaint
    from contracts import services as contract_services
    from contracts.models import ConditionChange, ConditionChangeNotice, Contract, Service, WithdrawalRequest

    contract = Contract.objects.filter(status=Contract.Status.ACTIVE).order_by("pk").first()
    # As start_condition_change leaves it, before the notice sweep it queues (run eagerly here) sends it.
    change = ConditionChange.objects.create(
        title="Nuove condizioni",
        description="Cambia il canone.",
        effective_on=today + timedelta(days=150),
        raises_prices=False,
        sent_on=today,
        notices_total=1,
    )
    ConditionChangeNotice.objects.create(change=change, contract=contract, due_on=today)
    add_on = Service.objects.filter(
        status=Service.Status.ACTIVE, kind__in=[Service.Kind.TELECONSULTO, Service.Kind.ASSISTENZA_H24]
    ).first()
    contract_services.request_withdrawal(
        contract=add_on.contract, kind="deactivation", service=add_on, received_on=today
    )
    an_hour_ago = timezone.now() - timedelta(hours=1)
    # An answered case, so that the open ones stay for the other complaint sweeps.
    answered = Complaint.objects.filter(answered_on__isnull=False).order_by("pk").values("pk")[:1]
    assert Complaint.objects.filter(pk=answered).update(acknowledged_at=None, created_at=an_hour_ago) == 1
    # A paid bill: no other sweep's.
    invoice = Invoice.objects.filter(status=Invoice.Status.PAID).order_by("pk").values("pk")[:1]
    assert (
        Invoice.objects.filter(pk=invoice).update(pdf="", pdf_rendered_at=None, created_at=an_hour_ago) == 1
    )
    WithdrawalRequest.objects.filter(pk=WithdrawalRequest.objects.order_by("pk").values("pk")[:1]).update(
        receipt_sent_at=None, created_at=an_hour_ago
    )
    # A card payment confirmed by the test gateway's signed notification, whose receipt task was lost.
    from payments.core import provider_factory

    from billing import services as billing_services
    from billing.models import InvoiceLine, OnlinePayment
    from billing.online import services as online_services
    from contracts.models import Contract as ContractModel
    from tests.factories import active_contract

    postal = active_contract(payment_method=ContractModel.PaymentMethod.POSTAL_SLIP)
    draft = billing_services.create_draft(
        contract=postal,
        period_start=today.replace(day=1),
        period_end=today,
        lines=[
            billing_services.LineSpec(
                kind=InvoiceLine.Kind.FIXED_FEE, description="Quota fissa", unit_price=Decimal("9.50")
            )
        ],
    )
    bill = billing_services.issue_invoice(invoice=draft, issued_on=today)
    online = online_services.start_online_payment(customer=postal.customer, invoices=[bill], today=today)
    provider_factory(online.variant).charge(online, approved=True)
    assert OnlinePayment.objects.filter(pk=online.pk, confirmed_at__isnull=False).update(
        receipt_sent_at=None, confirmed_at=an_hour_ago
    )
    # A mandate signed online whose PDF task was lost.
    from contracts import mandates
    from contracts.models import SddMandate

    debit = Contract.objects.filter(status=Contract.Status.ACTIVE).order_by("-pk").first()
    mandate = mandates.activate_mandate(
        contract=debit, holder_is_customer=True, iban="IT60X0542811101000000123456", now=timezone.now()
    )
    SddMandate.objects.filter(pk=mandate.pk).update(document_sent_at=None, signed_at=an_hour_ago)
    # The e-invoice the SdI rejected in the demo, resent by staff: one to send.
    from billing.einvoice import transmission
    from billing.models import EInvoice

    transmission.resend(EInvoice.objects.get(status=EInvoice.Status.REJECTED), today=today)
    # An instalment plan asked for online and approved by an officer, its first instalment paid: the sweep
    # finds it paid (a missed one would revive dunning and prepare a second notice).
    from billing import instalments
    late = active_contract(payment_method=ContractModel.PaymentMethod.POSTAL_SLIP)
    issued = today - timedelta(days=60)
    draft = billing_services.create_draft(
        contract=late,
        period_start=issued.replace(day=1),
        period_end=issued,
        lines=[
            billing_services.LineSpec(
                kind=InvoiceLine.Kind.CHARGE, description="Consumi", unit_price=Decimal("120.00")
            )
        ],
    )
    billing_services.issue_invoice(invoice=draft, issued_on=issued)
    plan = instalments.request_plan(customer=late.customer, instalment_count=2, today=today)
    plan = instalments.approve(plan=plan, today=today)
    instalments.record_instalment_payment(
        instalment=plan.instalments.get(number=1), received_on=today, method="bank_transfer"
    )


def _make_one_row_due_per_sweep(today):
    """Bring the nearest pending demo row of each sweep to today; a different row for each sweep, so that
    one sweep's act (a renewal moving the expiry) does not undo the deadline another sweep is to act on."""
    made_due, taken = {}, set()
    for sweep in deadlines.sweeps():
        rows = sweep.pending().exclude(**{f"{sweep.due_field}__isnull": True}).order_by(sweep.due_field, "pk")
        row = next((row for row in rows[:50] if (row._meta.label, row.pk) not in taken), None)
        if row is None:
            continue
        taken.add((row._meta.label, row.pk))
        due = getattr(row, sweep.due_field)
        # A catch-up sweep's due moment (a DateTimeField) is past already: its pending rows are the late ones.
        if not isinstance(due, datetime) and due > today:
            type(row).objects.filter(pk=row.pk).update(**{sweep.due_field: today - timedelta(days=1)})
        made_due[sweep.name] = sweep.due(today).count()
    return made_due


@skip_without_redis
@pytest.mark.django_db(transaction=True)
def test_real_beat_and_worker_run_every_sweep_and_act_on_due_rows(stack, tmp_path):
    from billing import dunning
    from billing.models import DefaultNotice

    call_command("seed_demo", verbosity=0)
    deadlines.autodiscover()
    names = {sweep.name for sweep in deadlines.sweeps()} - {"tests.reminders"}
    today = rome_date(timezone.now())
    _add_what_the_demo_lacks(today)
    due = _make_one_row_due_per_sweep(today)
    # Staff dispatch the default notice that the default notice sweep prepares: only then is one pending.
    assert set(due) == names - {"billing.suspension_allowed"}, (
        f"no pending row for {sorted(names - set(due))}"
    )
    started = timezone.now()

    stack.worker()
    stack.beat(tmp_path / "celerybeat-schedule")

    def every_sweep_ran_and_acted():
        finished = SweepRun.objects.filter(started_at__gte=started, finished_at__isnull=False)
        ran = set(finished.values_list("sweep", flat=True))
        acted = set(finished.filter(acted__gt=0).values_list("sweep", flat=True))
        # A row that two sweeps act on (a resent e-invoice is both to send and past its 12 days) can be
        # locked by one while the other runs: that one skips it (skip_locked) and takes it on its next run.
        still_due = sorted(
            name for name in due if deadlines.get_sweep(name).due(rome_date(timezone.now())).exists()
        )
        missing[:] = [
            sorted(names - ran),
            sorted(set(due) - acted),
            still_due,
            list(SweepFailure.objects.values_list("sweep", "error")[:5]),
        ]
        return names <= ran and set(due) <= acted and not still_due

    missing = []

    _wait_for(
        every_sweep_ran_and_acted,
        timeout=60,
        what=lambda: f"every sweep to run and act (not run, not acted, still due, failures): {missing}",
        stack=stack,
    )

    # The notice the sweep prepared, posted by staff; then its payment term is made to have run out.
    notice = dunning.issue_notice_letter(
        notice=DefaultNotice.objects.get(status=DefaultNotice.Status.PREPARED)
    )
    dunning.record_dispatch(
        notice=notice,
        channel=DefaultNotice.Channel.RACCOMANDATA,
        sent_on=today,
        tracking_number="RR123456789IT",
    )
    DefaultNotice.objects.filter(pk=notice.pk).update(suspension_allowed_on=today - timedelta(days=1))
    dispatched = timezone.now()
    _wait_for(
        lambda: DefaultNotice.objects.get(pk=notice.pk).status == DefaultNotice.Status.SUSPENSION_ALLOWED,
        timeout=30,
        what="billing.suspension_allowed to act on the dispatched notice",
        stack=stack,
    )
    assert SweepRun.objects.filter(
        sweep="billing.suspension_allowed", started_at__gte=dispatched, acted=1
    ).exists()
    acted = SweepRun.objects.filter(started_at__gte=started, acted__gt=0).values_list("sweep", flat=True)
    print(
        f"real beat + worker: all {len(names)} sweeps ran and acted on a due row "
        f"({len(set(acted))} with acted > 0) within {(timezone.now() - started).total_seconds():.1f} s"
    )
    runs = SweepRun.objects.filter(started_at__gte=started)
    # Only beat sends run_sweep here: a run of every sweep is a tick of every one of beat's entries.
    assert runs.filter(error="").count() >= len(names)


@skip_without_redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_render_gets_its_work_back_within_the_visibility_timeout(stack):
    from billing.models import Invoice
    from billing.tasks import render_invoice_pdf
    from portal.celery import app

    call_command("seed_demo", verbosity=0)
    Invoice.objects.update(pdf="", pdf_rendered_at=None)
    ids = list(Invoice.objects.filter(issued_on__isnull=False).values_list("pk", flat=True))
    assert len(ids) >= 8
    visibility = 8
    stack.env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility)
    with app.connection_for_write(REDIS_URL) as conn:
        for pk in ids:  # send_task: a real message to Redis (this process runs tasks eagerly)
            app.send_task(render_invoice_pdf.name, args=(pk,), connection=conn, queue="pdf")

    def rendered():
        return Invoice.objects.filter(pk__in=ids, pdf_rendered_at__isnull=False).count()

    worker = stack.worker(concurrency=1)  # one render at a time: the kill lands on one in flight
    _wait_for(lambda: rendered() >= 1, timeout=60, what="the first PDF", stack=stack, poll=0.05)
    rendered_before_kill = rendered()
    children = _children_of(worker.pid)
    worker.kill()  # kill -9: no warm shutdown, so nothing is requeued by the worker itself
    worker.wait()
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    stack.worker()
    _wait_for(
        lambda: rendered() == len(ids), timeout=visibility + 60, what="every PDF after the kill", stack=stack
    )
    recovery = time.monotonic() - killed_at
    print(
        f"kill -9 after {rendered_before_kill} of {len(ids)} PDFs: every PDF rendered {recovery:.1f} s later "
        f"(visibility timeout {visibility} s)"
    )
    assert recovery < visibility + 45
    # Each invoice done once: one stored file each, none left over by the render the kill cut short.
    assert Invoice.objects.filter(pk__in=ids).exclude(pdf="").count() == len(ids)
    files = list((stack.tmp_path / "media" / "invoices").rglob("*.pdf"))
    assert len(files) == len(ids), sorted(path.name for path in files)


@skip_without_redis
@pytest.mark.django_db(transaction=True)
def test_real_beat_and_worker_send_the_einvoices_and_read_the_sdi_receipts(stack, tmp_path):
    """Issued bills leave for the SdI by themselves, and the SdI's answers dropped in the inbox move them on."""
    from billing import services
    from billing.einvoice import samples
    from billing.models import EInvoice, InvoiceLine, SdiReceipt
    from tests.factories import active_contract

    contract = active_contract()
    today = rome_date(timezone.now())
    invoices = []
    for month in (9, 10):
        draft = services.create_draft(
            contract=contract,
            period_start=date(2026, month, 1),
            period_end=date(2026, month, 28),
            lines=[
                services.LineSpec(
                    kind=InvoiceLine.Kind.FIXED_FEE,
                    description="Quota fissa",
                    unit_price=Decimal("9.50"),
                    vat_rate=Decimal("10"),
                )
            ],
        )
        invoices.append(services.issue_invoice(invoice=draft, issued_on=today))
    einvoices = list(EInvoice.objects.filter(invoice__in=invoices).order_by("pk"))
    outbox, inbox = tmp_path / "sdi" / "outbox", tmp_path / "sdi" / "inbox"

    stack.worker()
    stack.beat(tmp_path / "celerybeat-schedule")
    _wait_for(
        lambda: (
            EInvoice.objects.filter(pk__in=[e.pk for e in einvoices], status=EInvoice.Status.SENT).count()
            == 2
        ),
        timeout=60,
        what="billing.einvoice_send to send both e-invoices",
        stack=stack,
    )
    assert sorted(path.name for path in outbox.glob("*.xml")) == sorted(e.file_name for e in einvoices)

    inbox.mkdir(parents=True, exist_ok=True)
    for einvoice, kind in zip(
        einvoices, (SdiReceipt.Kind.DELIVERY, SdiReceipt.Kind.NOT_DELIVERED), strict=True
    ):
        einvoice.refresh_from_db()
        name, content = samples.notification(einvoice, kind, at=timezone.now())
        (inbox / name).write_bytes(content)
    _wait_for(
        lambda: (
            sorted(EInvoice.objects.filter(pk__in=[e.pk for e in einvoices]).values_list("status", flat=True))
            == sorted([EInvoice.Status.DELIVERED, EInvoice.Status.NOT_DELIVERED])
        ),
        timeout=60,
        what="beat's import-sdi-receipts to record both notifications",
        stack=stack,
    )
    assert len(list((inbox / "processed").glob("*.xml"))) == 2
