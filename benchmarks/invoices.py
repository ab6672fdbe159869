"""What does an invoice PDF cost, does a worker's memory stay flat, and does rendering scale with workers?

Prints, each as a ratio measured in this run (issue 5, "Performance"):

1. a realistic 2-page invoice render ÷ a one-line WeasyPrint document, same process (target ≤ 30×);
2. a worker process's RSS after 200 invoice renders ÷ after 10, in a fresh subprocess (target ≤ 1.2);
2b. building the invoice's FatturaPA XML (billing.einvoice.fattura_xml: a38 model, its checks and the XSD
   validation) ÷ rendering its PDF, same process (target ≤ 0.1×) — `--einvoice` prints only this line;
3. rendering throughput of 60 invoices queued as real Celery tasks on the `pdf` queue, 2 prefork worker
   processes ÷ 1 (target ≥ 1.8) — needs Redis on 127.0.0.1:6379 (db 14); without it, the same render
   function in a multiprocessing pool, and the output says so.

The bench data (61 customers with a year of monthly invoices: electricity, gas, add-ons, readings with
a few estimated months, a deposit and an indemnity) is built once in the `<db>_bench` database.

    make bench        or        .venv/bin/python benchmarks/invoices.py [--sample /tmp/invoice.pdf]
"""

import argparse
import gc
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, setup_django

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
MEDIA_ROOT = Path(tempfile.gettempdir()) / "portal-bench-media"
os.environ["MEDIA_ROOT"] = str(MEDIA_ROOT)
os.environ["CELERY_BROKER_URL"] = REDIS_URL  # the workers it starts listen there

setup_django()

from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402
from unittest import mock  # noqa: E402

from django.db import connection, transaction  # noqa: E402

from accounts.models import Customer  # noqa: E402
from billing import services  # noqa: E402
from billing.einvoice import fattura_xml  # noqa: E402
from billing.generation import generate_invoices  # noqa: E402
from billing.models import Credit, Invoice, Tariff  # noqa: E402
from billing.pdf import render_invoice  # noqa: E402
from billing.tasks import render_invoice_pdf as render_invoice_pdf_task  # noqa: E402
from contracts.models import Contract, MeterReading, Service  # noqa: E402
from contracts.services import activate_service  # noqa: E402
from portal.lib import pdf  # noqa: E402
from portal.lib.dates import add_months  # noqa: E402

OFFER = "Optima Super Casa Smart con Teleconsulto Medico"
CUSTOMERS = 61  # one for the single-process figures, 60 for the throughput run
FIRST_MONTH = date(2025, 11, 1)
LAST_MONTH = date(2026, 10, 1)
THROUGHPUT_INVOICES = 60


# ---------------------------------------------------------------------------------------------------------
# Bench data
# ---------------------------------------------------------------------------------------------------------


def build_data():
    """61 customers with a year of invoices; built once, reused by later runs."""
    if Invoice.objects.filter(customer__code__startswith="B9", period_start=LAST_MONTH).count() >= CUSTOMERS:
        return
    print("building the bench data (once)…", flush=True)
    # All or nothing, and no render task queued: the benchmark renders what it measures.
    with transaction.atomic(), mock.patch.object(render_invoice_pdf_task, "delay"):
        _build_data()


def _build_data():
    Tariff.objects.get_or_create(
        offer_name=OFFER,
        defaults=dict(
            energy_price_kwh=Decimal("0.128400"),
            gas_price_smc=Decimal("0.982100"),
            electricity_monthly_fee=Decimal("9.50"),
            gas_monthly_fee=Decimal("8.00"),
            teleconsulto_monthly_fee=Decimal("4.90"),
            assistenza_h24_monthly_fee=Decimal("3.90"),
        ),
    )
    customers = [_customer_with_a_year_of_supply(n) for n in range(CUSTOMERS)]
    month = FIRST_MONTH
    while month <= LAST_MONTH:
        issued_on = add_months(month, 1).replace(day=2)
        if month == LAST_MONTH:
            for customer in customers:  # a complaint answered late: its indemnity goes on the last invoice
                services.grant_indemnity(
                    customer=customer,
                    contract=customer.contracts.get(),
                    reason=Credit.Reason.COMPLAINT_INDEMNITY,
                    amount=Decimal("30.00"),
                    created_on=date(2026, 10, 20),
                    source_key=f"bench-complaint:{customer.code}",
                )
        report = generate_invoices(period=month, issued_on=issued_on)
        assert not report.errors, report.errors
        month = add_months(month, 1)


