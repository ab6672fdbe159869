"""Journey 4: a complaint left unanswered; the deadline sweep runs 35 days after its receipt and admin shows it
overdue; the officer answers it late; the customer's next invoice deducts the automatic indemnity, with the
regulation's wording and amount."""

import io
from datetime import datetime, time

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Customer
from billing.generation import generate_invoices
from billing.models import Invoice
from billing.services import INDEMNITY_WORDING
from complaints import deadlines, services
from complaints.models import Complaint
from contracts.models import Service
from portal.lib.dates import ROME, add_days, add_months, first_of_month, rome_date
from tests.e2e.conftest import read_mail
from tests.pdf_utils import pdf_text

MARIO = "mario.rossi@example.it"
OFFICER = "reclami@optima.example"
DAYS_WITHOUT_REPLY = 35

REPLY = {
    "Il Suo reclamo": "Ci ha scritto che la lettura di settembre in bolletta non corrisponde a quella del contatore.",
    "Le nostre verifiche": "Abbiamo chiesto al distributore la lettura effettiva e l'abbiamo confrontata con la sua foto.",
    "Le nostre conclusioni": "La lettura fatturata era stimata: la prossima bolletta userà la lettura effettiva del distributore.",
    "I Suoi diritti": "Se la risposta non la soddisfa può rivolgersi al Servizio Conciliazione di ARERA, senza costi.",
}


def shown(text):
    """Text as a person reads it: no-break spaces are spaces, line breaks are spaces."""
    return " ".join(text.replace("\N{NO-BREAK SPACE}", " ").split())


def euro(amount):
    return f"{amount:.2f}".replace(".", ",") + " €"


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


