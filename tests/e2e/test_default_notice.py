"""Journey 6: an overdue invoice; the daily sweep prepares the default notice; the billing officer sends it by
raccomandata and records its posting; the customer sees the 40-day deadline; a step before the allowed day is
refused, naming that day; the sweep run past the deadline + 3 working days (and the receipt term) makes the
suspension allowed in admin."""

import io
from datetime import datetime, time

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Customer
from billing import deadlines, dunning
from billing.models import DefaultNotice, Invoice
from contracts.deadlines import presumed_receipt
from contracts.models import Service
from portal.lib.dates import ROME, add_days, rome_date

MARIO = "mario.rossi@example.it"
BILLING_OFFICER = "bollette@optima.example"
TRACKING_NUMBER = "RR123456789IT"


def admin_screenshot(journey, label, *, phone=True):
    """An admin page, from the top (Django's sticky sidebar otherwise lands mid-page in a full-page shot). The
    phone run skips the shots marked phone=False, keeping the numbering of the desktop run."""
    if journey.width_name == "phone" and not phone:
        journey.shots += 1
        return
    journey.page.evaluate("window.scrollTo(0, 0)")
    journey.screenshot(label)


def days_text(n):
    return "1 giorno" if n == 1 else f"{n} giorni"


def run_deadlines(day):
    """The daily sweep as it runs on `day`, at seven in the morning in Rome."""
    call_command(
        "run_deadlines",
        "--now",
        datetime.combine(day, time(7, 0), tzinfo=ROME).isoformat(),
        stdout=io.StringIO(),
    )


