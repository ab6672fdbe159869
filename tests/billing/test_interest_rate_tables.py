"""The late-payment interest tables are there whenever the database is: a flush (what every transactional
test and `manage.py flush` do) must not leave a portal that fails on the first late payment."""

import pytest
from django.core.management import call_command

from billing.deadlines import ECB_MAIN_REFINANCING_RATES, LEGAL_INTEREST_RATES
from billing.models import InterestRate


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_gets_the_rates_in_force_back():
    call_command("flush", interactive=False, verbosity=0)

    assert InterestRate.objects.filter(kind=InterestRate.Kind.LEGAL).count() == len(LEGAL_INTEREST_RATES)
    assert InterestRate.objects.filter(kind=InterestRate.Kind.ECB).count() == len(ECB_MAIN_REFINANCING_RATES)


@pytest.mark.django_db(transaction=True)
def test_rates_staff_keep_are_not_added_to_again():
    InterestRate.objects.exclude(pk=InterestRate.objects.order_by("pk").first().pk).delete()

    call_command("migrate", verbosity=0)

    assert InterestRate.objects.count() == 1
