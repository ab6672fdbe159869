"""Does downloading a stored invoice through the portal cost at most twice serving the same file bare?

Through Django's test client with a logged-in session, the same 60 KB PDF is fetched, in alternating rounds,
from the portal's `billing:invoice_pdf` (login, customer and invoice lookup, ownership check, stored file) and
from a bare view that only opens the file and returns it with FileResponse, mounted by a tiny urlconf override.
The client carries the language cookie, so the bare view runs no query at all: the portal's every query is
counted against it. Prints the median time of each, the queries the portal view runs, and the ratio
(target ≤ 2). Nothing is left in the database: the data is created in a transaction rolled back at the end.

    make bench        or        .venv/bin/python benchmarks/invoice_download.py
"""

import os
import statistics
import sys
import tempfile
import time
import types
from datetime import date
from decimal import Decimal
from pathlib import Path

from _setup import setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import FileResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path, reverse  # noqa: E402

from billing import services  # noqa: E402
from billing.models import InvoiceLine  # noqa: E402
from tests.factories import CustomerFactory, active_contract  # noqa: E402

PDF_BYTES = 60 * 1024  # a two-page invoice with the consumption chart is about this size
ROUNDS = 40
PER_ROUND = 50
WARM_UP = 200


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


def stored_invoice():
    """An issued invoice of a customer with a portal account, its PDF stored like the renderer stores it."""
    customer = CustomerFactory(code="CBENCHDL01", user__email="bench.download@example.it")
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
    body = b"%PDF-1.4\n" + bytes(range(256)) * (PDF_BYTES // 256) + b"\n%%EOF\n"
    invoice.pdf.save("bench.pdf", ContentFile(body))
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


def main():
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
    print(f"file: {size:,} bytes; {ROUNDS} rounds of {PER_ROUND} requests each, median ms per request")
    print(f"load average {load} on {os.cpu_count()} CPUs (each query is a round trip to PostgreSQL)")
    labels = {
        "bare": "bare FileResponse view",
        "bare_logged_in": "bare view, session + user loaded",
        "portal": "portal billing:invoice_pdf",
    }
    for name in ("bare", "bare_logged_in", "portal"):
        tables = ", ".join(queries[name]) or "none"
        print(f"{labels[name]:34} {median[name] * 1000:7.3f} ms   queries: {len(queries[name])} ({tables})")
    print(
        f"ratio portal / bare view:                       {median['portal'] / median['bare']:.2f}  (target ≤ 2)"
    )
    print(
        "ratio portal / bare view with the session loaded: "
        f"{median['portal'] / median['bare_logged_in']:.2f}  (what a logged-in page costs anyway)"
    )


if __name__ == "__main__":
    main()
