"""Staff pages at 1280 px: the invoice and default-notice lists show every column without a horizontal
scroll (totals, status, payment deadline and next step included), the customer page puts bills, payments,
complaints, notices and messages on one screen, and the reply snippets supervisors write reach the case."""

import os

import pytest
from django.core.management import call_command

from accounts.models import Customer
from billing.models import DefaultNotice
from complaints.models import Complaint
from tests.e2e.conftest import Journey
from tests.e2e.test_staff_answering import admin_screenshot

# How far the list's table reaches beyond its box: 0 when nothing is behind a horizontal scroll.
OVERFLOW = """() => { const box = document.querySelector('.results');
  return box ? box.scrollWidth - box.clientWidth : -1; }"""


@pytest.fixture
def desktop(browser, live_server, demo):
    tab = Journey(browser, live_server, "staff_lists", "desktop")
    yield tab
    tab.close()


def test_staff_lists(desktop):
    page = desktop.page
    desktop.log_in_admin("bollette@optima.example")

    desktop.goto("/admin/billing/invoice/")
    admin_screenshot(desktop, "bollette")
    assert page.evaluate(OVERFLOW) == 0
    headers = " ".join(page.locator("#result_list thead th").all_inner_texts()).lower()
    assert all(column in headers for column in ("importo", "scadenza", "stato"))

    # Mario's oldest bill is long overdue: the sweep prepares his default notice.
    call_command("run_deadlines", "--only", "billing.default_notices", stdout=open(os.devnull, "w"))
    assert DefaultNotice.objects.exists()
    desktop.goto("/admin/billing/defaultnotice/")
    admin_screenshot(desktop, "costituzioni in mora")
    assert page.evaluate(OVERFLOW) == 0

    mario = Customer.objects.get(email="mario.rossi@example.it")
    desktop.goto(f"/admin/accounts/customer/{mario.pk}/change/")
    admin_screenshot(desktop, "cliente")
    for title in (
        "Contratti",
        "Bollette",
        "Pagamenti",
        "Costituzioni in mora",
        "Reclami e richieste",
        "Comunicazioni",
    ):
        assert page.locator(".customer-overview h2", has_text=title).count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_reply_snippets(desktop):
    """A supervisor writes a snippet in admin; the officer adds it to a reply section with one click."""
    page = desktop.page
    desktop.log_in_admin("supervisore@optima.example")
    desktop.goto("/admin/complaints/replytemplate/")
    admin_screenshot(desktop, "modelli di risposta")
    desktop.goto("/admin/complaints/replysnippet/add/")
    page.get_by_label("Titolo:").fill("Autolettura")
    page.get_by_label("Sezione:").select_option("reply_conclusions")
    page.get_by_label("Testo:").fill("Per il caso {codice} può inviarci un'autolettura dall'Area Clienti.")
    admin_screenshot(desktop, "paragrafo pronto")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()

    case = Complaint.objects.filter(status__in=Complaint.OPEN_STATUSES).order_by("answer_due_on").first()
    desktop.goto(f"/admin/complaints/complaint/{case.pk}/change/")
    conclusions = page.get_by_label("Le nostre conclusioni:", exact=True)
    before = conclusions.input_value()
    page.get_by_role("button", name="Aggiungi a «Le nostre conclusioni»").click()
    after = conclusions.input_value()
    assert after.startswith(before.rstrip()) and after.endswith(
        f"Per il caso {case.code} può inviarci un'autolettura dall'Area Clienti."
    )
    page.locator(".reply-snippets").scroll_into_view_if_needed()
    desktop.screenshot("caso con paragrafi pronti")
