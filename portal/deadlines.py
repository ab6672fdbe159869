"""The deadline sweep framework (DESIGN.md §2): the database is the clock's memory.

A legal deadline is a date column on the row it belongs to. Each app registers a `Sweep` in its
`tasks.py`: which rows are still pending, which date column holds their due date, and the service that
acts on one row. `run_sweep` then claims the due rows in batches with SELECT … FOR UPDATE SKIP LOCKED,
acts on each inside a savepoint and commits each batch, so that:

- running a sweep twice, or in two workers at once, acts on each row once (the act makes the row no
  longer pending; a row locked by one worker is skipped by the other);
- a failing row is rolled back to its savepoint, logged, recorded as a `SweepFailure` for staff and
  skipped, while the rest of the batch commits;
- a sweep that was down catches up on its next run and counts, as late, the rows whose due date had
  already passed;
- the cost of a run follows the number of due rows, not the table size, provided the model has a
  partial index on the due column restricted to pending rows (see `pending_index`).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from celery.schedules import crontab
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from portal.lib import dates
from portal.lib.dates import rome_date
from portal.lib.files import delete_files_if_rolled_back
from portal.models import SweepFailure, SweepRun

logger = logging.getLogger(__name__)


def daily():
    # Early morning, Rome time (CELERY_TIMEZONE): notices go out with the day's date.
    return crontab(hour=6, minute=0)


@dataclass(frozen=True)
class SweepContext:
    """What an act knows about the moment it runs."""

    now: datetime
    today: date  # Europe/Rome date of `now`: legal deadlines are Italian calendar days
    due_on: date
    run: SweepRun

    @property
    def late(self) -> bool:
        """Acting after the due day itself (the sweep was down, or the row failed earlier). A due moment (a
        DateTimeField, e.g. a catch-up sweep's) counts by its Rome date."""
        due = rome_date(self.due_on) if isinstance(self.due_on, datetime) else self.due_on
        return due < self.today


@dataclass(frozen=True)
class Sweep:
    name: str
    description: str
    pending: Callable[[], models.QuerySet]  # rows whose deadline is still open
    due_field: str  # the DateField with the due date
    act: Callable[[models.Model, SweepContext], None]  # must leave the row no longer pending
    schedule: float | crontab = field(default_factory=daily)  # seconds, or a crontab, for Celery beat
    batch_size: int = 200

    def due(self, today: date) -> models.QuerySet:
        return self.pending().filter(**{f"{self.due_field}__lte": today})

    @property
    def effective_schedule(self) -> float | crontab:
        """The schedule beat uses: the sweep's own, or DEADLINE_SWEEP_INTERVAL seconds (real-stack tests)."""
        return settings.DEADLINE_SWEEP_INTERVAL or self.schedule

    @property
    def max_silence(self) -> timedelta:
        """How long the sweep may go without a finished run before /healthz calls its clock stopped:
        twice its interval; a daily (crontab) one 26 hours, a day plus two hours of slack."""
        schedule = self.effective_schedule
        if isinstance(schedule, int | float):
            return timedelta(seconds=2 * schedule)
        return timedelta(hours=26)


# Catch-up sweeps redo what was queued after a commit but never ran (a broker outage, a lost message): every
# ten minutes, for rows older than a few minutes, so that the queued task normally gets there first.
CATCH_UP_INTERVAL = 600.0
QUEUED_WORK_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class CatchUpSweep(Sweep):
    """Due as soon as the queued task's grace has passed: `pending` says when, whatever the due column's day."""

    def due(self, today: date) -> models.QuerySet:
        return self.pending()


def catch_up(
    *,
    name: str,
    description: str,
    unsent: Callable[[], models.QuerySet],
    due_field: str,
    act,
    queued_at: str = "created_at",
) -> Sweep:
    """A catch-up sweep: the rows `unsent` returns (still without what a task queued at their commit was to
    do) once their `queued_at` moment is older than QUEUED_WORK_GRACE, so that the queued task normally gets
    there first. `due_field` orders them (a date or a moment). 20 rows a batch: each act renders a PDF inside
    the batch's transaction."""
    return CatchUpSweep(
        name=name,
        description=description,
        pending=lambda: unsent().filter(**{f"{queued_at}__lt": timezone.now() - QUEUED_WORK_GRACE}),
        due_field=due_field,
        act=act,
        schedule=CATCH_UP_INTERVAL,
        batch_size=20,
    )


_registry: dict[str, Sweep] = {}


def register(sweep: Sweep) -> Sweep:
    _registry[sweep.name] = sweep
    return sweep


def unregister(name: str) -> None:
    _registry.pop(name, None)


def sweeps() -> list[Sweep]:
    return sorted(_registry.values(), key=lambda sweep: sweep.name)


def get_sweep(name: str) -> Sweep:
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"unknown sweep {name!r}; known: {', '.join(sorted(_registry)) or 'none'}") from None


def autodiscover() -> None:
    """Sweeps live in each app's tasks.py (STYLE.md): import them all."""
    autodiscover_modules("tasks")


