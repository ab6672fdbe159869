"""A database migrated before User and Customer moved to accounts migrates forward keeping every row.

The test walks the test database back to the migrations of the last release before the move, writes a user,
a customer, a staff group and a direct permission through the models as they were then (portal.User,
contracts.Customer), makes the migration history look exactly like that release's (accounts 0001 not
recorded), and runs `migrate` as a deployment does.
"""

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.exceptions import InconsistentMigrationHistory
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from accounts.models import Customer, User
from accounts.upgrade import record_accounts_initial

BEFORE_THE_MOVE = [
    ("portal", "0002_sweeprun_sweepfailure"),
    ("contracts", "0004_withdrawal_receipt_sent"),
    ("billing", "0005_invoice_pdf_missing"),
    ("complaints", "0002_acknowledgement_sent"),
    ("notifications", "0002_communication_recipient_email_and_more"),
]
PASSWORD = "old-Password-2026"


def _latest():
    """Leave the test database fully migrated whatever happened, for the tests that run after this one."""
    record_accounts_initial(connection)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _write_rows_as_before(apps):
    OldUser = apps.get_model("portal", "User")
    OldCustomer = apps.get_model("contracts", "Customer")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    OldContentType = apps.get_model("contenttypes", "ContentType")

    customer_type, _ = OldContentType.objects.get_or_create(app_label="contracts", model="customer")
    user_type, _ = OldContentType.objects.get_or_create(app_label="portal", model="user")
    view_customer, _ = Permission.objects.get_or_create(
        content_type=customer_type, codename="view_customer", defaults={"name": "Can view cliente"}
    )
    view_user, _ = Permission.objects.get_or_create(
        content_type=user_type, codename="view_user", defaults={"name": "Can view utente"}
    )

    staff = OldUser.objects.create(
        email="officer@optima.example", password=make_password(PASSWORD), is_staff=True
    )
    officer_role = Group.objects.create(name="Old officers")
    officer_role.permissions.add(view_customer)
    staff.groups.add(officer_role)
    staff.user_permissions.add(view_user)

    holder = OldUser.objects.create(email="old.customer@example.it", password=make_password(PASSWORD))
    OldCustomer.objects.create(
        user=holder,
        code="C000999001",
        first_name="Anna",
        last_name="Vecchi",
        codice_fiscale="RSSMRA80A01F839W",
        email="old.customer@example.it",
        billing_street="Via Roma 1",
        billing_postcode="00100",
        billing_city="Roma",
        billing_province="RM",
    )
    return customer_type.pk, user_type.pk


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_migrates_forward_keeping_its_rows():
    executor = MigrationExecutor(connection)
    try:
        # Back to the last release before the move. accounts 0001 changes only the state: no table goes.
        executor.migrate(BEFORE_THE_MOVE)
        ContentType.objects.clear_cache()
        apps = executor.loader.project_state(BEFORE_THE_MOVE + [("accounts", "0001_initial")]).apps
        customer_type, user_type = _write_rows_as_before(apps)
        MigrationRecorder(connection).migration_qs.filter(app="accounts").delete()

        # What Django's own migrate would say on such a database, and why accounts overrides the command.
        with pytest.raises(InconsistentMigrationHistory):
            MigrationLoader(connection).check_consistent_history(connection)

        call_command("migrate", verbosity=0)
    finally:
        _latest()
        ContentType.objects.clear_cache()

    # The rows are the same rows, read through the moved models.
    staff = User.objects.get(email="officer@optima.example")
    customer = Customer.objects.get(code="C000999001")
    assert customer.user.email == "old.customer@example.it"
    assert customer.display_name == "Anna Vecchi"
    # The content types were renamed in place: same ids, so the permissions and admin history follow.
    assert ContentType.objects.get_for_model(Customer).pk == customer_type
    assert ContentType.objects.get_for_model(User).pk == user_type
    assert not ContentType.objects.filter(
        app_label__in=["portal", "contracts"], model__in=["user", "customer"]
    )
    assert staff.has_perm("accounts.view_customer")  # through the group
    assert staff.has_perm("accounts.view_user")  # given directly
    assert not staff.has_perm("accounts.change_customer")

    client = Client()
    assert client.login(username="OLD.customer@example.it", password=PASSWORD)
    assert client.get("/").status_code == 200
    # New rows after the old ones: the tables' sequences carried over.
    assert User.objects.create_user("new@example.it", PASSWORD).pk > staff.pk


def test_a_new_or_already_moved_database_needs_nothing_recorded(db):
    assert record_accounts_initial(connection) is False
