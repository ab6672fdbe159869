"""The customer page for staff: contracts, bills, payments, credits, default notices, complaints and
communications on one screen, each row linking to its page, at a cost that does not grow with the customer."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import services as billing_services
from billing.models import DefaultNotice, Invoice, Payment
from complaints import services as complaint_services
from complaints.models import Complaint
from contracts.admin.customer_overview import SHOWN
from portal import roles
from portal.notifications.models import Communication
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db


def staff_client(client, role):
    user = UserFactory(email=f"{role.split()[0].lower()}@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[role])
    client.force_login(user)
    return client


def customer_with(n):
    """A customer with `n` of everything the overview shows."""
    contract = active_contract()
    customer = contract.customer
    for i in range(n):
        start = date(2026, 2, 1) + timedelta(days=31 * i)
        start = start.replace(day=1)
        draft = billing_services.create_draft(
            contract=contract,
            period_start=start,
            period_end=start + timedelta(days=27),
            lines=[
                billing_services.LineSpec(
                    kind="charge", description="Consumi", unit_price=D("50"), vat_rate=D("10")
                )
            ],
        )
        invoice = billing_services.issue_invoice(invoice=draft, issued_on=start + timedelta(days=30))
        billing_services.record_payment(
            customer=customer,
            amount=D("10"),
            received_on=invoice.issued_on,
            method=Payment.Method.BANK_TRANSFER,
            invoice=invoice,
            transaction_id=f"TRN-{customer.pk}-{i}",
        )
        billing_services.grant_credit(
            customer=customer,
            reason="overpayment",
            description=f"Pagamento in eccesso {i}",
            amount=D("5"),
            created_on=invoice.issued_on,
            source_key=f"test-{customer.pk}-{i}",
        )
        complaint_services.file_complaint(
            kind=Complaint.Kind.COMPLAINT,
            topic=Complaint.Topic.BILLING,
            channel=Complaint.Channel.PORTAL,
            description="La bolletta è troppo alta.",
            sent_on=date(2026, 11, 20),
            customer=customer,
            contract=contract,
        )
        Communication.objects.create(
            customer=customer,
            template_key="generic",
            language="it",
            subject=f"Comunicazione {i}",
            body_text="Testo",
            body_html="<p>Testo</p>",
            dedupe_key=f"test-{customer.pk}-{i}",
        )
        DefaultNotice.objects.create(customer=customer, prepared_on=date(2026, 6, 1), channel="pec")
    return customer


def overview(client, customer):
    response = client.get(reverse("admin:accounts_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    return response, {section.title: section for section in response.context["overview"]}


def test_every_record_of_the_customer_is_on_the_page_and_links_to_its_own(client):
    customer = customer_with(1)
    response, sections = overview(staff_client(client, roles.SUPERVISOR), customer)
    assert list(sections) == [
        "Contratti",
        "Bollette",
        "Pagamenti",
        "Crediti da detrarre",
        "Costituzioni in mora",
        "Reclami e richieste",
        "Comunicazioni",
    ]
    invoice = Invoice.objects.get(customer=customer)
    complaint = Complaint.objects.get(customer=customer)
    content = response.content.decode()
    assert reverse("admin:billing_invoice_change", args=[invoice.pk]) in content
    assert reverse("admin:complaints_complaint_change", args=[complaint.pk]) in content
    assert complaint.code in content and invoice.number in content
    # The bill's status and what is left to pay; the case's days left to answer.
    assert "Pagata in parte" in content and "Da pagare:" in content
    assert "giorni" in sections["Reclami e richieste"].rows[0][1][4]
    assert "Comunicazione 0" in content


def test_the_query_count_does_not_grow_with_the_customer(client):
    client = staff_client(client, roles.SUPERVISOR)
    small, large = customer_with(1), customer_with(SHOWN + 1)
    overview(client, small)  # warm the session and the content types
    counts = []
    for customer in (small, large):
        with CaptureQueriesContext(connection) as queries:
            overview(client, customer)
        counts.append(len(queries))
    assert counts[0] == counts[1]

    response, sections = overview(client, large)
    bills = sections["Bollette"]
    assert (len(bills.rows), bills.count) == (SHOWN, SHOWN + 1)
    all_bills = f"{reverse('admin:billing_invoice_changelist')}?customer__id__exact={large.pk}"
    assert all_bills in response.content.decode().replace("&amp;", "&")
    listed = client.get(all_bills)
    assert listed.status_code == 200 and listed.context["cl"].result_count == SHOWN + 1


def test_a_complaints_officer_sees_the_sections_of_what_they_may_read(client):
    customer = customer_with(1)
    _response, sections = overview(staff_client(client, roles.COMPLAINTS_OFFICER), customer)
    assert "Reclami e richieste" in sections and "Bollette" in sections
