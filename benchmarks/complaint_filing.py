"""Does filing a complaint stay fast under load, now that the acknowledgement's PDF is rendered by a worker?

The issue: file_complaint took the year's case-code counter row and kept it locked while WeasyPrint rendered
the acknowledgement inside the request (≈0.6 s idle); with 20 clients filing, p50 was 5.6 s and invoice
downloads went from 97 ms to 3.4 s. Now the filing queues complaints.tasks.send_acknowledgement on commit
and takes the code last. This script measures it on real processes, all started here and always stopped at
the end (each in a process group of its own, killed if it does not stop; they also die with this process):

- gunicorn serving the portal, 3 sync workers as in production (Dockerfile, docker-compose.yml), on a free
  loopback port, settings benchmarks/_bench_settings.py (DEBUG off, CONN_MAX_AGE=60), access log with each
  request's own duration, so that time spent inside a worker is told apart from time waiting for one;
- a Celery worker, `celery -A portal worker -Q celery,pdf`, prefork ×2 as in docker-compose.yml, on a Redis
  database of its own (BENCH_COMPLAINT_REDIS_URL, default redis://127.0.0.1:6379/13, flushed first): the
  acknowledgement PDFs really render;
- the sweeps: a process running the complaints app's deadline sweeps (portal.deadlines.run_deadlines, the
  code `manage.py run_deadlines` runs) every 2 s, as DEADLINE_SWEEP_INTERVAL=2 does in the real-stack tests.
  Each pass first brings the staff reminder of 20 of the bench customers' older cases to today, so that
  every pass locks and updates complaint rows, not only looks for them. Only the complaints.* sweeps: those
  of billing and contracts, run as of now on the shared bench database, would act on the data the other
  benchmarks built (render the 700 invoices benchmarks/invoices.py keeps without a PDF, send dunning).

Twenty customers (CBENCHCF00…19, a contract with one electricity supply each) and a twenty-first with a
stored invoice PDF (CBENCHCF99) are created through tests/factories.py and the billing services in the
`<db>_bench` database on the first run and reused afterwards; each is logged in with a session row created
here (deleted at the end), and every complaint goes through the real form: GET /reclami/nuovo/ for the CSRF
and submission tokens, then the multipart POST a browser sends, timed to its 302.

1. Idle: one client files 20 complaints one after the other, each once the previous acknowledgement has been
   written, so that each filing has the machine to itself (the worker included); then 40 invoice downloads.
2. Load: 20 client threads file 300 complaints (15 each) at once while the sweeps run; a 21st client
   downloads the invoice PDF every 0.25 s, and pg_stat_activity is sampled every 50 ms for lock waits.
3. Catch-up and checks: every acknowledgement of the run is waited for (bounded), then the run's complaints
   are checked: 300 from the load, every code unique and the codes gapless against the year's counter (no
   burned number), every acknowledgement communication written by the worker.

Prints p50/p95 of the load against the idle p50 of the same run, and, to tell where the time goes, the
server-side time (inside a gunicorn worker), the worker's task time and the CPU each process used.

    make bench        or        .venv/bin/python benchmarks/complaint_filing.py
"""

import contextlib
import ctypes
import http.client
import http.cookies
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest import mock

from _setup import ROOT, setup_django

