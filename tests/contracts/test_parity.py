"""One rule, two doors: what a customer asks in the portal and what staff record in admin for them is refused,
or done, alike, because both go through the same service.

Each test is parametrized over the door ("portal", "admin") and states one expected outcome for both.
"""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts import services
from contracts.models import Contract, Service, WithdrawalRequest
from portal import roles
from portal.lib import dates
from portal.lib.dates import ROME
from tests.contracts.admin_helpers import form_data, run_action, staff_client
from tests.factories import ServiceFactory, active_contract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox")]

DOORS = ["portal", "admin"]


@pytest.fixture
def on(monkeypatch):
    """Set "today" (Europe/Rome) for both doors: the portal pages' clock and the contract admin's."""

    def set_today(day: date):
        monkeypatch.setattr(dates, "today", lambda: day)

    return set_today


def text_of(response) -> str:
    """What the door said: the page's text, and the messages admin shows after an action."""
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    messages = " ".join(str(message) for message in response.wsgi_request._messages)
    return f"{page} {messages}"


def as_customer(client, contract):
    client.force_login(contract.customer.user)
    return client


def as_staff(client):
    return staff_client(client, roles.BILLING_OFFICER)[0]


# ---------------------------------------------------------------------------------------------------------
# Cooling-off (ripensamento): 14 days from conclusion of a distance or off-premises contract
# ---------------------------------------------------------------------------------------------------------


def cool_off(door, client, contract, day):
    if door == "portal":
        return as_customer(client, contract).post(reverse("contracts:cooling_off", args=[contract.number]))
    return run_action(
        as_staff(client), "register_cooling_off", [contract], apply="1", sent_on=day.isoformat()
    )


# Alice's contract is concluded on the web on 10/01/2026: the last day is 24/01/2026.
COOLING_OFF_CASES = {
    "on day 14": dict(day=date(2026, 1, 24), refusal=None),
    "on day 15": dict(day=date(2026, 1, 25), refusal="Il periodo di ripensamento è terminato il 24/01/2026"),
    "signed in a shop": dict(
        day=date(2026, 1, 12),
        sales_channel=Contract.SalesChannel.SHOP,
        refusal="Il ripensamento vale per i contratti conclusi a distanza o fuori dai negozi",
    ),
    "while a withdrawal is pending": dict(day=date(2026, 1, 20), status="terminating", refusal=None),
    "already cancelled": dict(day=date(2026, 1, 20), status="cancelled", refusal="non può essere annullato"),
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("case", COOLING_OFF_CASES)
def test_cooling_off_is_refused_or_done_alike(client, on, alice, door, case):
    day, refusal = COOLING_OFF_CASES[case]["day"], COOLING_OFF_CASES[case]["refusal"]
    sales_channel = COOLING_OFF_CASES[case].get("sales_channel", Contract.SalesChannel.WEB)
    contract = active_contract(alice, activated_on=date(2026, 1, 15), sales_channel=sales_channel)
    status = COOLING_OFF_CASES[case].get("status", Contract.Status.ACTIVE)
    Contract.objects.filter(pk=contract.pk).update(status=status)
    on(day)

    response = cool_off(door, client, contract, day)

    contract.refresh_from_db()
    cancellations = WithdrawalRequest.objects.filter(kind=WithdrawalRequest.Kind.COOLING_OFF)
    if refusal:
        assert refusal in text_of(response)
        assert contract.status == status and not cancellations.exists()
        return
    withdrawal = cancellations.get()
    assert (withdrawal.received_on, withdrawal.effective_on, withdrawal.early_termination_charge) == (
        day,
        day,
        Decimal("0"),
    )
    assert (contract.status, contract.terminated_on) == (Contract.Status.CANCELLED, day)
    assert set(contract.services.values_list("status", flat=True)) == {Service.Status.CANCELLED}
    assert withdrawal.channel == ("portal" if door == "portal" else "staff")


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("day", "status", "open_until"),
    [
        (date(2026, 1, 24), Contract.Status.ACTIVE, "24/01/2026"),
        (date(2026, 1, 24), Contract.Status.PROPOSED, "24/01/2026"),
        (date(2026, 1, 20), Contract.Status.TERMINATING, "24/01/2026"),
        (date(2026, 1, 25), Contract.Status.ACTIVE, None),
        (date(2026, 1, 20), Contract.Status.CANCELLED, None),
        (date(2026, 1, 20), Contract.Status.TERMINATED, None),
    ],
)
def test_the_customer_is_offered_the_cooling_off_that_staff_see_pending(
    client, on, alice, door, day, status, open_until
):
    contract = active_contract(alice, activated_on=date(2026, 1, 15))
    Contract.objects.filter(pk=contract.pk).update(status=status)
    on(day)

    if door == "portal":
        page = text_of(as_customer(client, contract).get(reverse("contracts:detail", args=[contract.number])))
        shown = re.search(r"puoi ripensarci senza costi fino al (\d\d/\d\d/\d{4})", page)
    else:
        change_page = reverse("admin:contracts_contract_change", args=[contract.pk])
        page = text_of(as_staff(client).get(change_page))
        shown = re.search(r"Ultimo giorno per il ripensamento: (\d\d/\d\d/\d{4})", page)

    assert (shown.group(1) if shown else None) == open_until


# ---------------------------------------------------------------------------------------------------------
# Withdrawal (recesso): CG 3.2, 3.3, 3.8
# ---------------------------------------------------------------------------------------------------------


def withdraw(door, client, contract, *, kind, day, service=None):
    if door == "portal":
        data = {"kind": kind, "service": str(service.pk) if service else ""}
        return as_customer(client, contract).post(
            reverse("contracts:withdraw_confirm", args=[contract.number]), data
        )
    data = {"kind": kind, "received_on": day.isoformat(), **({"service": service.pk} if service else {})}
    return run_action(as_staff(client), "register_customer_withdrawal", [contract], apply="1", **data)


