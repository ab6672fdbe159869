"""Journey 2: the customer files a billing complaint on the electricity supply with a PDF attached, gets the code
and the answer-by date, downloads the copy of the filed form and finds the acknowledgement in Comunicazioni.
And the same form, completed and sent with the keyboard alone."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from complaints.models import Complaint
from contracts.models import Service
from tests.pdf_utils import pdf_text

MARIO = "mario.rossi@example.it"
DESCRIPTION = "Nella bolletta di ottobre la quota fissa della luce è addebitata due volte."


def small_pdf(path, text="Bolletta contestata"):
    """A one-page PDF, small but real (it passes the content sniffing of the attachments)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def open_menu_item(journey, name):
    """The main menu, as the person reaches it: behind the "Apri il menu" button on a phone."""
    page = journey.page
    if journey.width_name == "phone":
        page.get_by_role("button", name="Apri il menu").click()
    menu = page.get_by_role("navigation", name="Navigazione principale")
    menu.get_by_role("link", name=name, exact=True).click()


def filed_panel_facts(page):
    """The code and the answer-by date, read from the confirmation the person sees."""
    panel = page.get_by_role("status").filter(has_text="Abbiamo ricevuto la tua richiesta")
    expect(panel).to_be_visible()
    code = panel.locator("dt", has_text="Codice della pratica").locator("xpath=following-sibling::dd[1]")
    due = panel.locator("dt", has_text="Ti rispondiamo entro il").locator("xpath=following-sibling::dd[1]")
    return panel, code.inner_text().strip(), due.locator("strong").inner_text().strip()


def test_customer_complaint(journey, tmp_path):
    page = journey.page
    electricity = Service.objects.get(contract__number="OPT-2025-0001001", kind=Service.Kind.ELECTRICITY)
    attachment = small_pdf(tmp_path / "bolletta-contestata.pdf")

    journey.log_in(MARIO)
    page.get_by_role("link", name="Reclami e richieste").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reclami e richieste")
    journey.look("le mie pratiche")

    page.get_by_role("link", name="Nuovo reclamo o richiesta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invia un reclamo o una richiesta")
    supply = page.get_by_label("Contratto o fornitura")
    supply.select_option(value=f"service:{electricity.pk}")
    expect(supply.locator("option:checked")).to_contain_text(f"Luce · {electricity.pod}")
    page.get_by_role("radio", name=re.compile(r"^Reclamo scritto · risposta entro")).check()
    page.get_by_role("radio", name="Fatturazione", exact=True).check()
    page.get_by_label("Descrizione").fill(DESCRIPTION)
    page.get_by_label("Allegati").set_input_files(attachment)
    journey.look("modulo compilato")
    page.get_by_role("button", name="Invia", exact=True).click()

    # The confirmation: the code and the date by which the answer comes.
    panel, code, due = filed_panel_facts(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pratica {code}")
    complaint = Complaint.objects.get(code=code)
    assert complaint.customer.user.email == MARIO
    assert complaint.service_id == electricity.pk
    assert complaint.topic == Complaint.Topic.BILLING
    assert due == f"{complaint.answer_due_on:%d/%m/%Y}"
    expect(page.get_by_role("paragraph").filter(has_text=DESCRIPTION)).to_be_visible()
    expect(page.get_by_role("link", name="bolletta-contestata.pdf").first).to_be_visible()
    journey.look("conferma con codice e data")

    # The copy of the filed form, pre-filled: it carries the code.
    with page.expect_download() as info:
        panel.get_by_role("link", name="Scarica la copia in PDF").click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"%PDF")
    assert code in pdf_text(data)

    # Comunicazioni: the acknowledgement, with the code and the date.
    open_menu_item(journey, "Comunicazioni")
    expect(page.get_by_role("heading", level=1)).to_have_text("Comunicazioni")
    subject = f"{settings.SUPPLIER['brand']} · Abbiamo ricevuto la tua richiesta {code}"
    acknowledgement = page.get_by_role("link", name=subject, exact=True)
    expect(acknowledgement).to_be_visible()
    journey.look("comunicazioni con la conferma")
    acknowledgement.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.locator("main")).to_contain_text(f"entro il {due}")
    journey.look("conferma nelle comunicazioni")


def tab_to(page, target, *, limit=60):
    """Press Tab until `target` has the focus, as a keyboard user does; fail if it never gets there."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never got the focus with Tab")


def arrow_to(page, target, *, limit=20):
    """Inside a radio group, move with the arrow keys (which also choose) until `target` is focused."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{target} never got the focus with the arrow keys")


@pytest.mark.parametrize("journey", ["desktop"], indirect=True)
def test_complaint_form_by_keyboard_only(journey):
    page = journey.page
    journey.log_in(MARIO)
    journey.goto("/reclami/nuovo/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Invia un reclamo o una richiesta")

    # The supply: the electricity one is already chosen; the keyboard passes over it.
    supply = page.get_by_label("Contratto o fornitura")
    tab_to(page, supply)
    expect(supply.locator("option:checked")).to_contain_text("Luce ·")

    # Kind: "Reclamo" is already chosen; the focus lands on it.
    complaint_kind = page.get_by_role("radio", name=re.compile(r"^Reclamo scritto · risposta entro"))
    page.keyboard.press("Tab")
    expect(complaint_kind).to_be_focused()
    expect(complaint_kind).to_be_checked()

    # Topic: Tab into the group, arrows to "Fatturazione", Space to be sure it is chosen.
    page.keyboard.press("Tab")
    billing = page.get_by_role("radio", name="Fatturazione", exact=True)
    arrow_to(page, billing)
    page.keyboard.press("Space")
    expect(billing).to_be_checked()

    description = page.get_by_label("Descrizione")
    tab_to(page, description)
    page.keyboard.type(DESCRIPTION)

    send = page.get_by_role("button", name="Invia", exact=True)
    tab_to(page, send)
    journey.screenshot("pronto da inviare con la tastiera")
    page.keyboard.press("Enter")

    _panel, code, due = filed_panel_facts(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pratica {code}")
    complaint = Complaint.objects.get(code=code)
    assert complaint.topic == Complaint.Topic.BILLING
    assert complaint.kind == Complaint.Kind.COMPLAINT
    assert complaint.service.kind == Service.Kind.ELECTRICITY
    assert complaint.description == DESCRIPTION
    assert due == f"{complaint.answer_due_on:%d/%m/%Y}"
    journey.look("inviato con la tastiera")
