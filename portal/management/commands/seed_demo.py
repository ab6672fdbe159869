"""Demo data for `make run` and manual testing. Idempotent: running it again changes nothing."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Customer, User
from billing import demo as billing_demo
from complaints import demo as complaints_demo
from contracts.demo import seed_contracts
from portal import roles
from portal.lib import dates
from portal.lib.dates import add_days

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
            today = dates.today()
            # Before the contracts: a price change announced to them is compared with their offer's tariff.
            billing_demo.seed_tariffs()
            demo_lines = seed_contracts(
                mario=Customer.objects.get(code="C000100001"),
                giulia=Customer.objects.get(code="C000100002"),
                today=today,
            )
            demo_lines += self._bills_and_complaints(today)
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

    def _bills_and_complaints(self, today):
        """In the order they happened: the bills up to the replies, the complaints and the rectification one
        reply promised, then the last bill (a billing job), which deducts the late reply's indemnity and the
        rectification as the real invoice run would; then the payments and what followed the bills left
        unpaid: an instalment plan, and a default notice whose bill the customer contests."""
        if billing_demo.bills_exist() or complaints_demo.complaints_exist():
            return ["bollette e reclami già presenti"]
        *earlier, last = billing_demo.MONTHS_BACK
        for months_back in earlier:
            billing_demo.issue_bills(today=today, months_back=months_back)
        last_bill_on = billing_demo.issue_day(today=today, months_back=last)
        lines = complaints_demo.seed_complaints(today=today, late_reply_on=add_days(last_bill_on, -20))
        rectified = complaints_demo.promise_rectification(answered_on=add_days(last_bill_on, -6))
        lines.append(
            billing_demo.rectify(
                invoice=rectified.invoice,
                amount=complaints_demo.RECTIFICATION,
                complaint_code=rectified.code,
                on=add_days(last_bill_on, -5),
            )
        )
        lines = billing_demo.run_invoice_job(today=today, months_back=last) + lines
        lines = billing_demo.settle_bills(today=today) + lines
        lines.append(billing_demo.instalment_plan(today=today))
        notice = billing_demo.dispatched_default_notice()
        lines.append(complaints_demo.contest_notice_bill(notice=notice, contested_on=add_days(today, -6)))
        return lines

    def _user(self, email, first, last, *, staff):
        user, created = User.objects.get_or_create(
            email=email, defaults={"first_name": first, "last_name": last, "is_staff": staff}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
