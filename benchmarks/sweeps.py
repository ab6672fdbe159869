"""Does the cost of a deadline sweep follow the rows that are due, not the size of the table?

With 1,000,000 pending rows of which 0, 1,000 and 10,000 are due, prints the time of one sweep of each
size, the ratio (0 due among 1M rows) / (0 due among 1,000 rows) — target ≤ 1.5, about 1 with the partial
index — and the due rows processed per second.

    make bench        or        .venv/bin/python benchmarks/sweeps.py
"""

import statistics
import time
from datetime import datetime

from _setup import setup_django

setup_django()

from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402

from portal import deadlines  # noqa: E402
from portal.lib.dates import ROME  # noqa: E402
from tests.sweepapp.models import Reminder  # noqa: E402

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=ROME)
TODAY = NOW.date()
TABLE = Reminder._meta.db_table


def act(reminder, context):
    Reminder.objects.filter(pk=reminder.pk).update(done_at=context.now, times_acted=F("times_acted") + 1)


SWEEP = deadlines.register(
    deadlines.Sweep(
        name="bench.reminders",
        description="benchmark",
        pending=lambda: Reminder.objects.filter(done_at__isnull=True),
        due_field="due_on",
        act=act,
    )
)


def fill(rows):
    """`rows` pending reminders, all due in the future (1–365 days ahead)."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE} RESTART IDENTITY")
        cursor.execute(
            f"""INSERT INTO {TABLE} (label, due_on, done_late, times_acted, explode)
                SELECT 'r' || i, %s::date + (1 + i %% 365), false, 0, false FROM generate_series(1, %s) AS i""",
            [TODAY, rows],
        )
        cursor.execute(f"VACUUM ANALYZE {TABLE}")


def make_due(count):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET due_on = %s, done_at = NULL WHERE id <= %s", [TODAY, count])
        cursor.execute(f"ANALYZE {TABLE}")


def reset_due(count):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET due_on = %s::date + 30, done_at = NULL WHERE id <= %s", [TODAY, count]
        )


def sweep_seconds():
    start = time.perf_counter()
    run = deadlines.run_sweep(SWEEP.name, now=NOW)
    return time.perf_counter() - start, run.acted


def median_empty_sweep(repeats=100, warm_up=10):
    for _ in range(warm_up):
        sweep_seconds()
    times = []
    for _ in range(repeats):
        seconds, acted = sweep_seconds()
        assert acted == 0
        times.append(seconds)
    return statistics.median(times)


def main():
    connection.cursor().execute("SELECT 1")  # connect before timing anything
    fill(1_000)
    small_empty = median_empty_sweep()
    print("filling 1,000,000 pending rows…", flush=True)
    fill(1_000_000)
    large_empty = median_empty_sweep()

    print(f"one sweep, 0 due among     1,000 pending rows: {small_empty * 1000:8.2f} ms (median of 100)")
    print(f"one sweep, 0 due among 1,000,000 pending rows: {large_empty * 1000:8.2f} ms (median of 100)")
    for due in (1_000, 10_000):
        make_due(due)
        seconds, acted = sweep_seconds()
        assert acted == due, (acted, due)
        print(
            f"one sweep, {due:,} due among 1,000,000 pending rows: {seconds * 1000:8.0f} ms"
            f"  = {due / seconds:,.0f} due rows/s"
        )
        reset_due(due)
    print(f"ratio (0 due in 1M rows) / (0 due in 1k rows): {large_empty / small_empty:.2f}  (target ≤ 1.5)")
    deadlines.unregister(SWEEP.name)


if __name__ == "__main__":
    main()
