"""The one step a database migrated before User and Customer moved to accounts needs before `migrate`."""

from django.db.migrations.recorder import MigrationRecorder

MOVED_FROM = ("portal", "0001_initial")
ACCOUNTS_INITIAL = ("accounts", "0001_initial")


def record_accounts_initial(connection) -> bool:
    """Record accounts 0001 as applied when portal 0001 (which made the user table) is and it is not.

    Returns whether it recorded it. A new database (nothing applied yet) is left alone: there accounts 0001
    runs in its turn, after portal 0001."""
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return False
    applied = recorder.applied_migrations()
    if MOVED_FROM not in applied or ACCOUNTS_INITIAL in applied:
        return False
    recorder.record_applied(*ACCOUNTS_INITIAL)
    return True
