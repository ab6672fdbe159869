"""Journey 3: the complaints officer finds the new complaint with its days left, takes it, writes the four-section
reply, previews the letter and sends it; the customer, logged in again, reads the reply and downloads the letter."""

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Customer
from complaints import services
from complaints.models import Complaint
from contracts.models import Service
from portal.lib.dates import rome_date
from tests.pdf_utils import pdf_text

MARIO = "mario.rossi@example.it"
OFFICER = "reclami@optima.example"

REPLY = {
    "Il Suo reclamo": "Ci ha scritto che nella bolletta di ottobre la quota fissa della luce è addebitata due volte.",
    "Le nostre verifiche": "Abbiamo ricontrollato i corrispettivi fissi di ottobre applicati alla fornitura IT001E04512377.",
    "Le nostre conclusioni": "La quota fissa è stata addebitata una sola volta: la bolletta è corretta e non va rettificata.",
    "I Suoi diritti": "Se la risposta non la soddisfa può rivolgersi al Servizio Conciliazione di ARERA, senza costi.",
}


def shown(text):
    """Text as a person reads it: no-break spaces are spaces, line breaks are spaces."""
    return " ".join(text.replace("\N{NO-BREAK SPACE}", " ").split())


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


def test_staff_answering(journey):
    page = journey.page
    today = rome_date(timezone.now())
    mario = Customer.objects.get(user__email=MARIO)
    demo_case = Complaint.objects.get(customer=mario, answered_on__isnull=True)
    # The complaint Mario has just sent from the Area Clienti (journey 2), not yet assigned to anyone.
    new = services.file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL,
        description="Nella bolletta di ottobre la quota fissa della luce compare due volte.",
        sent_on=today,
        customer=mario,
        service=Service.objects.get(contract__number="OPT-2025-0001001", kind=Service.Kind.ELECTRICITY),
        by=mario.user,
    )
    assert new.assignee is None

    # The list of complaints opens on the officer's own open cases; with "Tutti" under "assegnato a", both of
    # Mario's open cases, each with its answer-by date and the days left.
    journey.log_in_admin(OFFICER)
    expect(page.locator("#user-tools")).to_contain_text("Luca")
    page.goto(journey.base + "/admin/complaints/complaint/")
    expect(page.locator("#result_list")).to_contain_text(demo_case.code)
    expect(page.locator("#result_list")).not_to_contain_text(new.code)
    assignee_filter = page.locator('#changelist-filter details[data-filter-title="assegnato a"]')
    assignee_filter.get_by_role("link", name="Tutti", exact=True).click()
    for case in (demo_case, new):
        row = page.locator("#result_list tbody tr", has_text=case.code)
        expect(row).to_contain_text(f"{case.answer_due_on:%d/%m/%Y}")
        expect(row).to_contain_text(days_text((case.answer_due_on - today).days))
        expect(row).to_contain_text("Mario Rossi")
    admin_screenshot(journey, "elenco dei reclami con i giorni rimasti")

    # The case: not assigned yet; the officer takes it.
    page.locator("#result_list").get_by_role("link", name=new.code, exact=True).click()
    expect(page.locator("#content h1, #content h2").first).to_contain_text(new.code)
    expect(page.locator(".field-assigned_to")).to_contain_text("nessuno")
    page.get_by_role("button", name="Assegna a me").click()
    expect(page.locator(".messagelist")).to_contain_text("Caso assegnato a te.")
    expect(page.locator(".field-assigned_to")).to_contain_text("Luca Romano")
    expect(page.get_by_role("button", name="Assegna a me")).to_have_count(0)

    # The reply: the draft from the template still has "[da completare: …]"; the officer writes all four sections.
    drafts = [page.get_by_label(f"{heading}:", exact=True) for heading in REPLY]
    assert any("[da completare" in draft.input_value() for draft in drafts)
    for heading, text in REPLY.items():
        page.get_by_label(f"{heading}:", exact=True).fill(text)
    admin_screenshot(journey, "risposta in quattro sezioni", phone=False)
    page.get_by_role("button", name="Salva", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    for heading, text in REPLY.items():
        expect(page.get_by_label(f"{heading}:", exact=True)).to_have_value(text)

    # The preview: the letter as Mario will receive it, a PDF with the four headings and the text written.
    preview = page.get_by_role("link", name="Anteprima della risposta (PDF)")
    response = page.request.get(journey.base + preview.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    letter = shown(pdf_text(response.body()))
    for heading, text in REPLY.items():
        assert heading in letter
        assert shown(text) in letter
    assert "[da completare" not in letter

    # Sending: a summary first, with today's date and nothing left to complete.
    page.get_by_role("link", name="Invia la risposta…").click()
    expect(page.locator("#content h1")).to_have_text("Invia la risposta motivata")
    summary = page.locator(".reply-preview")
    for heading, text in REPLY.items():
        expect(summary.get_by_role("heading", name=heading)).to_be_visible()
        expect(summary).to_contain_text(text)
    expect(page.locator("#content-main")).to_contain_text(f"Data di invio: {today:%d/%m/%Y}.")
    expect(page.locator(".errornote")).to_have_count(0)
    admin_screenshot(journey, "riepilogo prima dell'invio")
    page.get_by_role("button", name="Invia la risposta", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(f"Risposta motivata inviata il {today:%d/%m/%Y}.")
    expect(page.locator("#content-main")).to_contain_text(f"Risposto il: {today:%d/%m/%Y}")
    admin_screenshot(journey, "caso con la risposta inviata", phone=False)

    # The customer, logged in again: the case is answered, the reply is there to read and download.
    journey.context.clear_cookies()
    journey.log_in(MARIO)
    journey.goto("/reclami/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reclami e richieste")
    item = page.locator("li.list-group-item", has=page.get_by_role("link", name=new.code, exact=True))
    expect(item).to_contain_text("Risposto")
    journey.look("elenco delle pratiche con la risposta")
    item.get_by_role("link", name=new.code, exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pratica {new.code}")
    answer = page.locator("section", has=page.get_by_role("heading", name="La nostra risposta"))
    expect(answer).to_contain_text(f"Ti abbiamo inviato la risposta motivata il {today:%d/%m/%Y}.")
    expect(page.get_by_role("main")).to_contain_text("Risposto")
    journey.look("pratica con la risposta")

    with page.expect_download() as info:
        answer.get_by_role("link", name="Leggi la lettera di risposta (PDF)").click()
    download = info.value
    assert download.suggested_filename == f"risposta-{new.code}.pdf"
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF")
    letter = shown(pdf_text(data))
    assert new.code in letter
    for heading, text in REPLY.items():
        assert heading in letter
        assert shown(text) in letter
    assert "Mario Rossi" in letter
