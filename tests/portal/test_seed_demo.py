import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from stdnum.it import codicefiscale

from contracts.models import Customer
from portal import roles
from portal.models import User

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(User.objects.values_list("email", "is_staff", "is_superuser", "password")),
        sorted(Customer.objects.values_list("code", "codice_fiscale", "billing_city", "user__email")),
        sorted(
            (g.name, sorted(g.permissions.values_list("codename", flat=True))) for g in Group.objects.all()
        ),
    )


def test_seed_demo_twice_changes_nothing_the_second_time():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = _snapshot()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert _snapshot() == first


def test_seed_demo_creates_staff_roles_and_realistic_customers():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert User.objects.filter(is_superuser=True, is_staff=True).exists()
    officer = User.objects.get(groups__name=roles.COMPLAINTS_OFFICER)
    billing = User.objects.get(groups__name=roles.BILLING_OFFICER)
    assert officer.is_staff and not officer.is_superuser
    assert billing.has_perm("contracts.change_customer")
    assert not officer.has_perm("contracts.change_customer")

    customers = list(Customer.objects.all())
    assert len(customers) >= 2
    for customer in customers:
        assert codicefiscale.is_valid(customer.codice_fiscale)
        assert customer.user is not None
        customer.full_clean()
    assert {"Napoli", "Milano"} <= {c.billing_city for c in customers}


def test_seed_demo_accounts_can_log_in(client):
    from portal.management.commands.seed_demo import DEMO_PASSWORD

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert client.login(username="mario.rossi@example.it", password=DEMO_PASSWORD)
