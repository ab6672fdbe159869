from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal import deadlines, demo_clock
from portal.lib import dates
from portal.lib.dates import ROME


def parse_now(value):
    """ISO-8601; without an offset it is Rome time, the time the legal deadlines are reckoned in."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now {value!r} is not ISO-8601, e.g. 2027-01-31T09:00 or 2027-01-31") from None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=ROME)


class Command(BaseCommand):
    help = (
        "Run every deadline sweep once, synchronously, as of --now (default: now). Prints a summary. "
        "With DEMO_CLOCK (development) the pages then follow --now too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", type=parse_now, help="the moment to act as of, e.g. 2027-01-31T09:00")
        parser.add_argument(
            "--only", action="append", metavar="NAME", help="run only this sweep (repeatable)"
        )

    def handle(self, *args, now=None, only=None, **options):
        for name in only or ():
            try:
                deadlines.get_sweep(name)  # an unknown name moves no clock
            except KeyError as exc:
                raise CommandError(exc.args[0]) from None
        if now is not None and settings.DEMO_CLOCK:
            demo_clock.travel_to(now)
        runs = deadlines.run_deadlines(now=now, only=only)
        as_of = timezone.localtime(runs[0].as_of) if runs else timezone.localtime(now or dates.now())
        self.stdout.write(f"Deadline sweeps as of {as_of:%Y-%m-%d %H:%M %Z}")
        if now is not None and settings.DEMO_CLOCK:
            self.stdout.write(f"Demo clock: the pages now read {timezone.localtime(now):%d/%m/%Y %H:%M}")
        if not runs:
            self.stdout.write("  no sweep is registered")
        for run in runs:
            seconds = (run.finished_at - run.started_at).total_seconds()
            line = f"  {run.sweep:40} acted {run.acted:6}  late {run.acted_late:6}  failed {run.failed:4}  {seconds:7.2f} s"
            self.stdout.write(self.style.ERROR(line) if run.failed else line)