def pending_index(*, due_field: str, condition: models.Q, name: str) -> models.Index:
    """The partial index every swept model declares: due date, then pk (the sweep's order), of pending rows
    only, so that finding the due rows costs the same in a table of a thousand rows or of a million."""
    return models.Index(fields=[due_field, "id"], condition=condition, name=name)


def run_sweep(name: str, *, now: datetime | None = None) -> SweepRun:
    sweep = get_sweep(name)
    now = now or dates.now()
    today = rome_date(now)
    run = SweepRun.objects.create(sweep=sweep.name, as_of=now, started_at=timezone.now())
    try:
        _sweep_batches(sweep, run, now, today)
    except Exception as exc:
        # A batch that cannot even be claimed or committed (e.g. the database went away) is rolled back
        # whole; the run is kept with the reason, and the next scheduled run starts again.
        logger.exception("sweep %s interrupted", sweep.name)
        run.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        run.finished_at = timezone.now()
        run.save(update_fields=["acted", "acted_late", "failed", "error", "finished_at"])
    return run


def _sweep_batches(sweep: Sweep, run: SweepRun, now: datetime, today: date) -> None:
    due_field = sweep.due_field
    after: tuple[date, int] | None = None  # keyset cursor: rows failed or skipped stay behind it
    while True:
        # Files an act saved are deleted with the batch if it cannot commit (and with the act if it fails).
        with delete_files_if_rolled_back(), transaction.atomic():
            queryset = sweep.due(today)
            if after is not None:
                queryset = queryset.filter(
                    models.Q(**{f"{due_field}__gt": after[0]})
                    | models.Q(**{due_field: after[0], "pk__gt": after[1]})
                )
            rows = list(
                queryset.order_by(due_field, "pk").select_for_update(skip_locked=True, of=("self",))[
                    : sweep.batch_size
                ]
            )
            if not rows:
                return
            # The cursor is read before acting: an act may clear or move the due date of the row it handles.
            last = rows[-1]
            after = (getattr(last, due_field), last.pk)
            batch = BatchTally()
            failures = [failure for row in rows if (failure := _act_on(sweep, row, run, now, today, batch))]
            SweepFailure.objects.bulk_create(failures)
        # Counted once the batch has committed: a batch rolled back whole acted on nothing.
        run.acted += batch.acted
        run.acted_late += batch.acted_late
        run.failed += len(failures)


@dataclass
class BatchTally:
    acted: int = 0
    acted_late: int = 0


def _act_on(
    sweep: Sweep, row: models.Model, run: SweepRun, now: datetime, today: date, batch: BatchTally
) -> SweepFailure | None:
    context = SweepContext(now=now, today=today, due_on=getattr(row, sweep.due_field), run=run)
    try:
        # A savepoint: a failing row leaves no trace of its half-done work, not even a file it wrote.
        with delete_files_if_rolled_back(), transaction.atomic():
            sweep.act(row, context)
    except Exception as exc:
        logger.exception("sweep %s failed on %s pk=%s", sweep.name, row._meta.label, row.pk)
        return SweepFailure(
            run=run,
            sweep=sweep.name,
            object_type=row._meta.label_lower,
            object_pk=str(row.pk),
            object_repr=str(row)[:200],
            error=f"{type(exc).__name__}: {exc}"[:2000],
            traceback=traceback.format_exc()[-8000:],
        )
    batch.acted += 1
    batch.acted_late += context.late
    return None


def run_deadlines(*, now: datetime | None = None, only: list[str] | None = None) -> list[SweepRun]:
    """Run every registered sweep (or those named in `only`) once, synchronously, as of `now` (default: the
    portal's clock, `dates.now()`)."""
    now = now or dates.now()
    names = only or [sweep.name for sweep in sweeps()]
    for name in names:
        get_sweep(name)  # refuse an unknown name before acting on anything
    return [run_sweep(name, now=now) for name in names]


@dataclass(frozen=True)
class ClockStatus:
    """Whether a sweep's clock is running: its last finished run (without error) is recent enough."""

    sweep: Sweep
    last_finished_at: datetime | None
    stopped: bool


def clock_statuses(*, now: datetime | None = None) -> list[ClockStatus]:
    """Per registered sweep, its last finished run and whether it is later than `Sweep.max_silence`
    (a sweep that never finished a run counts as stopped): one query for all of them."""
    now = now or timezone.now()
    autodiscover()
    last = dict(
        SweepRun.objects.filter(finished_at__isnull=False, error="")
        .values("sweep")
        .annotate(last=models.Max("finished_at"))
        .values_list("sweep", "last")
    )
    return [
        ClockStatus(
            sweep=sweep,
            last_finished_at=last.get(sweep.name),
            stopped=last.get(sweep.name) is None or now - last[sweep.name] > sweep.max_silence,
        )
        for sweep in sweeps()
    ]


def beat_schedule() -> dict[str, dict]:
    """One Celery beat entry per registered sweep; a message not consumed before the next tick expires."""
    entries = {}
    for sweep in sweeps():
        schedule = sweep.effective_schedule
        expires = schedule if isinstance(schedule, int | float) else 3600
        entries[f"sweep {sweep.name}"] = {
            "task": "portal.tasks.run_sweep",
            "schedule": schedule,
            "args": (sweep.name,),
            "options": {"expires": expires},
        }
    return entries
