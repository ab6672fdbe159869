"""Billing jobs in admin (issue 18, finding 4 and 5b): the month's invoice run through preview, a job and its
report; a statement uploaded all or nothing with a result per line; matching a payment that paid no bill;
a transaction id registered twice is a form error."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from billing import jobs, services
from billing.models import BillingJob, Credit, Invoice, InvoiceLine, Payment
from billing.services import LineSpec
from portal import roles
from portal.lib import dates
from tests.billing.test_generation import tariff  # noqa: F401  (the fixture)
from tests.factories import CustomerFactory, UserFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal
NOV_2, DEC_2 = date(2026, 11, 2), date(2026, 12, 2)
HEADER = "transaction_id;date;amount;method;customer;invoice\n"


def text(page) -> str:
    """The page as read: amounts are written with a non-breaking space before the euro sign."""
    return page.content.decode().replace("\N{NO-BREAK SPACE}", " ")


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(dates, "today", lambda: DEC_2)
    return DEC_2


def staff_client(client, role):
    user = UserFactory(email=f"{role.split()[0].lower()}@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[role])
    client.force_login(user)
    return client, user


@pytest.fixture
def officer(client):
    return staff_client(client, roles.BILLING_OFFICER)


@pytest.fixture
def contracts(tariff):  # noqa: F811
    from billing.generation import generate_invoices

    billed = [active_contract(), active_contract()]
    generate_invoices(period="2026-10", issued_on=NOV_2)
    return billed


RUN_URL = reverse("admin:billing_billingjob_add")


def run_form(period="2026-11", issued_on="2026-12-02", **extra):
    return {"period": period, "issued_on": issued_on, **extra}


class TestTheInvoiceRun:
    def test_preview_then_confirm_then_a_job_whose_report_matches_the_preview(
        self, officer, contracts, django_capture_on_commit_callbacks
    ):
        client, user = officer
        assert client.get(RUN_URL).status_code == 200

        page = client.post(RUN_URL, {**run_form(), "preview": "1"})
        assert page.status_code == 200
        preview = page.context["preview"]
        assert preview.invoice_count == 2 and page.context["previewed"] == "2026-11|2026-12-02|0"
        assert "Emetti 2 bollette" in page.content.decode()
        assert not Invoice.objects.filter(period_start=date(2026, 11, 1)).exists()  # a preview issues nothing

        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(RUN_URL, {**run_form(), "confirm": "1", "previewed": "2026-11|2026-12-02|0"})
        job = BillingJob.objects.get()
        assert done.status_code == 302 and done["Location"] == reverse(
            "admin:billing_billingjob_change", args=[job.pk]
        )
        assert (job.requested_by, job.period, job.issued_on, job.status) == (
            user,
            date(2026, 11, 1),
            DEC_2,
            "done",
        )
        november = Invoice.objects.filter(period_start=date(2026, 11, 1))
        assert job.report["created"] == november.count() == preview.invoice_count
        assert D(job.report["total"]) == preview.total == sum(invoice.total for invoice in november)
        assert (job.contracts_done, job.contracts_total) == (2, 2)

        report = client.get(done["Location"])
        html = report.content.decode()
        assert "Completato" in html and 'http-equiv="refresh"' not in html
        assert job.report["invoices"][0] in html and "Resoconto" in html
        issued = client.get(
            reverse("admin:billing_invoice_changelist")
            + "?issued_on__year=2026&issued_on__month=12&issued_on__day=2"
        )
        assert issued.status_code == 200 and issued.context["cl"].result_count == 2

    def test_a_confirm_with_other_values_than_previewed_is_previewed_again(self, officer, contracts):
        client, _ = officer
        page = client.post(RUN_URL, {**run_form(), "confirm": "1", "previewed": "2026-10|2026-12-02|0"})
        assert page.status_code == 200 and page.context["preview"] is not None
        assert not BillingJob.objects.exists()

    @pytest.mark.parametrize(
        ("period", "message"),
        [
            ("2026-12", "Il mese 12/2026 non è ancora finito"),
            ("2027-03", "Il mese 03/2027 non è ancora finito"),
        ],
    )
    def test_a_month_not_ended_is_refused_on_the_form(self, officer, contracts, period, message):
        client, _ = officer
        for button in ("preview", "confirm"):
            page = client.post(RUN_URL, {**run_form(period=period), button: "1"})
            assert page.status_code == 200
            assert message in page.content.decode()
        assert not BillingJob.objects.exists()
        assert not Invoice.objects.filter(period_start__gte=date(2026, 11, 1)).exists()

    def test_contracts_that_would_fail_are_listed_in_the_preview_and_the_report(
        self, officer, contracts, django_capture_on_commit_callbacks
    ):
        client, _ = officer
        broken = active_contract(offer_name="Offerta sconosciuta")
        page = client.post(RUN_URL, {**run_form(), "preview": "1"}).content.decode()
        assert broken.number in page and "Nessuna tariffa per l&#x27;offerta" in page
        with django_capture_on_commit_callbacks(execute=True):
            client.post(RUN_URL, {**run_form(), "confirm": "1", "previewed": "2026-11|2026-12-02|0"})
        job = BillingJob.objects.get()
        assert job.report["errors"][0]["contract"] == broken.number
        assert (
            broken.number
            in client.get(reverse("admin:billing_billingjob_change", args=[job.pk])).content.decode()
        )

    def test_the_progress_page_refreshes_itself_while_the_job_runs(self, officer):
        client, _ = officer
        job = BillingJob.objects.create(
            period=date(2026, 11, 1),
            issued_on=DEC_2,
            status=BillingJob.Status.RUNNING,
            contracts_done=3,
            contracts_total=12,
            heartbeat_at=timezone.now(),
        )
        page = client.get(reverse("admin:billing_billingjob_change", args=[job.pk])).content.decode()
        assert '<meta http-equiv="refresh" content="3">' in page
        assert "Contratti elaborati: 3 di 12" in page and 'value="25"' in page
        assert "Rimetti in coda" not in page

    def test_a_job_whose_worker_was_lost_is_taken_over_and_issues_nothing_twice(self, contracts):
        job = jobs.start_invoice_run(month=date(2026, 11, 1), issued_on=DEC_2, today=DEC_2)
        assert jobs.run_job(job.pk).status == "done"
        assert jobs.run_job(job.pk) is None  # a second delivery: already done
        stale = BillingJob.objects.create(
            period=date(2026, 11, 1),
            issued_on=DEC_2,
            status=BillingJob.Status.RUNNING,
            heartbeat_at=timezone.now() - timedelta(minutes=10),
        )
        assert jobs.run_job(stale.pk, now=timezone.now() - timedelta(minutes=20)) is None  # still alive then
        taken_over = jobs.run_job(stale.pk)
        assert taken_over.report["created"] == 0 and taken_over.report["already_billed"] == 2
        assert Invoice.objects.filter(period_start=date(2026, 11, 1)).count() == 2

    def test_a_complaints_officer_cannot_run_the_invoices(self, client, contracts):
        staff_client(client, roles.COMPLAINTS_OFFICER)
        assert client.get(RUN_URL).status_code == 403
        assert client.post(RUN_URL, {**run_form(), "confirm": "1"}).status_code == 403
        assert client.get(reverse("admin:billing_billingjob_statement")).status_code == 403


def bill(customer, *, issued_on=NOV_2, price="44.80"):
    """A bill of 49.28 € (44.80 + 10% VAT)."""
    draft = services.create_draft(
        contract=active_contract(customer),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        lines=[
            LineSpec(
                kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=D(price), vat_rate=D("10")
            )
        ],
    )
    return services.issue_invoice(invoice=draft, issued_on=issued_on)


@pytest.fixture
def mario(db):
    return CustomerFactory(
        code="C000100001", codice_fiscale="RSSMRA80A01F839W", user__email="mario@example.it"
    )


def upload(client, text, **extra):
    statement = SimpleUploadedFile("estratto.csv", (HEADER + text).encode(), content_type="text/csv")
    return client.post(reverse("admin:billing_billingjob_statement"), {"statement": statement, **extra})


class TestTheStatement:
    MIXED = (
        "OK-1;03/11/2026;10,00;bonifico;C000100001;\n"
        "BAD-DATE;31/11/2026;10,00;bonifico;C000100001;\n"
        "WHO;03/11/2026;10,00;bonifico;C999999999;\n"
        "OK-2;04/11/2026;20.00;carta;C000100001;\n"
    )

    def test_a_mixed_file_imports_nothing_and_lists_every_bad_line(self, officer, mario):
        client, _ = officer
        page = upload(client, self.MIXED)
        assert page.status_code == 200
        assert not Payment.objects.exists()
        html = page.content.decode()
        assert "Nessun pagamento registrato: 2 righe con errori" in html
        assert [(line.line, line.outcome) for line in page.context["result"].lines] == [
            (2, "imported"),
            (3, "error"),
            (4, "error"),
            (5, "imported"),
        ]
        assert "data non valida «31/11/2026»" in html and "cliente sconosciuto «C999999999»" in html
        assert html.count("Corretta, non registrata") == 2

    def test_importing_the_good_lines_is_a_choice(self, officer, mario):
        client, user = officer
        page = upload(client, self.MIXED, partial="on")
        assert set(Payment.objects.values_list("transaction_id", flat=True)) == {"OK-1", "OK-2"}
        assert {payment.registered_by for payment in Payment.objects.all()} == {user}
        assert "2 pagamenti registrati (30,00 €), 0 già importati, 2 righe escluse." in text(page)

    def test_a_clean_file_is_recorded_with_the_bill_each_line_paid(self, officer, mario):
        client, _ = officer
        invoice = bill(mario)
        page = upload(client, f"T1;05/11/2026;49,28;bonifico;C000100001;{invoice.number}\n").content.decode()
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
        assert f"{invoice.number} 49,28 €" in page and "Importato" in page

    def test_a_file_that_is_not_a_statement_is_a_form_error(self, officer):
        client, _ = officer
        page = client.post(
            reverse("admin:billing_billingjob_statement"),
            {"statement": SimpleUploadedFile("x.csv", b"nome;cognome\nMario;Rossi\n")},
        )
        assert page.status_code == 200
        assert "colonne transaction_id, date, amount, method, customer mancanti" in page.content.decode()


class TestMatching:
    def test_a_payment_that_paid_no_bill_is_matched_to_a_bill_issued_later(self, officer, mario):
        client, _ = officer
        payment = services.record_payment(
            customer=mario, amount=D("49.28"), received_on=date(2026, 11, 1), method="bank_transfer"
        )
        credit = Credit.objects.get(source_key=f"overpayment:{payment.pk}")
        invoice = bill(mario)

        listing = text(client.get(reverse("admin:billing_billingjob_unmatched")))
        assert (
            "49,28 €" in listing and reverse("admin:billing_billingjob_match", args=[payment.pk]) in listing
        )

        url = reverse("admin:billing_billingjob_match", args=[payment.pk])
        assert invoice.number in client.get(url).content.decode()
        response = client.post(url, {"invoice": invoice.pk})
        assert response.status_code == 302

        invoice.refresh_from_db(), credit.refresh_from_db()
        assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, D("49.28"))
        assert credit.remaining == D("0.00")  # the next bill no longer deducts it
        assert payment.allocations.get().invoice == invoice
        assert (
            "Nessun pagamento da abbinare"
            in client.get(reverse("admin:billing_billingjob_unmatched")).content.decode()
        )
        assert client.get(url).status_code == 404  # nothing left to match

    def test_only_the_customers_own_open_bills_are_offered(self, officer, mario):
        client, _ = officer
        other = bill(CustomerFactory())
        payment = services.record_payment(
            customer=mario, amount=D("10.00"), received_on=date(2026, 11, 1), method="bank_transfer"
        )
        url = reverse("admin:billing_billingjob_match", args=[payment.pk])
        assert "non ha bollette da pagare" in client.get(url).content.decode()
        page = client.post(url, {"invoice": other.pk})
        assert page.status_code == 200 and other.amount_paid == 0


class TestDuplicateTransaction:
    def test_registering_a_transaction_id_twice_is_a_form_error_not_a_500(self, officer, mario):
        client, _ = officer
        services.record_payment(
            customer=mario,
            amount=D("10.00"),
            received_on=date(2026, 11, 1),
            method="bank_transfer",
            transaction_id="CRO-123",
        )
        page = client.post(
            reverse("admin:billing_payment_add"),
            {
                "customer": mario.pk,
                "amount": "10,00",
                "received_on": "2026-11-02",
                "method": "bank_transfer",
                "transaction_id": " CRO-123 ",
            },
        )
        assert page.status_code == 200
        assert "Questa operazione è già registrata: pagamento di 10,00 € del 01/11/2026" in text(page)
        assert Payment.objects.count() == 1
