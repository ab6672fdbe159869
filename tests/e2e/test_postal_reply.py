"""Journey: a letter from someone who is not a customer and gave no e-mail address. The complaints officer
registers it and sends the reply; the reply waits in "Lettere da spedire", where the billing officer records
the posting; the case is answered on the posting date, not on the day the reply was written."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from complaints.models import Complaint
from portal.lib.dates import rome_date
from portal.notifications.models import Communication
from tests.pdf_utils import pdf_text

OFFICER = "reclami@optima.example"
MAILROOM = "bollette@optima.example"

REPLY = {
    "Il Suo reclamo": "Ci ha scritto di aver ricevuto una nostra bolletta intestata a un altro nominativo.",
    "Le nostre verifiche": "Abbiamo verificato le nostre anagrafiche: a Suo nome non risulta alcuna fornitura.",
    "Le nostre conclusioni": "La bolletta Le è arrivata per errore di recapito: non deve pagare nulla.",
    "I Suoi diritti": "Se la risposta non La soddisfa può rivolgersi al Servizio Conciliazione di ARERA, senza costi.",
}


def admin_screenshot(journey, label):
    """An admin page from the top: Django's sticky sidebar otherwise lands mid-page in a full-page shot."""
    journey.page.evaluate("window.scrollTo(0, 0)")
    journey.screenshot(label)


def shown(text):
    return " ".join(text.replace("\N{NO-BREAK SPACE}", " ").split())


def test_postal_reply(journey):
    page = journey.page
    today = rome_date(timezone.now())
    received, sent = today - timedelta(days=5), today - timedelta(days=7)

    # The letter arrives: no customer, no e-mail, only the address to reply to.
    journey.log_in_admin(OFFICER)
    journey.goto("/admin/complaints/complaint/add/")
    page.select_option("#id_channel", "letter")
    page.fill("#id_sent_on", sent.isoformat())
    page.fill("#id_received_on", received.isoformat())
    page.fill("#id_sender_name", "Anna Ferrero")
    page.select_option("#id_kind", "information_request")
    page.select_option("#id_topic", "fatturazione")
    page.fill("#id_description", "Mi è arrivata una vostra bolletta, ma non sono vostra cliente.")
    page.fill("#id_reply_address", "Via Garibaldi 12, 10122 Torino (TO)")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    complaint = Complaint.objects.get(sender_name="Anna Ferrero")

    # The reply, written and sent: it goes to the letters to post, and the case is not answered yet.
    journey.goto(f"/admin/complaints/complaint/{complaint.pk}/change/")
    for heading, text in REPLY.items():
        page.get_by_label(f"{heading}:", exact=True).fill(text)
    page.get_by_role("button", name="Salva", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    page.get_by_role("link", name="Invia la risposta…").click()
    expect(page.locator("#content-main")).to_contain_text("la lettera va per posta ordinaria")
    expect(page.locator("#content-main")).to_contain_text(
        "Data di invio: la data di spedizione che registrerai nelle Lettere da spedire."
    )
    admin_screenshot(journey, "invio della risposta per posta")
    page.get_by_role("button", name="Invia la risposta", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("La lettera di risposta è nelle Lettere da spedire")
    panel = page.locator(".reply-to-post")
    expect(panel).to_contain_text("Risposta da spedire per posta")
    expect(page.locator(".field-deadline")).to_contain_text("risposta da spedire per posta")
    expect(page.locator("#content-main")).not_to_contain_text("Risposto il")
    admin_screenshot(journey, "caso con la risposta da spedire")

    # Printing and posting take days: the letter was written three days ago (moved back here) and goes
    # to the post office yesterday.
    reply = Communication.objects.get(template_key="complaint_reply", about_id=complaint.pk)
    Communication.objects.filter(pk=reply.pk).update(created_at=timezone.now() - timedelta(days=3))
    posted = today - timedelta(days=1)

    # The mailroom: both letters of the case (the copy of the form, the reply) are in "Lettere da spedire".
    journey.context.clear_cookies()
    journey.log_in_admin(MAILROOM)
    journey.goto("/admin/notifications/lettertopost/")
    rows = page.locator("#result_list tbody tr", has_text="Anna Ferrero")
    expect(rows).to_have_count(2)
    row = rows.filter(has_text="La nostra risposta")
    expect(row).to_contain_text("Posta ordinaria")
    expect(row).to_contain_text("10122 Torino (TO)")
    admin_screenshot(journey, "lettere da spedire")
    pdf = page.request.get(
        journey.base + row.get_by_role("link", name="Scarica il PDF").get_attribute("href")
    )
    letter = shown(pdf_text(pdf.body()))
    assert "Anna Ferrero" in letter and shown(REPLY["Le nostre conclusioni"]) in letter

    row.get_by_role("link", name="Registra spedizione").click()
    expect(page.locator("#content h1")).to_have_text("Registra la spedizione della lettera")
    expect(page.locator("#id_tracking_number")).to_have_count(0)
    page.fill("#id_dispatched_on", posted.isoformat())
    admin_screenshot(journey, "registra la spedizione")
    page.get_by_role("button", name="Registra").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Spedizione registrata: lettera in posta ordinaria del {posted:%d/%m/%Y}."
    )
    # Only the copy of the form is left to post.
    expect(rows).to_have_count(1)
    expect(rows.filter(has_text="La nostra risposta")).to_have_count(0)

    # The case: answered on the posting date, the clock stopped there.
    journey.goto(f"/admin/complaints/complaint/{complaint.pk}/change/")
    expect(page.locator(".reply-to-post")).to_have_count(0)
    expect(page.locator(".field-deadline")).to_contain_text(f"risposto il {posted:%d/%m/%Y}")
    expect(page.locator("#content-main")).to_contain_text(f"Risposto il: {posted:%d/%m/%Y}")
    admin_screenshot(journey, "caso risposto alla data di spedizione")
    complaint.refresh_from_db()
    assert complaint.answered_on == posted and complaint.status == Complaint.Status.ANSWERED
