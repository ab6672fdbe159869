"""The sweep framework's guarantees, on the real PostgreSQL (row locks and SKIP LOCKED are the point)."""

import threading
from datetime import date, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import F
from django.utils import timezone

from portal import deadlines
from portal.celery import app as celery_app
from portal.lib.dates import ROME
from portal.models import SweepFailure, SweepRun
from tests.sweepapp.models import Reminder

NAME = "tests.reminders"
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=ROME)  # a Monday
TODAY = MORNING.date()


def act(reminder, context):
    # Half-done work first, then the failure: the savepoint must roll the half-done part back.
    Reminder.objects.filter(pk=reminder.pk).update(times_acted=F("times_acted") + 1, done_at=context.now)
    if reminder.explode:
        raise RuntimeError("the distributor's system refused the request")
    Reminder.objects.filter(pk=reminder.pk).update(done_late=context.late)


@pytest.fixture
def sweep():
    registered = deadlines.register(
        deadlines.Sweep(
            name=NAME,
            description="test reminders",
            pending=lambda: Reminder.objects.filter(done_at__isnull=True),
            due_field="due_on",
            act=act,
            batch_size=7,
        )
    )
    yield registered
    deadlines.unregister(NAME)


def reminders(*due_dates, **fields):
    return [Reminder.objects.create(label=f"r{i}", due_on=due, **fields) for i, due in enumerate(due_dates)]


@pytest.mark.django_db
def test_a_sweep_acts_on_due_rows_and_leaves_future_ones(sweep):
    due = reminders(TODAY, TODAY - timedelta(days=1))
    (future,) = reminders(TODAY + timedelta(days=1))
    run = deadlines.run_sweep(NAME, now=MORNING)
    assert (run.acted, run.failed) == (2, 0)
    for reminder in due:
        reminder.refresh_from_db()
        assert reminder.done_at == MORNING
    future.refresh_from_db()
    assert future.done_at is None


@pytest.mark.django_db
def test_a_sweep_run_twice_acts_once(sweep):
    reminders(*[TODAY] * 20)
    first = deadlines.run_sweep(NAME, now=MORNING)
    second = deadlines.run_sweep(NAME, now=MORNING + timedelta(minutes=5))
    assert (first.acted, second.acted) == (20, 0)
    assert set(Reminder.objects.values_list("times_acted", flat=True)) == {1}
    assert SweepRun.objects.filter(sweep=NAME).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_started_at_once_act_on_each_row_exactly_once(sweep):
    Reminder.objects.bulk_create(Reminder(label=f"r{i}", due_on=TODAY) for i in range(400))
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def worker():
        try:
            barrier.wait()
            runs.append(deadlines.run_sweep(NAME, now=MORNING))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(run.acted for run in runs) == 400
    assert set(Reminder.objects.values_list("times_acted", flat=True)) == {1}


@pytest.mark.django_db
def test_after_ten_days_of_downtime_the_sweep_catches_up_and_marks_what_it_did_late(sweep):
    reminders(*[TODAY - timedelta(days=d) for d in range(10)])  # due today, yesterday, … 9 days ago
    run = deadlines.run_sweep(NAME, now=MORNING)
    assert (run.acted, run.acted_late) == (10, 9)
    assert Reminder.objects.filter(done_late=True).count() == 9
    assert Reminder.objects.get(due_on=TODAY).done_late is False


@pytest.mark.django_db
def test_a_failing_row_is_left_untouched_flagged_for_staff_and_the_others_are_done(sweep):
    good = reminders(*[TODAY] * 10)
    (bad,) = reminders(TODAY, explode=True)
    run = deadlines.run_sweep(NAME, now=MORNING)
    assert (run.acted, run.failed) == (10, 1)
    bad.refresh_from_db()
    assert (bad.done_at, bad.times_acted) == (None, 0)
    assert all(r.done_at for r in Reminder.objects.filter(pk__in=[g.pk for g in good]))
    failure = SweepFailure.objects.get()
    assert (failure.sweep, failure.object_pk, failure.run) == (NAME, str(bad.pk), run)
    assert "distributor" in failure.error and failure.resolved_at is None

    # The next run tries the failing row again, and only that one.
    again = deadlines.run_sweep(NAME, now=MORNING + timedelta(hours=1))
    assert (again.acted, again.failed) == (0, 1)
    assert set(Reminder.objects.filter(explode=False).values_list("times_acted", flat=True)) == {1}


@pytest.mark.django_db
def test_the_cost_of_a_sweep_does_not_depend_on_rows_not_yet_due(sweep, django_assert_max_num_queries):
    Reminder.objects.bulk_create(
        Reminder(label=f"f{i}", due_on=TODAY + timedelta(days=30)) for i in range(500)
    )
    reminders(TODAY)
    # create run + one batch (select, act: 2 updates, savepoint pair, bulk failures) + empty select + save
    with django_assert_max_num_queries(12):
        run = deadlines.run_sweep(NAME, now=MORNING)
    assert run.acted == 1