REDIS_URL = os.environ.get("BENCH_COMPLAINT_REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ["CELERY_BROKER_URL"] = REDIS_URL  # what this process queues (data set-up) goes there too

setup_django()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from billing import services as billing_services  # noqa: E402
from billing.models import Invoice, InvoiceLine  # noqa: E402
from billing.tasks import render_invoice_pdf as render_invoice_pdf_task  # noqa: E402
from complaints.models import Complaint, ComplaintCounter  # noqa: E402
from contracts.models import Customer, Service  # noqa: E402
from portal.lib.dates import rome_date  # noqa: E402
from portal.notifications.models import Communication  # noqa: E402
from tests.factories import CustomerFactory, active_contract  # noqa: E402

CLIENTS = 20
LOAD_COMPLAINTS = 300
IDLE_COMPLAINTS = 20
WARM_UP_COMPLAINTS = 6
IDLE_DOWNLOADS = 40
DOWNLOAD_EVERY_SECONDS = 0.25
LOCK_SAMPLE_SECONDS = 0.05
GUNICORN_WORKERS = 3  # production's (Dockerfile, docker-compose.yml)
CELERY_CONCURRENCY = 2  # production's (docker-compose.yml)
SWEEP_INTERVAL_SECONDS = 2.0
SWEEP_DUE_PER_PASS = 20
CUSTOMER_PREFIX = "CBENCHCF"
DOWNLOAD_CUSTOMER = f"{CUSTOMER_PREFIX}99"
START_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 120
ACK_TIMEOUT_SECONDS = 30  # one acknowledgement, idle
CATCH_UP_TIMEOUT_SECONDS = 600  # every acknowledgement of the load
PDF_BYTES = 60 * 1024
FORM_URL = "/reclami/nuovo/"
CODE_IN_LOCATION = re.compile(r"^/reclami/(R-(\d{4})-(\d{6}))/\?inviato=1$")
TASK_SUCCEEDED = re.compile(r"Task complaints\.tasks\.send_acknowledgement\[[^\]]+\] succeeded in ([\d.]+)s")

# The sweep process: the complaints app's sweeps every SWEEP_INTERVAL_SECONDS, one line per pass on stdout.
SWEEP_LOOP = f"""
import sys, time
import django
django.setup()
from django.utils import timezone
from complaints.models import Complaint
from portal import deadlines
from portal.lib.dates import rome_date

deadlines.autodiscover()
names = [sweep.name for sweep in deadlines.sweeps() if sweep.name.startswith("complaints.")]
print("sweeps", " ".join(names), flush=True)
while True:
    started = time.time()
    today = rome_date(timezone.now())
    due = list(
        Complaint.objects.filter(
            customer__code__startswith={CUSTOMER_PREFIX!r}, answered_on__isnull=True, reminder_due_on__gt=today
        ).order_by("pk").values_list("pk", flat=True)[:{SWEEP_DUE_PER_PASS}]
    )
    Complaint.objects.filter(pk__in=due).update(reminder_due_on=today)
    runs = deadlines.run_deadlines(only=names)
    print("pass", f"{{started:.3f}}", f"{{time.time():.3f}}", sum(run.acted for run in runs),
          sum(run.failed for run in runs), flush=True)
    time.sleep(max(0.0, {SWEEP_INTERVAL_SECONDS} - (time.time() - started)))
"""


# ---------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------


def pdf_body() -> bytes:
    return b"%PDF-1.4\n" + bytes(range(256)) * (PDF_BYTES // 256) + b"\n%%EOF\n"


def bench_customer(code, email):
    customer = Customer.objects.filter(code=code).select_related("user").first()
    if customer is None:
        with transaction.atomic():
            customer = CustomerFactory(code=code, user__email=email)
            active_contract(customer, activated_on=date(2026, 2, 1))
    return customer


def filing_customers():
    """The 20 filing customers and the pk of each one's supply: created on the first run, reused after."""
    customers = [
        bench_customer(f"{CUSTOMER_PREFIX}{n:02d}", f"bench.complaints{n:02d}@example.it")
        for n in range(CLIENTS)
    ]
    supply = dict(
        Service.objects.filter(contract__customer__in=customers).values_list("contract__customer_id", "pk")
    )
    return [(customer, supply[customer.pk]) for customer in customers]


def download_invoice(media):
    """The 21st customer's issued invoice, its PDF (re)written under `media`, this run's MEDIA_ROOT."""
    customer = bench_customer(DOWNLOAD_CUSTOMER, "bench.complaints.download@example.it")
    invoice = Invoice.objects.filter(customer=customer, number__isnull=False).exclude(pdf="").first()
    if invoice is None:
        # No render task: the benchmark stores the PDF it serves.
        with (
            override_settings(MEDIA_ROOT=media),
            transaction.atomic(),
            mock.patch.object(render_invoice_pdf_task, "delay"),
        ):
            draft = billing_services.create_draft(
                contract=customer.contracts.get(),
                period_start=date(2026, 10, 1),
                period_end=date(2026, 10, 31),
                lines=[
                    billing_services.LineSpec(
                        kind=InvoiceLine.Kind.ENERGY,
                        description="Energia",
                        unit_price=Decimal("44.80"),
                        vat_rate=10,
                    )
                ],
            )
            invoice = billing_services.issue_invoice(invoice=draft, issued_on=date(2026, 11, 2))
            invoice.pdf.save("bench.pdf", ContentFile(pdf_body()))
        return customer, invoice
    stored = Path(media) / invoice.pdf.name
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(pdf_body())
    return customer, invoice


@contextlib.contextmanager
def logged_in(users):
    """A session row per user, as a login leaves it (committed: the server reads it); deleted at the end."""
    keys = []
    try:
        for user in users:
            client = Client()
            client.force_login(user)
            keys.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
        yield keys
    finally:
        Session.objects.filter(session_key__in=keys).delete()


# ---------------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _child_setup():
    # A session (and process group) of its own, so that the stop below reaches every process it forks; and,
    # on Linux, SIGTERM when this process dies however it dies (even kill -9).
    os.setsid()
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def running(name, command, env, logs):
    """`command` running until the block ends, however it ends: SIGTERM to its process group, SIGKILL to
    whatever of the group is left after 15 s. Its output goes to logs/<name>.log."""
    log_path = Path(logs) / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_child_setup,  # noqa: PLW1509 (no thread runs yet when the processes start)
        )
    process.log_path = log_path
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        # The group outlives its leader if a child was left behind (a worker's pool process): kill the rest.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def log_of(process) -> str:
    return process.log_path.read_text(errors="replace")


def wait_for(condition, *, timeout, what, processes=(), poll=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{what}: {process.args[0]} exited ({process.returncode}):\n{log_of(process)}"
                )
        time.sleep(poll)
    logs = "\n".join(f"--- {p.log_path.name}\n{log_of(p)[-3000:]}" for p in processes)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}\n{logs}")


