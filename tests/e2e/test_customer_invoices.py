"""Journey 1: the customer sees what they owe, opens the latest bill, downloads its PDF and a ZIP of two bills."""

import io
import re
import zipfile

from django.utils import timezone, translation
from playwright.sync_api import expect

from accounts.models import Customer
from billing import selectors
from contracts.templatetags.contracts_tags import euro
from portal.lib.dates import rome_date
from tests.pdf_utils import pdf_text

MARIO = "mario.rossi@example.it"


def open_menu_item(journey, name):
    """The main menu, as the person reaches it: behind the "Apri il menu" button on a phone."""
    page = journey.page
    if journey.width_name == "phone":
        page.get_by_role("button", name="Apri il menu").click()
    menu = page.get_by_role("navigation", name="Navigazione principale")
    menu.get_by_role("link", name=name, exact=True).click()


def shown(text):
    """Text as a person reads it: no-break spaces are spaces."""
    return " ".join(text.replace("\N{NO-BREAK SPACE}", " ").split())


def test_customer_invoices(journey):
    page = journey.page
    mario = Customer.objects.get(user__email=MARIO)
    balance = selectors.balance_of(mario, today=rome_date(timezone.now()))
    assert balance.overdue > 0, "the demo leaves one of Mario's bills overdue"
    with translation.override("it"):
        outstanding, overdue = shown(euro(balance.outstanding)), shown(euro(balance.overdue))

    # Home: the Bollette card says how much is to pay, and how much of it is overdue.
    journey.log_in(MARIO)
    expect(page.get_by_role("heading", level=1)).to_have_text("La tua Area Clienti")
    invoices_card = page.locator("section.card", has=page.get_by_role("heading", name="Bollette"))
    expect(invoices_card).to_contain_text(f"Da pagare: {outstanding}")
    expect(invoices_card).to_contain_text(f"di cui {overdue} scaduti")
    journey.look("home con il saldo")

    # Bollette: the balance again, and this year's bills, newest first.
    open_menu_item(journey, "Bollette")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bollette")
    balance_card = page.locator("section", has=page.get_by_role("heading", name="Il tuo saldo"))
    expect(balance_card).to_contain_text(outstanding)
    expect(balance_card).to_contain_text(f"di cui {overdue} già scaduti")
    rows = page.locator("table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2
    journey.look("elenco delle bollette")

    latest = selectors.invoices_of(mario).first()
    latest_row = rows.first
    expect(latest_row.get_by_role("rowheader")).to_have_text(latest.number)
    latest_row.get_by_role("link", name=latest.number, exact=True).click()

    # The bill: number, total and due date as the person reads them.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bolletta n. {latest.number}")
    summary = page.locator("section", has=page.get_by_role("heading", name="In sintesi"))
    total = shown(
        summary.locator("dt", has_text=re.compile("^Totale$"))
        .locator("xpath=following-sibling::dd[1]")
        .inner_text()
    )
    total = total.split(" · ")[0]  # "45,67 € · pagati 45,67 €" when it is paid
    due = (
        summary.locator("div", has_text=re.compile("^Scadenza$"))
        .locator("xpath=following-sibling::div[1]")
        .inner_text()
        .strip()
    )
    assert re.fullmatch(r"[\d.]+,\d\d €", total), total
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", due), due
    assert due == f"{latest.due_on:%d/%m/%Y}"
    journey.look("dettaglio della bolletta")

    with page.expect_download() as info:
        summary.get_by_role("link", name="Scarica il PDF").click()
    download = info.value
    assert download.suggested_filename == f"bolletta-{latest.number.replace('/', '-')}.pdf"
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF")
    text = shown(pdf_text(data))
    assert latest.number in text
    assert total in text
    assert due in text

    # Back to the list: two bills selected, one ZIP with both PDFs.
    page.get_by_role("navigation", name="Percorso").get_by_role("link", name="Bollette").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bollette")
    chosen = [row.get_by_role("rowheader").inner_text().strip() for row in (rows.nth(0), rows.nth(1))]
    for number in chosen:
        page.get_by_role("checkbox", name=f"Seleziona la bolletta {number}").check()
    journey.screenshot("due bollette selezionate")
    with page.expect_download() as info:
        page.get_by_role("button", name="Scarica ZIP").click()
    download = info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"bolletta-{number.replace('/', '-')}.pdf" for number in chosen)
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
