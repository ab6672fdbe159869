import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from stdnum.it import codicefiscale

from accounts.models import Customer, User
from contracts.models import ConditionChangeNotice, Contract, MeterReading
from portal import roles

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
    assert billing.has_perm("accounts.change_customer")
    assert not officer.has_perm("accounts.change_customer")

    people = list(Customer.objects.filter(kind=Customer.Kind.PERSON))
    assert len(people) >= 2
    for customer in people:
        assert codicefiscale.is_valid(customer.codice_fiscale)
        assert customer.user is not None
        customer.full_clean()
    assert {"Napoli", "Milano"} <= {c.billing_city for c in people}
    # A business customer without an account, to show registration with partita IVA + customer code.
    business = Customer.objects.get(kind=Customer.Kind.BUSINESS)
    assert business.user is None and business.partita_iva


def test_seed_demo_shows_every_contract_case():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert {Contract.Status.ACTIVE, Contract.Status.PROPOSED, Contract.Status.TERMINATING} <= statuses
    assert Contract.objects.filter(renewal_count=1).exists()
    assert ConditionChangeNotice.objects.filter(withdrawal_until__isnull=False).exists()
    assert MeterReading.objects.filter(service__kind="gas").count() >= 6


def test_seed_demo_accounts_can_log_in(client):
    from portal.management.commands.seed_demo import DEMO_PASSWORD

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert client.login(username="mario.rossi@example.it", password=DEMO_PASSWORD)
