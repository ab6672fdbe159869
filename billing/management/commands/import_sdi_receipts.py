"""`python manage.py import_sdi_receipts [DIR] [--keep]`: record the SdI's notifications found in a folder."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.einvoice import transmission

EPILOG = """
Reads every *.xml notification in DIR (default: SDI_INBOX, which beat also reads every 5 minutes): ricevute di
consegna (RC), notifiche di mancata consegna (MC) and notifiche di scarto (NS), in the SdI's message format.
Each is stored as received and moves its invoice's e-invoice on; a notification already recorded is skipped.
One that is malformed or names no file the portal sent is reported and changes nothing. Recorded files move to
DIR/processed/, unreadable ones to DIR/errors/ (--keep leaves them in place). Exit status 1 when a file failed.
"""


class Command(BaseCommand):
    help = "Record the SdI's receipts and rejections of the electronic invoices (idempotent)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.epilog = EPILOG
        return parser

    def add_arguments(self, parser):
        parser.add_argument("dir", nargs="?", help="the folder of notification files (default: SDI_INBOX)")
        parser.add_argument("--keep", action="store_true", help="leave the files where they are")

    def handle(self, *args, dir, keep, **options):
        results = transmission.import_folder(dir or settings.EINVOICE["inbox"], move=not keep)
        for result in results:
            if result.error:
                self.stderr.write(self.style.ERROR(f"{result.name}: {result.error}"))
            elif result.already_recorded:
                self.stdout.write(f"{result.name}: già registrata")
            else:
                receipt = result.receipt
                self.stdout.write(
                    f"{result.name}: {receipt.get_kind_display()} per {receipt.einvoice.invoice.number} "
                    f"→ {receipt.einvoice.get_status_display()}"
                )
        recorded = sum(1 for result in results if result.receipt and not result.already_recorded)
        self.stdout.write(self.style.SUCCESS(f"{recorded} notifiche registrate su {len(results)} file."))
        if any(result.error for result in results):
            raise CommandError("Alcune notifiche non sono state registrate (vedi sopra).")
