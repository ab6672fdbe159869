from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal import deadlines
from portal.lib.dates import ROME


def parse_now(value):
    """ISO-8601; without an offset it is Rome time, the time the legal deadlines are reckoned in."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now {value!r} is not ISO-8601, e.g. 2027-01-31T09:00 or 2027-01-31") from None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=ROME)


class Command(BaseCommand):
    help = "Run every deadline sweep once, synchronously, as of --now (default: now). Prints a summary."

    def add_arguments(self, parser):
        parser.add_argument("--now", type=parse_now, help="the moment to act as of, e.g. 2027-01-31T09:00")
        parser.add_argument(
            "--only", action="append", metavar="NAME", help="run only this sweep (repeatable)"
        )

    def handle(self, *args, now=None, only=None, **options):
        try:
            runs = deadlines.run_deadlines(now=now, only=only)
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        as_of = timezone.localtime(runs[0].as_of) if runs else timezone.localtime(now or timezone.now())
        self.stdout.write(f"Deadline sweeps as of {as_of:%Y-%m-%d %H:%M %Z}")
        if not runs:
            self.stdout.write("  no sweep is registered")
        for run in runs:
            seconds = (run.finished_at - run.started_at).total_seconds()
            line = f"  {run.sweep:40} acted {run.acted:6}  late {run.acted_late:6}  failed {run.failed:4}  {seconds:7.2f} s"
            self.stdout.write(self.style.ERROR(line) if run.failed else line)
