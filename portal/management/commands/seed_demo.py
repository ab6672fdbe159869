"""Demo data for `make run` and manual testing. Idempotent: running it again changes nothing."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, User
from billing.demo import seed_billing
from complaints.demo import seed_complaints
from contracts.demo import seed_contracts
from portal import roles
from portal.lib.dates import rome_date

DEMO_PASSWORD = "demo-Optima-2026"

STAFF = [
    # email, first name, last name, role (None = superuser)
    ("admin@optima.example", "Anna", "Esposito", None),
    ("reclami@optima.example", "Luca", "Romano", roles.COMPLAINTS_OFFICER),
    ("bollette@optima.example", "Sara", "Greco", roles.BILLING_OFFICER),
    ("supervisore@optima.example", "Paolo", "Ricci", roles.SUPERVISOR),
]

CUSTOMERS = [
    {
        "code": "C000100001",
        "email": "mario.rossi@example.it",
        "kind": Customer.Kind.PERSON,
        "first_name": "Mario",
        "last_name": "Rossi",
        "codice_fiscale": "RSSMRA80A01F839W",
        "phone": "+39 333 123 4567",
        "billing_street": "Via Toledo 256",
        "billing_postcode": "80134",
        "billing_city": "Napoli",
        "billing_province": "NA",
        "language": "it",
        "health_data_consent": True,  # Teleconsulto Medico is on his contract
    },
    {
        "code": "C000100002",
        "email": "giulia.bianchi@example.it",
        "kind": Customer.Kind.PERSON,
        "first_name": "Giulia",
        "last_name": "Bianchi",
        "codice_fiscale": "BNCGLI85C55F205C",
        "phone": "+39 347 765 4321",
        "billing_street": "Corso Buenos Aires 45",
        "billing_postcode": "20124",
        "billing_city": "Milano",
        "billing_province": "MI",
        "language": "en",
    },
]


class Command(BaseCommand):
    help = "Create demo staff, roles and customers (idempotent). Refused in production."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates accounts with a known password: refused in production.")
        with transaction.atomic():
            groups = roles.sync_roles()
            for email, first, last, role in STAFF:
                user = self._user(email, first, last, staff=True)
                user.is_superuser = role is None
                user.save(update_fields=["is_superuser"])
                user.groups.set([groups[role]] if role else [])
            for data in CUSTOMERS:
                data = dict(data)
                user = self._user(data["email"], data["first_name"], data["last_name"], staff=False)
                user.language = data["language"]
                user.save(update_fields=["language"])
                customer, _ = Customer.objects.update_or_create(
                    code=data.pop("code"), defaults={**data, "user": user}
                )
                customer.full_clean()
            today = rome_date(timezone.now())
            demo_lines = seed_contracts(
                mario=Customer.objects.get(code="C000100001"),
                giulia=Customer.objects.get(code="C000100002"),
                today=today,
            )
            demo_lines += seed_billing(today=today)
            demo_lines += seed_complaints(today=today)
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Every demo account's password: " + DEMO_PASSWORD)
        )
        for email, *_rest, role in STAFF:
            self.stdout.write(f"  staff     {email:32} {role or 'superuser'}")
        for data in CUSTOMERS:
            self.stdout.write(f"  customer  {data['email']:32} {data['first_name']} {data['last_name']}")
        self.stdout.write("Demo cases:")
        for line in demo_lines:
            self.stdout.write(f"  {line}")

    def _user(self, email, first, last, *, staff):
        user, created = User.objects.get_or_create(
            email=email, defaults={"first_name": first, "last_name": last, "is_staff": staff}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