def process_env(media, tmp):
    return {
        **os.environ,  # DATABASE_URL: the bench database, set by setup_django
        "DJANGO_SETTINGS_MODULE": "benchmarks._bench_settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(media),
        "PORTAL_DATA_DIR": str(tmp),
        "EMAIL_URL": f"filemail://{tmp}/mail",
        "BENCH_BARE_FILE": "",
        "LOG_LEVEL": "WARNING",
    }


def gunicorn_command(port, access_log):
    return [
        str(Path(sys.executable).with_name("gunicorn")),
        "portal.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={GUNICORN_WORKERS}",
        "--worker-class=sync",
        "--graceful-timeout=5",
        "--log-level=warning",
        f"--access-logfile={access_log}",
        # Method, path, status, the request's time inside the worker (µs), and the phase the benchmark tags.
        "--access-logformat=%(m)s %(U)s %(s)s %(D)s %({x-bench-phase}i)s",
    ]


def celery_command():
    return [
        str(Path(sys.executable).with_name("celery")),
        "-A",
        "portal",
        "worker",
        "-Q",
        "celery,pdf",
        "--pool=prefork",
        f"--concurrency={CELERY_CONCURRENCY}",
        "--loglevel=INFO",
        "--without-mingle",
        "--without-gossip",
        "-n",
        f"complaint-bench-{os.getpid()}@%h",
    ]


def redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


