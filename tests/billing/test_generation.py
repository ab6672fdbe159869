"""The invoice run (billing/generation.py and `manage.py generate_invoices`), on PostgreSQL."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from billing import services
from billing.generation import generate_invoices
from billing.models import Charge, Credit, Invoice, InvoiceLine, Tariff
from billing.services import INDEMNITY_WORDING
from contracts.models import Contract, MeterReading, Service
from contracts.services import activate_service
from tests.factories import ContractFactory, ServiceFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal
OFFER = "Optima Super Casa Smart con Teleconsulto Medico"
NOV_2 = date(2026, 11, 2)


@pytest.fixture
def tariff():
    return Tariff.objects.create(
        offer_name=OFFER,
        energy_price_kwh=D("0.120000"),
        gas_price_smc=D("0.900000"),
        electricity_monthly_fee=D("8.00"),
        gas_monthly_fee=D("6.00"),
        fibre_monthly_fee=D("24.90"),
        mobile_monthly_fee=D("7.99"),
        teleconsulto_monthly_fee=D("4.90"),
        assistenza_h24_monthly_fee=D("3.90"),
    )


@pytest.fixture
def contract(tariff):
    return active_contract()  # electricity, live since 1 February 2026


def electricity(contract):
    return contract.services.get(kind=Service.Kind.ELECTRICITY)


def read(service, day, value, source=MeterReading.Source.DISTRIBUTOR):
    return MeterReading.objects.create(service=service, read_on=day, value=value, source=source)


def add_service(contract, kind, activated_on, **fields):
    service = ServiceFactory(contract=contract, kind=kind, pod="", **fields)
    activate_service(service=service, activated_on=activated_on)
    return service


def run(period="2026-10", issued_on=NOV_2):
    return generate_invoices(period=period, issued_on=issued_on)


def lines_of(invoice, kind):
    return list(invoice.lines.filter(kind=kind))


class TestOneInvoicePerContractAndPeriod:
    def test_it_bills_every_active_contract_once(self, contract, tariff):
        other = active_contract()
        report = run()
        invoices = Invoice.objects.order_by("sequence")
        assert [invoice.contract for invoice in invoices] == [contract, other]
        assert report.created == ["2026/000001", "2026/000002"]
        invoice = invoices[0]
        assert (invoice.period_start, invoice.period_end) == (date(2026, 10, 1), date(2026, 10, 31))
        assert (invoice.issued_on, invoice.due_on, invoice.status) == (NOV_2, date(2026, 11, 17), "issued")

    def test_running_it_twice_creates_nothing_new(self, contract):
        first = run()
        again = run()
        assert Invoice.objects.count() == 1
        assert again.created == [] and again.already_billed == [contract.number]
        assert Invoice.objects.get().number == first.created[0]

    def test_a_contract_not_yet_supplied_or_cancelled_is_not_billed(self, tariff):
        ContractFactory()  # proposed, never activated
        cancelled = active_contract(activated_on=date(2026, 10, 5))
        Contract.objects.filter(pk=cancelled.pk).update(status=Contract.Status.CANCELLED)
        late_start = active_contract(activated_on=date(2026, 11, 10))
        report = run()
        assert report.created == [] and Invoice.objects.count() == 0
        assert late_start.period_start == date(2026, 12, 1)

    def test_the_first_period_starts_with_the_supply(self, tariff):
        contract = active_contract(activated_on=date(2026, 10, 20))
        run()
        invoice = contract.invoices.get()
        assert (invoice.period_start, invoice.period_end) == (date(2026, 10, 20), date(2026, 10, 31))
        fee = lines_of(invoice, InvoiceLine.Kind.FIXED_FEE)[0]
        # 12 days of the 8 €/month fee, by the day: 8 × 12 / 365 = 0.263014 €/day
        assert (fee.quantity, fee.unit, fee.unit_price, fee.amount) == (
            D("12"),
            "giorni",
            D("0.263014"),
            D("3.16"),
        )

    def test_a_bimonthly_contract_is_billed_every_second_month(self, tariff):
        contract = active_contract(
            billing_frequency=Contract.BillingFrequency.BIMONTHLY
        )  # pairs from February
        assert run("2026-10").created == []
        run("2026-11", issued_on=date(2026, 12, 2))
        run("2026-12", issued_on=date(2027, 1, 4))
        invoice = contract.invoices.get()
        assert (invoice.period_start, invoice.period_end) == (date(2026, 10, 1), date(2026, 11, 30))
        fee = lines_of(invoice, InvoiceLine.Kind.FIXED_FEE)[0]
        assert (fee.quantity, fee.unit, fee.amount) == (D("2"), "mesi", D("16.00"))

    def test_a_contract_that_ended_gets_a_closing_invoice_up_to_the_last_day_of_supply(self, contract):
        Contract.objects.filter(pk=contract.pk).update(
            status=Contract.Status.TERMINATED, terminated_on=date(2026, 10, 15)
        )
        run()
        invoice = contract.invoices.get()
        assert invoice.is_closing
        assert (invoice.period_start, invoice.period_end) == (date(2026, 10, 1), date(2026, 10, 14))
        assert run("2026-11", issued_on=date(2026, 12, 2)).created == []


class TestLines:
    def test_consumption_is_the_last_reading_in_the_period_minus_the_last_before_it(self, contract):
        service = electricity(contract)
        read(service, date(2026, 8, 31), 4800)
        read(service, date(2026, 9, 30), 5000)
        read(service, date(2026, 10, 15), 5100, MeterReading.Source.CUSTOMER)
        read(service, date(2026, 10, 31), 5250)
        run()
        [energy] = lines_of(Invoice.objects.get(), InvoiceLine.Kind.ENERGY)
        assert (energy.quantity, energy.unit, energy.amount, energy.vat_rate) == (
            D("250"),
            "kWh",
            D("30.00"),
            D("10"),
        )
        assert "consumo rilevato dal 30/09/2026 al 31/10/2026" in energy.description
        supply = Invoice.objects.get().supplies[0]
        assert supply["reading_start"]["value"] == 5000 and supply["reading_end"]["value"] == 5250

    def test_without_a_reading_consumption_is_estimated_from_the_last_12_months(self, contract):
        service = electricity(contract)
        read(service, date(2026, 2, 1), 1000)
        read(service, date(2026, 8, 1), 2810)  # 1,810 kWh in 181 days: 10 a day
        run()
        [energy] = lines_of(Invoice.objects.get(), InvoiceLine.Kind.ENERGY)
        assert energy.quantity == D("310") and "stimato" in energy.description
        assert Invoice.objects.get().supplies[0]["estimated"] is True

    def test_with_no_history_the_estimate_is_the_typical_customers(self, contract):
        run()
        [energy] = lines_of(Invoice.objects.get(), InvoiceLine.Kind.ENERGY)
        assert energy.quantity == D("229")  # 2,700 kWh a year × 31/365 = 229.3

    def test_a_reading_after_estimates_bills_the_difference(self, contract):
        service = electricity(contract)
        read(service, date(2026, 2, 1), 1000)
        read(service, date(2026, 8, 31), 3110)  # 2,110 kWh in 211 days: 10 a day
        run("2026-09", issued_on=date(2026, 10, 2))  # no reading in September: 300 estimated
        read(service, date(2026, 10, 31), 3750)  # 640 measured since 31/08
        run()
        october = Invoice.objects.get(period_start=date(2026, 10, 1))
        [energy] = lines_of(october, InvoiceLine.Kind.ENERGY)
        assert (
            energy.quantity == D("340") and "al netto di 300 kWh già fatturati in stima" in energy.description
        )

    def test_a_late_reading_inside_an_estimated_period_deducts_only_the_estimate_after_it(self, contract):
        service = electricity(contract)
        read(service, date(2026, 2, 1), 1000)
        read(service, date(2026, 8, 31), 3110)  # 10 a day
        run("2026-09", issued_on=date(2026, 10, 2))  # 300 estimated for 1–30 September
        read(service, date(2026, 9, 15), 3260, MeterReading.Source.CUSTOMER)  # sent late, read mid-September
        read(service, date(2026, 10, 31), 3750)
        run()
        october = Invoice.objects.get(period_start=date(2026, 10, 1))
        [energy] = lines_of(october, InvoiceLine.Kind.ENERGY)
        # 490 measured since 15/09, less the 15 days of the estimate after that reading (150)
        assert energy.quantity == D("340") and "dal 15/09/2026 al 31/10/2026" in energy.description

    def test_domestic_gas_is_taxed_10_percent_up_to_480_smc_a_year_then_22(self, contract):
        gas = add_service(
            contract,
            Service.Kind.GAS,
            date(2026, 2, 1),
            pdr="00881234567890",
            meter_class="G4",
            power_kw=None,
        )
        read(gas, date(2026, 9, 30), 1000)
        read(gas, date(2026, 10, 31), 1400)  # 400 Smc in October
        read(gas, date(2026, 11, 30), 1600)  # 200 Smc in November
        run()
        run("2026-11", issued_on=date(2026, 12, 2))
        october, november = Invoice.objects.order_by("period_start")
        assert [(line.quantity, line.vat_rate) for line in lines_of(october, InvoiceLine.Kind.GAS)] == [
            (D("400"), D("10"))
        ]
        assert [(line.quantity, line.vat_rate) for line in lines_of(november, InvoiceLine.Kind.GAS)] == [
            (D("80"), D("10")),
            (D("120"), D("22")),
        ]

    def test_fibre_mobile_and_a_business_supply_are_taxed_22_percent(self, contract):
        Service.objects.filter(contract=contract).update(domestic_resident=False)
        add_service(
            contract, Service.Kind.FIBRE, date(2026, 3, 1), fibre_technology="FTTH", line_number="0815551234"
        )
        add_service(
            contract, Service.Kind.MOBILE, date(2026, 3, 1), sim_number="3331234567", iccid="8939" + "0" * 15
        )
        run()
        invoice = Invoice.objects.get()
        assert {line.vat_rate for line in invoice.lines.all()} == {D("22")}
        fees = [
            (line.description, line.amount) for line in lines_of(invoice, InvoiceLine.Kind.COMMUNICATIONS)
        ]
        assert fees == [
            ("Canone Internet fibra FTTH linea 0815551234 (10/2026)", D("24.90")),
            ("Canone mobile SIM 3331234567 (10/2026)", D("7.99")),
        ]

    def test_an_add_on_activated_on_the_20th_is_billed_for_the_whole_month(self, contract):
        contract.customer.health_data_consent = True
        contract.customer.save()
        add_service(contract, Service.Kind.TELECONSULTO, date(2026, 10, 20), supply_street="")
        run()
        [addon] = lines_of(Invoice.objects.get(), InvoiceLine.Kind.ADDON)
        assert (addon.quantity, addon.unit_price, addon.amount, addon.vat_rate) == (
            D("1"),
            D("4.90"),
            D("4.90"),
            D("22"),
        )
        assert addon.description == "Teleconsulto Medico — canone mensile (10/2026)"

    def test_the_security_deposit_is_on_the_first_invoice_only_outside_vat(self, tariff):
        contract = active_contract(security_deposit=D("100.00"))
        run("2026-09", issued_on=date(2026, 10, 2))
        run()
        first, second = contract.invoices.order_by("period_start")
        [deposit] = lines_of(first, InvoiceLine.Kind.DEPOSIT)
        assert (deposit.amount, deposit.vat_rate) == (D("100.00"), None)
        assert first.stamp_duty == D("2.00")  # outside VAT above 77.47 €
        assert lines_of(second, InvoiceLine.Kind.DEPOSIT) == [] and second.stamp_duty == D("0.00")

    def test_a_pending_charge_is_billed_once(self, contract):
        charge = Charge.objects.create(
            contract=contract,
            kind=Charge.Kind.LATE_INTEREST,
            description="Interessi di mora sulla bolletta 2026/000001",
            amount=D("0.17"),
            created_on=date(2026, 10, 20),
            source_key="interest:test",
        )
        run()
        run("2026-11", issued_on=date(2026, 12, 2))
        october, november = contract.invoices.order_by("period_start")
        [line] = lines_of(october, InvoiceLine.Kind.LATE_INTEREST)
        assert (line.amount, line.vat_rate) == (D("0.17"), None)
        charge.refresh_from_db()
        assert charge.billed_on == october and lines_of(november, InvoiceLine.Kind.LATE_INTEREST) == []


class TestCreditsAndIndemnities:
    def test_a_pending_credit_is_deducted_and_its_remainder_carried_forward(self, contract):
        services.grant_indemnity(
            customer=contract.customer,
            contract=contract,
            reason=Credit.Reason.COMPLAINT_INDEMNITY,
            amount=D("60.00"),
            created_on=date(2026, 10, 10),
            source_key="complaint:7",
        )
        run()
        october = contract.invoices.get()
        [indemnity] = lines_of(october, InvoiceLine.Kind.INDEMNITY)
        before_credit = october.total - indemnity.amount
        assert indemnity.description == INDEMNITY_WORDING
        assert indemnity.amount == -before_credit and october.total == D("0.00") and october.status == "paid"
        credit = Credit.objects.get()
        assert credit.remaining == D("60.00") - before_credit

        run("2026-11", issued_on=date(2026, 12, 2))
        november = contract.invoices.get(period_start=date(2026, 11, 1))
        [rest] = lines_of(november, InvoiceLine.Kind.INDEMNITY)
        assert rest.amount == -(D("60.00") - before_credit)
        credit.refresh_from_db()
        assert credit.remaining == D("0.00")

    def test_an_invoice_issued_after_the_90_day_term_carries_the_late_invoice_indemnity(self, contract):
        read(electricity(contract), date(2026, 5, 31), 1000)
        read(electricity(contract), date(2026, 6, 30), 1800)  # 96 € of energy: more than the indemnity
        # June ends 30/06; the term is 28/09; issued 02/11: 35 days late → 6 € + 5 × 2 € = 16 €.
        run("2026-06", issued_on=NOV_2)
        invoice = contract.invoices.get()
        [indemnity] = lines_of(invoice, InvoiceLine.Kind.INDEMNITY)
        assert (indemnity.description, indemnity.amount) == (INDEMNITY_WORDING, D("-16.00"))
        credit = Credit.objects.get()
        assert (credit.reason, credit.amount, credit.remaining) == (
            "late_invoice_indemnity",
            D("16.00"),
            D("0.00"),
        )
        assert credit.source_key == f"late_invoice:{contract.pk}:2026-06-01"

    def test_an_invoice_issued_on_time_carries_no_indemnity(self, contract):
        run("2026-10", issued_on=date(2027, 1, 29))  # 31/10 + 90 days = 29/01/2027: still on time
        assert lines_of(Invoice.objects.get(), InvoiceLine.Kind.INDEMNITY) == []
        assert not Credit.objects.exists()

    def test_a_late_closing_invoice_carries_the_closing_indemnity(self, contract):
        read(electricity(contract), date(2026, 9, 30), 1000)
        read(electricity(contract), date(2026, 10, 14), 1500)
        Contract.objects.filter(pk=contract.pk).update(
            status=Contract.Status.TERMINATED, terminated_on=date(2026, 10, 15)
        )
        # Due within 6 weeks of the end of supply (26/11); issued 15/12: 19 days late → 4 € + 2 € = 6 €.
        run("2026-10", issued_on=date(2026, 12, 15))
        [indemnity] = lines_of(contract.invoices.get(), InvoiceLine.Kind.INDEMNITY)
        assert indemnity.amount == D("-6.00")


class TestBrokenContracts:
    def test_a_contract_without_a_tariff_is_reported_while_the_others_are_billed(self, contract):
        broken = active_contract(offer_name="Offerta sconosciuta")
        other = active_contract()
        report = run()
        assert [invoice.contract for invoice in Invoice.objects.order_by("sequence")] == [contract, other]
        assert len(report.errors) == 1
        assert report.errors[0].contract_number == broken.number
        assert "Offerta sconosciuta" in report.errors[0].message
        # Numbering stays gapless: the failed contract took no number.
        assert report.created == ["2026/000001", "2026/000002"]

    def test_inconsistent_readings_roll_back_that_contract_only(self, contract):
        read(electricity(contract), date(2026, 9, 30), 5000)
        read(electricity(contract), date(2026, 10, 31), 4000)
        Charge.objects.create(
            contract=contract,
            kind=Charge.Kind.LATE_INTEREST,
            description="Interessi",
            amount=D("1.00"),
            created_on=date(2026, 10, 1),
            source_key="interest:x",
        )
        report = run()
        assert "inferiore" in report.errors[0].message
        assert not Invoice.objects.exists() and Charge.objects.get().billed_on is None


def test_each_issued_invoice_is_queued_for_rendering_after_commit(
    contract, django_capture_on_commit_callbacks
):
    active_contract()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run()
    assert len(callbacks) == 2


def test_the_command_shows_progress_and_a_summary_with_the_errors(contract):
    broken = active_contract(offer_name="Offerta sconosciuta")
    out, err = StringIO(), StringIO()
    call_command(
        "generate_invoices", "--period", "2026-10", "--issued-on", "2026-11-02", stdout=out, stderr=err
    )
    assert "[##############################] 2/2" in err.getvalue()
    summary = out.getvalue()
    assert "1 created, 0 skipped (already billed)" in summary and "1 errors" in summary
    assert f"{broken.number}: Nessuna tariffa per l'offerta «Offerta sconosciuta»" in summary

    out = StringIO()
    call_command(
        "generate_invoices", "--period", "2026-10", "--issued-on", "2026-11-02", "--no-progress", stdout=out
    )
    assert "0 created, 1 skipped (already billed)" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_during_the_run_loses_no_invoice_and_the_catch_up_sweep_renders_them(
    tariff, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone
    from kombu.exceptions import OperationalError

    from billing.tasks import render_invoice_pdf
    from portal import deadlines

    active_contract()
    active_contract()

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(render_invoice_pdf, "delay", broker_down)
    out = StringIO()
    call_command(
        "generate_invoices", "--period", "2026-10", "--issued-on", "2026-11-02", "--no-progress", stdout=out
    )
    # The invoices committed: the report says so, and a re-run rightly finds them billed.
    assert "2 created" in out.getvalue() and "0 errors" in out.getvalue()
    assert Invoice.objects.filter(pdf="").count() == 2

    monkeypatch.undo()
    Invoice.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    (run,) = deadlines.run_deadlines(only=["billing.missing_pdfs"])
    assert run.acted == 2
    assert not Invoice.objects.filter(pdf="").exists()
