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
3. Catch-up and checks: every acknowledgement of the run is waited for (bounded: 10 min), then the run's
   complaints are checked: 300 from the load, every code unique and the codes gapless against the year's
   counter (no burned number), every acknowledgement communication written with its PDF (by the worker's
   task; the output says how many the catch-up sweep complaints.acknowledgements sent instead).

Prints p50/p95 of the load against the idle p50 of the same run, and, to tell where the time goes, the
time inside a gunicorn worker, how busy the sync workers were, the lock waits, the worker's task time and
the CPU each process used. The clients do not pause between filings: 20 of them keep the 3 sync workers
busy all the time, so under load most of a filing's time is its wait for a free worker, and everything
shares this machine's CPUs (the PDF renders included): absolute figures follow the machine and whatever
else runs on it (the CPU line names it), the ratios much less.

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

from accounts.models import Customer  # noqa: E402
from billing import services as billing_services  # noqa: E402
from billing.models import Invoice, InvoiceLine  # noqa: E402
from billing.tasks import render_invoice_pdf as render_invoice_pdf_task  # noqa: E402
from complaints.models import Complaint, ComplaintCounter  # noqa: E402
from contracts.models import Service  # noqa: E402
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
import time
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
    print("pass", f"{{started:.3f}}", f"{{time.time():.3f}}",
          *(f"{{run.sweep}}={{run.acted}}/{{run.failed}}" for run in runs), flush=True)
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
            preexec_fn=_child_setup,  # safe here: no thread of ours runs yet when a process starts
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


def process_cpu_seconds(pid) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def processes():
    """pid → (parent pid, CPU seconds, command name) of every process visible in /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            head, fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)
            fields = fields.split()
            cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            table[int(entry)] = (int(fields[1]), cpu, head.split("(", 1)[1])
    return table


def cpu_by_process(before, after, roots, database_backends) -> dict[str, float]:
    """CPU seconds between two `processes()` snapshots: each root's process tree, this process, then every
    other process by command name, the bench database's backends apart (they are counted by DatabaseWatch)."""
    children = {}
    for pid, (parent, _cpu, _name) in after.items():
        children.setdefault(parent, []).append(pid)
    used = {pid: cpu - before.get(pid, (0, 0.0, ""))[1] for pid, (_parent, cpu, _name) in after.items()}
    totals, counted = {}, {os.getpid(), *database_backends}
    for name, root in roots.items():
        stack, total = [root], 0.0
        while stack:
            pid = stack.pop()
            counted.add(pid)
            total += used.get(pid, 0.0)
            stack.extend(children.get(pid, ()))
        totals[name] = total
    totals["clients (this process)"] = used.get(os.getpid(), 0.0)
    others = Counter()
    for pid, seconds in used.items():
        if pid not in counted:
            others[after[pid][2]] += seconds
    return totals, others


