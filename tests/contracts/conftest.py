import pytest
from django.core import mail


@pytest.fixture
def outbox(settings, tmp_path):
    """E-mails kept in memory and documents under a temporary folder (use with `usefixtures`)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []
    return mail.outbox
