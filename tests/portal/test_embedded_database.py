"""`make run`'s embedded SQLite database, shared by the web server, the worker and beat."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_database_uses_wal_and_waits_for_locks(tmp_path):
    """Read back from a real connection, in a process with no DATABASE_URL: WAL (readers and the writer do not
    block each other) and a busy timeout (a writer waits for the other's lock instead of failing at once)."""
    code = (
        "import json; from django.db import connection; c = connection.cursor(); "
        "print(json.dumps([c.execute('PRAGMA ' + p).fetchone()[0] for p in "
        "('journal_mode', 'busy_timeout', 'synchronous')] + [connection.settings_dict['NAME']]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        env={**env, "PORTAL_DATA_DIR": str(tmp_path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    journal_mode, busy_timeout_ms, synchronous, name = json.loads(result.stdout.strip().splitlines()[-1])
    assert name == str(tmp_path / "db.sqlite3")
    assert journal_mode == "wal"
    assert busy_timeout_ms >= 10_000
    assert synchronous == 1  # NORMAL