def _customer_with_a_year_of_supply(n):
    code = f"B9{n:08d}"
    customer = Customer.objects.create(
        code=code,
        first_name="Mario",
        last_name=f"Rossi {n}" if n else "Rossi",
        codice_fiscale="RSSMRA80A01F839W",
        email=f"bench{n}@example.it",
        billing_street="Via Toledo 256",
        billing_postcode="80134",
        billing_city="Napoli",
        billing_province="NA",
        health_data_consent=True,
    )
    contract = Contract.objects.create(
        customer=customer,
        number=f"OPT-B{n:06d}",
        offer_name=OFFER,
        sales_channel=Contract.SalesChannel.PHONE,
        proposed_on=date(2025, 10, 1),
        accepted_on=date(2025, 10, 3),
        payment_method=Contract.PaymentMethod.POSTAL_SLIP if n % 2 else Contract.PaymentMethod.SDD,
        iban="IT60X0542811101000000123456",
        security_deposit=Decimal("100.00"),
    )
    address = dict(
        supply_street="Via Toledo 256", supply_postcode="80134", supply_city="Napoli", supply_province="NA"
    )
    specs = [
        dict(
            kind=Service.Kind.ELECTRICITY, pod=f"IT001E{4512377 + n:08d}", power_kw=Decimal("3.0"), **address
        ),
        dict(kind=Service.Kind.GAS, pdr=f"{881234567890 + n:014d}", meter_class="G4", **address),
        dict(kind=Service.Kind.TELECONSULTO),
        dict(kind=Service.Kind.ASSISTENZA_H24),
    ]
    for spec in specs:
        service = Service.objects.create(contract=contract, **spec)
        activate_service(service=service, activated_on=FIRST_MONTH)
        if service.is_metered:
            _readings(service, per_day=7.5 if service.kind == Service.Kind.ELECTRICITY else 2.1)
    return customer


def _readings(service, *, per_day):
    """Monthly distributor readings, a winter bump, and two months without a reading (estimated)."""
    value, day = 10230.0, add_months(FIRST_MONTH, -1).replace(day=31)
    MeterReading.objects.create(service=service, read_on=day, value=int(value), source="distributor")
    month = FIRST_MONTH
    while month <= LAST_MONTH:
        end = add_months(month, 1)
        value += per_day * (1.7 if month.month in (12, 1, 2) else 1.0) * (end - month).days
        if month.month not in (4, 8):  # no reading: estimated
            read_on = date.fromordinal(end.toordinal() - 1)
            MeterReading.objects.create(
                service=service, read_on=read_on, value=int(value), source="distributor"
            )
        month = end


def bench_invoices():
    return list(
        Invoice.objects.filter(customer__code__startswith="B9", period_start=LAST_MONTH)
        .select_related("customer")
        .order_by("customer__code")
    )


# ---------------------------------------------------------------------------------------------------------
# 1. Render cost
# ---------------------------------------------------------------------------------------------------------


def median_seconds(function, repeats, clock=time.perf_counter):
    times = []
    for _ in range(repeats):
        gc.collect()  # a collection inside one timing would be charged to whichever document it hit
        start = clock()
        function()
        times.append(clock() - start)
    return statistics.median(times)


def render_ratio(invoice):
    """Medians of wall-clock and of process CPU time: CPU time is what to read on a machine busy with
    other work, where wall-clock also counts the time other processes held the CPU."""
    pdf.warm_up()
    render_invoice(invoice)  # template and catalogues loaded
    one_line = lambda: pdf.html_to_pdf("<p>Optima</p>")  # noqa: E731
    full = lambda: render_invoice(invoice)  # noqa: E731
    return {
        clock_name: (median_seconds(one_line, 40, clock), median_seconds(full, 15, clock))
        for clock_name, clock in (("wall", time.perf_counter), ("CPU", time.process_time))
    }


def einvoice_ratio(invoice):
    """Medians of building the XML and of rendering the PDF of the same invoice, wall-clock and CPU."""
    fattura_xml(invoice)  # schema parsed and cached, as in a worker after its first document
    pdf.warm_up()
    render_invoice(invoice)
    xml = lambda: fattura_xml(invoice)  # noqa: E731
    full = lambda: render_invoice(invoice)  # noqa: E731
    return {
        clock_name: (median_seconds(xml, 40, clock), median_seconds(full, 15, clock))
        for clock_name, clock in (("wall", time.perf_counter), ("CPU", time.process_time))
    }


def print_einvoice_ratio(invoice):
    size = len(fattura_xml(invoice))
    for clock_name, (xml, full) in einvoice_ratio(invoice).items():
        print(
            f"{clock_name:>4}: FatturaPA XML ({size} bytes, built + a38 checks + XSD) {xml * 1000:6.2f} ms, "
            f"invoice PDF {full * 1000:6.1f} ms: ratio {xml / full:6.3f}×  (target ≤ 0.1×)"
        )


# ---------------------------------------------------------------------------------------------------------
# 2. Memory of a worker process: RSS after 200 renders ÷ after 10 (run in a fresh process)
# ---------------------------------------------------------------------------------------------------------