def test_time_travel_indemnity(journey, demo):
    page = journey.page
    desktop = journey.width_name == "desktop"
    today = rome_date(timezone.now())
    mario = Customer.objects.get(user__email=MARIO)

    # A complaint Mario sent from the Area Clienti 35 days ago, still unanswered.
    sent_on = add_days(today, -DAYS_WITHOUT_REPLY)
    complaint = services.file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.METERING,
        channel=Complaint.Channel.PORTAL,
        description="La lettura di settembre in bolletta è diversa da quella che leggo sul contatore.",
        sent_on=sent_on,
        customer=mario,
        service=Service.objects.get(contract__number="OPT-2025-0001001", kind=Service.Kind.ELECTRICITY),
        by=mario.user,
    )
    assert complaint.received_on == sent_on
    late_by = (today - complaint.answer_due_on).days
    assert late_by > 0

    # Time travel: the daily sweep as it runs 35 days after receipt, i.e. this morning.
    sweep_moment = datetime.combine(
        add_days(complaint.received_on, DAYS_WITHOUT_REPLY), time(7, 0), tzinfo=ROME
    )
    call_command("run_deadlines", "--now", sweep_moment.isoformat(), stdout=io.StringIO())
    complaint.refresh_from_db()
    assert complaint.overdue
    assert (
        f"{complaint.code}: termine di risposta scaduto il {complaint.answer_due_on:%d/%m/%Y}"
        in read_mail(demo)
    )

    # Admin: among the overdue cases, with the red "scaduto da …" badge.
    journey.log_in_admin(OFFICER)
    page.goto(journey.base + "/admin/complaints/complaint/?termine=scaduto")
    row = page.locator("#result_list tbody tr", has_text=complaint.code)
    expect(row).to_contain_text(f"{complaint.answer_due_on:%d/%m/%Y}")
    expect(row).to_contain_text(f"scaduto da {days_text(late_by)}")
    admin_screenshot(journey, "reclamo scaduto nell'elenco")

    # The case: the clock and the indemnity the reply would grant if it left today; the sweep's note in the history.
    row.get_by_role("link", name=complaint.code, exact=True).click()
    expect(page.locator(".field-deadline")).to_contain_text(f"scaduto da {days_text(late_by)}")
    amount = deadlines.indemnity_amount(complaint.kind, complaint.received_on, today)
    if complaint.received_on.year >= 2026:
        assert amount == 30  # TIQV 2026: 30 € base, answered within twice the 30-day standard
    expect(page.locator(".field-indemnity")).to_contain_text(f"Se la risposta parte oggi: {euro(amount)}")
    expect(page.locator("#events-group")).to_contain_text("Scaduto il termine di risposta")
    admin_screenshot(journey, "caso scaduto", phone=False)

    # The officer takes it and answers it.
    page.get_by_role("button", name="Assegna a me").click()
    expect(page.locator(".messagelist")).to_contain_text("Caso assegnato a te.")
    for heading, text in REPLY.items():
        page.get_by_label(f"{heading}:", exact=True).fill(text)
    page.get_by_role("button", name="Salva e invia la risposta…").click()
    expect(page.locator("#content h1")).to_have_text("Invia la risposta motivata")
    content = page.locator("#content-main")
    expect(content).to_contain_text("La risposta parte oltre il termine.")
    expect(content).to_contain_text(
        f"Sarà riconosciuto automaticamente un indennizzo di {euro(amount)}, detratto dalla prossima bolletta del cliente."
    )
    page.get_by_label("Causa del ritardo:").fill("Attesa della lettura effettiva dal distributore.")
    admin_screenshot(journey, "invio in ritardo con indennizzo")
    page.get_by_role("button", name="Invia la risposta", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Risposta motivata inviata il {today:%d/%m/%Y}. Indennizzo automatico di {euro(amount)}: "
        "il credito sarà detratto dalla prossima bolletta."
    )

    # The next invoice run: the month after the last one billed, issued (as the demo's) on the 2nd of the month after.
    last_billed = first_of_month(Invoice.objects.filter(customer=mario).latest("period_end").period_end)
    month = add_months(last_billed, 1)
    issued_on = add_days(add_months(month, 1), 1)
    assert issued_on > today
    report = generate_invoices(period=month, issued_on=issued_on)
    assert not report.errors, report.errors
    complaint.refresh_from_db()
    use = complaint.indemnity_credit.uses.select_related("invoice").get()
    invoice = use.invoice
    assert invoice.issued_on == issued_on and use.amount == amount

    # The customer: the reply, the indemnity and the invoice it was deducted from.
    journey.context.clear_cookies()
    journey.log_in(MARIO)
    journey.goto(f"/reclami/{complaint.code}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pratica {complaint.code}")
    answer = page.locator("section", has=page.get_by_role("heading", name="La nostra risposta"))
    expect(answer).to_contain_text(f"Ti abbiamo inviato la risposta motivata il {today:%d/%m/%Y}.")
    indemnity = answer.locator("div", has=page.get_by_role("heading", name="Indennizzo automatico"))
    expect(indemnity).to_contain_text(
        f"Ti abbiamo risposto oltre il termine: ti spetta un indennizzo automatico di {euro(amount)}."
    )
    link_text = f"bolletta n. {invoice.number} del {issued_on:%d/%m/%Y}"
    expect(indemnity.get_by_role("link", name=link_text)).to_be_visible()
    journey.look("pratica con l'indennizzo")

    indemnity.get_by_role("link", name=link_text).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bolletta n. {invoice.number}")
    lines = page.locator("section", has=page.get_by_role("heading", name="Dettaglio degli importi"))
    indemnity_rows = lines.locator("tbody tr", has_text=INDEMNITY_WORDING)
    expect(indemnity_rows.first).to_be_visible()
    amounts = [shown(row.locator("td").last.inner_text()) for row in indemnity_rows.all()]
    assert f"-{euro(amount)}" in amounts, amounts
    journey.look("bolletta con l'indennizzo")

    # The same line in the invoice's PDF, the document the customer keeps.
    if desktop:
        with page.expect_download() as info:
            page.get_by_role("link", name="Scarica il PDF").click()
        text = shown(pdf_text(open(info.value.path(), "rb").read()))
        assert shown(INDEMNITY_WORDING) in text
        assert euro(amount) in text
