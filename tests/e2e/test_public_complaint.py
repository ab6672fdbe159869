"""Journey 5: without an account, someone files a complaint from the public form, gets its code, asks for the
tracking link with the code and their e-mail address, opens the link from the e-mail and sees the case."""

import re

from django.core.cache import cache
from playwright.sync_api import expect

from complaints.models import Complaint
from tests.e2e.conftest import read_mail

SENDER = {
    "Nome e cognome o ragione sociale": "Lucia Ferraro",
    "Codice fiscale o partita IVA": "FRRLCU90A41L219I",
    "POD, PDR o codice cliente": "IT001E09999999",
    "Indirizzo e-mail": "lucia.ferraro@example.it",
    "Indirizzo per la risposta scritta": "Via Po 18, 10123 Torino (TO)",
}
DESCRIPTION = "Ho chiesto la voltura a marzo e non ho ancora ricevuto risposta né il nuovo contratto."
TRACKING_LINK = re.compile(r"https?://[^/\s\"'<>]+(/reclami/segui/[A-Za-z0-9._:-]+/)")


def test_public_complaint(journey, demo):
    page = journey.page
    cache.clear()  # the public form counts submissions per address: start from none

    # From the login page, the way to a complaint without an account.
    journey.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accedi alla tua Area Clienti")
    page.get_by_role("contentinfo").get_by_role("link", name="Assistenza e Reclami").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assistenza e Reclami")
    journey.look("assistenza e reclami")
    page.get_by_role("link", name="Senza registrazione").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invia un reclamo o una richiesta online")

    for label, value in SENDER.items():
        page.get_by_label(label).fill(value)
    expect(page.get_by_role("radio", name=re.compile(r"^Reclamo scritto · risposta entro"))).to_be_checked()
    page.get_by_role("radio", name="Contratti", exact=True).check()
    page.get_by_label("Descrizione").fill(DESCRIPTION)
    journey.look("modulo senza account compilato")
    page.get_by_role("button", name="Invia", exact=True).click()

    # The confirmation: the code and the date by which the answer comes.
    expect(page.get_by_role("heading", level=1)).to_have_text("Grazie, la tua richiesta è stata inviata")
    panel = page.get_by_role("status").filter(has_text="Abbiamo ricevuto la tua richiesta")
    code = panel.locator("dt", has_text="Codice della pratica").locator("xpath=following-sibling::dd[1]")
    code = code.inner_text().strip()
    assert re.fullmatch(r"R-\d{4}-\d{6}", code), code
    complaint = Complaint.objects.get(code=code)
    assert complaint.customer is None
    assert complaint.sender_email == SENDER["Indirizzo e-mail"]
    expect(panel).to_contain_text(f"Ti rispondiamo entro il {complaint.answer_due_on:%d/%m/%Y}")
    journey.look("conferma con il codice")
    assert code in read_mail(demo), "the acknowledgement e-mail carries the code"

    # Later: ask for the tracking link with the code and the e-mail address.
    page.get_by_role("link", name="Segui la tua pratica").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Segui la tua pratica")
    page.get_by_label("Codice della pratica").fill(code)
    page.get_by_label("Indirizzo e-mail").fill(SENDER["Indirizzo e-mail"])
    page.get_by_role("button", name="Mandami il link").click()
    expect(page.get_by_role("status")).to_contain_text("riceverai a breve una e-mail con il link")
    journey.look("link richiesto")

    # The e-mail with the link (file backend), opened in the browser on the live server.
    mail = read_mail(demo)
    paths = TRACKING_LINK.findall(mail)
    assert paths, "the tracking e-mail has a link"
    journey.goto(paths[-1])

    # The case, as its sender sees it.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pratica {code}")
    # A supply we cannot identify makes the complaint an information request that asks for it (REGULATION.md).
    kind = f"{complaint.get_kind_display()} · {complaint.get_topic_display()}"
    expect(page.locator("main p.lead")).to_have_text(kind)
    expect(page.locator("main")).to_contain_text(DESCRIPTION)
    times = page.locator("section", has=page.get_by_role("heading", name="Tempi"))
    expect(times).to_contain_text(f"{complaint.answer_due_on:%d/%m/%Y}")
    expect(page.get_by_role("link", name="Copia del modulo inviato (PDF)")).to_be_visible()
    journey.look("pratica dal link")
