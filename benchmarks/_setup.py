"""Shared start-up for benchmark scripts: a separate PostgreSQL database, migrated, with Django set up.

The benchmarks never touch the development or test databases: they use `<name>_bench` on the server of
DATABASE_URL (default: the local one `make test` uses).
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def setup_django(settings_module="tests.settings"):
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
    parts = urlsplit(url)
    bench_db = parts.path.lstrip("/") + "_bench"
    _create_database(parts, bench_db)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + bench_db))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)


def _create_database(parts, name):
    import psycopg

    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
