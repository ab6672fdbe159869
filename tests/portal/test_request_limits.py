"""The two request guards in portal/middleware.py, at Django level: the size cap (RequestSizeLimitMiddleware,
with its Italian 413 page) and the client address behind the proxy (ProxyClientAddressMiddleware).

tests/portal/test_proxy.py runs the same with a real nginx and gunicorn.
"""

import io
import re
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from complaints import views
from complaints.models import Complaint
from portal.lib import dates
from portal.middleware import ProxyClientAddressMiddleware, RequestSizeLimitMiddleware

PDF = b"%PDF-1.4\n% a stand-in document\n%%EOF\n"
COMPANY_VAT = "07469040633"  # a valid partita IVA (check digit)
PROXY_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # what production sets (portal/settings.py)


@pytest.fixture(autouse=True)
def environment(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setattr(dates, "today", lambda: date(2026, 7, 1))
    cache.clear()


class CountingInput:
    """A request body that records how much of it anything read."""

    def __init__(self, data: bytes):
        self.stream, self.bytes_read = io.BytesIO(data), 0

    def read(self, size=-1):
        chunk = self.stream.read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = self.stream.readline(size)
        self.bytes_read += len(line)
        return line


def public_form(client, **overrides):
    """The public complaint form's fields, with the submission token of a freshly shown form."""
    page = client.get(reverse("complaints:public_new")).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', page)[1]
    data = {
        "sender_name": "Alice Verdi",
        "tax_id": COMPANY_VAT,
        "supply_reference": "C1",
        "email": "alice.personale@example.org",
        "reply_address": "Via Toledo 10, 80134 Napoli (NA)",
        "kind": "complaint",
        "topic": "misura",
        "description": "Il contatore segna consumi impossibili da due mesi.",
        "website": "",
        "submission_token": token,
    }
    data.update(overrides)
    return data


def post_declaring(client, data, content_length):
    """POST `data` as multipart, declaring `content_length` (None: the true length); returns the response
    and the body, which records how much of it was read."""
    body = encode_multipart(BOUNDARY, data)
    payload = CountingInput(body)
    extra = {
        "wsgi.input": payload,
        "CONTENT_LENGTH": str(len(body) if content_length is None else content_length),
    }
    response = client.generic(
        "POST", reverse("complaints:public_new"), body, content_type=MULTIPART_CONTENT, **extra
    )
    return response, payload


# --- size cap --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_declared_body_over_the_cap_gets_the_italian_413_page_unread_and_saves_nothing(client):
    data = public_form(client, attachments=io.BytesIO(PDF))
    data["attachments"].name = "bolletta.pdf"

    response, body = post_declaring(client, data, django_settings.MAX_REQUEST_BYTES + 1)

    assert response.status_code == 413
    html = response.content.decode()
    assert "<h1" in html and "Invio troppo grande" in html
    assert f"limite di {django_settings.MAX_REQUEST_BYTES // (1024 * 1024)} MB" in html
    assert "fino a 5 file PDF, JPEG o PNG, di 10 MB al massimo ciascuno" in html
    assert f'href="{reverse("home")}"' in html  # a way back
    assert response["Content-Language"] == "it"
    assert body.bytes_read == 0, "the refused body was read"
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_a_body_under_the_cap_is_filed_as_usual(client):
    data = public_form(client, attachments=io.BytesIO(PDF))
    data["attachments"].name = "bolletta.pdf"

    response, body = post_declaring(client, data, None)

    assert response.status_code == 302 and response["Location"] == reverse("complaints:public_done")
    complaint = Complaint.objects.get()
    assert complaint.attachments.count() == 1
    assert body.bytes_read > 0


@pytest.mark.parametrize(
    ("content_length", "refused"),
    [
        (str(django_settings.MAX_REQUEST_BYTES), False),  # the cap itself is allowed
        (str(django_settings.MAX_REQUEST_BYTES + 1), True),
        (str(200 * 1024 * 1024), True),
        ("", False),  # no body
        ("not-a-number", False),  # Django reads no body with an invalid length either
        ("-5", False),
    ],
)
def test_the_cap_is_on_the_declared_length(content_length, refused, rf: RequestFactory, db):
    reached = []
    middleware = RequestSizeLimitMiddleware(lambda request: reached.append(request) or HttpResponse("ok"))
    request = rf.post("/reclami/senza-account/", CONTENT_LENGTH=content_length)
    request.user = AnonymousUser()  # no auth middleware in front here

    response = middleware(request)

    assert (response.status_code == 413) is refused
    assert bool(reached) is not refused


# --- client address behind the proxy ---------------------------------------------------------------------


def _address_seen(**meta):
    seen = {}

    def view(request):
        seen["address"] = request.META["REMOTE_ADDR"]
        return HttpResponse("ok")

    request = RequestFactory().get("/", **meta)
    ProxyClientAddressMiddleware(view)(request)
    return seen["address"]


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        # A client's own X-Forwarded-For comes first; nginx appends the address it was reached from.
        ("203.0.113.1, 198.51.100.7", "198.51.100.7"),
        ("203.0.113.1,198.51.100.7", "198.51.100.7"),
        ("2001:db8::7", "2001:db8::7"),
        ("198.51.100.7, ", "10.9.0.2"),  # no last entry: the connection's address stays
        ("", "10.9.0.2"),
    ],
)
def test_behind_the_proxy_the_last_forwarded_address_is_the_client(settings, forwarded, expected):
    settings.SECURE_PROXY_SSL_HEADER = PROXY_HEADER
    assert _address_seen(REMOTE_ADDR="10.9.0.2", HTTP_X_FORWARDED_FOR=forwarded) == expected


def test_without_the_proxy_setting_x_forwarded_for_is_the_clients_word_and_ignored(settings):
    settings.SECURE_PROXY_SSL_HEADER = None  # development, or gunicorn reached directly
    assert _address_seen(REMOTE_ADDR="10.9.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7") == "10.9.0.2"


def test_development_settings_do_not_trust_the_proxy_headers():
    assert not django_settings.PRODUCTION
    assert django_settings.SECURE_PROXY_SSL_HEADER is None
    assert django_settings.MIDDLEWARE[0] == "portal.middleware.ProxyClientAddressMiddleware"


@pytest.mark.django_db
def test_behind_the_proxy_the_public_form_rate_limit_counts_each_client_not_the_proxy(client, settings):
    """Every request comes from nginx's address: the limit must still be per client, and a client must not
    escape it by sending an X-Forwarded-For of its own (nginx appends the real address after it)."""
    settings.SECURE_PROXY_SSL_HEADER = PROXY_HEADER
    nginx = {"REMOTE_ADDR": "10.9.0.2"}
    bot = {"website": "http://spam.example"}  # the honeypot: counted, nothing filed

    def post(forwarded):
        data = public_form(client, **bot)
        return client.post(reverse("complaints:public_new"), data, HTTP_X_FORWARDED_FOR=forwarded, **nginx)

    for _attempt in range(views.RATE_LIMIT):
        assert post("198.51.100.7").status_code == 302
    assert post("198.51.100.7").status_code == 429
    assert post("203.0.113.99, 198.51.100.7").status_code == 429  # a forged first entry changes nothing
    assert post("198.51.100.8").status_code == 302  # another client behind the same proxy
