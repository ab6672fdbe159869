"""Journey: the customer activates direct debit on a contract (an invalid IBAN is refused next to the field),
sees the mandate on the payment page, then revokes it after confirming."""

from playwright.sync_api import expect

from contracts.models import SddMandate

MARIO = "mario.rossi@example.it"
ENERGY = "OPT-2025-0001001"


def test_customer_mandate(journey):
    page = journey.page
    journey.log_in(MARIO)
    journey.goto(f"/contratti/{ENERGY}/")
    page.get_by_role("link", name="Pagamento e invio delle bollette").click()
    journey.look("payment page")

    # The demo contract is on SDD without an online mandate: signing one gives it its reference.
    page.get_by_label("IBAN").fill("IT60 X054 2811 1010 0000 0123 457")
    page.get_by_label("Autorizzo l'addebito").check()
    page.get_by_role("button", name="Firma il mandato e attiva").click()
    expect(page.locator(".invalid-feedback, .invalid-feedback-block").first).to_contain_text(
        "L'IBAN non è valido"
    )
    journey.look("invalid iban")

    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.get_by_label("Autorizzo l'addebito").check()
    page.get_by_role("button", name="Firma il mandato e attiva").click()
    mandate = SddMandate.objects.get(contract__number=ENERGY)
    expect(page.get_by_role("alert").first).to_contain_text(mandate.reference)
    expect(page.get_by_text("DE89 •••• •••• 3000")).to_be_visible()
    journey.look("mandate active")

    page.get_by_role("link", name="Revoca l'addebito diretto").click()
    journey.look("revoke confirmation")
    page.get_by_role("button", name="Confermo: revoca l'addebito diretto").click()
    expect(page.get_by_role("alert").first).to_contain_text("Addebito diretto revocato")
    journey.screenshot("revoked")
