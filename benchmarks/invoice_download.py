"""Does downloading a stored invoice through the portal cost at most twice serving the same file bare?

The same 60 KB PDF is fetched, in alternating rounds, from the portal's `billing:invoice_pdf` (login, customer
and invoice lookup, ownership check, stored file) and from a bare view that only opens the file and returns it
with FileResponse. The requests carry the language cookie, so the bare view runs no query at all: the portal's
every query is counted against it. Measured two ways, each printed with its medians and ratio (target ≤ 2):

1. In process, through Django's test client with a logged-in session, the bare view mounted by a tiny urlconf
   override: Django's own work only, no HTTP, no socket, no server — the ratio's upper bound. Also prints
   the queries the portal view runs.
2. Over real HTTP on loopback: a gunicorn server started here (1 sync worker, 127.0.0.1, settings
   benchmarks/_bench_settings.py: DEBUG off, CONN_MAX_AGE=60 as in production, urlconf
   benchmarks/_bench_urls.py with the bare view at /bench/bare.pdf), fetched with http.client and the session
   cookie of a login made here: what a download costs a client, request parsing and sockets included.
   The server is always stopped at the end.

Database: the in-process data is created in a transaction rolled back at the end. The server, another
process, sees only committed rows: its customer (CBENCHDL02) with one issued invoice is created in the
`<db>_bench` database on the first run and reused by the next ones; its login session is deleted at the end,
and the PDF of both halves lives in a temporary folder.

    make bench        or        .venv/bin/python benchmarks/invoice_download.py
"""

import contextlib
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import date
from decimal import Decimal
from pathlib import Path

from _setup import ROOT, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import FileResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path, reverse  # noqa: E402

from billing import services  # noqa: E402
from billing.models import Invoice, InvoiceLine  # noqa: E402
from tests.factories import CustomerFactory, active_contract  # noqa: E402

PDF_BYTES = 60 * 1024  # a two-page invoice with the consumption chart is about this size
ROUNDS = 40
PER_ROUND = 50
WARM_UP = 200
# Over HTTP: the customer kept in the bench database for the server (code, e-mail), and the rounds.
HTTP_CUSTOMER = ("CBENCHDL02", "bench.download.http@example.it")
HTTP_ROUNDS = 40
HTTP_PER_ROUND = 25
HTTP_WARM_UP = 200
SERVER_START_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 10
LABELS = {
    "bare": "bare FileResponse view",
    "bare_logged_in": "bare view, session + user loaded",
    "portal": "portal billing:invoice_pdf",
}


def bare_view(request):
    return FileResponse(
        open(BARE_FILE, "rb"),  # FileResponse closes it
        as_attachment=True,
        filename="bolletta.pdf",
        content_type="application/pdf",
    )


BARE_FILE = ""
# The portal's URLs plus the bare view, as a urlconf module of its own.
URLCONF = types.ModuleType("invoice_download_urls")
URLCONF.urlpatterns = [path("bare/", bare_view, name="bare"), path("", include("portal.urls"))]
sys.modules[URLCONF.__name__] = URLCONF


