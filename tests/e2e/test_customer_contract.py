"""Journey 7: the customer sends a self-reading (a lower one is refused next to the field, a plausible higher one
is accepted), asks to withdraw from a contract and sees the date it takes effect before confirming; when time
travels to the renewal notice's due date, the notice is in Comunicazioni."""

import io
import re

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from contracts import services
from contracts.models import Contract, MeterReading, Service
from portal.lib.dates import add_days, add_months, rome_date

MARIO = "mario.rossi@example.it"
ENERGY = "OPT-2025-0001001"  # luce + gas + add-ons: its renewal notice is due in a month or two
COMMS = "OPT-2024-0000420"  # fibre + mobile, with a modem on loan: the one Mario leaves


def open_menu_item(journey, name):
    """The main menu, as the person reaches it: behind the "Apri il menu" button on a phone."""
    page = journey.page
    if journey.width_name == "phone":
        page.get_by_role("button", name="Apri il menu").click()
    menu = page.get_by_role("navigation", name="Navigazione principale")
    menu.get_by_role("link", name=name, exact=True).click()


def definition(scope, term):
    """The <dd> the person reads next to the <dt> `term`."""
    return scope.locator("dt", has_text=re.compile(f"^{re.escape(term)}$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def test_customer_contract(journey):
    page = journey.page
    energy = Contract.objects.get(number=ENERGY)
    electricity = energy.services.get(kind=Service.Kind.ELECTRICITY)
    last = MeterReading.objects.filter(service=electricity).order_by("-read_on", "-id").first()
    today = rome_date(timezone.now())
    renewal_subject = f"{settings.SUPPLIER['brand']} · Rinnovo del contratto {ENERGY}"

    journey.log_in(MARIO)
    open_menu_item(journey, "Contratti")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contratti e forniture")
    journey.look("contratti")

    page.get_by_role("link", name=f"Contratto n. {ENERGY}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contratto n. {ENERGY}")
    renewal = definition(page.locator("main"), "Comunicazione di rinnovo")
    expect(renewal).to_contain_text(f"te la invieremo entro il {energy.renewal_notice_due_on:%d/%m/%Y}")
    journey.look("contratto luce e gas")

    # Self-reading: lower than the last one → refused, with the reason next to the field.
    page.get_by_role("link", name="Letture e autolettura Luce").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fornitura di luce")
    reading = page.get_by_label("Lettura del contatore")
    reading.fill(str(last.value - 25))
    page.get_by_label("Data della lettura").fill(f"{today:%d/%m/%Y}")
    page.get_by_role("button", name="Invia la lettura").click()
    refusal = f"La lettura è più bassa dell'ultima registrata ({last.value} del {last.read_on:%d/%m/%Y})"
    field = page.locator("#div_id_value")
    expect(field).to_contain_text(refusal)
    expect(reading).to_have_attribute("aria-invalid", "true")
    described_by = reading.get_attribute("aria-describedby") or ""
    assert any(refusal in page.locator(f"[id='{name}']").inner_text() for name in described_by.split()), (
        "the refusal is announced with the field"
    )
    assert not MeterReading.objects.filter(service=electricity, value=last.value - 25).exists()
    journey.look("autolettura rifiutata")

    # A plausible higher one (well under 72 kWh a day at 3 kW) → accepted, in the history as "Tu".
    value = last.value + 40
    reading.fill(str(value))
    page.get_by_role("button", name="Invia la lettura").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Grazie: la lettura {value} kWh del {today:%d/%m/%Y} è registrata"
    )
    history = page.locator("section", has=page.get_by_role("heading", name="Storico delle letture"))
    expect(history.get_by_role("row").filter(has_text=str(value))).to_contain_text("Tu")
    journey.look("autolettura accettata")

    # Withdrawal from the fibre + mobile contract: step 1, what; step 2, when it takes effect, then confirm.
    comms = Contract.objects.get(number=COMMS)
    quote = services.quote_withdrawal(contract=comms, kind="deactivation", received_on=today)
    open_menu_item(journey, "Contratti")
    page.get_by_role("link", name=f"Contratto n. {COMMS}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contratto n. {COMMS}")
    page.get_by_role("link", name="Recesso", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recesso dal contratto")
    page.get_by_role("radio", name=re.compile("^Disattivazione")).check()
    journey.look("recesso passo 1")
    page.get_by_role("button", name="Continua: vedi date e costi").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Conferma il recesso")
    summary = page.locator("section", has=page.get_by_role("heading", name="Che cosa succede"))
    expect(definition(summary, "Efficace dal")).to_have_text(f"{quote.effective_on:%d/%m/%Y}")
    expect(definition(summary, "Riguarda")).to_have_text(f"tutto il contratto n. {COMMS}")
    (device, return_by), *_others = quote.devices
    devices = page.locator("section", has=page.get_by_role("heading", name="Dispositivi da restituire"))
    expect(devices.get_by_role("row").filter(has_text=device.serial_number)).to_contain_text(
        f"{return_by:%d/%m/%Y}"
    )
    assert not Contract.objects.get(number=COMMS).withdrawals.exists(), "nothing is sent before confirming"
    journey.look("recesso passo 2 con la data")
    page.get_by_role("button", name="Confermo il recesso").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Richiesta di recesso registrata")
    expect(definition(page.locator("main"), "Efficace dal")).to_have_text(f"{quote.effective_on:%d/%m/%Y}")
    journey.look("recesso registrato")

    # Comunicazioni: the withdrawal receipt, and no renewal notice yet.
    open_menu_item(journey, "Comunicazioni")
    expect(page.get_by_role("heading", level=1)).to_have_text("Comunicazioni")
    receipt = f"{settings.SUPPLIER['brand']} · Abbiamo ricevuto la tua richiesta di recesso"
    expect(page.get_by_role("link", name=receipt, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=renewal_subject, exact=True)).to_have_count(0)

    # Time travel to the day the renewal notice is due (3 months and 10 days before expiry).
    energy.refresh_from_db()
    due_on = energy.renewal_notice_due_on
    assert due_on == add_days(add_months(energy.expires_on, -3), -10)
    call_command("run_deadlines", "--now", due_on.isoformat(), stdout=io.StringIO())
    energy.refresh_from_db()
    assert energy.renewal_notice_sent_on == due_on and not energy.renewal_notice_late

    page.reload()
    notice = page.get_by_role("link", name=renewal_subject, exact=True)
    expect(notice).to_be_visible()
    journey.look("comunicazioni con il rinnovo")
    notice.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(renewal_subject)
    expect(page.locator("main")).to_contain_text(f"{energy.expires_on:%d/%m/%Y}")
    journey.look("comunicazione di rinnovo")