@pytest.fixture
def contract(alice):
    """Electricity live from 01/02/2026 (expiry 01/02/2027), 80 € of discounts enjoyed so far."""
    return active_contract(alice, activated_on=date(2026, 2, 1), discounts_enjoyed=Decimal("80.00"))


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("kind", "day", "effective_on"),
    [
        ("deactivation", date(2026, 11, 20), date(2026, 12, 20)),
        ("switch", date(2026, 11, 10), date(2026, 12, 1)),
        ("switch", date(2026, 11, 11), date(2027, 1, 1)),
    ],
)
def test_a_withdrawal_from_the_whole_contract_gets_the_same_date_and_charge(
    client, on, contract, door, kind, day, effective_on
):
    on(day)

    withdraw(door, client, contract, kind=kind, day=day)

    withdrawal = WithdrawalRequest.objects.get(contract=contract)
    assert (withdrawal.kind, withdrawal.received_on, withdrawal.effective_on) == (kind, day, effective_on)
    # Before the first expiry: the discounts enjoyed are charged back (CG 3.8).
    assert withdrawal.early_termination_charge == Decimal("80.00")
    contract.refresh_from_db()
    assert (contract.status, contract.terminates_on) == (Contract.Status.TERMINATING, effective_on)


@pytest.mark.parametrize("door", DOORS)
def test_a_switch_of_a_mobile_line_alone_goes_by_the_deactivation_notice(client, on, contract, door):
    mobile = ServiceFactory(
        contract=contract, kind=Service.Kind.MOBILE, pod="", sim_number="3331234567", iccid="8939" * 4
    )
    services.activate_service(service=mobile, activated_on=date(2026, 2, 1))
    on(date(2026, 11, 10))

    withdraw(door, client, contract, kind="switch", day=date(2026, 11, 10), service=mobile)

    mobile.refresh_from_db()
    contract.refresh_from_db()
    assert (mobile.status, mobile.deactivates_on) == (Service.Status.DEACTIVATING, date(2026, 12, 10))
    assert contract.status == Contract.Status.ACTIVE
    assert WithdrawalRequest.objects.get().early_termination_charge == Decimal("0")


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("status", [Contract.Status.TERMINATING, Contract.Status.TERMINATED])
def test_a_contract_that_is_ending_or_over_refuses_a_withdrawal_with_a_message(
    client, on, contract, door, status
):
    Contract.objects.filter(pk=contract.pk).update(status=status)
    on(date(2026, 11, 20))

    response = withdraw(door, client, contract, kind="deactivation", day=date(2026, 11, 20))

    said = {"portal": "non puoi più chiederne il recesso", "admin": "non è attivo: non si può recedere"}
    assert said[door] in text_of(response)
    assert not WithdrawalRequest.objects.exists()
    contract.refresh_from_db()
    assert contract.status == status


# ---------------------------------------------------------------------------------------------------------
# The health-data consent (GDPR art. 9) and Teleconsulto Medico (CP Teleconsulto 2.1)
# ---------------------------------------------------------------------------------------------------------


def set_consent(door, client, customer, *, consent: bool):
    if door == "portal":
        client.force_login(customer.user)
        data = {
            "phone": "",
            "pec": "",
            "language": "it",
            **({"health_data_consent": "on"} if consent else {}),
        }
        for name in ("reply_street", "reply_postcode", "reply_city", "reply_province"):
            data[name] = ""
        return client.post(reverse("contracts:contact_details"), data)
    client = as_staff(client)
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    data = form_data(client.get(url))
    data["user"] = customer.user_id
    data.pop("health_data_consent", None)
    if consent:
        data["health_data_consent"] = "on"
    return client.post(url, data)


@pytest.fixture
def consenting(alice):
    given_at = services.update_customer(
        customer=alice, changes={"health_data_consent": True}, now=datetime(2026, 1, 10, 9, tzinfo=ROME)
    ).health_data_consent_at
    alice.refresh_from_db()
    assert alice.health_data_consent and alice.health_data_consent_at == given_at
    return alice


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("teleconsulto", ["active", "being activated"])
def test_the_health_data_consent_cannot_be_revoked_while_teleconsulto_is_on(
    client, consenting, door, teleconsulto
):
    contract = active_contract(consenting)
    service = ServiceFactory(contract=contract, kind=Service.Kind.TELECONSULTO, pod="")
    if teleconsulto == "active":
        services.activate_service(service=service, activated_on=date(2026, 2, 1))
    given_at = consenting.health_data_consent_at

    response = set_consent(door, client, consenting, consent=False)

    assert response.status_code == 200
    assert "Teleconsulto Medico è attivo" in text_of(response)
    consenting.refresh_from_db()
    assert consenting.health_data_consent and consenting.health_data_consent_at == given_at


@pytest.mark.parametrize("door", DOORS)
def test_the_health_data_consent_is_revoked_once_teleconsulto_is_off(client, consenting, door):
    contract = active_contract(consenting)
    ServiceFactory(
        contract=contract, kind=Service.Kind.TELECONSULTO, pod="", status=Service.Status.DEACTIVATED
    )

    response = set_consent(door, client, consenting, consent=False)

    assert response.status_code == 302
    consenting.refresh_from_db()
    assert not consenting.health_data_consent and consenting.health_data_consent_at is None


@pytest.mark.parametrize("door", DOORS)
def test_giving_the_health_data_consent_records_when(client, alice, door):
    response = set_consent(door, client, alice, consent=True)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.health_data_consent and alice.health_data_consent_at is not None