@pytest.mark.django_db
def test_the_due_rows_query_uses_the_partial_index(sweep):
    Reminder.objects.bulk_create(
        Reminder(label=f"f{i}", due_on=TODAY + timedelta(days=i % 90)) for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sweepapp_reminder")
    plan = sweep.due(TODAY).order_by("due_on", "pk").explain()
    assert "reminder_due_pending" in plan


@pytest.mark.django_db
def test_run_deadlines_travels_in_time_and_prints_a_summary(sweep, capsys):
    reminders(date(2027, 1, 30), date(2027, 1, 31), date(2027, 2, 1))
    call_command("run_deadlines", "--now", "2027-01-31T09:00", "--only", NAME)
    out = capsys.readouterr().out
    assert "as of 2027-01-31 09:00" in out
    assert NAME in out and "acted      2" in out and "late      1" in out
    assert Reminder.objects.filter(done_at__isnull=True).get().due_on == date(2027, 2, 1)
    run = SweepRun.objects.get()
    assert run.as_of == datetime(2027, 1, 31, 9, 0, tzinfo=ROME)


@pytest.mark.django_db
def test_run_deadlines_refuses_an_unknown_sweep_or_a_bad_date(sweep):
    with pytest.raises(CommandError, match="unknown sweep"):
        call_command("run_deadlines", "--only", "nope")
    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("run_deadlines", "--now", "31/01/2027")
    assert not SweepRun.objects.exists()


@pytest.mark.django_db
def test_beat_runs_every_registered_sweep_through_the_run_sweep_task(sweep):
    # The real beat reading these entries is tested in tests/stack; here, the entry runs the sweep.
    entry = deadlines.beat_schedule()[f"sweep {NAME}"]
    assert entry["task"] == "portal.tasks.run_sweep" and entry["args"] == (NAME,)

    reminders(timezone.localdate())
    celery_app.tasks[entry["task"]].delay(*entry["args"])  # eager in tests: the task calls the service
    assert Reminder.objects.get().done_at is not None


@pytest.mark.django_db
def test_staff_see_pending_deadlines_and_open_failures_in_admin(sweep, admin_client):
    today = timezone.localdate()
    reminders(today - timedelta(days=2), today + timedelta(days=3), today + timedelta(days=40))
    reminders(today - timedelta(days=1), explode=True)
    deadlines.run_sweep(NAME)
    html = admin_client.get("/admin/portal/sweeprun/").content.decode()
    assert NAME in html
    assert "test reminders" in html
    assert "scaduto da 1 giorno" in html  # the failed row is still pending, and overdue
    assert "resolved_at__isempty=1&amp;sweep=tests.reminders" in html


def act_with_letter(reminder, context):
    """Writes the reminder's letter to storage, then behaves as `act` (an exploding reminder fails after)."""
    default_storage.save(f"letters/{reminder.label}.pdf", ContentFile(b"%PDF-1.7 letter"))
    act(reminder, context)


@pytest.fixture
def letter_sweep(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    registered = deadlines.register(
        deadlines.Sweep(
            name=NAME,
            description="test reminders with a letter",
            pending=lambda: Reminder.objects.filter(done_at__isnull=True),
            due_field="due_on",
            act=act_with_letter,
            batch_size=4,
        )
    )
    yield registered
    deadlines.unregister(NAME)


def letters(settings):
    folder = settings.MEDIA_ROOT / "letters"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.mark.django_db
def test_a_failing_row_leaves_no_letter_behind_and_the_others_keep_theirs(letter_sweep, settings):
    reminders(TODAY, TODAY)
    Reminder.objects.create(label="bad", due_on=TODAY, explode=True)
    run = deadlines.run_sweep(NAME, now=MORNING)
    assert (run.acted, run.failed) == (2, 1)
    assert letters(settings) == ["r0.pdf", "r1.pdf"]


@pytest.mark.django_db
def test_a_batch_that_cannot_commit_counts_nothing_and_leaves_no_letter(letter_sweep, settings, monkeypatch):
    """10 due rows in batches of 4: the second batch fails as it ends (as a lost connection would), after
    its rows succeeded. The run reports only what committed, and no file of the rolled-back batch stays."""
    reminders(*[TODAY] * 10)
    Reminder.objects.create(label="bad", due_on=TODAY + timedelta(days=-1), explode=True)  # first in order
    real_bulk_create = SweepFailure.objects.bulk_create
    calls = []

    def bulk_create_failing_second_batch(failures):
        calls.append(len(failures))
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_bulk_create(failures)

    monkeypatch.setattr(SweepFailure.objects, "bulk_create", bulk_create_failing_second_batch)
    with pytest.raises(OperationalError):
        deadlines.run_sweep(NAME, now=MORNING)
    run = SweepRun.objects.get(sweep=NAME)
    # First batch: the failing row and 3 good ones committed; the second batch (4 good rows) rolled back.
    assert (run.acted, run.failed) == (3, 1)
    assert "OperationalError" in run.error
    assert Reminder.objects.filter(done_at__isnull=False).count() == 3
    assert letters(settings) == ["r0.pdf", "r1.pdf", "r2.pdf"]
