"""Journey: Mario cannot pay his overdue bill at once and asks, from the bill, to pay it in instalments: he
picks the number, sees the schedule before confirming (a missing choice is shown on the form), and sends the
request; the billing officer approves it in admin; the bill then shows the plan and its instalments instead
of the default procedure."""

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Customer
from billing.models import InstalmentPlan, Invoice
from portal.lib.dates import rome_date

MARIO = "mario.rossi@example.it"
BILLING_OFFICER = "bollette@optima.example"


def test_instalment_request(journey):
    page = journey.page
    today = rome_date(timezone.now())
    mario = Customer.objects.get(user__email=MARIO)
    bill = (
        Invoice.objects.filter(customer=mario, kind=Invoice.Kind.INVOICE, status__in=Invoice.OPEN_STATUSES)
        .filter(due_on__lt=today)
        .order_by("due_on")
        .first()
    )
    assert bill is not None and bill.outstanding > 0

    journey.log_in(MARIO)
    journey.goto(f"/bollette/{bill.pk}/")
    ask = page.get_by_role("link", name="Richiedi rateizzazione")
    expect(ask).to_be_visible()
    journey.look("bolletta scaduta: richiedi rateizzazione")

    ask.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Richiedi rateizzazione")
    expect(page.locator("main")).to_contain_text(bill.number)
    # "Vedi le rate" without choosing: the form comes back saying what is missing.
    page.get_by_role("button", name="Vedi le rate").click()
    expect(page.locator("main")).to_contain_text("Scegli il numero di rate.")
    journey.look("rateizzazione: numero di rate mancante")

    page.get_by_label("Numero di rate").select_option("2")
    page.get_by_role("button", name="Vedi le rate").click()
    schedule = page.locator("section", has=page.get_by_role("heading", name="Le tue rate"))
    expect(schedule.locator("tbody tr")).to_have_count(2)
    journey.look("rateizzazione: le rate prima di confermare")
    assert not InstalmentPlan.objects.filter(customer=mario).exists()

    page.get_by_role("button", name="Conferma la richiesta").click()
    expect(page.locator("main")).to_contain_text("Richiesta di rateizzazione inviata")
    expect(page.locator("main")).to_contain_text("in attesa di approvazione")
    plan = InstalmentPlan.objects.get(customer=mario)
    assert plan.status == InstalmentPlan.Status.REQUESTED and plan.instalment_count == 2
    journey.look("bolletta: rateizzazione in attesa")

    # The billing officer approves it from the plan's page in admin, in a browser of their own.
    customer_context = journey.context
    journey.context = customer_context.browser.new_context(viewport=page.viewport_size, locale="it-IT")
    officer = journey.page = journey.context.new_page()
    journey.log_in_admin(BILLING_OFFICER)
    journey.goto(f"/admin/billing/instalmentplan/{plan.pk}/change/")
    officer.get_by_role("link", name="Approva").click()
    expect(officer.locator("#content h1")).to_have_text("Approva la rateizzazione")
    officer.evaluate("window.scrollTo(0, 0)")
    journey.screenshot("admin: approva la rateizzazione")
    officer.locator("input[type=submit]").click()
    expect(officer.locator(".messagelist")).to_contain_text("Rateizzazione approvata: 2 rate")
    journey.context.close()
    journey.context, journey.page = customer_context, page

    page.reload()
    plan_card = page.locator(
        "section", has=page.get_by_role("heading", name=f"Rateizzazione n. {plan.reference}")
    )
    expect(plan_card.locator("tbody tr")).to_have_count(2)
    expect(plan_card).to_contain_text("Da pagare")
    expect(page.locator("main")).not_to_contain_text("Cosa succede se non paghi")
    journey.look("bolletta: rateizzazione approvata con le rate")
