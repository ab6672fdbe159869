import factory
from stdnum.it import codicefiscale

from contracts.models import Customer
from portal.models import User

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
