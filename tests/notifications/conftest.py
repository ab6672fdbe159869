import pytest
from django.core import mail

from tests.factories import CustomerFactory

PDF = b"%PDF-1.4\n% a stand-in document for the outbox tests\n%%EOF\n"


@pytest.fixture(autouse=True)
def outbox_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []


@pytest.fixture
def giulia(db):
    """A customer who reads English."""
    return CustomerFactory(
        user__email="giulia@example.it", user__first_name="Giulia", user__last_name="Bianchi", language="en"
    )
