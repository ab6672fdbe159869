"""Journey 4: the billing officer runs the month's bills from admin. A month that has not ended is refused on
the form; once it has, the preview shows how many bills, their total and the contracts that would fail; the
confirmed run is a job whose page refreshes itself (no script) while the worker runs it, then shows the report,
whose figures are the preview's."""

from decimal import Decimal

from django.db.models import Max
from playwright.sync_api import expect

from billing import jobs, services
from billing.models import BillingJob, Invoice, InvoiceLine, Payment
from billing.services import LineSpec
from portal.lib import dates
from portal.lib.dates import add_days, add_months, first_of_month
from tests.e2e.test_staff_answering import admin_screenshot
from tests.factories import CustomerFactory, active_contract

BILLING_OFFICER = "bollette@optima.example"


def test_billing_run(journey, monkeypatch):
    from billing.tasks import run_billing_job

    page = journey.page
    # The demo has billed its last months; the next month to bill follows the last billed period.
    last_billed = Invoice.objects.filter(kind=Invoice.Kind.INVOICE).aggregate(last=Max("period_end"))["last"]
    month = first_of_month(add_days(last_billed, 1))
    while_running = add_days(month, 9)  # the month has not ended yet
    after_it = add_days(add_months(month, 1), 3)  # the 4th of the next month
    monkeypatch.setattr(dates, "today", lambda: while_running)
    # The worker is this test: the job stays queued until the test runs it, as a worker would pick it up.
    monkeypatch.setattr(run_billing_job, "delay", lambda job_id: None)

    journey.log_in_admin(BILLING_OFFICER)
    page.get_by_role("link", name="Lavori di fatturazione").first.click()
    page.get_by_role("link", name="Emetti le bollette del mese").click()
    page.fill("#id_period", f"{month:%Y-%m}")
    page.get_by_role("button", name="Anteprima").click()
    expect(page.locator(".errorlist")).to_contain_text(f"Il mese {month:%m/%Y} non è ancora finito")
    admin_screenshot(journey, "a month not ended is refused")

    monkeypatch.setattr(dates, "today", lambda: after_it)
    page.fill("#id_issued_on", after_it.isoformat())
    page.get_by_role("button", name="Anteprima").click()
    expect(page.locator("#preview")).to_be_visible()
    count = int(page.locator("#preview-count").inner_text())
    total = page.locator("#preview-total").inner_text()
    assert count > 0 and total.endswith("€")
    assert not Invoice.objects.filter(period_start=month).exists()  # the preview issued nothing
    admin_screenshot(journey, "preview with count total and failures")

    page.get_by_role("button", name=f"Emetti {count} bollett").click()
    expect(page.locator("#job-status")).to_have_text("In coda")
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    admin_screenshot(journey, "the job queued, its page refreshing itself")

    job = BillingJob.objects.get(status=BillingJob.Status.QUEUED)
    jobs.run_job(job.pk)  # the worker's part
    # The page reloads itself every 3 seconds: the report appears without the officer doing anything.
    expect(page.locator("#job-status")).to_have_text("Completato", timeout=15_000)
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    expect(page.locator("#report-count")).to_have_text(str(count))
    expect(page.locator("#report-total")).to_have_text(total)
    assert Invoice.objects.filter(period_start__gte=month, issued_on=after_it).count() == count
    admin_screenshot(journey, "the final report")

    page.get_by_role("link", name="Tutti i lavori di fatturazione").click()
    expect(page.locator("#result_list")).to_contain_text("Completato")
    admin_screenshot(journey, "the list of billing jobs")


def statement(*lines):
    text = "transaction_id;date;amount;method;customer;invoice\n" + "".join(line + "\n" for line in lines)
    return {"name": "estratto-conto.csv", "mimeType": "text/csv", "buffer": text.encode()}


def test_statement_and_matching(journey):
    page = journey.page
    today = dates.today()
    # Mario's latest bill, not due yet, is paid by bank transfer in a statement with two bad lines (paid on
    # time: no late-payment interest, whose rates the demo leaves to the migrations).
    unpaid = (
        Invoice.objects.filter(
            customer__user__email="mario.rossi@example.it",
            status__in=Invoice.OPEN_STATUSES,
            due_on__gte=today,
        )
        .order_by("-due_on")
        .first()
    )
    mixed = statement(
        f"BPM-1;{today:%d/%m/%Y};{unpaid.outstanding};bonifico;{unpaid.customer_code};{unpaid.number}",
        f"BPM-2;31/11/{today.year};10,00;bonifico;{unpaid.customer_code};",
        f"BPM-3;{today:%d/%m/%Y};10,00;bonifico;C999999999;",
    )
    # A new customer's payment received before their first bill: it paid nothing and waits as a credit.
    contract = active_contract(CustomerFactory(last_name="Esposito"))
    customer = contract.customer
    early = services.record_payment(
        customer=customer, amount=Decimal("20.00"), received_on=today, method="bank_transfer"
    )
    later_bill = services.issue_invoice(
        invoice=services.create_draft(
            contract=contract,
            period_start=first_of_month(today),
            period_end=today,
            lines=[
                LineSpec(kind=InvoiceLine.Kind.CHARGE, description="Conguaglio", unit_price=Decimal("20.00"))
            ],
        ),
        issued_on=today,
    )

    journey.log_in_admin(BILLING_OFFICER)
    page.get_by_role("link", name="Lavori di fatturazione").first.click()
    page.get_by_role("link", name="Importa un estratto conto").click()
    page.set_input_files("#id_statement", files=[mixed])
    page.get_by_role("button", name="Importa").click()
    expect(page.locator(".messagelist")).to_contain_text("Nessun pagamento registrato: 2 righe con errori")
    expect(page.locator("#statement-result")).to_contain_text("data non valida «31/11/")
    expect(page.locator("#statement-result")).to_contain_text("cliente sconosciuto «C999999999»")
    assert not Payment.objects.filter(transaction_id__startswith="BPM-").exists()
    admin_screenshot(journey, "a mixed statement imports nothing and lists every bad line")

    page.set_input_files("#id_statement", files=[mixed])
    page.get_by_label("Importa le righe corrette anche se altre hanno errori").check()
    page.get_by_role("button", name="Importa").click()
    expect(page.locator(".messagelist")).to_contain_text("1 pagamenti registrati")
    unpaid.refresh_from_db()
    assert unpaid.status == Invoice.Status.PAID
    admin_screenshot(journey, "the good lines imported on request")

    page.goto(journey.base + "/admin/billing/billingjob/")
    page.get_by_role("link", name="Pagamenti da abbinare").click()
    expect(page.locator("#unmatched")).to_contain_text(str(customer))
    admin_screenshot(journey, "payments that paid no bill")
    page.locator(f'a[href$="/da-abbinare/{early.pk}/"]').click()
    page.get_by_label("Bolletta da pagare").select_option(str(later_bill.pk))
    admin_screenshot(journey, "matching a payment to its bill")
    page.get_by_role("button", name="Abbina").click()
    expect(page.locator(".messagelist")).to_contain_text(f"abbinati alla bolletta {later_bill.number}")
    later_bill.refresh_from_db()
    assert later_bill.status == Invoice.Status.PAID
    admin_screenshot(journey, "matched")