# CPU time, from /proc: a process and its descendants, and the machine as a whole.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes():
    """pid → (parent pid, CPU seconds) of every process visible in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return table


def tree_cpu_seconds(roots) -> dict[str, float]:
    table = _processes()
    children = {}
    for pid, (parent, _cpu) in table.items():
        children.setdefault(parent, []).append(pid)
    totals = {}
    for name, pid in roots.items():
        total, stack = 0.0, [pid]
        while stack:
            current = stack.pop()
            total += table.get(current, (0, 0.0))[1]
            stack.extend(children.get(current, ()))
        totals[name] = total
    return totals


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


# ---------------------------------------------------------------------------------------------------------
# The clients
# ---------------------------------------------------------------------------------------------------------


class Browser:
    """One customer's browser: a cookie jar, one request per connection (the sync workers close each)."""

    def __init__(self, port, session_key, phase):
        self.port = port
        self.cookies = {settings.SESSION_COOKIE_NAME: session_key}
        self.phase = phase

    def request(self, method, url, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            connection.request(
                method,
                url,
                body=body,
                headers={"Cookie": cookie, "X-Bench-Phase": self.phase, **(headers or {})},
            )
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in http.cookies.SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response, content

    def file_complaint(self, supply_pk, description):
        """The form, then its POST: (seconds of the POST to its redirect, case code)."""
        response, content = self.request("GET", FORM_URL)
        html = content.decode()
        assert response.status == 200, (response.status, html[:300])
        fields = {
            "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1],
            "submission_token": re.search(r'name="submission_token" value="([^"]+)"', html)[1],
            "supply": f"service:{supply_pk}",
            "kind": "complaint",
            "topic": "fatturazione",
            "invoice": "",
            "description": description,
            "reply_address": "",
        }
        body, content_type = multipart(fields)
        start = time.perf_counter()
        response, content = self.request("POST", FORM_URL, body, {"Content-Type": content_type})
        seconds = time.perf_counter() - start
        location = response.headers.get("Location", "")
        match = CODE_IN_LOCATION.match(location)
        assert response.status == 302 and match, (response.status, location, content[:500])
        return seconds, match[1]

    def download(self, url):
        start = time.perf_counter()
        response, content = self.request("GET", url)
        seconds = time.perf_counter() - start
        assert response.status == 200 and len(content) == len(pdf_body()), (response.status, len(content))
        return seconds


def multipart(fields):
    """The body a browser posts for the form (enctype multipart/form-data), the empty file input included."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


def ack_keys(codes):
    pks = Complaint.objects.filter(code__in=codes).values_list("pk", flat=True)
    return [f"complaints.ack:{pk}" for pk in pks]


def acks_written(keys) -> int:
    return Communication.objects.filter(dedupe_key__in=keys, template_key="complaint_ack").count()


class Sampler(threading.Thread):
    """Runs `sample` every `every` seconds until stopped; the first error is kept and re-raised by stop()."""

    def __init__(self, sample, every):
        super().__init__(daemon=True)
        self.sample, self.every, self.halt, self.error = sample, every, threading.Event(), None

    def run(self):
        try:
            while not self.halt.is_set():
                started = time.monotonic()
                self.sample()
                self.halt.wait(max(0.0, self.every - (time.monotonic() - started)))
        except BaseException as exc:  # noqa: BLE001 (re-raised in the main thread)
            self.error = exc

    def stop(self):
        self.halt.set()
        self.join()
        if self.error is not None:
            raise self.error


class LockWatch:
    """pg_stat_activity of the bench database: active backends, and those waiting on a lock (with what)."""

    def __init__(self):
        self.connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        self.samples = 0
        self.with_waiters = 0
        self.max_waiters = 0
        self.waiting = Counter()

    def sample(self):
        rows = self.connection.execute(
            """SELECT wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
                 AND wait_event_type = 'Lock'"""
        ).fetchall()
        self.samples += 1
        self.with_waiters += bool(rows)
        self.max_waiters = max(self.max_waiters, len(rows))
        self.waiting.update(f"{event}: {query}" for event, query in rows)

    def close(self):
        self.connection.close()


def p50(values):
    return statistics.median(values)


def p95(values):
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def server_times(access_log, phase, method, path):
    """The requests' own time inside a gunicorn worker, from its access log, for one phase and URL."""
    times = []
    for line in Path(access_log).read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == method and parts[1] == path and parts[4] == phase:
            times.append(int(parts[3]) / 1e6)
    return times


def task_times(worker) -> list[float]:
    return [float(seconds) for seconds in TASK_SUCCEEDED.findall(log_of(worker))]


def sweep_passes(sweeps, since=0.0, until=float("inf")):
    """(start, end, acted, failed) of each pass the sweep process logged that overlaps [since, until]."""
    passes = []
    for line in log_of(sweeps).splitlines():
        if line.startswith("pass "):
            _, start, end, acted, failed = line.split()
            if float(end) >= since and float(start) <= until:
                passes.append((float(start), float(end), int(acted), int(failed)))
    return passes


# ---------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------


def main():
    # Stopped with SIGTERM, the benchmark still runs its `finally` blocks: the processes are stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not redis_answers():
        print(f"complaint_filing: skipped, no Redis at {REDIS_URL} (the Celery worker needs it)")
        return
    import redis

    customers = filing_customers()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="complaint-bench-")))
        media = tmp / "media"
        media.mkdir()
        download_customer, invoice = download_invoice(media)
        invoice_url = reverse("billing:invoice_pdf", args=[invoice.pk])
        users = [customer.user for customer, _supply in customers] + [download_customer.user]
        session_keys = stack.enter_context(logged_in(users))
        redis.Redis.from_url(REDIS_URL).flushdb()  # nothing queued by an earlier run or by the set-up above

        env = process_env(media, tmp)
        port = free_port()
        access_log = tmp / "access.log"
        worker = stack.enter_context(running("worker", celery_command(), env, tmp))
        server = stack.enter_context(running("gunicorn", gunicorn_command(port, access_log), env, tmp))
        wait_for(
            lambda: " ready." in log_of(worker),
            timeout=START_TIMEOUT_SECONDS,
            what="the Celery worker",
            processes=[worker],
        )

        def serving():
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    connection.request("GET", "/accedi/")
                    return connection.getresponse().status == 200
                finally:
                    connection.close()
            return False

        wait_for(serving, timeout=START_TIMEOUT_SECONDS, what="gunicorn", processes=[server])

        year = rome_date(timezone.now()).year
        counter_before = (
            ComplaintCounter.objects.filter(year=year).values_list("last_number", flat=True).first()
        )
        counter_before = counter_before or 0
        last_pk_before = Complaint.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        run = uuid.uuid4().hex[:8]
        browsers = [Browser(port, key, "warm") for key in session_keys[:CLIENTS]]
        downloader = Browser(port, session_keys[CLIENTS], "warm")
        supplies = [supply for _customer, supply in customers]
        all_codes = []

        # Warm-up: every gunicorn worker loads the form page and the download, the Celery worker renders.
        for browser in browsers:
            browser.request("GET", FORM_URL)
            downloader.download(invoice_url)
        for n in range(WARM_UP_COMPLAINTS):
            all_codes.append(browsers[n].file_complaint(supplies[n], f"Bench {run}: warm-up {n}.")[1])
        warm_keys = ack_keys(all_codes)
        wait_for(
            lambda: acks_written(warm_keys) == len(warm_keys),
            timeout=CATCH_UP_TIMEOUT_SECONDS,
            what="the warm-up acknowledgements",
            processes=[worker, server],
        )
        warm_tasks = len(task_times(worker))

        # 1. Idle: one client, one filing at a time, each once the previous acknowledgement is written.
        idle = browsers[0]
        idle.phase = "idle"
        idle_filing, idle_ack = [], []
        for n in range(IDLE_COMPLAINTS):
            seconds, code = idle.file_complaint(supplies[0], f"Bench {run}: idle filing {n}.")
            filed_at = time.perf_counter()
            all_codes.append(code)
            [key] = ack_keys([code])
            wait_for(
                lambda key=key: acks_written([key]),
                timeout=ACK_TIMEOUT_SECONDS,
                poll=0.01,
                what=f"the acknowledgement of {code}",
                processes=[worker, server],
            )
            idle_filing.append(seconds)
            idle_ack.append(time.perf_counter() - filed_at)
        idle_tasks = task_times(worker)[warm_tasks:]
        downloader.phase = "idle"
        idle_download = [downloader.download(invoice_url) for _ in range(IDLE_DOWNLOADS)]

        # 2. Load: the sweeps first (their first pass done), then 20 clients at once.
        sweeps = stack.enter_context(running("sweeps", [sys.executable, "-c", SWEEP_LOOP], env, tmp))
        wait_for(
            lambda: sweep_passes(sweeps),
            timeout=START_TIMEOUT_SECONDS,
            what="the first sweep pass",
            processes=[sweeps],
        )
        per_client = LOAD_COMPLAINTS // CLIENTS
        assert per_client * CLIENTS == LOAD_COMPLAINTS
        load_filing, load_codes, errors = [], [], []
        start_together = threading.Barrier(CLIENTS + 1)

        def client(index):
            browser = browsers[index]
            browser.phase = "load"
            try:
                start_together.wait()
                for n in range(per_client):
                    seconds, code = browser.file_complaint(
                        supplies[index], f"Bench {run}: client {index}, {n}."
                    )
                    load_filing.append(seconds)
                    load_codes.append(code)
            except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
                errors.append(exc)
                start_together.abort()

        downloader.phase = "load"
        load_download = []
        downloads = Sampler(
            lambda: load_download.append(downloader.download(invoice_url)), DOWNLOAD_EVERY_SECONDS
        )
        locks = LockWatch()
        lock_sampler = Sampler(locks.sample, LOCK_SAMPLE_SECONDS)
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        roots = {"gunicorn": server.pid, "worker": worker.pid, "sweeps": sweeps.pid}
        cpu_before, busy_before, own_before = tree_cpu_seconds(roots), machine_busy_seconds(), os.times()
        load_start_wall = time.time()
        downloads.start()
        lock_sampler.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            start_together.wait()
        load_start = time.perf_counter()
        for thread in threads:
            thread.join()
        load_seconds = time.perf_counter() - load_start
        load_end_wall = time.time()
        cpu_after, busy_after, own_after = tree_cpu_seconds(roots), machine_busy_seconds(), os.times()
        acks_at_end = acks_written(ack_keys(load_codes)) if not errors else 0
        downloads.stop()
        lock_sampler.stop()
        locks.close()
        if errors:
            raise errors[0]
        all_codes.extend(load_codes)

        # 3. Catch-up: every acknowledgement of the run written by the worker (the sweeps keep running).
        keys = ack_keys(all_codes)
        caught_up_start = time.perf_counter()
        wait_for(
            lambda: acks_written(keys) == len(keys),
            timeout=CATCH_UP_TIMEOUT_SECONDS,
            poll=0.2,
            what=lambda: f"every acknowledgement ({acks_written(keys)} of {len(keys)} written)",
            processes=[worker, server, sweeps],
        )
        catch_up = time.perf_counter() - caught_up_start
        load_tasks = task_times(worker)[warm_tasks + len(idle_tasks) :]
        passes = sweep_passes(sweeps, load_start_wall, load_end_wall)
        sweep_names = next(
            (line.split()[1:] for line in log_of(sweeps).splitlines() if line.startswith("sweeps ")), []
        )
        idle_server = server_times(access_log, "idle", "POST", FORM_URL)
        load_server = server_times(access_log, "load", "POST", FORM_URL)
        load_server_download = server_times(access_log, "load", "GET", invoice_url)
        idle_server_download = server_times(access_log, "idle", "GET", invoice_url)

    # Checks, with the processes stopped: the run's complaints in the database.
    new = list(Complaint.objects.filter(pk__gt=last_pk_before).values_list("code", "pk"))
    ours = set(all_codes)
    numbers = sorted(int(code.rsplit("-", 1)[1]) for code, _pk in new if code.startswith(f"R-{year}-"))
    counter_after = ComplaintCounter.objects.get(year=year).last_number
    written = Communication.objects.filter(
        dedupe_key__in=[f"complaints.ack:{pk}" for _code, pk in new], template_key="complaint_ack"
    ).exclude(document="")
    problems = []
    if len(load_codes) != LOAD_COMPLAINTS or len(set(load_codes)) != LOAD_COMPLAINTS:
        problems.append(f"the load filed {len(set(load_codes))} distinct cases, not {LOAD_COMPLAINTS}")
    if {code for code, _pk in new} != ours or len(new) != len(all_codes):
        problems.append(f"{len(new)} new complaints in the database, {len(all_codes)} filed here")
    if numbers != list(range(counter_before + 1, counter_after + 1)):
        problems.append(
            f"codes not gapless: {len(numbers)} numbers for the counter's {counter_before}→{counter_after}"
        )
    if written.count() != len(new):
        problems.append(f"{written.count()} acknowledgements with their PDF for {len(new)} complaints")

    busy = busy_after - busy_before
    cpu = {name: cpu_after[name] - cpu_before[name] for name in roots}
    cpu["clients"] = (own_after.user + own_after.system) - (own_before.user + own_before.system)
    cpu["other (PostgreSQL…)"] = busy - sum(cpu.values())
    capacity = load_seconds * os.cpu_count()
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    filing_ratio_50 = p50(load_filing) / p50(idle_filing)
    filing_ratio_95 = p95(load_filing) / p50(idle_filing)

    print("Complaint filing over HTTP, with the acknowledgement rendered by a Celery worker")
    print(
        f"gunicorn {GUNICORN_WORKERS} sync workers (DEBUG off, CONN_MAX_AGE=60); Celery prefork ×{CELERY_CONCURRENCY} "
        f"on celery,pdf ({REDIS_URL}); {os.cpu_count()} CPUs shared by everything"
    )
    print(
        "figures: POST of the form to its 302, as the client sees it; in brackets, the time inside gunicorn"
    )
    print()
    print(f"1. Idle: {IDLE_COMPLAINTS} filings by one client, each after the previous acknowledgement")
    print(
        f"   filing            p50 {ms(p50(idle_filing)):>8}  p95 {ms(p95(idle_filing)):>8}"
        f"   (in gunicorn p50 {ms(p50(idle_server))})"
    )
    tasks = f" (worker task p50 {ms(p50(idle_tasks))})" if idle_tasks else ""
    print(f"   acknowledgement   written p50 {ms(p50(idle_ack))} after the filing's response{tasks}")
    print(
        f"   invoice download  p50 {ms(p50(idle_download)):>8}  p95 {ms(p95(idle_download)):>8}"
        f"   (in gunicorn p50 {ms(p50(idle_server_download))}; {IDLE_DOWNLOADS} downloads)"
    )
    print()
    acted = sum(acted for _s, _e, acted, _f in passes)
    failed = sum(failed for _s, _e, _a, failed in passes)
    mean_pass = statistics.mean(end - start for start, end, _a, _f in passes) if passes else 0.0
    print(
        f"2. Load: {LOAD_COMPLAINTS} filings by {CLIENTS} clients at once ({per_client} each) in {load_seconds:.1f} s"
        f" = {LOAD_COMPLAINTS / load_seconds:.1f} filings/s"
    )
    print(
        f"   sweeps: {len(passes)} passes of {', '.join(sweep_names)} during the load (one every "
        f"{SWEEP_INTERVAL_SECONDS:g} s, {mean_pass * 1000:.0f} ms each), {acted} rows acted, {failed} failed"
    )
    print(
        f"   filing            p50 {ms(p50(load_filing)):>8} ({filing_ratio_50:.1f}×)  p95 {ms(p95(load_filing)):>8}"
        f" ({filing_ratio_95:.1f}×)   (in gunicorn p50 {ms(p50(load_server))}, p95 {ms(p95(load_server))})"
    )
    print(
        f"   invoice download  p50 {ms(p50(load_download)):>8} ({p50(load_download) / p50(idle_download):.1f}×)"
        f"  p95 {ms(p95(load_download)):>8} ({p95(load_download) / p50(idle_download):.1f}×)"
        f"   (in gunicorn p50 {ms(p50(load_server_download))}; {len(load_download)} downloads, one every "
        f"{DOWNLOAD_EVERY_SECONDS:g} s by a 21st client)"
    )
    waits = ", ".join(f"{what} ×{count}" for what, count in locks.waiting.most_common(2))
    print(
        f"   lock waits        {locks.with_waiters} of {locks.samples} samples of pg_stat_activity had a backend"
        f" waiting on a lock (at most {locks.max_waiters})" + (f": {waits}" if waits else "")
    )
    shares = ", ".join(f"{name} {seconds / capacity:.0%}" for name, seconds in cpu.items())
    print(f"   CPU               machine {busy / capacity:.0%} busy of {os.cpu_count()} CPUs: {shares}")
    print(f"   load average      {load_average}")
    print()
    print(
        f"3. Worker: {acks_at_end} of {LOAD_COMPLAINTS} acknowledgements written by the end of the load; caught up "
        f"{catch_up:.1f} s later (task p50 {ms(p50(load_tasks)) if load_tasks else '—'} under load)"
    )
    print(
        f"   checks: {len(new)} new complaints ({LOAD_COMPLAINTS} from the load), codes R-{year}-"
        f"{counter_before + 1:06d}…{counter_after:06d}, {written.count()} acknowledgements with their PDF: "
        + ("ok" if not problems else "FAILED")
    )
    for problem in problems:
        print(f"   ✗ {problem}")
    print()
    print(
        f"filing p50 idle {ms(p50(idle_filing))}; under load ({CLIENTS} clients, sweeps running) "
        f"p50 {ms(p50(load_filing))} ({filing_ratio_50:.1f}×) p95 {ms(p95(load_filing))} ({filing_ratio_95:.1f}×); "
        f"invoice download p50 {ms(p50(idle_download))} → {ms(p50(load_download))}"
    )
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