def pdf_body() -> bytes:
    return b"%PDF-1.4\n" + bytes(range(256)) * (PDF_BYTES // 256) + b"\n%%EOF\n"


def stored_invoice(code="CBENCHDL01", email="bench.download@example.it"):
    """An issued invoice of a customer with a portal account, its PDF stored like the renderer stores it."""
    customer = CustomerFactory(code=code, user__email=email)
    contract = active_contract(customer, activated_on=date(2026, 2, 1))
    draft = services.create_draft(
        contract=contract,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        lines=[
            services.LineSpec(
                kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=Decimal("44.80"), vat_rate=10
            )
        ],
    )
    invoice = services.issue_invoice(invoice=draft, issued_on=date(2026, 11, 2))
    invoice.pdf.save("bench.pdf", ContentFile(pdf_body()))
    return customer.user, invoice


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    # Reading the content to the end closes the response, as a server would (and the file with it).
    return len(b"".join(response.streaming_content))


def per_request_seconds(client, url):
    start = time.perf_counter()
    for _ in range(PER_ROUND):
        fetch(client, url)
    return (time.perf_counter() - start) / PER_ROUND


def queries_of(client, url) -> list[str]:
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql.split(" FROM ")[1].split()[0].strip('"') if " FROM " in sql else sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        fetch(client, url)
    return seen


def in_process():
    global BARE_FILE
    connection.cursor().execute("SELECT 1")  # connect before timing anything
    with (
        tempfile.TemporaryDirectory() as media,
        override_settings(MEDIA_ROOT=media, ROOT_URLCONF=URLCONF.__name__),
        transaction.atomic(),
    ):
        user, invoice = stored_invoice()
        BARE_FILE = str(Path(media) / invoice.pdf.name)
        size = invoice.pdf.size
        # `chosen`: the language switch was used, so no page needs the user for the language.
        # `plain`: no language cookie, so every page of a logged-in customer loads session and user.
        chosen, plain = Client(), Client()
        for client in (chosen, plain):
            client.force_login(user)
        chosen.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
        cases = {
            "portal": (chosen, reverse("billing:invoice_pdf", args=[invoice.pk])),
            "bare": (chosen, reverse("bare")),
            "bare_logged_in": (plain, reverse("bare")),
        }
        queries = {name: queries_of(client, url) for name, (client, url) in cases.items()}
        for client, url in cases.values():
            assert fetch(client, url) == size
            for _ in range(WARM_UP):
                fetch(client, url)
        times = {name: [] for name in cases}
        for _ in range(ROUNDS):  # alternate, so that drift in the machine hits every case alike
            for name, (client, url) in cases.items():
                times[name].append(per_request_seconds(client, url))
        transaction.set_rollback(True)

    median = {name: statistics.median(values) for name, values in times.items()}
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print("1. In process: Django's test Client, no HTTP, no socket, no server")
    print(f"file: {size:,} bytes; {ROUNDS} rounds of {PER_ROUND} requests each, median ms per request")
    print(f"load average {load} on {os.cpu_count()} CPUs (each query is a round trip to PostgreSQL)")
    for name in ("bare", "bare_logged_in", "portal"):
        tables = ", ".join(queries[name]) or "none"
        print(f"{LABELS[name]:34} {median[name] * 1000:7.3f} ms   queries: {len(queries[name])} ({tables})")
    print(
        f"ratio portal / bare view:                       {median['portal'] / median['bare']:.2f}  (target ≤ 2)"
    )
    print(
        "ratio portal / bare view with the session loaded: "
        f"{median['portal'] / median['bare_logged_in']:.2f}  (what a logged-in page costs anyway)"
    )


# ---------------------------------------------------------------------------------------------------------
# Over HTTP on loopback
# ---------------------------------------------------------------------------------------------------------


def committed_invoice(media):
    """The bench customer's issued invoice, committed so that the server process sees it: created on the
    first run, reused afterwards. Its PDF is (re)written under `media`, this run's MEDIA_ROOT."""
    code, email = HTTP_CUSTOMER
    invoice = (
        Invoice.objects.select_related("customer__user")
        .filter(customer__code=code, number__isnull=False)
        .exclude(pdf="")
        .first()
    )
    if invoice is None:
        with override_settings(MEDIA_ROOT=media), transaction.atomic():
            return stored_invoice(code, email)
    stored = Path(media) / invoice.pdf.name
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(pdf_body())
    return invoice.customer.user, invoice


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_fetch(connection_, url, headers) -> http.client.HTTPResponse:
    connection_.request("GET", url, headers=headers)
    response = connection_.getresponse()
    body = response.read()  # to the end: the connection is then reusable, or closed if the server said so
    assert response.status == 200, (url, response.status, body[:200])
    response.length_read = len(body)
    return response


def http_per_request_seconds(connection_, url, headers):
    start = time.perf_counter()
    for _ in range(HTTP_PER_ROUND):
        http_fetch(connection_, url, headers)
    return (time.perf_counter() - start) / HTTP_PER_ROUND


@contextlib.contextmanager
def gunicorn(port, media, bare_file):
    """gunicorn serving the portal with benchmarks._bench_settings on 127.0.0.1:`port`, until the block ends
    (however it ends: the server is terminated, then killed if it has not stopped within 10 s)."""
    executable = Path(sys.executable).with_name("gunicorn")
    command = [
        str(executable),
        "portal.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        "--worker-class=sync",
        "--graceful-timeout=5",
        "--log-level=warning",
    ]
    env = {
        **os.environ,  # DATABASE_URL: the bench database, set by setup_django
        "DJANGO_SETTINGS_MODULE": "benchmarks._bench_settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "MEDIA_ROOT": media,
        "BENCH_BARE_FILE": bare_file,
    }
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            wait_until_serving(server, port, log)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_serving(server, port, log):
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            probe.request("GET", "/bench/bare.pdf")
            status = probe.getresponse().status
        except OSError:
            time.sleep(0.1)
            continue
        finally:
            probe.close()
        if status == 200:
            return
        break
    log.seek(0)
    raise RuntimeError(f"gunicorn did not serve /bench/bare.pdf on 127.0.0.1:{port}; its log:\n{log.read()}")


def over_http():
    with tempfile.TemporaryDirectory() as media:
        user, invoice = committed_invoice(media)
        bare_file = str(Path(media) / invoice.pdf.name)
        size = len(pdf_body())
        login = Client()
        login.force_login(user)  # a session row, committed: the server reads it like any customer's
        try:
            session = f"{settings.SESSION_COOKIE_NAME}={login.cookies[settings.SESSION_COOKIE_NAME].value}"
            chosen = {"Cookie": f"{session}; {settings.LANGUAGE_COOKIE_NAME}=it"}
            plain = {"Cookie": session}
            port = free_port()
            with gunicorn(port, media, bare_file):
                cases = {
                    "portal": (reverse("billing:invoice_pdf", args=[invoice.pk]), chosen),
                    "bare": ("/bench/bare.pdf", chosen),
                    "bare_logged_in": ("/bench/bare.pdf", plain),
                }
                server = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
                try:
                    for url, headers in cases.values():
                        first = http_fetch(server, url, headers)
                        assert first.length_read == size, (url, first.length_read, size)
                        for _ in range(HTTP_WARM_UP):
                            http_fetch(server, url, headers)
                    closes = first.will_close
                    times = {name: [] for name in cases}
                    for _ in range(
                        HTTP_ROUNDS
                    ):  # alternate, so that drift in the machine hits every case alike
                        for name, (url, headers) in cases.items():
                            times[name].append(http_per_request_seconds(server, url, headers))
                finally:
                    server.close()
        finally:
            login.logout()  # deletes the session row

    median = {name: statistics.median(values) for name, values in times.items()}
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print()
    print("2. Over HTTP on loopback: gunicorn, 1 sync worker, DEBUG off, CONN_MAX_AGE=60; client http.client")
    print(
        f"file: {size:,} bytes; {HTTP_ROUNDS} rounds of {HTTP_PER_ROUND} requests each, median ms per request"
    )
    connections = (
        "a new TCP connection per request (the sync worker closes each one), for every case alike"
        if closes
        else "one connection kept alive"
    )
    print(f"connections: {connections}")
    print(f"load average {load} on {os.cpu_count()} CPUs, shared by client, server and PostgreSQL")
    for name in ("bare", "bare_logged_in", "portal"):
        print(f"{LABELS[name]:34} {median[name] * 1000:7.3f} ms")
    print(
        f"ratio portal / bare view:                       {median['portal'] / median['bare']:.2f}  (target ≤ 2)"
    )
    print(
        "ratio portal / bare view with the session loaded: "
        f"{median['portal'] / median['bare_logged_in']:.2f}  (what a logged-in page costs anyway)"
    )


def main():
    # Stopped with SIGTERM, the benchmark still runs its `finally` blocks: the server is stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    in_process()
    over_http()


if __name__ == "__main__":
    main()