def machine_cpu_seconds() -> Counter:
    """The machine's CPU time so far, from /proc/stat: busy (every state but idle and iowait), of which
    interrupts and steal (time the hypervisor gave to other machines)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = values + [0] * (8 - len(values))
    return Counter(
        busy=(user + nice + system + irq + softirq + steal) / CLOCK_TICKS,
        interrupts=(irq + softirq) / CLOCK_TICKS,
        steal=steal / CLOCK_TICKS,
    )


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


class DatabaseWatch:
    """pg_stat_activity of the bench database, sampled: the backends waiting on a lock (and for what), and
    the CPU time of every backend seen, from /proc (PostgreSQL runs on this machine)."""

    def __init__(self):
        self.connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        self.samples = 0
        self.with_waiters = 0
        self.max_waiters = 0
        self.waiting = Counter()
        self.cpu_first, self.cpu_last = {}, {}
        self.sample(first=True)

    def sample(self, first=False):
        rows = self.connection.execute(
            """SELECT pid, state = 'active' AND wait_event_type = 'Lock', wait_event, query
               FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"""
        ).fetchall()
        for pid, _waiting, _event, _query in rows:
            cpu = process_cpu_seconds(pid)
            if cpu is not None:
                self.cpu_first.setdefault(pid, cpu if first else 0.0)  # a backend born later: all of it
                self.cpu_last[pid] = cpu
        if first:
            return
        waiters = [(event, query) for _pid, waiting, event, query in rows if waiting]
        self.samples += 1
        self.with_waiters += bool(waiters)
        self.max_waiters = max(self.max_waiters, len(waiters))
        for event, query in waiters:
            table = re.search(r'FROM "(\w+)"', query)
            update = " FOR UPDATE" if "FOR UPDATE" in query else ""
            self.waiting[f"{event} ({query.split()[0]} {table[1] if table else '?'}{update})"] += 1

    def cpu_seconds(self) -> float:
        return sum(self.cpu_last[pid] - self.cpu_first[pid] for pid in self.cpu_last)

    def close(self):
        self.connection.close()


def p50(values):
    return statistics.median(values)


def p95(values):
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def ms(seconds):
    return f"{seconds * 1000:.0f} ms"


def server_times(access_log, phase, method, path):
    """The requests' own time inside a gunicorn worker, from its access log, for one phase and (if given)
    one method and path."""
    times = []
    for line in Path(access_log).read_text().splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[4] == phase and method in (None, parts[0]) and path in (None, parts[1]):
            times.append(int(parts[3]) / 1e6)
    return times


def task_times(worker) -> list[float]:
    return [float(seconds) for seconds in TASK_SUCCEEDED.findall(log_of(worker))]


def sweep_passes(sweeps, since=0.0, until=float("inf")):
    """(start, end, {sweep: (acted, failed)}) of each pass the sweep process logged overlapping [since, until]."""
    passes = []
    for line in log_of(sweeps).splitlines():
        if line.startswith("pass "):
            _, start, end, *counts = line.split()
            if float(end) >= since and float(start) <= until:
                tally = {}
                for count in counts:
                    name, _, numbers = count.partition("=")
                    acted, _, failed = numbers.partition("/")
                    tally[name] = (int(acted), int(failed))
                passes.append((float(start), float(end), tally))
    return passes


# ---------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------


class Bench:
    """One run: the processes (entered on `stack`, so stopped however the run ends), the clients, the codes
    filed, and the figures of each phase."""

    def __init__(self, stack):
        self.stack = stack
        customers = filing_customers()
        self.supplies = [supply for _customer, supply in customers]
        self.tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="complaint-bench-")))
        media = self.tmp / "media"
        media.mkdir()
        download_customer, invoice = download_invoice(media)
        self.invoice_url = reverse("billing:invoice_pdf", args=[invoice.pk])
        users = [customer.user for customer, _supply in customers] + [download_customer.user]
        session_keys = stack.enter_context(logged_in(users))
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()  # nothing queued by an earlier run or by the set-up above
        self.env = process_env(media, self.tmp)
        self.port = free_port()
        self.access_log = self.tmp / "access.log"
        self.worker = stack.enter_context(running("worker", celery_command(), self.env, self.tmp))
        self.server = stack.enter_context(
            running("gunicorn", gunicorn_command(self.port, self.access_log), self.env, self.tmp)
        )
        self.sweeps = None
        self.browsers = [Browser(self.port, key, "warm") for key in session_keys[:CLIENTS]]
        self.downloader = Browser(self.port, session_keys[CLIENTS], "warm")
        self.run = uuid.uuid4().hex[:8]
        self.year = rome_date(timezone.now()).year
        counter = ComplaintCounter.objects.filter(year=self.year).values_list("last_number", flat=True)
        self.counter_before = counter.first() or 0
        self.last_pk_before = Complaint.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.codes = []  # every case filed in this run, warm-up included
        self.load_average_before = os.getloadavg()

    def wait_until_started(self):
        wait_for(
            lambda: " ready." in log_of(self.worker),
            timeout=START_TIMEOUT_SECONDS,
            what="the Celery worker",
            processes=[self.worker],
        )
        login_url = reverse("login")

        def serving():
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", login_url)
                status = connection.getresponse().status
            except OSError:
                return False
            finally:
                connection.close()
            if status != 200:
                raise RuntimeError(f"gunicorn answered {status} to GET {login_url}:\n{log_of(self.server)}")
            return True

        wait_for(serving, timeout=START_TIMEOUT_SECONDS, what="gunicorn", processes=[self.server])

    def wait_for_acks(self, codes, *, timeout, poll=0.2):
        keys = ack_keys(codes)
        assert len(keys) == len(codes), (len(keys), len(codes))
        wait_for(
            lambda: acks_written(keys) == len(keys),
            timeout=timeout,
            poll=poll,
            what=lambda: f"the acknowledgements ({acks_written(keys)} of {len(keys)} written)",
            processes=[p for p in (self.worker, self.server, self.sweeps) if p is not None],
        )

    def warm_up(self):
        """Every gunicorn worker loads the form page and the download; the Celery worker renders."""
        for browser in self.browsers:
            browser.request("GET", FORM_URL)
            self.downloader.download(self.invoice_url)
        codes = [
            self.browsers[n].file_complaint(self.supplies[n], f"Bench {self.run}: warm-up {n}.")[1]
            for n in range(WARM_UP_COMPLAINTS)
        ]
        self.codes += codes
        self.wait_for_acks(codes, timeout=CATCH_UP_TIMEOUT_SECONDS)
        self.tasks_before_idle = len(task_times(self.worker))

    def idle(self):
        """One client, one filing at a time, each once the previous acknowledgement is written."""
        browser = self.browsers[0]
        browser.phase = "idle"
        self.idle_filing, self.idle_ack = [], []
        for n in range(IDLE_COMPLAINTS):
            seconds, code = browser.file_complaint(self.supplies[0], f"Bench {self.run}: idle filing {n}.")
            responded = time.perf_counter()
            self.codes.append(code)
            self.wait_for_acks([code], timeout=ACK_TIMEOUT_SECONDS, poll=0.01)
            self.idle_filing.append(seconds)
            self.idle_ack.append(time.perf_counter() - responded)
        self.idle_tasks = task_times(self.worker)[self.tasks_before_idle :]
        self.downloader.phase = "idle"
        self.idle_download = [self.downloader.download(self.invoice_url) for _ in range(IDLE_DOWNLOADS)]

    def load(self):
        """The sweeps first (their first pass done), then 20 clients at once, a download sampler and the
        database watch until the last client is done."""
        self.sweeps = self.stack.enter_context(
            running("sweeps", [sys.executable, "-c", SWEEP_LOOP], self.env, self.tmp)
        )
        wait_for(
            lambda: sweep_passes(self.sweeps),
            timeout=START_TIMEOUT_SECONDS,
            what="the first sweep pass",
            processes=[self.sweeps],
        )
        per_client = LOAD_COMPLAINTS // CLIENTS
        assert per_client * CLIENTS == LOAD_COMPLAINTS
        self.load_filing, self.load_codes, errors = [], [], []
        start_together = threading.Barrier(CLIENTS + 1)

        def client(index):
            browser = self.browsers[index]
            browser.phase = "load"
            try:
                start_together.wait()
                for n in range(per_client):
                    seconds, code = browser.file_complaint(
                        self.supplies[index], f"Bench {self.run}: client {index}, {n}."
                    )
                    self.load_filing.append(seconds)
                    self.load_codes.append(code)
            except BaseException as exc:  # noqa: BLE001 (re-raised by the main thread)
                errors.append(exc)
                start_together.abort()

        self.downloader.phase = "load"
        self.load_download = []
        downloads = Sampler(
            lambda: self.load_download.append(self.downloader.download(self.invoice_url)),
            DOWNLOAD_EVERY_SECONDS,
        )
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        self.roots = {"gunicorn": self.server.pid, "worker": self.worker.pid, "sweeps": self.sweeps.pid}
        self.database = DatabaseWatch()
        watch = Sampler(self.database.sample, LOCK_SAMPLE_SECONDS)
        cpu_before, machine_before = processes(), machine_cpu_seconds()
        self.load_start_wall = time.time()
        downloads.start()
        watch.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            start_together.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        self.load_seconds = time.perf_counter() - started
        self.load_end_wall = time.time()
        cpu_after, machine_after = processes(), machine_cpu_seconds()
        downloads.stop()
        watch.stop()
        self.database.close()
        if errors:
            raise errors[0]
        self.codes += self.load_codes
        self.acks_at_end_of_load = acks_written(ack_keys(self.load_codes))
        self.machine = machine_after - machine_before
        self.busy = self.machine["busy"]
        self.cpu, self.cpu_others = cpu_by_process(cpu_before, cpu_after, self.roots, self.database.cpu_last)
        self.cpu["PostgreSQL (bench database)"] = self.database.cpu_seconds()
        self.load_average_after = os.getloadavg()

    def catch_up(self):
        """Every acknowledgement of the run written (the sweeps still running)."""
        started = time.perf_counter()
        self.wait_for_acks(self.codes, timeout=CATCH_UP_TIMEOUT_SECONDS)
        self.catch_up_seconds = time.perf_counter() - started
        self.load_tasks = task_times(self.worker)[self.tasks_before_idle + len(self.idle_tasks) :]
        self.log_errors = {
            process.log_path.stem: [
                line for line in log_of(process).splitlines() if " ERROR " in line or "Traceback" in line
            ]
            for process in (self.server, self.worker, self.sweeps)
        }
        self.passes = sweep_passes(self.sweeps, self.load_start_wall, self.load_end_wall)
        self.all_passes = sweep_passes(self.sweeps)
        self.server_times = {
            (phase, what): server_times(self.access_log, phase, method, url)
            for phase in ("idle", "load")
            for what, method, url in (
                ("filing", "POST", FORM_URL),
                ("form", "GET", FORM_URL),
                ("download", "GET", self.invoice_url),
                ("any", None, None),
            )
        }

    def check(self) -> list[str]:
        """The run's complaints in the database: the load's 300, codes gapless and unique, every one
        acknowledged with its PDF."""
        new = list(Complaint.objects.filter(pk__gt=self.last_pk_before).values_list("code", "pk"))
        numbers = sorted(
            int(code.rsplit("-", 1)[1]) for code, _pk in new if code.startswith(f"R-{self.year}-")
        )
        self.counter_after = ComplaintCounter.objects.get(year=self.year).last_number
        self.new_count = len(new)
        self.acknowledged = (
            Communication.objects.filter(
                dedupe_key__in=[f"complaints.ack:{pk}" for _code, pk in new], template_key="complaint_ack"
            )
            .exclude(document="")
            .count()
        )
        problems = []
        if len(set(self.load_codes)) != LOAD_COMPLAINTS:
            problems.append(
                f"the load filed {len(set(self.load_codes))} distinct cases, not {LOAD_COMPLAINTS}"
            )
        if {code for code, _pk in new} != set(self.codes) or len(new) != len(self.codes):
            problems.append(f"{len(new)} new complaints in the database, {len(self.codes)} filed here")
        if numbers != list(range(self.counter_before + 1, self.counter_after + 1)):
            problems.append(
                f"codes not gapless: {len(numbers)} numbers, {len(set(numbers))} distinct, for the counter's "
                f"{self.counter_before} → {self.counter_after}"
            )
        if self.acknowledged != len(new):
            problems.append(f"{self.acknowledged} acknowledgements with their PDF for {len(new)} complaints")
        return problems

    def report(self, problems):
        idle_p50 = p50(self.idle_filing)
        idle_download_p50 = p50(self.idle_download)
        inside = self.server_times

        def load_line(values, baseline):
            return (
                f"p50 {ms(p50(values)):>7} ({p50(values) / baseline:4.1f}×)  "
                f"p95 {ms(p95(values)):>7} ({p95(values) / baseline:4.1f}×)"
            )

        print("Complaint filing over HTTP, the acknowledgement's PDF rendered by a Celery worker")
        print(
            f"gunicorn {GUNICORN_WORKERS} sync workers (DEBUG off, CONN_MAX_AGE=60); Celery prefork "
            f"×{CELERY_CONCURRENCY} on celery,pdf ({REDIS_URL}); {os.cpu_count()} CPUs shared by everything "
            f"(load average {self.load_average_before[0]:.1f} before the run)"
        )
        print("times: the form's POST to its 302 as the client sees it; [in gunicorn]: inside a sync worker")
        print()
        print(f"1. Idle: {IDLE_COMPLAINTS} filings by one client, each after the previous acknowledgement")
        print(
            f"   filing            p50 {ms(idle_p50):>7}          p95 {ms(p95(self.idle_filing)):>7}"
            f"          [in gunicorn p50 {ms(p50(inside['idle', 'filing']))}]"
        )
        print(
            f"   form page (GET)   [in gunicorn p50 {ms(p50(inside['idle', 'form']))}], fetched before each filing"
        )
        tasks = f" (the worker's task p50 {ms(p50(self.idle_tasks))})" if self.idle_tasks else ""
        print(f"   acknowledgement   written p50 {ms(p50(self.idle_ack))} after the filing's response{tasks}")
        print(
            f"   invoice download  p50 {ms(idle_download_p50):>7}          p95 {ms(p95(self.idle_download)):>7}"
            f"          [in gunicorn p50 {ms(p50(inside['idle', 'download']))}]  ({IDLE_DOWNLOADS} downloads)"
        )
        print()
        acted, failed = Counter(), 0
        for _start, _end, tally in self.passes:
            for name, (count, failures) in tally.items():
                acted[name.removeprefix("complaints.")] += count
                failed += failures
        mean_pass = statistics.mean(end - start for start, end, _t in self.passes) if self.passes else 0.0
        print(
            f"2. Load: {LOAD_COMPLAINTS} filings by {CLIENTS} clients at once ({LOAD_COMPLAINTS // CLIENTS} each, "
            f"no pause) in {self.load_seconds:.1f} s = {LOAD_COMPLAINTS / self.load_seconds:.1f} filings/s"
        )
        print(
            f"   sweeps: {len(self.passes)} passes of the complaints app's {len(self.passes[0][2])} sweeps, one "
            f"every {SWEEP_INTERVAL_SECONDS:g} s ({mean_pass * 1000:.0f} ms each); rows acted: "
            + ", ".join(f"{name} {count}" for name, count in sorted(acted.items()))
            + f"; {failed} failed"
        )
        print(
            f"   filing            {load_line(self.load_filing, idle_p50)}"
            f"  [in gunicorn p50 {ms(p50(inside['load', 'filing']))}, p95 {ms(p95(inside['load', 'filing']))}]"
        )
        print(
            f"   form page (GET)   [in gunicorn p50 {ms(p50(inside['load', 'form']))}, "
            f"p95 {ms(p95(inside['load', 'form']))}]"
        )
        print(
            f"   invoice download  {load_line(self.load_download, idle_download_p50)}"
            f"  [in gunicorn p50 {ms(p50(inside['load', 'download']))}]  ({len(self.load_download)} downloads, "
            f"a 21st client, every {DOWNLOAD_EVERY_SECONDS:g} s)"
        )
        database = self.database
        waits = "; ".join(f"{what} ×{count}" for what, count in database.waiting.most_common(3))
        print(
            f"   lock waits        {database.with_waiters} of {database.samples} samples of pg_stat_activity "
            f"(every {LOCK_SAMPLE_SECONDS * 1000:.0f} ms) had a backend waiting on a lock, at most "
            f"{database.max_waiters}" + (f": {waits}" if waits else "")
        )
        capacity = self.load_seconds * os.cpu_count()
        shares = ", ".join(f"{name} {seconds / capacity:.0%}" for name, seconds in self.cpu.items())
        others = ", ".join(
            f"{name} {seconds / capacity:.0%}" for name, seconds in self.cpu_others.most_common(3)
        )
        unattributed = (
            self.busy
            - sum(self.cpu.values())
            - sum(self.cpu_others.values())
            - self.machine["interrupts"]
            - self.machine["steal"]
        )
        print(f"   CPU               {self.busy / capacity:.0%} of the {os.cpu_count()} CPUs busy: {shares}")
        print(
            f"                     other processes {sum(self.cpu_others.values()) / capacity:.0%} ({others}); "
            f"interrupts {self.machine['interrupts'] / capacity:.0%}, steal {self.machine['steal'] / capacity:.0%}, "
            f"processes gone by the end {max(0.0, unattributed) / capacity:.0%}"
        )
        busy_workers = sum(self.server_times["load", "any"]) / (GUNICORN_WORKERS * self.load_seconds)
        waiting = p50(self.load_filing) - p50(inside["load", "filing"])
        print(
            f"   sync workers      busy {busy_workers:.0%} of the load (sum of the requests' time in gunicorn); "
            f"≈{ms(waiting)} of the filing's p50 is waiting for a free one"
        )
        print(
            "   load average      "
            + ", ".join(f"{value:.1f}" for value in self.load_average_after)
            + " at the end of the load"
        )
        print()
        caught_up = sum(
            tally.get("complaints.acknowledgements", (0, 0))[0] for _s, _e, tally in self.all_passes
        )
        print(
            f"3. Worker: {self.acks_at_end_of_load} of the load's {LOAD_COMPLAINTS} acknowledgements written when "
            f"it ended; all {len(self.codes)} of the run {self.catch_up_seconds:.1f} s later (the worker's task "
            f"p50 {ms(p50(self.load_tasks)) if self.load_tasks else '—'} meanwhile)"
        )
        print(
            f"   the catch-up sweep complaints.acknowledgements sent {caught_up} (cases without one after "
            "5 min: none of this run's unless the worker fell that far behind; an interrupted run leaves some)"
        )
        print(
            f"   checks: {self.new_count} new complaints ({WARM_UP_COMPLAINTS} warm-up, {IDLE_COMPLAINTS} idle, "
            f"{len(self.load_codes)} load), codes R-{self.year}-{self.counter_before + 1:06d}…"
            f"{self.counter_after:06d} unique and gapless, {self.acknowledged} acknowledgements with their PDF: "
            + ("ok" if not problems else "FAILED")
        )
        for problem in problems:
            print(f"   ✗ {problem}")
        errors = {name: lines for name, lines in self.log_errors.items() if lines}
        print(
            "   logs: "
            + (
                "; ".join(
                    f"{name}: {len(lines)} error lines, the first: {lines[0][:200]}"
                    for name, lines in errors.items()
                )
                if errors
                else "no ERROR or traceback in the logs of gunicorn, the worker and the sweeps"
            )
        )
        print()
        print(
            f"filing p50 idle {ms(idle_p50)}; under load ({CLIENTS} clients, sweeps running) "
            f"p50 {ms(p50(self.load_filing))} ({p50(self.load_filing) / idle_p50:.1f}×) "
            f"p95 {ms(p95(self.load_filing))} ({p95(self.load_filing) / idle_p50:.1f}×); "
            f"invoice download p50 {ms(idle_download_p50)} idle, {ms(p50(self.load_download))} under load "
            f"({p50(self.load_download) / idle_download_p50:.1f}×)"
        )


def main():
    # Stopped with SIGTERM, the benchmark still runs its `finally` blocks: the processes are stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not redis_answers():
        print(f"complaint_filing: skipped, no Redis at {REDIS_URL} (the Celery worker needs it)")
        return
    with contextlib.ExitStack() as stack:
        bench = Bench(stack)
        bench.wait_until_started()
        bench.warm_up()
        bench.idle()
        bench.load()
        bench.catch_up()
    # The processes are stopped: what they committed is all there is.
    problems = bench.check()
    bench.report(problems)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
