"""`python manage.py import_payments FILE [--dry-run] [--partial]`: record the payments of a bank or postal
statement — all of them, or none when a line is wrong (`--partial`: the good lines)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import payments_import
from portal.lib.dates import rome_date

EPILOG = """
The file is a CSV with a header row, separated by ';' or ','. Columns: transaction_id, date (31/01/2027 or
2027-01-31), amount (1.234,56 or 1234.56), method (bonifico, bollettino, carta, sdd), customer (customer code,
codice fiscale or partita IVA), invoice (optional: the bill number, e.g. 2026/000123; empty: oldest debts
first). A file with any line in error imports nothing and lists every such line (--partial imports the good
lines). A transaction id already imported is skipped, so the same file can be imported again after fixing the
lines in error. Example: docs/samples/estratto-conto-esempio.csv. Exit status 1 when a line failed.
"""


class Command(BaseCommand):
    help = "Import payments from a CSV bank or postal statement (idempotent by transaction id)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EPILOG
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="the statement, a CSV file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check every line and report, but record nothing"
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="record the good lines even when others are wrong (default: all or nothing)",
        )

    def handle(self, *args, file, dry_run, partial, **options):
        try:
            result = payments_import.import_statement(
                file, today=rome_date(timezone.now()), dry_run=dry_run, partial=partial
            )
        except payments_import.StatementError as error:
            raise CommandError(str(error)) from None

        for error in result.errors:
            self.stderr.write(self.style.ERROR(str(error)))
        counts = {
            "count": len(result.imported),
            "total": payments_import.format_euro(result.imported_total),
            "duplicates": len(result.duplicates),
            "errors": len(result.errors),
        }
        if result.recorded:
            summary = _(
                "Pagamenti importati: %(count)d (%(total)s) · già importati, saltati: %(duplicates)d · "
                "righe con errori: %(errors)d"
            )
        else:
            summary = _(
                "Pagamenti da importare: %(count)d (%(total)s) · già importati, saltati: %(duplicates)d · "
                "righe con errori: %(errors)d"
            )
        self.stdout.write(summary % counts)
        if dry_run:
            self.stdout.write(_("Solo verifica (--dry-run): non è stato registrato nulla."))
        elif result.refused:
            raise CommandError(
                ngettext(
                    "%(errors)d riga con errori: non è stato registrato nulla. Correggila e importa di nuovo "
                    "il file, oppure importa le righe corrette con --partial.",
                    "%(errors)d righe con errori: non è stato registrato nulla. Correggile e importa di nuovo "
                    "il file, oppure importa le righe corrette con --partial.",
                    len(result.errors),
                )
                % counts
            )
        if result.errors:
            raise CommandError(
                ngettext(
                    "%(errors)d riga non importata: correggila e lancia di nuovo il comando (le righe già "
                    "importate si saltano).",
                    "%(errors)d righe non importate: correggile e lancia di nuovo il comando (le righe già "
                    "importate si saltano).",
                    len(result.errors),
                )
                % counts
            )
