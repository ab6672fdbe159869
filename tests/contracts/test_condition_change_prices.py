"""A bulk change of conditions: the 60-day withdrawal right follows from comparing the new prices with each
contract's offer (CG 9.3), never from a box someone forgot to tick."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from billing.models import Tariff
from contracts import services
from contracts.models import ConditionChange, ConditionChangeNotice, Service
from portal import deadlines, roles
from portal.lib.dates import ROME
from portal.notifications.models import Communication
from tests.contracts.admin_helpers import run_action, staff_client
from tests.factories import active_contract
from tests.pdf_utils import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox")]

D = Decimal
OFFER = "Optima Super Casa Smart con Teleconsulto Medico"
SWEEP = "contracts.condition_change_notices"


@pytest.fixture(autouse=True)
def tariff():
    return Tariff.objects.create(
        offer_name=OFFER,
        energy_price_kwh=D("0.120000"),
        gas_price_smc=D("0.900000"),
        electricity_monthly_fee=D("8.00"),
        fibre_monthly_fee=D("24.90"),
    )


@pytest.fixture
def billing(client):
    return staff_client(client, roles.BILLING_OFFICER)


def announce(client, contracts, other_charges=False, **prices):
    return run_action(
        client,
        "announce_condition_change",
        contracts,
        apply="1",
        title="Nuovi prezzi 2027",
        description="Il prezzo dell'energia cambia.",
        effective_on="2027-04-01",
        sent_on="2026-11-25",
        **{f"price_{name}": value for name, value in prices.items()},
        **({"raises_prices": "on"} if other_charges else {}),
    )


def send_all():
    deadlines.run_sweep(SWEEP, now=datetime(2026, 11, 25, 9, tzinfo=ROME))


def test_a_price_rise_gives_the_withdrawal_right_with_nothing_ticked_and_the_letter_says_by_how_much(
    billing, django_capture_on_commit_callbacks
):
    client, _user = billing
    electricity = active_contract()
    fibre_only = active_contract()  # its offer's energy price rises, but it buys no energy
    fibre_only.services.update(kind=Service.Kind.FIBRE, pod="", line_number="0811234567")
    with django_capture_on_commit_callbacks(execute=False):
        response = announce(client, [electricity, fibre_only], energy_price_kwh="0.135")
    assert response.status_code == 302
    send_all()

    rising = ConditionChangeNotice.objects.get(contract=electricity)
    assert rising.withdrawal_until == date(2027, 1, 24)
    assert rising.price_rises == [{"label": "prezzo energia €/kWh", "old": "0.120000", "new": "0.135"}]
    assert ConditionChangeNotice.objects.get(contract=fibre_only).withdrawal_until is None
    letter = Communication.objects.get(template_key="condition_change", customer=electricity.customer)
    text = pdf_text(letter.document.read())
    assert "può recedere dal contratto senza penali entro il 24/01/2027" in text
    assert "prezzo energia €/kWh: da 0.120000 a 0.135" in text


def test_a_price_cut_gives_no_withdrawal_right(billing, django_capture_on_commit_callbacks):
    client, _user = billing
    contract = active_contract()
    with django_capture_on_commit_callbacks(execute=False):
        announce(client, [contract], energy_price_kwh="0.110", electricity_monthly_fee="8.00")
    send_all()
    notice = ConditionChangeNotice.objects.get(contract=contract)
    assert (notice.price_rises, notice.withdrawal_until) == ([], None)


def test_other_charges_declared_give_the_right_to_every_contract(billing, django_capture_on_commit_callbacks):
    client, _user = billing
    contract = active_contract()
    with django_capture_on_commit_callbacks(execute=False):
        announce(client, [contract], other_charges=True)
    send_all()
    assert ConditionChangeNotice.objects.get(contract=contract).withdrawal_until == date(2027, 1, 24)


def test_new_prices_for_an_offer_without_a_tariff_are_refused_and_nothing_is_announced(billing):
    client, _user = billing
    contract = active_contract(offer_name="Offerta senza listino")
    response = announce(client, [contract], energy_price_kwh="0.135")
    assert response.status_code == 302
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any(
        "«Offerta senza listino»" in message and "non ha una tariffa" in message for message in messages
    )
    assert not ConditionChange.objects.exists()


def test_the_service_compares_only_the_prices_of_the_contracts_own_supplies():
    contract = active_contract()  # electricity only
    assert (
        services.price_rises(contract, {"gas_price_smc": D("2.0"), "energy_price_kwh": D("0.12")}, {}) == []
    )
