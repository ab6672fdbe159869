"""Journey: Mario pays his overdue bill by card in the Area Clienti. The test gateway's page confirms; its
signed notification records the payment; the bill shows paid and the receipt is in Comunicazioni."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Customer
from billing.models import Invoice, OnlinePayment, Payment
from portal.lib.dates import rome_date
from portal.notifications.models import Communication

MARIO = "mario.rossi@example.it"


@pytest.fixture(autouse=True)
def interest_rates(demo):
    """The rates a late payment's interest is computed with. A data migration loads them, and the flush after
    each live-server test empties the table: the second run would find none."""
    importlib.import_module("billing.migrations.0002_interest_rates").load_rates(apps, None)


def test_pay_online(journey):
    page = journey.page
    mario = Customer.objects.get(user__email=MARIO)
    invoice = (
        Invoice.objects.filter(customer=mario, kind=Invoice.Kind.INVOICE, status__in=Invoice.OPEN_STATUSES)
        .filter(due_on__lt=rome_date(timezone.now()))
        .order_by("due_on")
        .first()
    )
    assert invoice is not None and invoice.outstanding > 0, "the demo leaves one of Mario's bills overdue"

    # The overdue bill: its "Come pagare" offers the card.
    journey.log_in(MARIO)
    journey.goto(f"/bollette/{invoice.pk}/")
    pay = page.get_by_role("button", name="Paga ora con carta")
    expect(pay).to_be_visible()
    journey.look("bolletta scaduta con il pulsante paga")

    # The gateway's page: the amount the portal computed; the customer confirms.
    pay.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pagamento con carta (ambiente di prova)")
    journey.look("pagina del gestore dei pagamenti")
    page.get_by_role("button", name="Conferma il pagamento").click()

    expect(page.get_by_role("heading", name="Pagamento ricevuto, grazie!")).to_be_visible()
    journey.look("esito del pagamento")
    online = OnlinePayment.objects.get(customer=mario)
    assert Payment.objects.get(transaction_id=online.transaction_id).invoice_id == invoice.pk

    # Back on the bill: paid, no button any more.
    page.get_by_role("link", name=f"Bolletta {invoice.number}").click()
    expect(page.locator("h1 + .badge, .badge").first).to_have_text("Pagata")
    expect(page.get_by_role("button", name="Paga ora con carta")).to_have_count(0)
    journey.look("bolletta pagata")
    assert Communication.objects.filter(customer=mario, template_key="payment_receipt").exists()