def test_default_notice(journey):
    page = journey.page
    today = rome_date(timezone.now())
    mario = Customer.objects.get(user__email=MARIO)

    # Mario's overdue bill (the demo leaves his oldest one unpaid): due for a notice since its dunning day.
    invoice = (
        Invoice.objects.filter(customer=mario, kind=Invoice.Kind.INVOICE, status__in=Invoice.OPEN_STATUSES)
        .filter(due_on__lt=today)
        .order_by("due_on")
        .first()
    )
    assert invoice is not None and invoice.outstanding > 0
    assert invoice.dunning_due_on <= today
    assert not DefaultNotice.objects.filter(customer=mario).exists()

    # The daily sweep, this morning: the invoice is overdue and goes into a notice to send.
    run_deadlines(today)
    notice = DefaultNotice.objects.get(customer=mario, items__invoice=invoice)
    assert notice.status == DefaultNotice.Status.PREPARED
    assert not mario.pec  # no PEC: the notice goes by raccomandata

    # The billing officer: today's dunning work lists it to send.
    journey.log_in_admin(BILLING_OFFICER)
    page.goto(journey.base + "/admin/billing/defaultnotice/oggi/")
    expect(page.locator("#content h1")).to_have_text("Morosità: il lavoro di oggi")
    to_send = page.locator("#to-send")
    expect(to_send.get_by_role("heading")).to_have_text("Da inviare (1)")
    row = to_send.locator("tbody tr", has_text=notice.reference)
    expect(row).to_contain_text("Mario Rossi")
    admin_screenshot(journey, "il lavoro di oggi: da inviare")

    row.get_by_role("link", name="Invia…").click()
    expect(page.locator("#content h1")).to_have_text(f"Invia la costituzione in mora {notice.reference}")
    expect(page.get_by_role("button", name="Invia ora via PEC")).to_have_count(0)
    page.get_by_role("button", name="Prepara la raccomandata").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Raccomandata in preparazione: la trovi tra poco in «Lettere da spedire»."
    )

    # Lettere da spedire: the letter, printed and posted today; the officer records the posting.
    page.goto(journey.base + "/admin/notifications/lettertopost/")
    letter = page.locator("#result_list tbody tr", has_text="Mario Rossi").filter(
        has_text="Costituzione in mora"
    )
    expect(letter).to_have_count(1)
    expect(letter.get_by_role("link", name="Scarica il PDF")).to_be_visible()
    admin_screenshot(journey, "lettere da spedire", phone=False)
    letter.get_by_role("link", name="Registra spedizione").click()
    expect(page.get_by_label("Data di spedizione:")).to_have_value(today.isoformat())
    page.get_by_label("Numero di raccomandata:").fill(TRACKING_NUMBER)
    page.get_by_role("button", name="Registra", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Spedizione registrata: raccomandata {TRACKING_NUMBER} del {today:%d/%m/%Y}."
    )

    notice.refresh_from_db()
    deadline = deadlines.default_notice_payment_deadline(today)
    assert notice.status == DefaultNotice.Status.DISPATCHED
    assert notice.sent_on == today
    assert notice.payment_due_on == deadline == add_days(today, 40)
    supplies = dunning.supplies_of(notice)
    receipt = presumed_receipt(today, None)
    allowed = {
        service.pk: deadlines.earliest_suspension_request(deadline, receipt, dunning.supply_rule(service))
        for service in supplies
    }
    assert notice.suspension_allowed_on == min(allowed.values())

    # The notice in admin: sent, 40 days to pay, the first day a step is allowed.
    page.goto(journey.base + f"/admin/billing/defaultnotice/{notice.pk}/change/")
    expect(page.locator(".field-status_badge")).to_contain_text("Inviata")
    expect(page.locator(".field-payment_deadline")).to_contain_text(f"{deadline:%d/%m/%Y} {days_text(40)}")
    expect(page.locator(".field-suspension_allowed")).to_contain_text(
        f"{notice.suspension_allowed_on:%d/%m/%Y}"
    )
    admin_screenshot(journey, "costituzione in mora inviata", phone=False)

    # A step today, before the allowed day: refused, with the day it becomes allowed.
    page.locator(".object-tools").get_by_role("link", name="Registra intervento").click()
    expect(page.locator("#content h1")).to_have_text("Registra un intervento per morosità")
    service = Service.objects.get(pk=page.get_by_label("Fornitura:").input_value())
    step = (
        "Riduzione di potenza al 15%"
        if dunning.supply_rule(service) == "electricity_lv"
        else "Richiesta di sospensione"
    )
    page.get_by_label("Intervento:").select_option(label=step)
    expect(page.get_by_label("Richiesto al distributore il:")).to_have_value(today.isoformat())
    page.get_by_role("button", name="Registra", exact=True).click()
    expect(page.locator(".errornote")).to_contain_text("Correggi gli errori qui sotto.")
    refusal = page.locator(".errorlist")
    expect(refusal).to_contain_text(f"Intervento non consentito prima del {allowed[service.pk]:%d/%m/%Y}")
    expect(refusal).to_contain_text(f"termine di pagamento del {deadline:%d/%m/%Y}")
    admin_screenshot(journey, "intervento anticipato rifiutato")
    assert not notice.steps.exists()

    # The customer: the invoice page says by when to pay, and how many days are left.
    journey.context.clear_cookies()
    journey.log_in(MARIO)
    journey.goto(f"/bollette/{invoice.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bolletta n. {invoice.number}")
    overdue = page.locator("section", has=page.get_by_role("heading", name="Questa bolletta è scaduta da"))
    expect(overdue.get_by_role("heading", level=2)).to_have_text(
        f"Questa bolletta è scaduta da {days_text((today - invoice.due_on).days)}"
    )
    expect(overdue).to_contain_text(f"Paga entro il {deadline:%d/%m/%Y}: mancano 40 giorni.")
    expect(overdue).to_contain_text(f"Il {today:%d/%m/%Y} ti abbiamo inviato una costituzione in mora")
    expect(overdue).to_contain_text(
        f"dal {notice.suspension_allowed_on:%d/%m/%Y} potremo chiedere al distributore"
    )
    journey.look("bolletta con il termine della costituzione in mora")

    # Time travel: the sweep on the first day a step is allowed (the payment deadline + 3 working days,
    # and the days from the presumed receipt).
    run_deadlines(notice.suspension_allowed_on)
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED

    journey.context.clear_cookies()
    journey.log_in_admin(BILLING_OFFICER)
    page.goto(journey.base + "/admin/billing/defaultnotice/?fase=sospensione-consentita")
    row = page.locator("#result_list tbody tr", has_text=notice.reference)
    expect(row.locator(".field-state")).to_contain_text("Sospensione consentita")
    expect(row.locator(".field-suspension_allowed")).to_contain_text(
        f"{notice.suspension_allowed_on:%d/%m/%Y}"
    )
    admin_screenshot(journey, "sospensione consentita nell'elenco", phone=False)

    # The notice itself: a step is now the next thing.
    row.get_by_role("link", name=notice.reference).click()
    expect(page.locator(".field-status_badge")).to_contain_text("Sospensione consentita")
    expect(page.locator(".field-suspension_allowed")).to_contain_text(
        f"{notice.suspension_allowed_on:%d/%m/%Y}"
    )
    expect(page.locator(".object-tools li").first).to_have_text("Registra intervento")
    admin_screenshot(journey, "sospensione consentita")
