"""The customer's "Contratti e forniture" pages: what a customer sees and does, and never another's."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from contracts import services
from contracts.models import (
    Contract,
    Device,
    MeterReading,
    Service,
    WithdrawalRequest,
)
from portal.lib import dates
from portal.notifications.models import Communication
from tests.factories import ContractFactory, ServiceFactory, UserFactory, active_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def on(monkeypatch):
    """Set the pages' "today" (Europe/Rome) to a given date."""

    def set_today(day: date):
        monkeypatch.setattr(dates, "today", lambda: day)

    set_today(date(2026, 3, 10))
    return set_today


@pytest.fixture
def contract(alice):
    """Alice's contract: concluded on the web on 10/01/2026, electricity live from 01/02/2026."""
    return active_contract(alice, activated_on=date(2026, 2, 1))


@pytest.fixture
def supply(contract):
    return contract.services.get(kind=Service.Kind.ELECTRICITY)


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob.user)
    return client


def url(name, contract, *args):
    return reverse(f"contracts:{name}", args=[contract.number, *args])


def html_of(response):
    return response.content.decode()


def text_of(response):
    """The page as a reader gets it: tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_of(response)))


def field_errors(response, field):
    return " ".join(str(error) for error in response.context["form"].errors.get(field, []))


# ---------------------------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------------------------


class TestList:
    def test_it_needs_a_login(self, client):
        response = client.get(reverse("contracts:list"))
        assert response.status_code == 302 and reverse("login") in response["Location"]

    def test_it_shows_own_contracts_with_services_period_expiry_and_renewal(
        self, alice_client, contract, bob
    ):
        bobs = active_contract(bob)
        text = text_of(alice_client.get(reverse("contracts:list")))
        assert f"Contratto n. {contract.number}" in text
        assert contract.offer_name in text
        assert "Attivo" in text
        assert "Luce" in text and contract.services.get().pod in text
        assert "dal 01/02/2026 · scadenza 01/02/2027" in text
        assert "Rinnovo tacito il 01/02/2027" in text
        assert bobs.number not in text

    def test_it_says_when_the_renewal_notice_went_out_and_when_a_contract_is_terminating(
        self, alice_client, alice, contract
    ):
        Contract.objects.filter(pk=contract.pk).update(renewal_notice_sent_on=date(2026, 10, 20))
        leaving = active_contract(alice)
        services.request_withdrawal(contract=leaving, kind="switch", received_on=date(2026, 3, 10))
        text = text_of(alice_client.get(reverse("contracts:list")))
        assert "Comunicazione di rinnovo inviata il 20/10/2026" in text
        assert "In cessazione dal 01/04/2026" in text

    def test_a_contract_not_yet_active_says_so(self, alice_client, alice):
        proposed = ContractFactory(customer=alice)
        ServiceFactory(contract=proposed)
        text = text_of(alice_client.get(reverse("contracts:list")))
        assert f"Contratto n. {proposed.number} Proposto" in text
        assert "Luce" in text and "(in attivazione)" in text

    def test_an_account_without_a_customer_record_gets_an_empty_list(self, client):
        client.force_login(UserFactory(email="staff@optima.example", is_staff=True))
        response = client.get(reverse("contracts:list"))
        assert response.status_code == 200
        assert "Non ci sono contratti" in text_of(response)

    def test_the_navigation_marks_the_contracts_page_as_current(self, alice_client, contract):
        html = html_of(alice_client.get(reverse("contracts:list")))
        assert re.search(r'aria-current="page" href="/contratti/"', html)


# ---------------------------------------------------------------------------------------------------------
# Contract page
# ---------------------------------------------------------------------------------------------------------


class TestContractPage:
    def test_it_shows_services_period_renewal_payment_and_devices(self, alice_client, on, contract):
        Contract.objects.filter(pk=contract.pk).update(security_deposit=Decimal("1234.56"))
        gas = ServiceFactory(
            contract=contract, kind=Service.Kind.GAS, pod="", pdr="00881234567890", meter_class="G4"
        )
        services.activate_service(service=gas, activated_on=date(2026, 2, 20))
        Device.objects.create(contract=contract, serial_number="ZTE-778812", return_by=date(2026, 4, 11))

        response = alice_client.get(url("detail", contract))

        assert response.status_code == 200
        text = text_of(response)
        assert contract.services.get(kind="electricity").pod in text
        assert "PDR 00881234567890" in text
        assert "Via Roma 1, 80100 Napoli (NA)" in text
        assert "20/02/2026" in text  # the gas activation
        assert "Scadenza 01/02/2027" in text
        assert "Rinnovi nessuno: è il primo periodo" in text
        assert "te la invieremo entro il 22/10/2026" in text
        assert "Addebito diretto SEPA (SDD)" in text and "Mensile" in text
        assert "1.234,56 €" in text
        assert "IBAN che termina con 3456" in text and contract.iban not in html_of(response)
        assert "ZTE-778812" in text and "da restituire entro il 11/04/2026" in text
        assert reverse("contracts:supply", args=[contract.number, gas.pk]) in html_of(response)

    def test_it_lists_the_withdrawals_and_the_communications_about_the_contract_with_their_pdf(
        self, alice_client, on, alice, contract, django_capture_on_commit_callbacks
    ):
        services.send_renewal_notice(contract, today=date(2026, 3, 1), late=False)
        Device.objects.create(contract=contract, serial_number="ZTE-1")
        with django_capture_on_commit_callbacks(execute=True):
            withdrawal = services.request_withdrawal(
                contract=contract, kind="switch", received_on=date(2026, 3, 10), by=alice.user
            )
            other = services.request_withdrawal(
                contract=active_contract(alice), kind="switch", received_on=date(2026, 3, 10)
            )
        notice = Communication.objects.get(template_key="renewal_notice")
        receipt = Communication.objects.get(about_id=withdrawal.pk, template_key="withdrawal_receipt")
        other_receipt = Communication.objects.get(about_id=other.pk, template_key="withdrawal_receipt")

        html = html_of(alice_client.get(url("detail", contract)))

        assert reverse("notifications:document", args=[notice.pk]) in html
        assert reverse("notifications:document", args=[receipt.pk]) in html
        assert reverse("notifications:document", args=[other_receipt.pk]) not in html
        text = text_of(alice_client.get(url("detail", contract)))
        assert "Cambio fornitore" in text and "01/04/2026" in text
        assert "In cessazione dal 01/04/2026" in text
        assert "ZTE-1 da restituire entro il 11/04/2026" in text

    def test_cooling_off_is_offered_on_day_14_with_the_last_day(self, alice_client, on, contract):
        on(date(2026, 1, 24))
        response = alice_client.get(url("detail", contract))
        assert url("cooling_off", contract) in html_of(response)
        assert "fino al 24/01/2026" in text_of(response)

    def test_cooling_off_is_not_offered_on_day_15(self, alice_client, on, contract):
        on(date(2026, 1, 25))
        assert url("cooling_off", contract) not in html_of(alice_client.get(url("detail", contract)))

    def test_a_contract_signed_in_a_shop_offers_no_cooling_off(self, alice_client, on, alice):
        shop = active_contract(alice, sales_channel=Contract.SalesChannel.SHOP)
        on(date(2026, 1, 12))
        assert url("cooling_off", shop) not in html_of(alice_client.get(url("detail", shop)))

    def test_a_price_increase_shows_the_withdrawal_window_with_the_link(self, alice_client, on, contract):
        change = services.start_condition_change(
            title="Nuovo corrispettivo di commercializzazione",
            description="Da 8 a 10 € al mese.",
            effective_on=date(2027, 4, 1),
            raises_prices=True,
            sent_on=date(2026, 11, 25),
            contracts=[contract],
        )
        services.send_condition_change_notice(change.notices.get(), today=date(2026, 11, 25))
        on(date(2026, 12, 1))
        response = alice_client.get(url("detail", contract))
        assert (
            "Le condizioni cambiano dal 01/04/2027: puoi recedere senza penali entro il 24/01/2027"
            in text_of(response)
        )
        assert url("withdraw", contract) in html_of(response)
        on(date(2027, 1, 25))
        assert "Le condizioni cambiano" not in text_of(alice_client.get(url("detail", contract)))

    def test_an_account_without_a_customer_record_gets_404(self, client, contract):
        client.force_login(UserFactory(email="staff@optima.example", is_staff=True))
        assert client.get(url("detail", contract)).status_code == 404


# ---------------------------------------------------------------------------------------------------------
# Another customer's rows: 404, and nothing changes
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [
        ("get", "detail", {}),
        ("get", "supply", {}),
        ("post", "supply", {"value": "1300", "read_on": "2026-03-10"}),
        ("get", "withdraw", {}),
        ("post", "withdraw", {"kind": "switch"}),
        ("post", "withdraw_confirm", {"kind": "switch"}),
        ("get", "withdrawal_done", {}),
        ("get", "cooling_off", {}),
        ("post", "cooling_off", {}),
    ],
)
def test_bob_gets_404_on_alices_pages_and_changes_nothing(
    bob_client, on, alice, contract, method, name, data
):
    on(date(2026, 1, 20))
    supply = contract.services.get()
    withdrawal = WithdrawalRequest.objects.create(
        contract=contract, kind="switch", received_on=date(2026, 1, 15), effective_on=date(2026, 2, 1)
    )
    args = {"supply": [supply.pk], "withdrawal_done": [withdrawal.pk]}.get(name, [])

    response = getattr(bob_client, method)(url(name, contract, *args), data)

    assert response.status_code == 404
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert WithdrawalRequest.objects.count() == 1
    assert not MeterReading.objects.exists()


def test_bob_gets_404_for_his_own_supply_under_alices_contract_number_and_vice_versa(
    alice_client, contract, bob
):
    bobs = active_contract(bob)
    bobs_supply = bobs.services.get()
    assert alice_client.get(url("supply", contract, bobs_supply.pk)).status_code == 404
    assert alice_client.get(url("supply", bobs, bobs_supply.pk)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/contratti/%00/",
        "/contratti/" + "X" * 300 + "/",
        "/contratti/{number}/forniture/99999999999999999999999/",
        "/contratti/{number}/recesso/99999999999999999999999/",
    ],
)
def test_garbage_in_the_address_is_404_never_500(alice_client, contract, path):
    assert alice_client.get(path.format(number=contract.number)).status_code == 404


# ---------------------------------------------------------------------------------------------------------
# Supply page and self-reading
# ---------------------------------------------------------------------------------------------------------


class TestSupplyPage:
    @pytest.fixture
    def readings(self, supply, alice):
        MeterReading.objects.create(
            service=supply, read_on=date(2026, 2, 1), value=1000, source="distributor"
        )
        MeterReading.objects.create(service=supply, read_on=date(2026, 3, 1), value=1180, source="estimate")
        services.submit_self_reading(service=supply, value=1400, read_on=date(2026, 4, 1), by=alice.user)

    def test_it_shows_the_readings_history_with_source_and_who(
        self, alice_client, on, contract, supply, readings
    ):
        on(date(2026, 4, 2))
        response = alice_client.get(url("supply", contract, supply.pk))
        assert response.status_code == 200
        text = text_of(response)
        assert supply.pod in text
        assert "01/04/2026 1400 Autolettura Tu" in text
        assert "01/03/2026 1180 Stima" in text
        assert "01/02/2026 1000 Lettura del distributore —" in text

    def test_the_consumption_chart_is_an_accessible_svg_with_one_bar_per_interval(
        self, alice_client, on, contract, supply, readings
    ):
        on(date(2026, 4, 2))
        html = html_of(alice_client.get(url("supply", contract, supply.pk)))
        svg = re.search(r"<svg[^>]*consumption-chart.*?</svg>", html, re.S).group(0)
        assert 'role="img"' in svg and 'aria-label="Consumi di Luce' in svg and "<title>" in svg
        assert len(re.findall(r'<g class="bar"><rect', svg)) == 2
        assert "dal 01/02/2026 al 01/03/2026: 180 kWh" in svg
        assert "dal 01/03/2026 al 01/04/2026: 220 kWh" in svg
        # The same figures as a table for screen readers.
        assert re.search(r'<table class="visually-hidden">.*01/04/2026.*220', html, re.S)

    def test_a_plausible_reading_is_stored_with_who_sent_it_and_redirects(
        self, alice_client, on, alice, contract, supply, readings
    ):
        on(date(2026, 4, 20))
        response = alice_client.post(
            url("supply", contract, supply.pk), {"value": "1500", "read_on": "20/04/2026"}
        )
        assert response.status_code == 302 and response["Location"] == url("supply", contract, supply.pk)
        reading = supply.readings.order_by("-read_on").first()
        assert (reading.value, reading.read_on, reading.source) == (1500, date(2026, 4, 20), "customer")
        assert reading.submitted_by == alice.user
        text = text_of(alice_client.get(response["Location"]))
        assert "la lettura 1500 kWh del 20/04/2026 è registrata" in text

    def test_the_date_is_read_as_day_month_year_in_english_too(self, alice_client, on, contract, supply):
        on(date(2026, 4, 20))
        alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = alice_client.post(
            url("supply", contract, supply.pk), {"value": "1500", "read_on": "01/04/2026"}
        )
        assert response["Content-Language"] == "en"
        assert supply.readings.get().read_on == date(2026, 4, 1)

    def test_the_date_defaults_to_today(self, alice_client, on, contract, supply):
        on(date(2026, 4, 20))
        html = html_of(alice_client.get(url("supply", contract, supply.pk)))
        assert re.search(r'name="read_on" value="20/04/2026"', html)

    def test_a_reading_lower_than_the_last_gets_a_message_next_to_the_field(
        self, alice_client, on, contract, supply, readings
    ):
        on(date(2026, 4, 20))
        response = alice_client.post(
            url("supply", contract, supply.pk), {"value": "1300", "read_on": "2026-04-20"}
        )
        assert response.status_code == 200
        assert "più bassa dell'ultima registrata (1400 del 01/04/2026)" in field_errors(response, "value")
        assert re.search(r'id="error_1_id_value"[^>]*>\s*<strong>La lettura è più bassa', html_of(response))
        assert supply.readings.count() == 3

    def test_an_implausible_reading_gets_a_message_next_to_the_field(
        self, alice_client, on, contract, supply, readings
    ):
        on(date(2026, 4, 20))
        response = alice_client.post(
            url("supply", contract, supply.pk), {"value": "99999", "read_on": "2026-04-20"}
        )
        assert response.status_code == 200
        assert "non sembra plausibile" in field_errors(response, "value")

    def test_a_date_before_the_last_reading_gets_a_message_next_to_the_date(
        self, alice_client, on, contract, supply, readings
    ):
        on(date(2026, 4, 20))
        response = alice_client.post(
            url("supply", contract, supply.pk), {"value": "1500", "read_on": "2026-03-20"}
        )
        assert response.status_code == 200
        assert "C'è già una lettura del 01/04/2026" in field_errors(response, "read_on")

    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            ({"value": "abc", "read_on": "2026-04-20"}, "value", "solo le cifre"),
            ({"value": "1500,5", "read_on": "2026-04-20"}, "value", "solo le cifre"),
            ({"value": "-3", "read_on": "2026-04-20"}, "value", "negativa"),
            ({"value": "9" * 40, "read_on": "2026-04-20"}, "value", "troppo lunga"),
            ({"value": "1500", "read_on": "2026-04-21"}, "read_on", "nel futuro"),
            ({"value": "1500", "read_on": "31/02/2026"}, "read_on", "gg/mm/aaaa"),
            ({"value": "1500", "read_on": "domani"}, "read_on", "gg/mm/aaaa"),
            ({"value": "15\x00", "read_on": "2026-04-20"}, "value", "solo le cifre"),
            ({}, "value", "Scrivi la lettura"),
            ({}, "read_on", "Indica la data"),
        ],
    )
    def test_garbage_is_refused_with_a_message_never_a_500(
        self, alice_client, on, contract, supply, data, field, message
    ):
        on(date(2026, 4, 20))
        response = alice_client.post(url("supply", contract, supply.pk), data)
        assert response.status_code == 200
        assert message in field_errors(response, field)
        assert not supply.readings.exists()

    def test_a_supply_no_longer_active_takes_no_readings(self, alice_client, on, contract, supply):
        Service.objects.filter(pk=supply.pk).update(status=Service.Status.DEACTIVATED)
        response = alice_client.get(url("supply", contract, supply.pk))
        assert "non puoi inviare autoletture" in text_of(response)
        response = alice_client.post(
            url("supply", contract, supply.pk), {"value": "5", "read_on": "2026-03-10"}
        )
        assert response.status_code == 200 and not supply.readings.exists()

    def test_a_service_of_another_contract_or_without_a_meter_is_404(self, alice_client, alice, contract):
        other = active_contract(alice)
        fibre = ServiceFactory(
            contract=contract,
            kind=Service.Kind.FIBRE,
            pod="",
            fibre_technology="FTTH",
            line_number="0811234567",
        )
        assert alice_client.get(url("supply", contract, other.services.get().pk)).status_code == 404
        assert alice_client.get(url("supply", contract, fibre.pk)).status_code == 404
        assert alice_client.get(url("supply", contract, 999999)).status_code == 404


# ---------------------------------------------------------------------------------------------------------
# Withdrawal
# ---------------------------------------------------------------------------------------------------------


class TestWithdrawal:
    @pytest.mark.parametrize(
        ("today", "effective_on"),
        [(date(2026, 3, 10), "01/04/2026"), (date(2026, 3, 11), "01/05/2026")],
    )
    def test_the_preview_shows_the_effective_date_of_a_switch(
        self, alice_client, on, contract, today, effective_on
    ):
        on(today)
        response = alice_client.post(url("withdraw", contract), {"kind": "switch", "service": ""})
        assert response.status_code == 200
        text = text_of(response)
        assert f"Efficace dal {effective_on}" in text
        assert f"Ricevuta il {today:%d/%m/%Y}" in text
        assert not WithdrawalRequest.objects.exists()

    def test_the_preview_shows_the_charge_in_euro_and_the_devices_to_return(self, alice_client, on, alice):
        contract = active_contract(alice, discounts_enjoyed=Decimal("1234.50"))
        Device.objects.create(contract=contract, serial_number="ZTE-778812")
        on(date(2026, 6, 1))
        text = text_of(alice_client.post(url("withdraw", contract), {"kind": "deactivation"}))
        assert "Efficace dal 01/07/2026" in text
        assert "1.234,50 €" in text
        assert "ZTE-778812 11/07/2026" in text

    def test_the_form_lists_only_the_contracts_active_services(self, alice_client, on, contract):
        pending = ServiceFactory(contract=contract, kind=Service.Kind.GAS, pod="", pdr="00881234567890")
        html = html_of(alice_client.get(url("withdraw", contract)))
        assert f'value="{contract.services.get(kind="electricity").pk}"' in html
        assert f'value="{pending.pk}"' not in html

    def test_confirming_creates_one_request_and_shows_the_date_and_the_receipt(
        self, alice_client, on, alice, contract, django_capture_on_commit_callbacks
    ):
        on(date(2026, 3, 10))
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(url("withdraw_confirm", contract), {"kind": "switch", "service": ""})
        withdrawal = WithdrawalRequest.objects.get()
        assert response.status_code == 302
        assert response["Location"] == url("withdrawal_done", contract, withdrawal.pk)
        assert (withdrawal.effective_on, withdrawal.received_on) == (date(2026, 4, 1), date(2026, 3, 10))
        assert (withdrawal.requested_by, withdrawal.channel) == (alice.user, "portal")
        receipt = Communication.objects.get(template_key="withdrawal_receipt")

        page = alice_client.get(response["Location"])
        assert "Efficace dal 01/04/2026" in text_of(page)
        assert reverse("notifications:document", args=[receipt.pk]) in html_of(page)

    def test_posting_the_confirmation_twice_creates_one_request(self, alice_client, on, contract):
        on(date(2026, 3, 10))
        first = alice_client.post(url("withdraw_confirm", contract), {"kind": "switch"})
        second = alice_client.post(url("withdraw_confirm", contract), {"kind": "switch"})
        assert first.status_code == 302
        assert second.status_code == 200
        assert "non puoi più chiederne il recesso" in text_of(second)
        assert WithdrawalRequest.objects.count() == 1

    def test_the_confirmation_recomputes_the_dates_and_ignores_posted_ones(self, alice_client, on, contract):
        on(date(2026, 3, 11))
        alice_client.post(
            url("withdraw_confirm", contract),
            {"kind": "switch", "received_on": "2026-03-01", "effective_on": "2026-03-15"},
        )
        withdrawal = WithdrawalRequest.objects.get()
        assert (withdrawal.received_on, withdrawal.effective_on) == (date(2026, 3, 11), date(2026, 5, 1))

    def test_a_partial_withdrawal_leaves_the_contract_active_and_cannot_be_sent_twice(
        self, alice_client, on, contract, supply
    ):
        fibre = ServiceFactory(
            contract=contract,
            kind=Service.Kind.FIBRE,
            pod="",
            fibre_technology="FTTH",
            line_number="0811234567",
        )
        services.activate_service(service=fibre, activated_on=date(2026, 2, 1))
        on(date(2026, 3, 10))
        data = {"kind": "deactivation", "service": str(fibre.pk)}
        assert alice_client.post(url("withdraw_confirm", contract), data).status_code == 302
        again = alice_client.post(url("withdraw_confirm", contract), data)
        assert again.status_code == 200
        assert "Scegli uno dei servizi attivi" in field_errors(again, "service")
        fibre.refresh_from_db()
        contract.refresh_from_db()
        assert (fibre.status, fibre.deactivates_on) == (Service.Status.DEACTIVATING, date(2026, 4, 9))
        assert contract.status == Contract.Status.ACTIVE
        assert WithdrawalRequest.objects.count() == 1

    @pytest.mark.parametrize("step", ["withdraw", "withdraw_confirm"])
    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            ({"kind": "banana"}, "kind", "Scegli una delle opzioni"),
            ({"kind": "cooling_off"}, "kind", "Scegli una delle opzioni"),
            ({}, "kind", "Scegli se cambi fornitore"),
            ({"kind": "switch", "service": "abc"}, "service", "Scegli uno dei servizi attivi"),
            ({"kind": "switch", "service": "999999"}, "service", "Scegli uno dei servizi attivi"),
        ],
    )
    def test_garbage_is_refused_with_a_message_never_a_500(
        self, alice_client, on, contract, step, data, field, message
    ):
        response = alice_client.post(url(step, contract), data)
        assert response.status_code == 200
        assert message in field_errors(response, field)
        assert not WithdrawalRequest.objects.exists()

    @pytest.mark.parametrize("step", ["withdraw", "withdraw_confirm"])
    def test_a_service_of_another_contract_or_customer_is_refused(
        self, alice_client, on, alice, bob, contract, step
    ):
        for foreign in (active_contract(alice).services.get(), active_contract(bob).services.get()):
            response = alice_client.post(url(step, contract), {"kind": "switch", "service": str(foreign.pk)})
            assert response.status_code == 200
            assert "Scegli uno dei servizi attivi" in field_errors(response, "service")
        assert not WithdrawalRequest.objects.exists()

    def test_a_terminated_contract_offers_no_withdrawal(self, alice_client, on, contract):
        Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.TERMINATED)
        response = alice_client.get(url("withdraw", contract))
        assert response.status_code == 200 and "non puoi più chiederne il recesso" in text_of(response)
        assert url("withdraw", contract) not in html_of(alice_client.get(url("detail", contract)))


# ---------------------------------------------------------------------------------------------------------
# Cooling-off
# ---------------------------------------------------------------------------------------------------------


class TestCoolingOff:
    def test_on_day_14_the_page_shows_the_last_day_and_confirming_cancels_the_contract(
        self, alice_client, on, alice, contract, django_capture_on_commit_callbacks
    ):
        on(date(2026, 1, 24))
        page = alice_client.get(url("cooling_off", contract))
        assert "fino al 24/01/2026" in text_of(page) and "non paghi penali" in text_of(page)

        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(url("cooling_off", contract))

        withdrawal = WithdrawalRequest.objects.get()
        assert response["Location"] == url("withdrawal_done", contract, withdrawal.pk)
        assert (withdrawal.kind, withdrawal.requested_by) == ("cooling_off", alice.user)
        contract.refresh_from_db()
        assert contract.status == Contract.Status.CANCELLED
        done = alice_client.get(response["Location"])
        assert "Contratto annullato" in text_of(done)
        receipt = Communication.objects.get(template_key="withdrawal_receipt")
        assert reverse("notifications:document", args=[receipt.pk]) in html_of(done)

    def test_on_day_15_it_is_not_available_and_a_post_is_refused_with_the_last_day(
        self, alice_client, on, contract
    ):
        on(date(2026, 1, 25))
        assert "non è disponibile" in text_of(alice_client.get(url("cooling_off", contract)))
        response = alice_client.post(url("cooling_off", contract))
        assert response.status_code == 200
        assert "terminato il 24/01/2026" in text_of(response)
        contract.refresh_from_db()
        assert contract.status == Contract.Status.ACTIVE and not WithdrawalRequest.objects.exists()

    def test_posting_twice_cancels_once(self, alice_client, on, contract):
        on(date(2026, 1, 20))
        alice_client.post(url("cooling_off", contract))
        second = alice_client.post(url("cooling_off", contract))
        assert second.status_code == 200 and "non può essere annullato" in text_of(second)
        assert WithdrawalRequest.objects.count() == 1


# ---------------------------------------------------------------------------------------------------------
# Contact details
# ---------------------------------------------------------------------------------------------------------


class TestContactDetails:
    URL = "/contratti/recapiti/"

    def data(self, **overrides):
        return {
            "phone": "+39 333 123 4567",
            "pec": "",
            "reply_street": "",
            "reply_postcode": "",
            "reply_city": "",
            "reply_province": "",
            "language": "it",
            **overrides,
        }

    def test_the_profile_page_links_to_it(self, alice_client):
        assert reverse("contracts:contact_details") == self.URL
        assert self.URL in html_of(alice_client.get(reverse("profile")))

    def test_it_saves_and_goes_back_to_the_profile(self, alice_client, alice):
        response = alice_client.post(
            self.URL,
            self.data(
                pec="alice@pec.it",
                reply_street="Via Chiaia 10",
                reply_postcode="80121",
                reply_city="Napoli",
                reply_province="NA",
                language="en",
                marketing_consent="on",
                health_data_consent="on",
            ),
        )
        assert response.status_code == 302 and response["Location"] == reverse("profile")
        alice.refresh_from_db()
        assert alice.reply_address == "Via Chiaia 10, 80121 Napoli (NA)"
        assert (alice.pec, alice.language, alice.marketing_consent) == ("alice@pec.it", "en", True)
        assert alice.health_data_consent and alice.health_data_consent_at is not None
        assert "Via Chiaia 10, 80121 Napoli (NA)" in text_of(alice_client.get(reverse("profile")))

    def test_it_explains_what_the_health_data_consent_is_for(self, alice_client):
        assert "Serve per Teleconsulto Medico" in text_of(alice_client.get(self.URL))

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            (
                {
                    "reply_street": "Via Chiaia 10",
                    "reply_postcode": "8012",
                    "reply_city": "Napoli",
                    "reply_province": "NA",
                },
                "reply_postcode",
                "Il CAP è di 5 cifre.",
            ),
            ({"reply_street": "Via Chiaia 10"}, "reply_street", "servono via, CAP, comune e provincia"),
            ({"reply_postcode": "80121"}, "reply_street", "servono via, CAP, comune e provincia"),
            ({"reply_province": "XX"}, "reply_province", "Scegli un'opzione valida"),
            ({"pec": "non-una-pec"}, "pec", "Scrivi un indirizzo PEC completo"),
            ({"phone": "chiamami"}, "phone", "Il numero di telefono non è valido"),
            ({"language": "de"}, "language", "Scegli un'opzione valida"),
        ],
    )
    def test_bad_input_gets_a_message_next_to_the_field(self, alice_client, alice, overrides, field, message):
        response = alice_client.post(self.URL, self.data(**overrides))
        assert response.status_code == 200
        assert message in field_errors(response, field)
        assert escape(message) in html_of(response)
        alice.refresh_from_db()
        assert alice.reply_street == "" and alice.pec == ""

    def test_the_health_data_consent_cannot_be_revoked_while_teleconsulto_is_active(
        self, alice_client, alice, contract
    ):
        alice.health_data_consent = True
        alice.save()
        teleconsulto = ServiceFactory(contract=contract, kind=Service.Kind.TELECONSULTO, pod="")
        services.activate_service(service=teleconsulto, activated_on=date(2026, 2, 1))
        response = alice_client.post(self.URL, self.data())
        assert response.status_code == 200
        assert "Teleconsulto Medico è attivo" in field_errors(response, "health_data_consent")
        alice.refresh_from_db()
        assert alice.health_data_consent

    def test_an_account_without_a_customer_record_gets_404(self, client):
        client.force_login(UserFactory(email="staff@optima.example", is_staff=True))
        assert client.get(self.URL).status_code == 404
        assert client.post(self.URL, self.data()).status_code == 404
