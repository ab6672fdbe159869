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
from datetime import timedelta
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
            "celery,pdf",
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
    assert {"worker-heartbeat", "deliver-pending-emails", "generate-invoices"} <= found


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
        if getattr(row, sweep.due_field) > today:
            type(row).objects.filter(pk=row.pk).update(**{sweep.due_field: today - timedelta(days=1)})
        made_due[sweep.name] = sweep.due(today).count()
    return made_due


@skip_without_redis
@pytest.mark.django_db(transaction=True)
def test_real_beat_and_worker_run_every_sweep_and_act_on_due_rows(stack, tmp_path):
    call_command("seed_demo", verbosity=0)
    deadlines.autodiscover()
    names = {sweep.name for sweep in deadlines.sweeps()} - {"tests.reminders"}
    due = _make_one_row_due_per_sweep(rome_date(timezone.now()))
    # The demo data has pending rows for most sweeps; those without one must still run.
    assert len(due) >= 8, f"the demo data has no pending row for {sorted(names - set(due))}"
    started = timezone.now()

    stack.worker()
    stack.beat(tmp_path / "celerybeat-schedule")

    def every_sweep_ran_and_acted():
        finished = SweepRun.objects.filter(started_at__gte=started, finished_at__isnull=False)
        ran = set(finished.values_list("sweep", flat=True))
        acted = set(finished.filter(acted__gt=0).values_list("sweep", flat=True))
        missing[:] = [
            sorted(names - ran),
            sorted(set(due) - acted),
            list(SweepFailure.objects.values_list("sweep", "error")[:5]),
        ]
        return names <= ran and set(due) <= acted

    missing = []

    _wait_for(
        every_sweep_ran_and_acted,
        timeout=60,
        what=lambda: f"every sweep to run and act (not run, not acted, failures): {missing}",
        stack=stack,
    )
    still_due = {name for name in due if deadlines.get_sweep(name).due(rome_date(timezone.now())).exists()}
    assert not still_due, f"rows still due after the sweeps ran: {sorted(still_due)}"
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
    # Each invoice rendered once: one stored file each.
    assert Invoice.objects.filter(pk__in=ids).exclude(pdf="").count() == len(ids)