def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def memory_child(invoice_id):
    invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
    pdf.warm_up()
    for _ in range(10):
        render_invoice(invoice)
    after_10 = rss_mb()
    for _ in range(190):
        render_invoice(invoice)
    print(f"{after_10:.1f} {rss_mb():.1f}")


def memory_ratio(invoice):
    connection.close()
    output = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(invoice.pk)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"].removesuffix("_bench")},
    ).stdout
    after_10, after_200 = (float(x) for x in output.split()[-2:])
    return after_10, after_200


# ---------------------------------------------------------------------------------------------------------
# 3. Throughput: 60 invoices rendered by Celery workers on the pdf queue, 1 vs 2 processes
# ---------------------------------------------------------------------------------------------------------


def redis_available():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def celery_seconds(invoices, concurrency):
    """Queue one render task per invoice (force: each one renders) and wait until every file is stored."""
    from celery import current_app

    task = render_invoice_pdf_task
    app = current_app._get_current_object()
    app.conf.task_always_eager = False
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "CELERY_BROKER_URL": REDIS_URL,
        # As in production: a worker keeps its database connection instead of opening one per task.
        "CONN_MAX_AGE": "60",
    }
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "portal",
            "worker",
            "-Q",
            "pdf",
            "--pool",
            "prefork",
            "-c",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("pdf")
        # Warm every worker process (fonts, templates, database connection) before timing.
        warm = invoices[: 2 * concurrency]
        _wait_rendered(warm, lambda: [task.delay(i.pk, force=True) for i in warm], timeout=120)
        start = time.perf_counter()
        _wait_rendered(invoices, lambda: [task.delay(i.pk, force=True) for i in invoices], timeout=600)
        return time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _wait_rendered(invoices, send, *, timeout):
    ids = [invoice.pk for invoice in invoices]
    from django.utils import timezone

    since = timezone.now()
    send()
    deadline = time.monotonic() + timeout
    while Invoice.objects.filter(pk__in=ids, pdf_rendered_at__gte=since).count() < len(ids):
        if time.monotonic() > deadline:
            raise TimeoutError("the workers did not render every invoice in time")
        time.sleep(0.05)


def _pool_render(invoice_id):
    from django.db import connection as conn

    invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
    render_invoice(invoice)
    conn.close()


def pool_seconds(invoices, processes):
    import multiprocessing

    connection.close()
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=pdf.warm_up) as pool:
        pool.map(_pool_render, [i.pk for i in invoices[: 2 * processes]], chunksize=1)
        start = time.perf_counter()
        pool.map(_pool_render, [i.pk for i in invoices], chunksize=1)
        return time.perf_counter() - start


# ---------------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", help="write the sample invoice there and stop")
    parser.add_argument("--einvoice", action="store_true", help="only the XML ÷ PDF figure")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return

    connection.cursor().execute("SELECT 1")
    build_data()
    invoices = bench_invoices()
    sample, batch = invoices[0], invoices[1 : 1 + THROUGHPUT_INVOICES]
    if args.sample:
        Path(args.sample).write_bytes(render_invoice(sample))
        print(f"{args.sample}: invoice {sample.number}, {sample.total} €")
        return
    if args.einvoice:
        print_einvoice_ratio(sample)
        return

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(render_invoice(sample))).pages)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for clock_name, (one_line, full) in render_ratio(sample).items():
        print(
            f"{clock_name:>4}: one-line document {one_line * 1000:6.1f} ms, invoice ({pages} pages, context + "
            f"template + layout) {full * 1000:6.1f} ms: ratio {full / one_line:5.1f}×  (target ≤ 30×)"
        )

    print_einvoice_ratio(sample)

    after_10, after_200 = memory_ratio(sample)
    print(f"worker RSS after 10 renders: {after_10:6.1f} MB, after 200: {after_200:6.1f} MB")
    print(f"ratio RSS 200 / 10:          {after_200 / after_10:6.2f}    (target ≤ 1.2)")

    if redis_available():
        how = f"Celery prefork workers on the pdf queue, broker {REDIS_URL}"
        one, two = celery_seconds(batch, 1), celery_seconds(batch, 2)
    else:
        how = "multiprocessing pool with the same render function (no Redis for Celery)"
        one, two = pool_seconds(batch, 1), pool_seconds(batch, 2)
    n = len(batch)
    print(f"throughput, {n} invoices, {how}:")
    print(f"  1 process:  {one:6.1f} s = {n / one:5.2f} invoices/s")
    print(f"  2 processes: {two:6.1f} s = {n / two:5.2f} invoices/s")
    print(f"ratio 2 processes / 1:      {one / two:6.2f}    (target ≥ 1.8)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
