from datetime import date
from decimal import Decimal

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


def test_seed_demo_tells_the_story_in_the_order_it_happened(client, monkeypatch):
    """Seeded on 2 December 2026: the late reply of 12 November earns a 30 € indemnity, which the bill of
    2 December deducts (it was missing when the bills were made before the complaints); every step of the
    case history carries its own day, not the seed's."""
    from billing.models import Invoice, InvoiceLine
    from complaints.models import Complaint
    from portal.lib import dates
    from portal.management.commands.seed_demo import DEMO_PASSWORD
    from tests.pdf_utils import pdf_text

    monkeypatch.setattr(dates, "today", lambda: date(2026, 12, 2))
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    late = Complaint.objects.get(indemnity_amount__gt=0)
    assert late.answered_on == date(2026, 11, 12) and late.indemnity_amount == Decimal("30.00")
    [bill] = Invoice.objects.filter(
        customer__code="C000100001", issued_on=date(2026, 12, 2), lines__kind=InvoiceLine.Kind.INDEMNITY
    )
    line = bill.lines.get(kind=InvoiceLine.Kind.INDEMNITY)
    assert line.amount == Decimal("-30.00")
    assert not Invoice.objects.filter(issued_on__lt=date(2026, 12, 2), lines__kind=InvoiceLine.Kind.INDEMNITY)
    text = pdf_text(bill.pdf.read())
    assert "Indennizzo automatico" in text and "-30,00" in text

    history = [(event.kind, event.at.astimezone(dates.ROME).date()) for event in late.events.all()]
    assert history == [
        ("filed", date(2026, 10, 3)),
        ("assigned", date(2026, 10, 4)),
        ("replied", date(2026, 11, 12)),
        ("indemnity", date(2026, 11, 12)),
    ]
    open_case = Complaint.objects.get(answered_on__isnull=True, customer__code="C000100001")
    assert open_case.events.get(kind="filed").at.astimezone(dates.ROME).date() == date(2026, 11, 6)
    # What Mario reads: the case page dates the reply on its day, and the inbox has it there too.
    assert client.login(username="mario.rossi@example.it", password=DEMO_PASSWORD)
    page = client.get(f"/reclami/{late.code}/").content.decode()
    assert "12/11/2026 16:00" in page and "03/10/2026 11:00" in page
    reply = late.customer.communications.get(template_key="complaint_reply")
    assert dates.rome_date(reply.created_at) == date(2026, 11, 12)
    paper_bills = list(late.customer.communications.filter(template_key="paper_bill"))
    assert len(paper_bills) == 4
    assert all(dates.rome_date(letter.created_at) == letter.about.issued_on for letter in paper_bills)


def _admin_page(client, email, path) -> str:
    """What a staff member reads on an admin page: the text, with the no-break spaces of amounts as spaces."""
    client.force_login(User.objects.get(email=email))
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode().replace("\N{NO-BREAK SPACE}", " ").replace("&nbsp;", " ")


def test_seed_demo_gives_every_back_office_feature_something_to_show(client, settings, tmp_path):
    from billing.models import BillingJob, InstalmentPlan, Invoice
    from complaints.models import Complaint
    from portal.notifications.models import Communication
    from tests.pdf_utils import pdf_text

    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    billing, supervisor = "bollette@optima.example", "supervisore@optima.example"

    # a. The letter from a sender with no customer record and no e-mail: its reply waits to be posted.
    letters = _admin_page(client, billing, "/admin/notifications/lettertopost/")
    postal = Complaint.objects.get(status=Complaint.Status.REPLY_TO_POST)
    assert f"La nostra risposta alla tua richiesta {postal.code}" in letters and "Carla Moretti" in letters

    # b. The last month's run, finished, with its report.
    job = BillingJob.objects.get()
    page = _admin_page(client, billing, f"/admin/billing/billingjob/{job.pk}/change/")
    assert "Completato" in page and job.report["created"] == 4 and job.report["errors"] == []

    # c. Giulia's instalment plan: the first instalment paid, the second still to pay.
    plan = InstalmentPlan.objects.get(customer__code="C000100002", status=InstalmentPlan.Status.APPROVED)
    page = _admin_page(client, billing, f"/admin/billing/instalmentplan/{plan.pk}/change/")
    assert [i.get_status_display() for i in plan.instalments.all()] == ["Pagata", "Da pagare"]
    assert "Registra pagamento" in page

    # d. The 48,20 € the reply to Giulia promised, as a credit note with its reason, deducted by her next bill.
    [note] = Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE)
    assert note.total == Decimal("-48.20") and note.corrects.customer.code == "C000100002"
    reply = Communication.objects.get(template_key="complaint_reply", customer__code="C000100002")
    assert note.credit_reason == f"Rettifica promessa nella risposta al reclamo {reply.about.code}"
    assert "48,20" in pdf_text(reply.document.read())
    assert "-48,20 €" in _admin_page(client, billing, f"/admin/billing/invoice/?q={note.number}")

    # e. The pizzeria's default notice, its bill contested: no step offered until the reply.
    contested = Complaint.objects.get(customer__code="C000100003")
    worklist = _admin_page(client, billing, "/admin/billing/defaultnotice/oggi/")
    assert f"bloccata (reclamo {contested.code})" in worklist

    # f. A case waiting for the customer, and an overdue one nobody took.
    waiting = Complaint.objects.get(status=Complaint.Status.WAITING_CUSTOMER)
    assert waiting.code in _admin_page(
        client, supervisor, "/admin/complaints/complaint/?stato=waiting_customer&assegnato=tutti"
    )
    overdue = Complaint.objects.get(overdue=True, assignee=None)
    assert overdue.code in _admin_page(
        client, supervisor, "/admin/complaints/complaint/?assegnato=nessuno&termine=scaduto"
    )

    # g. The default reply templates, and a ready paragraph to add to a reply.
    assert "17 modelli di risposta" in _admin_page(client, supervisor, "/admin/complaints/replytemplate/")
    assert "Aggiungi a «Le nostre verifiche»" in _admin_page(
        client, supervisor, f"/admin/complaints/complaint/{waiting.pk}/change/"
    )

    # h. The price change letter (in Giulia's English) names the price that rises, which gives her the right
    # to withdraw until the day it says.
    notice = ConditionChangeNotice.objects.get()
    assert notice.price_rises == [{"label": "quota fissa gas €/mese", "old": "8.00", "new": "9.50"}]
    text = pdf_text(Communication.objects.get(template_key="condition_change").document.read())
    assert "quota fissa gas €/mese: from 8.00 to 9.50" in text
    assert f"{notice.withdrawal_until:%d/%m/%Y}" in text
