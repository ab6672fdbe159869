"""E-mail settings: a filemail:// path is a folder as a file URL names it, never one under the working directory;
every message leaves through the portal's backend; links and Message-IDs follow the portal's address."""

import email
import json
import os
import subprocess
import sys

from portal.settings import BASE_DIR, email_settings


def test_an_absolute_filemail_path_is_that_folder(tmp_path):
    config = email_settings(f"filemail://{tmp_path}/mail")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert config["EMAIL_FILE_PATH"] == str(tmp_path / "mail")


def test_a_relative_filemail_path_is_under_the_project_folder():
    assert email_settings("filemail://.run/mail")["EMAIL_FILE_PATH"] == str(BASE_DIR / ".run" / "mail")


def test_an_encoded_filemail_path_is_decoded():
    assert email_settings("filemail:///srv/posta%20portale")["EMAIL_FILE_PATH"] == "/srv/posta portale"


def test_other_backends_are_django_environs():
    config = email_settings("smtp+tls://user:pass@smtp.example.it:587")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (
        config["EMAIL_HOST"] == "smtp.example.it" and config["EMAIL_PORT"] == 587 and config["EMAIL_USE_TLS"]
    )


def test_a_mail_sent_with_an_absolute_filemail_url_lands_there_whatever_the_working_directory(tmp_path):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {
        **os.environ,
        "EMAIL_URL": f"filemail://{tmp_path}/mail",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "sendtestemail", "mario.rossi@example.it"],
        env=env,
        cwd=elsewhere,
        capture_output=True,
        check=True,
    )
    [written] = (tmp_path / "mail").iterdir()
    assert "To: mario.rossi@example.it" in written.read_text()
    assert list(elsewhere.iterdir()) == []


def _settings(**env):
    """Settings values as a fresh process loads them from `env` (nothing of this process's environment)."""
    base = {k: v for k, v in os.environ.items() if k not in {"PORTAL_BASE_URL", "PORT", "EMAIL_URL"}}
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.PORTAL_BASE_URL, s.EMAIL_MESSAGE_ID_DOMAIN, s.EMAIL_BACKEND, s.EMAIL_DELIVERY_BACKEND]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_the_development_portal_address_follows_make_runs_port():
    base_url, domain, *_ = _settings(PORT="8123")
    assert (base_url, domain) == ("http://127.0.0.1:8123", "127.0.0.1")


def test_an_explicit_portal_address_wins_over_the_port_and_names_the_message_ids():
    base_url, domain, *_ = _settings(PORT="8123", PORTAL_BASE_URL="https://areaclienti.example.it/")
    assert (base_url, domain) == ("https://areaclienti.example.it", "areaclienti.example.it")


def test_every_mail_leaves_through_the_portal_backend_around_the_one_email_url_names():
    *_, backend, delivery = _settings(EMAIL_URL="smtp+tls://user:pass@smtp.example.it:587")
    assert backend == "portal.lib.emails.EmailBackend"
    assert delivery == "django.core.mail.backends.smtp.EmailBackend"


def test_even_django_s_sendtestemail_is_marked_automatic_with_our_message_id(tmp_path):
    env = {
        **os.environ,
        "EMAIL_URL": f"filemail://{tmp_path}/mail",
        "PORTAL_BASE_URL": "https://areaclienti.example.it",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "sendtestemail", "mario.rossi@example.it"],
        env=env,
        capture_output=True,
        check=True,
    )
    [written] = (tmp_path / "mail").iterdir()
    message = email.message_from_bytes(written.read_bytes().split(b"-" * 79)[0].strip() + b"\n")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@areaclienti.example.it>")
