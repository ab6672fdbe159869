"""Contract lifecycle through the services and sweeps, on PostgreSQL: what the customer and staff see."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from contracts import services
from contracts import tasks as contract_tasks
from contracts.models import Contract, Device, Service, WithdrawalRequest
from portal import deadlines
from portal.lib.dates import ROME
from portal.notifications.models import Communication
from tests.factories import ContractFactory, ServiceFactory, active_contract
from tests.pdf_utils import pdf_text

pytestmark = pytest.mark.django_db


def at(day: date, hour=6):
    return datetime(day.year, day.month, day.day, hour, tzinfo=ROME)


def sweep(name, day):
    return deadlines.run_sweep(f"contracts.{name}", now=at(day))


@pytest.mark.parametrize(
    ("activated_on", "period_start", "expires_on", "notice_by"),
    [
        (date(2026, 2, 1), date(2026, 2, 1), date(2027, 2, 1), date(2026, 10, 22)),
        (date(2026, 2, 15), date(2026, 3, 1), date(2027, 3, 1), date(2026, 11, 21)),
        (date(2027, 12, 31), date(2028, 1, 1), date(2029, 1, 1), date(2028, 9, 21)),
        (date(2028, 2, 29), date(2028, 3, 1), date(2029, 3, 1), date(2028, 11, 21)),
    ],
)
def test_the_first_activation_starts_the_12_month_period(activated_on, period_start, expires_on, notice_by):
    contract = active_contract(activated_on=activated_on)
    assert contract.status == Contract.Status.ACTIVE
    assert (contract.period_start, contract.expires_on, contract.renewal_notice_due_on) == (
        period_start,
        expires_on,
        notice_by,
    )


def test_a_later_activation_does_not_move_the_period():
    contract = active_contract(activated_on=date(2026, 2, 15))
    services.activate_service(
        service=ServiceFactory(
            contract=contract, kind=Service.Kind.GAS, pod="", pdr="12345678901234", meter_class="G4"
        ),
        activated_on=date(2026, 5, 20),
    )
    contract.refresh_from_db()
    assert contract.period_start == date(2026, 3, 1)


def test_teleconsulto_cannot_be_activated_without_the_health_data_consent():
    contract = active_contract()
    teleconsulto = ServiceFactory(contract=contract, kind=Service.Kind.TELECONSULTO, pod="")
    with pytest.raises(ValidationError, match="consenso"):
        services.activate_service(service=teleconsulto, activated_on=date(2026, 2, 1))
    contract.customer.health_data_consent = True
    contract.customer.save()
    services.activate_service(service=teleconsulto, activated_on=date(2026, 2, 1))


class TestRenewalNotice:
    def test_it_goes_out_on_the_send_by_date_with_the_letter_and_says_same_conditions(self):
        contract = active_contract(activated_on=date(2026, 2, 15))  # expiry 2027-03-01, send by 2026-11-21
        assert sweep("renewal_notices", date(2026, 11, 20)).acted == 0
        run = sweep("renewal_notices", date(2026, 11, 21))
        assert (run.acted, run.acted_late) == (1, 0)
        contract.refresh_from_db()
        assert contract.renewal_notice_sent_on == date(2026, 11, 21) and not contract.renewal_notice_late
        communication = Communication.objects.get(customer=contract.customer, template_key="renewal_notice")
        text = pdf_text(communication.document.read())
        assert contract.number in text
        assert "01/03/2027" in text and "stesse condizioni" in text
        assert contract.customer.code in text

    def test_run_twice_it_sends_one_notice(self):
        active_contract(activated_on=date(2026, 2, 15))
        sweep("renewal_notices", date(2026, 11, 21))
        sweep("renewal_notices", date(2026, 11, 22))
        assert Communication.objects.filter(template_key="renewal_notice").count() == 1

    @pytest.mark.django_db(transaction=True)
    def test_two_sweeps_at_once_send_one_notice_per_contract(self):
        for _ in range(6):
            active_contract(activated_on=date(2026, 2, 15))
        barrier = threading.Barrier(2)

        def run():
            barrier.wait()
            try:
                sweep("renewal_notices", date(2026, 11, 21))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert Communication.objects.filter(template_key="renewal_notice").count() == 6

    def test_a_notice_that_can_only_go_late_is_sent_at_once_and_flagged(self):
        contract = active_contract(activated_on=date(2026, 2, 15))
        run = sweep("renewal_notices", date(2026, 12, 3))
        assert (run.acted, run.acted_late) == (1, 1)
        contract.refresh_from_db()
        assert contract.renewal_notice_late

    def test_new_conditions_set_by_staff_are_in_the_letter_and_apply_at_renewal(self):
        contract = active_contract(activated_on=date(2026, 2, 15))
        contract.renewal_offer_name = "Optima Casa Luce Fissa 2027"
        contract.renewal_conditions = "Prezzo dell'energia: 0,129 €/kWh fisso per 12 mesi."
        contract.save()
        sweep("renewal_notices", date(2026, 11, 21))
        text = pdf_text(Communication.objects.get(template_key="renewal_notice").document.read())
        assert "Optima Casa Luce Fissa 2027" in text and "0,129" in text
        sweep("expiries", date(2027, 3, 1))
        contract.refresh_from_db()
        assert contract.offer_name == "Optima Casa Luce Fissa 2027"


class TestExpiry:
    def test_tacit_renewal_happens_once_for_a_new_12_month_period(self):
        contract = active_contract(activated_on=date(2026, 2, 15))
        sweep("renewal_notices", date(2026, 11, 21))
        assert sweep("expiries", date(2027, 2, 28)).acted == 0
        assert sweep("expiries", date(2027, 3, 1)).acted == 1
        assert sweep("expiries", date(2027, 3, 2)).acted == 0
        contract.refresh_from_db()
        assert contract.renewal_count == 1
        assert (contract.period_start, contract.expires_on) == (date(2027, 3, 1), date(2028, 3, 1))
        assert contract.renewal_notice_due_on == date(2027, 11, 21)
        assert contract.renewal_notice_sent_on is None
        assert contract.offer_name == "Optima Super Casa Smart con Teleconsulto Medico"

    def test_an_announced_termination_ends_the_contract_at_expiry(self):
        contract = active_contract(activated_on=date(2026, 2, 15))
        contract.ends_at_expiry = True
        contract.save()
        sweep("renewal_notices", date(2026, 11, 21))
        assert "disdetta" in pdf_text(
            Communication.objects.get(template_key="renewal_notice").document.read()
        )
        sweep("expiries", date(2027, 3, 1))
        contract.refresh_from_db()
        assert (contract.status, contract.terminated_on) == (Contract.Status.TERMINATED, date(2027, 3, 1))

    def test_h24_interventions_start_again_with_the_new_period(self):
        contract = active_contract(activated_on=date(2026, 2, 15))
        h24 = ServiceFactory(
            contract=contract, kind=Service.Kind.ASSISTENZA_H24, pod="", interventions_used=3
        )
        sweep("expiries", date(2027, 3, 1))
        h24.refresh_from_db()
        assert h24.interventions_used == 0


class TestWithdrawal:
    @pytest.mark.parametrize(
        ("kind", "received_on", "effective_on"),
        [
            ("switch", date(2026, 3, 10), date(2026, 4, 1)),
            ("switch", date(2026, 3, 11), date(2026, 5, 1)),
            ("deactivation", date(2026, 3, 11), date(2026, 4, 10)),
        ],
    )
    def test_the_effective_date_follows_the_kind_and_the_receipt(self, kind, received_on, effective_on):
        contract = active_contract()
        withdrawal = services.request_withdrawal(contract=contract, kind=kind, received_on=received_on)
        contract.refresh_from_db()
        assert withdrawal.effective_on == effective_on
        assert (contract.status, contract.terminates_on) == (Contract.Status.TERMINATING, effective_on)

    def test_early_withdrawal_charges_back_the_discounts_and_lists_devices_to_return(
        self, django_capture_on_commit_callbacks
    ):
        contract = active_contract(activated_on=date(2026, 2, 1), discounts_enjoyed=Decimal("48.50"))
        Device.objects.create(contract=contract, serial_number="ZTE-778812")
        quote = services.quote_withdrawal(
            contract=contract, kind="deactivation", received_on=date(2026, 6, 1)
        )
        assert quote.effective_on == date(2026, 7, 1)
        assert quote.early_termination_charge == Decimal("48.50")
        assert [(d.serial_number, by) for d, by in quote.devices] == [("ZTE-778812", date(2026, 7, 11))]

        with django_capture_on_commit_callbacks(execute=True):
            services.request_withdrawal(contract=contract, kind="deactivation", received_on=date(2026, 6, 1))
        receipt = Communication.objects.get(template_key="withdrawal_receipt")
        text = pdf_text(receipt.document.read())
        assert "01/07/2026" in text and "48,50" in text and "ZTE-778812" in text

    def test_no_charge_after_the_first_12_months(self):
        contract = active_contract(activated_on=date(2026, 2, 1), discounts_enjoyed=Decimal("48.50"))
        quote = services.quote_withdrawal(
            contract=contract, kind="deactivation", received_on=date(2027, 1, 10)
        )
        assert quote.effective_on == date(2027, 2, 9) and quote.early_termination_charge == 0

    def test_a_receipt_lost_to_a_broker_outage_is_sent_by_the_catch_up_sweep_once(
        self, monkeypatch, django_capture_on_commit_callbacks
    ):
        def broker_down(*args, **kwargs):
            raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        monkeypatch.setattr(contract_tasks.send_withdrawal_receipt, "delay", broker_down)
        contract = active_contract()
        with django_capture_on_commit_callbacks(execute=True):  # the commit: the queueing fails, logged
            withdrawal = services.request_withdrawal(
                contract=contract, kind="switch", received_on=date(2026, 3, 10)
            )
        receipts = Communication.objects.filter(template_key="withdrawal_receipt")
        assert not receipts.exists()

        # Within the grace the queued task may still be on its way: the sweep leaves it alone.
        assert deadlines.run_sweep("contracts.withdrawal_receipts").acted == 0
        WithdrawalRequest.objects.filter(pk=withdrawal.pk).update(
            created_at=timezone.now() - timedelta(minutes=6)
        )
        assert deadlines.run_sweep("contracts.withdrawal_receipts").acted == 1
        receipt = receipts.get()
        assert contract.number in pdf_text(receipt.document.read())
        # The task delivered at last, and the sweep's next run: no second receipt.
        contract_tasks.send_withdrawal_receipt(withdrawal.pk)
        assert deadlines.run_sweep("contracts.withdrawal_receipts").acted == 0
        assert receipts.count() == 1

    def test_the_termination_sweep_ends_the_contract_and_sets_the_device_return_date(self):
        contract = active_contract()
        device = Device.objects.create(contract=contract, serial_number="ZTE-1")
        services.request_withdrawal(contract=contract, kind="switch", received_on=date(2026, 3, 10))
        sweep("terminations", date(2026, 4, 1))
        contract.refresh_from_db()
        device.refresh_from_db()
        assert contract.status == Contract.Status.TERMINATED
        assert set(contract.services.values_list("status", flat=True)) == {Service.Status.DEACTIVATED}
        assert device.return_by == date(2026, 4, 11)

    def test_teleconsulto_ends_with_the_last_energy_service(self):
        contract = active_contract()
        contract.customer.health_data_consent = True
        contract.customer.save()
        fibre = ServiceFactory(
            contract=contract,
            kind=Service.Kind.FIBRE,
            pod="",
            fibre_technology="FTTH",
            line_number="0811234567",
        )
        services.activate_service(service=fibre, activated_on=date(2026, 2, 1))
        teleconsulto = ServiceFactory(contract=contract, kind=Service.Kind.TELECONSULTO, pod="")
        services.activate_service(service=teleconsulto, activated_on=date(2026, 2, 1))
        electricity = contract.services.get(kind=Service.Kind.ELECTRICITY)

        services.request_withdrawal(
            contract=contract, kind="deactivation", received_on=date(2026, 5, 4), service=electricity
        )
        sweep("service_deactivations", date(2026, 6, 3))
        statuses = dict(contract.services.values_list("kind", "status"))
        assert statuses == {"electricity": "deactivated", "teleconsulto": "deactivated", "fibre": "active"}
        contract.refresh_from_db()
        assert contract.status == Contract.Status.ACTIVE

    def test_a_terminated_contract_cannot_be_withdrawn_from(self):
        contract = active_contract()
        services.request_withdrawal(contract=contract, kind="switch", received_on=date(2026, 3, 10))
        with pytest.raises(ValidationError):
            services.request_withdrawal(contract=contract, kind="switch", received_on=date(2026, 3, 12))


class TestCoolingOff:
    def test_within_14_days_of_conclusion_the_contract_is_cancelled_without_charges(self):
        contract = ContractFactory(accepted_on=date(2026, 1, 10), discounts_enjoyed=Decimal("10"))
        ServiceFactory(contract=contract)
        withdrawal = services.cancel_for_cooling_off(contract=contract, requested_on=date(2026, 1, 24))
        contract.refresh_from_db()
        assert contract.status == Contract.Status.CANCELLED
        assert withdrawal.early_termination_charge == 0
        assert set(contract.services.values_list("status", flat=True)) == {Service.Status.CANCELLED}

    def test_on_day_15_it_is_refused_with_the_last_day(self):
        contract = ContractFactory(accepted_on=date(2026, 1, 10))
        with pytest.raises(ValidationError, match="24/01/2026"):
            services.cancel_for_cooling_off(contract=contract, requested_on=date(2026, 1, 25))

    def test_a_contract_signed_in_a_shop_has_no_cooling_off(self):
        contract = ContractFactory(sales_channel=Contract.SalesChannel.SHOP)
        with pytest.raises(ValidationError, match="distanza"):
            services.cancel_for_cooling_off(contract=contract, requested_on=date(2026, 1, 12))


class TestConditionChange:
    def test_an_effective_date_earlier_than_the_rule_allows_is_refused(self):
        with pytest.raises(ValidationError, match="01/04/2027"):
            services.check_condition_change_date(effective_on=date(2027, 3, 1), sent_on=date(2026, 11, 25))
        services.check_condition_change_date(effective_on=date(2027, 4, 1), sent_on=date(2026, 11, 25))

    def test_a_price_increase_notice_opens_a_60_day_withdrawal_window_once(self):
        contract = active_contract()
        change = services.start_condition_change(
            title="Nuovo corrispettivo di commercializzazione",
            description="Da 8 a 10 € al mese.",
            effective_on=date(2027, 4, 1),
            raises_prices=True,
            sent_on=date(2026, 11, 25),
            contracts=[contract],
        )
        assert sweep("condition_change_notices", date(2026, 11, 24)).acted == 0
        assert sweep("condition_change_notices", date(2026, 11, 25)).acted == 1
        assert sweep("condition_change_notices", date(2026, 11, 26)).acted == 0
        notice = services.open_price_change_withdrawal(contract, today=date(2026, 12, 1))
        assert notice.withdrawal_until == date(2027, 1, 24)
        assert services.open_price_change_withdrawal(contract, today=date(2027, 1, 25)) is None
        text = pdf_text(Communication.objects.get(template_key="condition_change").document.read())
        assert "01/04/2027" in text and "24/01/2027" in text
        change.refresh_from_db()
        assert change.notices_sent == 1

    def test_withdrawal_within_the_window_is_free_even_in_the_first_year(self):
        contract = active_contract(activated_on=date(2026, 2, 1), discounts_enjoyed=Decimal("48.50"))
        change = services.start_condition_change(
            title="Aumento",
            description="+2 €",
            effective_on=date(2027, 4, 1),
            raises_prices=True,
            sent_on=date(2026, 11, 25),
            contracts=[contract],
        )
        services.send_condition_change_notice(change.notices.get(), today=date(2026, 11, 25))
        quote = services.quote_withdrawal(
            contract=contract, kind="deactivation", received_on=date(2026, 12, 1)
        )
        assert quote.early_termination_charge == 0


class TestSupplierWithdrawal:
    def test_energy_needs_six_months_from_the_first_of_the_month_after_receipt(self):
        contract = active_contract()
        withdrawal = services.withdraw_as_supplier(contract=contract, sent_on=date(2026, 11, 25))
        # received 2026-12-05 (presumed) → from 2027-01-01, + 6 months
        assert withdrawal.effective_on == date(2027, 7, 1)
        assert withdrawal.kind == WithdrawalRequest.Kind.SUPPLIER


class TestSelfReading:
    @pytest.fixture
    def supply(self):
        contract = active_contract()
        supply = contract.services.get()
        services.submit_self_reading(service=supply, value=1200, read_on=date(2026, 3, 1), by=None)
        return supply

    def test_a_plausible_reading_is_stored_with_who_sent_it(self, supply, alice):
        reading = services.submit_self_reading(
            service=supply, value=1450, read_on=date(2026, 4, 1), by=alice.user
        )
        assert (reading.source, reading.submitted_by) == ("customer", alice.user)

    def test_a_reading_lower_than_the_last_is_refused_with_a_message(self, supply):
        with pytest.raises(ValidationError) as error:
            services.submit_self_reading(service=supply, value=1100, read_on=date(2026, 4, 1), by=None)
        assert "più bassa dell'ultima" in str(error.value.message_dict["value"])

    def test_an_implausible_jump_is_refused(self, supply):
        # 3 kW round the clock for 31 days is at most 2,232 kWh.
        with pytest.raises(ValidationError, match="plausibile"):
            services.submit_self_reading(service=supply, value=1200 + 2300, read_on=date(2026, 4, 1), by=None)
