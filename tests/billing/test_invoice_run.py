"""The invoice run bills only what has happened (issue 18, finding 2): on 02/12/2026 a month that has not ended
is refused (closing bills aside), a contract's periods are billed in order, never skipping one, and the
preview shows exactly what the run then issues."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from billing.generation import check_run, generate_invoices, preview_invoices
from billing.models import Invoice, InvoiceCounter
from contracts.models import Contract
from portal.lib import dates
from tests.billing.test_generation import tariff  # noqa: F401  (the fixture)
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

NOV_2, DEC_2, JAN_4 = date(2026, 11, 2), date(2026, 12, 2), date(2027, 1, 4)


@pytest.fixture
def today(monkeypatch):
    """The day of the finding: 02/12/2026, October already billed."""
    monkeypatch.setattr(dates, "today", lambda: DEC_2)
    return DEC_2


@pytest.fixture
def contracts(tariff):  # noqa: F811
    billed = [active_contract(), active_contract(), active_contract()]
    assert len(generate_invoices(period="2026-10", issued_on=NOV_2).created) == 3
    return billed


def command(*args):
    out, err = StringIO(), StringIO()
    call_command("generate_invoices", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue()


class TestAMonthIsBilledOnceItHasEnded:
    def test_march_2027_is_refused_on_2_december_and_nothing_is_issued(self, today, contracts):
        with pytest.raises(CommandError, match=r"Il mese 03/2027 non è ancora finito: .* dal 01/04/2027"):
            command("--period", "2027-03")
        assert Invoice.objects.count() == 3

    def test_the_current_month_is_refused_on_its_second_day(self, today, contracts):
        with pytest.raises(CommandError, match=r"Il mese 12/2026 non è ancora finito"):
            command("--period", "2026-12")
        assert not Invoice.objects.filter(period_start=date(2026, 12, 1)).exists()

    def test_the_month_just_ended_is_billed(self, today, contracts):
        out = command("--period", "2026-11")
        assert "3 created, 0 skipped (already billed)" in out
        november = Invoice.objects.filter(period_start=date(2026, 11, 1))
        assert november.count() == 3
        assert {invoice.issued_on for invoice in november} == {DEC_2}

    def test_an_issue_date_after_today_is_refused(self, today, contracts):
        with pytest.raises(CommandError, match="Le bollette non si emettono con una data futura"):
            command("--period", "2026-11", "--issued-on", "2026-12-03")

    def test_the_service_itself_refuses_a_month_not_ended_by_the_issue_date(self, contracts):
        with pytest.raises(ValidationError, match="non è ancora finito"):
            generate_invoices(period="2026-12", issued_on=DEC_2)
        with pytest.raises(ValidationError):
            check_run(month=date(2026, 11, 1), issued_on=date(2026, 12, 3), today=DEC_2)


class TestClosingBills:
    def test_before_the_month_ends_only_the_closing_bill_of_a_supply_already_ended_is_issued(
        self, monkeypatch, contracts
    ):
        generate_invoices(period="2026-11", issued_on=DEC_2)
        ended, ending, running = contracts
        Contract.objects.filter(pk=ended.pk).update(
            status=Contract.Status.TERMINATED, terminated_on=date(2026, 12, 2)
        )
        Contract.objects.filter(pk=ending.pk).update(
            status=Contract.Status.TERMINATING, terminates_on=date(2026, 12, 20)
        )
        monkeypatch.setattr(dates, "today", lambda: date(2026, 12, 3))

        out = command("--period", "2026-12", "--closing-only")

        assert "1 created" in out
        closing = Invoice.objects.get(period_start=date(2026, 12, 1))
        assert closing.contract == ended and closing.is_closing
        assert (closing.period_start, closing.period_end) == (date(2026, 12, 1), date(2026, 12, 1))
        assert not ending.invoices.filter(period_start=date(2026, 12, 1)).exists()
        assert not running.invoices.filter(period_start=date(2026, 12, 1)).exists()


class TestNoPeriodIsSkipped:
    def test_billing_december_with_november_unbilled_is_refused_for_each_contract(self, contracts):
        report = generate_invoices(period="2026-12", issued_on=JAN_4)

        assert report.created == []
        assert sorted(e.contract_number for e in report.errors) == sorted(c.number for c in contracts)
        assert report.errors[0].message == (
            "Il periodo dal 01/11/2026 al 30/11/2026 non è ancora fatturato: emettere prima quella bolletta "
            "(ultima bolletta fino al 31/10/2026)."
        )
        assert not Invoice.objects.filter(period_start=date(2026, 12, 1)).exists()

    def test_in_order_every_month_is_billed(self, contracts):
        generate_invoices(period="2026-11", issued_on=DEC_2)
        report = generate_invoices(period="2026-12", issued_on=JAN_4)
        assert len(report.created) == 3 and report.errors == []

    def test_march_2027_on_1_april_with_january_and_february_unbilled_is_refused(self, contracts):
        generate_invoices(period="2026-11", issued_on=DEC_2)
        generate_invoices(period="2026-12", issued_on=JAN_4)
        report = generate_invoices(period="2027-03", issued_on=date(2027, 4, 1))
        assert report.created == [] and len(report.errors) == 3
        assert "dal 01/01/2027 al 28/02/2027 non è ancora fatturato" in report.errors[0].message


class TestPreview:
    def test_the_preview_shows_what_the_run_then_issues_and_issues_nothing(self, today, contracts):
        broken = active_contract(offer_name="Offerta sconosciuta")
        counter_before = list(InvoiceCounter.objects.values_list("year", "last_number"))

        preview = preview_invoices(period="2026-11", issued_on=DEC_2)

        assert Invoice.objects.count() == 3  # October's, nothing more
        assert list(InvoiceCounter.objects.values_list("year", "last_number")) == counter_before
        assert preview.invoice_count == 3 and preview.total > Decimal("0")
        assert [e.contract_number for e in preview.errors] == [broken.number]

        report = generate_invoices(period="2026-11", issued_on=DEC_2)
        november = Invoice.objects.filter(period_start=date(2026, 11, 1))
        assert (report.invoice_count, report.total) == (preview.invoice_count, preview.total)
        assert sum(invoice.total for invoice in november) == preview.total
        assert report.errors == preview.errors
        assert report.created == [
            "2026/000004",
            "2026/000005",
            "2026/000006",
        ]  # no number lost to the preview

    def test_the_command_previews_with_counts_and_total(self, today, contracts):
        out = command("--period", "2026-11", "--preview")
        assert "3 to create, 0 skipped (already billed)" in out and "total billed: " in out
        assert "Preview: nothing was issued." in out
        assert Invoice.objects.count() == 3
