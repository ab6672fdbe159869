import pytest

from tests.factories import PASSWORD, CustomerFactory, UserFactory


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def alice(db):
    """A customer with a portal account."""
    return CustomerFactory(user__email="alice@example.it", user__first_name="Alice", user__last_name="Verdi")


@pytest.fixture
def bob(db):
    """Another customer: what is Alice's must never be shown to Bob."""
    return CustomerFactory(user__email="bob@example.it", user__first_name="Roberto", user__last_name="Neri")


@pytest.fixture
def staff_user(db):
    return UserFactory(email="staff@optima.example", is_staff=True, is_superuser=True)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


@pytest.fixture(autouse=True)
def sdi_folders(settings, tmp_path):
    """Each test's electronic invoices go to a folder channel of its own (billing/einvoice/channels.py)."""
    settings.EINVOICE = {
        **settings.EINVOICE,
        "channel": "folder",
        "outbox": str(tmp_path / "sdi" / "outbox"),
        "inbox": str(tmp_path / "sdi" / "inbox"),
    }
    return tmp_path / "sdi"


@pytest.fixture(autouse=True, scope="session")
def celery_eager():
    """Tasks run in-process unless a test starts a real worker (tests/portal/test_celery.py)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
