"""`migrate`, which first records accounts 0001 on a database migrated before User moved to accounts.

Django's admin 0001 (and any migration depending on `settings.AUTH_USER_MODEL`) depends on the user model's
app's first migration, so on such a database admin 0001 is applied and accounts 0001 is not, and Django
stops with InconsistentMigrationHistory before running anything. accounts 0001 only changes the migration
state (the tables are portal 0001's), so recording it as applied is exactly what running it would do.
"""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import DEFAULT_DB_ALIAS, connections

from accounts.upgrade import record_accounts_initial


class Command(MigrateCommand):
    def handle(self, *args, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        if record_accounts_initial(connection) and options["verbosity"] >= 1:
            self.stdout.write("Recorded accounts.0001_initial (User and Customer moved to accounts).")
        return super().handle(*args, **options)
