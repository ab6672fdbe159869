"""`python manage.py generate_invoices --period 2026-10 [--issued-on 2026-11-02] [--preview] [--closing-only]`:
the monthly invoice run.

Bills every contract's billing period ending in that month (billing/generation.py), with a progress bar
and a summary. Idempotent: a second run creates nothing. A month that has not ended, or an issue date after
today, is refused (`--closing-only` issues the closing bills of supplies already ended); `--preview` shows
what would be issued and issues nothing. Contracts that fail are listed at the end; the exit code stays 0
because the others were billed (the errors are for staff to fix, then run again).
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.generation import check_run, generate_invoices, parse_month, preview_invoices
from portal.lib import dates, formatting
from portal.lib.dates import add_months, first_of_month

BAR_WIDTH = 30


def parse_period(value):
    try:
        return parse_month(value)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def parse_day(value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--issued-on {value!r} is not a date, e.g. 2026-11-02") from None


class Command(BaseCommand):
    help = "Issue one invoice per active contract for the billing periods ending in --period (YYYY-MM)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--period", type=parse_period, help="the month, e.g. 2026-10 (default: last month)"
        )
        parser.add_argument(
            "--issued-on", type=parse_day, help="issue date, e.g. 2026-11-02 (default: today)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, cron)")
        parser.add_argument(
            "--preview", action="store_true", help="show what would be issued, and issue nothing"
        )
        parser.add_argument(
            "--closing-only",
            action="store_true",
            help="only the closing bills of supplies already ended (allowed before the month ends)",
        )

    def handle(
        self,
        *args,
        period=None,
        issued_on=None,
        no_progress=False,
        preview=False,
        closing_only=False,
        **options,
    ):
        today = dates.today()
        issued_on = issued_on or today
        month = period or add_months(first_of_month(issued_on), -1)
        try:
            check_run(month=month, issued_on=issued_on, today=today, closing_only=closing_only)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        what = "closing bills" if closing_only else "periods"
        self.stdout.write(
            f"{'Preview of the invoice run' if preview else 'Invoice run'} for the {what} ending in "
            f"{month:%Y-%m}, issued on {issued_on:%d/%m/%Y}"
        )
        if preview:
            report = preview_invoices(period=month, issued_on=issued_on, closing_only=closing_only)
        else:
            report = generate_invoices(
                period=month,
                issued_on=issued_on,
                progress=None if no_progress else self._progress,
                closing_only=closing_only,
            )
        self.stdout.write(
            f"{report.invoice_count} {'to create' if preview else 'created'}, "
            f"{len(report.already_billed)} skipped (already billed), "
            f"{report.not_due} with nothing to bill this month, {len(report.errors)} errors"
        )
        self.stdout.write(f"  total billed: {formatting.euro(report.total, italian=True)}")
        if preview:
            self.stdout.write("Preview: nothing was issued.")
        if report.created:
            self.stdout.write(f"  invoices {report.created[0]} … {report.created[-1]}")
        if report.errors:
            self.stdout.write(self.style.ERROR(f"{len(report.errors)} contracts were not billed:"))
            for error in report.errors:
                self.stdout.write(self.style.ERROR(f"  {error.contract_number}: {error.message}"))

    def _progress(self, done: int, total: int, contract_number: str) -> None:
        # A plain text bar on stderr, rewritten in place; the summary goes to stdout.
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        end = "\n" if done == total else ""
        self.stderr.write(f"\r[{bar}] {done}/{total} {contract_number:<20}", ending=end)
        self.stderr.flush()
