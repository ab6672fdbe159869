from datetime import date
from decimal import Decimal

import factory
from stdnum.it import codicefiscale

from accounts.models import Customer, User
from contracts.models import Contract, Service

PASSWORD = "s3cret-Password!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.it")
    first_name = "Mario"
    last_name = "Rossi"
    password = factory.django.Password(PASSWORD)


def _codice_fiscale(n):
    # A valid codice fiscale per sequence number: vary the day of birth (01–28), then add the check letter.
    body = f"RSSMRA80A{(n % 28) + 1:02d}F839"
    return body + codicefiscale.calc_check_digit(body)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)
    code = factory.Sequence(lambda n: f"C9{n:08d}")
    kind = Customer.Kind.PERSON
    first_name = factory.SelfAttribute("user.first_name")
    last_name = factory.SelfAttribute("user.last_name")
    codice_fiscale = factory.Sequence(_codice_fiscale)
    email = factory.SelfAttribute("user.email")
    billing_street = "Via Roma 1"
    billing_postcode = "80100"
    billing_city = "Napoli"
    billing_province = "NA"


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"OPT-{n:07d}")
    offer_name = "Optima Super Casa Smart con Teleconsulto Medico"
    sales_channel = Contract.SalesChannel.WEB
    proposed_on = date(2026, 1, 5)
    accepted_on = date(2026, 1, 10)
    payment_method = Contract.PaymentMethod.SDD
    iban = "IT60X0542811101000000123456"


class ServiceFactory(factory.django.DjangoModelFactory):
    """An electricity supply by default; pass kind= and the matching fields for the others."""

    class Meta:
        model = Service

    contract = factory.SubFactory(ContractFactory)
    kind = Service.Kind.ELECTRICITY
    pod = factory.Sequence(lambda n: f"IT001E{n:08d}")
    power_kw = Decimal("3.0")
    supply_street = "Via Roma 1"
    supply_postcode = "80100"
    supply_city = "Napoli"
    supply_province = "NA"


def active_contract(customer=None, *, activated_on=date(2026, 2, 1), **contract_fields):
    """A contract whose electricity supply went live on `activated_on`, through the real service."""
    from contracts.services import activate_service

    contract = ContractFactory(**({"customer": customer} if customer else {}), **contract_fields)
    activate_service(service=ServiceFactory(contract=contract), activated_on=activated_on)
    contract.refresh_from_db()
    return contract
