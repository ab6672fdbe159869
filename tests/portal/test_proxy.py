"""The reverse proxy on the real processes: nginx running deploy/nginx/portal.conf (the file compose mounts)
in front of a real gunicorn with sync workers, over the test PostgreSQL database.

Nothing is faked: the slow clients are sockets that really trickle a body, the large upload really declares
200 MB. The slow clients are also sent straight at gunicorn, where they do stall it: the proof that the
measurement through nginx could fail. Run by `make test` when nginx is installed (scripts/ensure-nginx).
"""

import contextlib
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from django.conf import settings

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "portal.conf"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
)
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WORKERS = 2
PUBLIC_FORM = "/reclami/senza-account/"
TRICKLE_RATE = 10  # bytes per second and client

needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (scripts/ensure-nginx installs it with apt-get as root)"
)


def _nginx_size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]


def _directive(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", CONF.read_text(), flags=re.M)


def test_nginx_body_cap_is_djangos_max_request_bytes():
    (cap,) = _directive("client_max_body_size")
    assert _nginx_size(cap) == settings.MAX_REQUEST_BYTES
    # nginx's own 413 page names the same figure as the portal's.
    assert f"limite di {settings.MAX_REQUEST_BYTES // 1024**2} MB" in CONF.read_text()


def test_nginx_waits_on_gunicorn_longer_than_gunicorns_own_worker_timeout():
    # gunicorn ends a stuck request at its worker timeout; nginx must not give up first and answer 504 for a
    # request that is still running.
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
    worker_timeout = int(command[command.index("--timeout") + 1]) if "--timeout" in command else 30
    (read_timeout,) = _directive("proxy_read_timeout")
    assert int(read_timeout.removesuffix("s")) > worker_timeout


# --- the processes ---------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]  # the test database, once django_db_setup has created it
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace("@", f":{db['PASSWORD']}@", 1)
    return url


# The portal's own settings and URLs, plus what production sets to trust the proxy (SECURE_PROXY_SSL_HEADER)
# and one view that shows what a view sees of the request after the whole middleware stack.
SETTINGS_MODULE = """
from tests.settings import *  # noqa: F403

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
ROOT_URLCONF = "proxytest_urls"
"""
URLS_MODULE = """
from django.http import JsonResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def seen(request):
    return JsonResponse(
        {"remote_addr": request.META["REMOTE_ADDR"], "secure": request.is_secure(), "host": request.get_host()}
    )


urlpatterns = [path("proxytest/seen", seen), *portal_urlpatterns]
"""
# Logs once per worker when it has loaded the portal and is about to accept connections.
GUNICORN_CONFIG = """
def post_worker_init(worker):
    worker.log.info("proxytest: worker %s ready", worker.pid)
"""


class Stack:
    def __init__(self, tmp: Path):
        self.tmp, self.procs = tmp, {}

    def log(self, name: str) -> str:
        path = self.tmp / name
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        names = ["gunicorn.log", "gunicorn-access.log", "nginx-error.log"]
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in names)

    def _wait(self, condition, what, *, timeout=60, proc=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := condition():
                return result
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"{what}: not within {timeout} s\n{self.logs()}")

    def start_gunicorn(self):
        (self.tmp / "proxytest_settings.py").write_text(SETTINGS_MODULE)
        (self.tmp / "proxytest_urls.py").write_text(URLS_MODULE)
        (self.tmp / "gunicorn_conf.py").write_text(GUNICORN_CONFIG)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("CELERY_", "DJANGO_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="proxytest_settings",
            PYTHONPATH=os.pathsep.join([str(self.tmp), str(ROOT)]),
            DATABASE_URL=_database_url(),
            PORTAL_DATA_DIR=str(self.tmp / "data"),  # broker: the embedded filesystem transport, here
            EMAIL_URL=f"filemail://{self.tmp}/mail",
        )
        self.procs["gunicorn"] = proc = subprocess.Popen(
            [
                GUNICORN, "portal.wsgi:application", "--config", str(self.tmp / "gunicorn_conf.py"),
                "--worker-class", "sync", "--workers", str(WORKERS), "--bind", "127.0.0.1:0",
                "--graceful-timeout", "5",
                # In compose nginx reaches gunicorn from another container's address, which gunicorn does
                # not trust for X-Forwarded-Proto (only loopback, by default): the same here, so that only
                # Django's SECURE_PROXY_SSL_HEADER reads it.
                "--forwarded-allow-ips", "192.0.2.1",
                "--access-logfile", str(self.tmp / "gunicorn-access.log"),
                "--error-logfile", str(self.tmp / "gunicorn.log"),
            ],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        listening = self._wait(
            lambda: re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.log("gunicorn.log")),
            "gunicorn listening",
            proc=proc,
        )
        self.gunicorn_port = int(listening[1])
        self._wait(
            lambda: self.log("gunicorn.log").count("proxytest: worker") >= WORKERS,
            f"{WORKERS} gunicorn workers ready",
            proc=proc,
        )

    def start_nginx(self):
        text = CONF.read_text()
        for attempt in range(3):
            self.nginx_port = _free_port()
            wrapped, upstreams = re.subn(
                r"^(\s*)server web:8000;$", rf"\g<1>server 127.0.0.1:{self.gunicorn_port};", text, flags=re.M
            )
            wrapped, listens = re.subn(
                r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{self.nginx_port};", wrapped, flags=re.M
            )
            assert (upstreams, listens) == (1, 1), "portal.conf must keep `server web:8000;` and `listen 80;`"
            tmp = self.tmp
            # As root, nginx would hand its workers to `nobody`, who cannot use the private temp folders.
            user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
            (tmp / "nginx.conf").write_text(
                f"{user}\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/nginx-error.log info;\n"
                "events { worker_connections 256; }\n"
                f"http {{\n    access_log {tmp}/nginx-access.log;\n"
                + "".join(f"    {kind}_temp_path {tmp}/{kind}-temp;\n"
                          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
                + textwrap.indent(wrapped, "    ")
                + "}\n"
            )  # fmt: skip
            proc = subprocess.Popen(
                [NGINX, "-p", f"{tmp}/", "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "nginx-error.log"),
                 "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            self.procs["nginx"] = proc
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", self.nginx_port), 0.2),
                ):
                    return
                time.sleep(0.05)
            if (
                proc.poll() is None
                or "Address already in use" not in self.log("nginx-error.log")
                or attempt == 2
            ):
                break  # a port taken meanwhile: try another, otherwise report
        pytest.fail(f"nginx did not start\n{self.logs()}")

    def stop(self):
        for name, sig in (("nginx", signal.SIGTERM), ("gunicorn", signal.SIGINT)):  # SIGINT: quick shutdown
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(sig)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    """gunicorn and nginx, for every test of the module. django_db_setup: the migrated test database, which
    gunicorn only reads here (no test of this module makes the portal write a row)."""
    if NGINX is None:
        pytest.skip("nginx is not installed")
    running = Stack(tmp_path_factory.mktemp("proxy"))
    try:
        running.start_gunicorn()
        running.start_nginx()
        yield running
    finally:
        running.stop()


# --- clients ---------------------------------------------------------------------------------------------


def get(port, path, *, timeout=5.0, headers=None, source=None):
    """GET over a fresh connection: (status, headers, body, seconds)."""
    started = time.monotonic()
    source_address = (source, 0) if source else None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=source_address)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, response.headers, body, time.monotonic() - started
    finally:
        conn.close()


def raw_request(port, head: bytes, body: bytes, *, timeout=5.0):
    """Send a request head and (part of) its body at once, then read the answer: (status line, headers,
    body, seconds to the answer's first byte)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(head + body)
        data = sock.recv(65536)
        first_byte = time.monotonic() - started
        while b"\r\n\r\n" not in data and (chunk := sock.recv(65536)):
            data += chunk
        header_block, _, content = data.partition(b"\r\n\r\n")
        status_line, *header_lines = header_block.decode("latin-1").split("\r\n")
        headers = {
            name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)
        }
        length = int(headers.get("content-length", 0))
        while len(content) < length and (chunk := sock.recv(65536)):
            content += chunk
    return status_line, headers, content, first_byte


def csrf_cookie(port) -> str:
    """The CSRF cookie a browser gets with the empty form: with it, Django reads a posted body in full (the
    token may be in it) before anything else; without it, Django refuses the POST unread."""
    status, headers, _body, _seconds = get(port, PUBLIC_FORM)
    assert status == 200
    return re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"])[1]


class Tricklers:
    """Clients posting a multipart complaint to the public form at TRICKLE_RATE bytes per second each.

    The declared body (64 KB) would take them well over an hour: they are stopped by the test."""

    def __init__(self, port: int, count: int, cookie: str):
        boundary = "----proxytest" + uuid.uuid4().hex
        # In the request line, so that gunicorn's access log tells these requests from another test's.
        self.path = f"{PUBLIC_FORM}?trickler={boundary}"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{cookie}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="bolletta.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        ).encode()
        self.body = body + b"0" * (64 * 1024 - len(body))
        self.head = (
            f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: csrftoken={cookie}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(self.body)}\r\n\r\n"
        ).encode()
        self.port, self.count, self.sent, self.errors = port, count, 0, []
        self.socks: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(self.head)
            self.socks.append(sock)
        self.thread.start()
        return self

    def _run(self):
        while not self.stopped.wait(1 / TRICKLE_RATE) and self.sent < len(self.body):
            for sock in self.socks:
                try:
                    sock.sendall(self.body[self.sent : self.sent + 1])
                except OSError as error:  # the server dropped the connection
                    self.errors.append(error)
            self.sent += 1

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(5)
        for sock in self.socks:
            sock.close()


def healthz_answers(port, *, timeout=1.0) -> bool:
    try:
        status, _headers, _body, _seconds = get(port, "/healthz", timeout=timeout)
    except OSError:
        return False
    return status in (200, 503)


def wait_until_gunicorn_serves_again(stack):
    """After a test that held the workers: both free again (each accepts one of two concurrent requests)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with ThreadPoolExecutor(WORKERS) as pool:
            if all(pool.map(healthz_answers, [stack.gunicorn_port] * WORKERS)):
                return
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not recover\n{stack.logs()}")


# --- slow clients ----------------------------------------------------------------------------------------


@needs_nginx
def test_clients_trickling_a_body_straight_at_gunicorn_hold_every_worker(stack):
    """The contrast: without nginx, as many slow clients as workers (+1) stall the whole site."""
    cookie = csrf_cookie(stack.gunicorn_port)
    try:
        with Tricklers(stack.gunicorn_port, WORKERS + 1, cookie) as tricklers:
            time.sleep(1.0)  # the workers have taken a client each and are reading its body
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                get(stack.gunicorn_port, "/healthz", timeout=3)
            waited = time.monotonic() - started
            assert not tricklers.errors
        print(f"\ndirect to gunicorn, {WORKERS + 1} clients trickling: /healthz no answer in {waited:.1f} s")
    finally:
        wait_until_gunicorn_serves_again(stack)


@needs_nginx
def test_clients_trickling_a_body_through_nginx_do_not_delay_healthz(stack):
    cookie = csrf_cookie(stack.nginx_port)
    with Tricklers(stack.nginx_port, WORKERS + 1, cookie) as tricklers:
        time.sleep(1.0)
        timings = []
        for _ in range(5):
            status, headers, body, seconds = get(stack.nginx_port, "/healthz", timeout=5)
            assert status in (200, 503), body  # the portal's own answer (503: no sweep has run here)
            assert "checks" in json.loads(body)
            timings.append(seconds)
            time.sleep(0.4)
        # Still trickling, still connected: nginx holds the slow bodies, not gunicorn.
        assert not tricklers.errors
        assert tricklers.sent >= 2.5 * TRICKLE_RATE
    assert max(timings) < 5
    # The direct-to-gunicorn test's tricklers may be logged late (when their sockets close): count ours only.
    assert tricklers.path not in stack.log("gunicorn-access.log"), "a half-sent body reached gunicorn"
    print(
        f"\nthrough nginx, {WORKERS + 1} clients trickling: /healthz in {max(timings) * 1000:.0f} ms at most "
        f"({', '.join(f'{t * 1000:.0f}' for t in timings)} ms)"
    )


# --- large uploads ---------------------------------------------------------------------------------------


def _upload_head(port, path, length):
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=----proxytest\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def assert_refused_by_nginx(stack, status, content, probe):
    """A 413 from nginx itself: its page (the portal's has the stylesheets), and nothing in gunicorn's access
    log (a request sent after it shows up there, the refused one never does). Through nginx the Server header
    says nginx whoever answered."""
    assert status.split()[1] == "413", status
    html = content.decode()
    assert "Invio troppo grande" in html and "limite di 51 MB" in html and 'lang="it"' in html
    assert "<body style=" in html and "/static/" not in html
    get(stack.nginx_port, f"/healthz?dopo={probe}")
    _wait_for_access_log(stack, f"dopo={probe}")
    assert f"sonda={probe}" not in stack.log("gunicorn-access.log"), "the refused request reached gunicorn"


def _wait_for_access_log(stack, marker):
    deadline = time.monotonic() + 5
    while marker not in stack.log("gunicorn-access.log"):
        if time.monotonic() > deadline:
            pytest.fail(f"{marker} not in gunicorn's access log\n{stack.logs()}")
        time.sleep(0.05)


@needs_nginx
def test_a_200_mb_upload_is_refused_by_nginx_before_its_body_and_never_reaches_gunicorn(stack):
    probe = uuid.uuid4().hex
    head = _upload_head(stack.nginx_port, f"{PUBLIC_FORM}?sonda={probe}", 200 * 1024 * 1024)
    status, headers, content, seconds = raw_request(stack.nginx_port, head, b"-" * 4096)

    assert seconds < 2
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert_refused_by_nginx(stack, status, content, probe)
    print(f"\nthrough nginx: 413 for a declared 200 MB body after {seconds * 1000:.1f} ms, 4 KB sent")


@needs_nginx
def test_a_body_just_over_the_cap_is_refused_by_nginx_and_one_at_the_cap_reaches_the_portal(stack):
    probe = uuid.uuid4().hex
    over = _upload_head(stack.nginx_port, f"{PUBLIC_FORM}?sonda={probe}", settings.MAX_REQUEST_BYTES + 1)
    status, _headers, content, _seconds = raw_request(stack.nginx_port, over, b"-" * 1024)
    assert_refused_by_nginx(stack, status, content, probe)

    # Exactly the cap: nginx takes the whole body and passes it on, the portal reads it all (a valid CSRF
    # token, an attachment far too large) and answers with its form and the attachment's error.
    cookie = csrf_cookie(stack.nginx_port)
    boundary = "----proxytest" + uuid.uuid4().hex
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{cookie}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="bolletta.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    ).encode()
    end = f"\r\n--{boundary}--\r\n".encode()
    body = start + b"0" * (settings.MAX_REQUEST_BYTES - len(start) - len(end)) + end
    assert len(body) == settings.MAX_REQUEST_BYTES
    head = (
        f"POST {PUBLIC_FORM} HTTP/1.1\r\nHost: 127.0.0.1:{stack.nginx_port}\r\nCookie: csrftoken={cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    status, headers, content, seconds = raw_request(stack.nginx_port, head, body, timeout=20)
    assert status.split()[1] == "200", (status, content[:500])
    html = content.decode()
    assert "Invio troppo grande" not in html and "/static/" in html  # the portal's form page
    assert "Il file «bolletta.pdf» supera 10 MB." in html  # it received the whole attachment
    print(
        f"\nthrough nginx: a body of exactly {settings.MAX_REQUEST_BYTES} bytes answered by the portal in {seconds:.1f} s"
    )


@needs_nginx
def test_straight_at_gunicorn_django_refuses_a_200_mb_upload_unread(stack):
    """The second line (RequestSizeLimitMiddleware): the portal's 413 page at once, without the 200 MB."""
    probe = uuid.uuid4().hex
    head = _upload_head(stack.gunicorn_port, f"{PUBLIC_FORM}?sonda={probe}", 200 * 1024 * 1024)
    status, headers, content, seconds = raw_request(stack.gunicorn_port, head, b"-" * 1024)

    assert status.split()[1] == "413"
    assert headers["server"] == "gunicorn"
    html = content.decode()
    assert "Invio troppo grande" in html and "limite di 51 MB" in html
    assert seconds < 2
    _wait_for_access_log(stack, f"sonda={probe}")
    print(f"\ndirect to gunicorn: the portal's 413 for a declared 200 MB body after {seconds * 1000:.1f} ms")


# --- the client's address --------------------------------------------------------------------------------


@needs_nginx
def test_through_nginx_the_portal_sees_the_clients_address_not_a_forged_one(stack):
    # The client connects from 127.0.0.5 (loopback has all of 127/8); nginx reaches gunicorn from 127.0.0.1.
    status, _headers, body, _seconds = get(stack.nginx_port, "/proxytest/seen", source="127.0.0.5")
    assert status == 200
    assert json.loads(body) == {
        "remote_addr": "127.0.0.5", "secure": False, "host": f"127.0.0.1:{stack.nginx_port}",
    }  # fmt: skip

    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "gopher"}
    status, _headers, body, _seconds = get(
        stack.nginx_port, "/proxytest/seen", source="127.0.0.6", headers=forged
    )
    assert status == 200
    seen = json.loads(body)
    assert seen["remote_addr"] == "127.0.0.6"
    assert seen["secure"] is False  # nginx sent its own scheme, not the client's word

    # A TLS terminator in front of nginx says https: the portal takes the request as secure.
    status, _headers, body, _seconds = get(
        stack.nginx_port, "/proxytest/seen", headers={"X-Forwarded-Proto": "https"}
    )
    assert status == 200 and json.loads(body)["secure"] is True


@needs_nginx
def test_the_container_health_check_is_answered_by_nginx_only_from_loopback(stack):
    status, headers, body, _seconds = get(stack.nginx_port, "/nginx-health")
    assert (status, body) == (200, b"ok\n")
    status, _headers, _body, _seconds = get(stack.nginx_port, "/nginx-health", source="127.0.0.5")
    assert status == 403
