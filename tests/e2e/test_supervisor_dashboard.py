"""Journey: the supervisor watches the clocks. From the admin index to the dashboard (per officer and for the
team), a number to the complaint queue it counts, which fits 1280 px without scrolling sideways; then the
deadline sweeps' runs, which supervisors now see. The officer's own queue opens on their open cases."""

import re

import pytest
from playwright.sync_api import expect

from complaints.models import Complaint
from tests.e2e.conftest import Journey
from tests.e2e.test_staff_answering import admin_screenshot

SUPERVISOR = "supervisore@optima.example"
OFFICER = "reclami@optima.example"
NO_SIDEWAYS_SCROLL = """() => [document.querySelector('#changelist .results'), document.documentElement]
    .map(element => element.scrollWidth - element.clientWidth)"""


@pytest.fixture
def desktop(browser, live_server, demo):
    tab = Journey(browser, live_server, "supervisor_dashboard", "desktop")
    yield tab
    tab.close()


def listed_count(page):
    """The list's own count, "N reclami e richieste" under the table."""
    text = page.locator("#changelist .paginator").inner_text()
    return int(re.search(r"\d+", text).group())


def test_supervisor_dashboard(desktop):
    journey, page = desktop, desktop.page
    # The demo's open case near its deadline, which Luca holds.
    near = Complaint.objects.filter(answered_on__isnull=True, assignee__email=OFFICER).earliest(
        "answer_due_on"
    )

    journey.log_in_admin(SUPERVISOR)
    admin_screenshot(journey, "pagina iniziale con il cruscotto")
    page.get_by_role("link", name=re.compile("Scadenze di oggi")).click()
    expect(page.locator("h1")).to_have_text("Cruscotto delle scadenze")
    table = page.locator(".staff-dashboard table").first
    luca = table.locator("tr", has_text="Luca Romano")
    expect(luca).to_be_visible()
    expect(table.locator("tr", has_text="Non assegnati")).to_be_visible()
    expect(table.locator("tr.team")).to_contain_text("Tutta la squadra")
    admin_screenshot(journey, "cruscotto delle scadenze")

    # Luca's "due within 5 days": the demo's open case near its deadline, and the list shows just as many.
    due_soon = luca.locator("td").nth(1).get_by_role("link")
    expected = int(due_soon.inner_text())
    assert expected >= 1
    due_soon.click()
    expect(page.locator("#result_list")).to_contain_text(near.code)
    assert listed_count(page) == expected
    assert page.evaluate(NO_SIDEWAYS_SCROLL) == [0, 0]
    admin_screenshot(journey, "casi di Luca in scadenza entro 5 giorni")

    # The whole team's open queue, as a supervisor opens it: topic, received and assignee in view at 1280 px.
    page.goto(journey.base + "/admin/complaints/complaint/")
    assert "stato=aperti" in page.url and "assegnato" not in page.url
    header = page.locator("#result_list thead")
    for heading in ("ricevuto il", "tipo e argomento", "stato e assegnatario"):
        expect(header).to_contain_text(heading, ignore_case=True)
    expect(page.locator("#result_list tbody tr", has_text=near.code)).to_contain_text("Luca Romano")
    assert page.evaluate(NO_SIDEWAYS_SCROLL) == [0, 0]
    admin_screenshot(journey, "coda dei reclami aperti della squadra")

    # Every case, answered ones included, still fits.
    page.locator("#changelist-filter").get_by_role("link", name=re.compile("Cancella tutti i filtri")).click()
    assert "stato=tutti" in page.url
    assert listed_count(page) == Complaint.objects.count()
    assert page.evaluate(NO_SIDEWAYS_SCROLL) == [0, 0]
    admin_screenshot(journey, "tutti i reclami")

    # The deadline sweeps, from the dashboard: no longer 403 for a supervisor.
    page.goto(journey.base + "/admin/cruscotto/")
    page.locator("tr", has_text="Controlli fermi").get_by_role("link").click()
    expect(page.locator("h2", has_text="Scadenze legali: situazione attuale")).to_be_visible()
    expect(page.locator("#result_list")).to_be_visible()
    admin_screenshot(journey, "esecuzioni dei controlli scadenze")

    # The officer's queue opens on their own open cases.
    journey.context.clear_cookies()
    journey.log_in_admin(OFFICER)
    page.goto(journey.base + "/admin/complaints/complaint/")
    assert "assegnato=me" in page.url and "stato=aperti" in page.url
    expect(page.locator("#result_list")).to_contain_text(near.code)
    assert (
        listed_count(page)
        == Complaint.objects.filter(assignee__email=OFFICER, status__in=Complaint.OPEN_STATUSES).count()
    )
    assert page.evaluate(NO_SIDEWAYS_SCROLL) == [0, 0]
    admin_screenshot(journey, "coda dell'addetto: i miei aperti")
