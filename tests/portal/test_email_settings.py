"""EMAIL_URL: a filemail:// path is a folder as a file URL names it, never one under the working directory."""

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
