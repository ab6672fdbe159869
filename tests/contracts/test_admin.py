"""Back office for contracts: filters, search, the actions that call the services, roles, query counts."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.urls import reverse
from django.utils import timezone

from contracts import services
from contracts.models import (
    ConditionChange,
    ConditionChangeNotice,
    Contract,
    Device,
    Service,
    WithdrawalRequest,
)
from portal import deadlines, roles
from portal.lib.dates import ROME, rome_date
from portal.notifications.models import Communication
from tests.contracts.admin_helpers import CHANGELIST, form_data, run_action, staff_client
from tests.factories import ContractFactory, CustomerFactory, ServiceFactory, active_contract

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox")]


@pytest.fixture
def billing(client):
    return staff_client(client, roles.BILLING_OFFICER)


def today():
    return rome_date(timezone.now())


def listed(client, **params):
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return {contract.number for contract in response.context_data["cl"].queryset}


# ---------------------------------------------------------------------------------------------------------
# List, filters, search
# ---------------------------------------------------------------------------------------------------------


def test_the_list_shows_services_expiry_and_the_renewal_notice_with_days_left(billing):
    client, _user = billing
    contract = active_contract(activated_on=date(2026, 2, 15))  # expiry 01/03/2027, notice by 21/11/2026
    ServiceFactory(contract=contract, kind=Service.Kind.GAS, pod="", pdr="12345678901234", meter_class="G4")

    html = client.get(reverse(CHANGELIST)).content.decode()

    assert contract.number in html
    assert "Luce, Gas" in html
    assert "01/03/2027" in html and "21/11/2026" in html
    days = (date(2026, 11, 21) - today()).days
    expected = f"scaduto da {-days} giorn" if days < 0 else ("scade oggi" if days == 0 else f"{days} giorn")
    assert expected in html


def test_the_service_kind_filter(billing):
    client, _user = billing
    electricity = active_contract()
    mixed = active_contract()
    ServiceFactory(
        contract=mixed, kind=Service.Kind.MOBILE, pod="", sim_number="3331234567", iccid="8939" * 4
    )

    assert listed(client, servizio="mobile") == {mixed.number}
    assert listed(client, servizio="electricity") == {electricity.number, mixed.number}
    assert listed(client, servizio="gas") == set()


def test_the_expiring_within_90_days_filter(billing):
    client, _user = billing
    soon, later, ending, past = (active_contract() for _ in range(4))
    Contract.objects.filter(pk=soon.pk).update(expires_on=today() + timedelta(days=90))
    Contract.objects.filter(pk=later.pk).update(expires_on=today() + timedelta(days=91))
    Contract.objects.filter(pk=ending.pk).update(
        expires_on=today() + timedelta(days=10), status=Contract.Status.TERMINATING
    )
    Contract.objects.filter(pk=past.pk).update(expires_on=today() - timedelta(days=1))

    assert listed(client, scadenza="90") == {soon.number}


def test_the_renewal_notice_filter(billing):
    client, _user = billing
    to_send, overdue, sent, sent_late, terminated = (active_contract() for _ in range(5))
    Contract.objects.filter(pk=to_send.pk).update(renewal_notice_due_on=today())
    Contract.objects.filter(pk=overdue.pk).update(renewal_notice_due_on=today() - timedelta(days=1))
    Contract.objects.filter(pk=sent.pk).update(renewal_notice_sent_on=today(), renewal_notice_late=False)
    Contract.objects.filter(pk=sent_late.pk).update(renewal_notice_sent_on=today(), renewal_notice_late=True)
    Contract.objects.filter(pk=terminated.pk).update(
        status=Contract.Status.TERMINATED, renewal_notice_due_on=today() - timedelta(days=5)
    )

    assert listed(client, rinnovo="da-inviare") == {to_send.number}
    assert listed(client, rinnovo="scaduta") == {overdue.number}
    assert listed(client, rinnovo="inviata") == {sent.number}
    assert listed(client, rinnovo="inviata-in-ritardo") == {sent_late.number}


def test_the_status_filter(billing):
    client, _user = billing
    active = active_contract()
    proposed = ContractFactory()
    assert listed(client, status__exact="active") == {active.number}
    assert listed(client, status__exact="proposed") == {proposed.number}


@pytest.fixture
def searchable():
    customer = CustomerFactory(
        user=None,
        first_name="Giuseppe",
        last_name="Verdi",
        email="g.verdi@example.it",
        codice_fiscale="VRDGPP80A01F839W",
    )
    contract = active_contract(customer)
    contract.services.update(pod="IT001E99887766")
    ServiceFactory(contract=contract, kind=Service.Kind.GAS, pod="", pdr="09876543210987", meter_class="G4")
    ServiceFactory(
        contract=contract, kind=Service.Kind.MOBILE, pod="", sim_number="3479876543", iccid="8939" * 4
    )
    business = CustomerFactory(
        user=None,
        kind="business",
        company_name="Trattoria da Mimmo S.r.l.",
        first_name="",
        last_name="",
        email="mimmo@example.it",
        codice_fiscale="",
        partita_iva="01234560017",
    )
    return contract, active_contract(business)


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("IT001E99887766", "person"),
        ("it001e99887766", "person"),
        ("09876543210987", "person"),
        ("3479876543", "person"),
        ("vrdgpp80a01f839w", "person"),
        ("Giuseppe Verdi", "person"),
        ("01234560017", "business"),
        ("Mimmo", "business"),
    ],
)
def test_search_by_identifier_or_name_finds_the_contract(billing, searchable, query, who):
    client, _user = billing
    person, business = searchable
    Contract.objects.exclude(pk__in=[person.pk, business.pk]).delete()
    expected = person if who == "person" else business
    assert listed(client, q=query) == {expected.number}


def test_the_changelist_query_count_does_not_grow_with_the_contracts(billing, django_assert_max_num_queries):
    client, _user = billing
    for _ in range(20):
        contract = active_contract()
        ServiceFactory(
            contract=contract, kind=Service.Kind.GAS, pod="", pdr="12345678901234", meter_class="G4"
        )

    with django_assert_max_num_queries(10):
        response = client.get(reverse(CHANGELIST), {"status__exact": "active", "servizio": "gas"})

    assert len(response.context_data["cl"].result_list) == 20


# ---------------------------------------------------------------------------------------------------------
# The change page
# ---------------------------------------------------------------------------------------------------------


def test_the_change_page_lists_every_pending_deadline_with_days_left(billing):
    client, _user = billing
    contract = active_contract(activated_on=date(2026, 2, 15))
    Device.objects.create(contract=contract, serial_number="SN-1", return_by=today() + timedelta(days=4))

    html = client.get(reverse("admin:contracts_contract_change", args=[contract.pk])).content.decode()

    assert "Scadenze in corso" in html
    assert "Invio della comunicazione di rinnovo" in html
    assert "Scadenza: rinnovo tacito o cessazione" in html
    assert "Restituzione di Modem SN-1" in html and "4 giorni" in html


def test_renewal_conditions_are_editable_until_the_notice_is_sent(billing):
    client, _user = billing
    contract = active_contract(activated_on=date(2026, 2, 15))
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    assert 'name="renewal_offer_name"' in client.get(url).content.decode()

    Contract.objects.filter(pk=contract.pk).update(renewal_notice_sent_on=today())

    html = client.get(url).content.decode()
    assert 'name="renewal_offer_name"' not in html
    assert 'name="period_start"' not in html and 'name="expires_on"' not in html


def test_saving_the_change_page_does_not_overwrite_dates_set_by_the_services(billing):
    client, _user = billing
    contract = active_contract(activated_on=date(2026, 2, 15))
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    page = client.get(url)
    data = form_data(page)
    data["renewal_offer_name"] = "Optima Super Casa 2027"
    data["security_deposit"] = "100.00"
    # The sweep sends the notice while the page is open: what it announced stays as it was.
    Contract.objects.filter(pk=contract.pk).update(renewal_notice_sent_on=today(), announced_offer_name="")

    response = client.post(url, data, follow=True)

    assert "già stata inviata" in response.content.decode()
    contract.refresh_from_db()
    assert contract.renewal_offer_name == "" and contract.renewal_notice_sent_on == today()
    assert contract.security_deposit == Decimal("100.00")
    assert contract.period_start == date(2026, 3, 1)


# ---------------------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------------------


def test_the_condition_change_action_refuses_an_early_effective_date_naming_the_earliest(billing):
    client, _user = billing
    contracts = [active_contract(), active_contract()]

    response = run_action(
        client,
        "announce_condition_change",
        contracts,
        apply="1",
        title="Nuovi corrispettivi 2027",
        description="Il prezzo della componente energia cambia.",
        effective_on="2027-03-01",
        raises_prices="on",
        sent_on="2026-11-25",
    )

    assert response.status_code == 200
    form = response.context_data["form"]
    assert "01/04/2027" in " ".join(form.errors["effective_on"])
    assert "01/04/2027" in response.content.decode()
    assert not ConditionChange.objects.exists()


def test_the_condition_change_action_sends_one_notice_per_contract_and_shows_the_progress(
    billing, django_capture_on_commit_callbacks
):
    client, user = billing
    contracts = [active_contract(), active_contract()]
    form_page = run_action(client, "announce_condition_change", contracts)
    assert form_page.status_code == 200 and 'name="effective_on"' in form_page.content.decode()

    # The action queues a run of the notices sweep after commit; run it here as of the sending day instead,
    # so the test does not depend on today's date.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run_action(
            client,
            "announce_condition_change",
            contracts,
            apply="1",
            title="Nuovi corrispettivi 2027",
            description="Il prezzo della componente energia cambia.",
            effective_on="2027-04-01",
            raises_prices="on",
            sent_on="2026-11-25",
        )

    change = ConditionChange.objects.get()
    assert response.status_code == 302 and len(callbacks) == 1
    assert response["Location"] == reverse("admin:contracts_conditionchange_change", args=[change.pk])
    assert (change.notices_sent, change.notices_total, change.created_by) == (0, 2, user)
    deadlines.run_sweep("contracts.condition_change_notices", now=datetime(2026, 11, 25, 9, tzinfo=ROME))
    change.refresh_from_db()
    assert change.notices_sent == 2
    notices = ConditionChangeNotice.objects.filter(change=change)
    assert {notice.contract_id for notice in notices} == {contract.pk for contract in contracts}
    assert {notice.withdrawal_until for notice in notices} == {date(2027, 1, 24)}
    assert Communication.objects.filter(template_key="condition_change").count() == 2
    assert LogEntry.objects.filter(action_flag=ADDITION, object_id=str(change.pk), user=user).exists()
    assert LogEntry.objects.filter(action_flag=CHANGE, user=user).count() == 2

    html = client.get(response["Location"]).content.decode()
    assert "2 di 2 comunicazioni inviate" in html
    assert contracts[0].number in html and contracts[1].number in html
    assert 'http-equiv="refresh"' not in html


def test_the_notices_sweep_sends_each_notice_once_and_refuses_one_that_would_go_too_late():
    contract, late_contract = active_contract(), active_contract()
    change = services.start_condition_change(
        title="Variazione",
        description="Testo",
        effective_on=date(2027, 4, 1),
        raises_prices=False,
        sent_on=date(2026, 11, 25),
        contracts=[contract],
    )
    name = "contracts.condition_change_notices"
    assert deadlines.run_sweep(name, now=datetime(2026, 11, 25, 9, tzinfo=ROME)).acted == 1
    assert deadlines.run_sweep(name, now=datetime(2026, 11, 26, 9, tzinfo=ROME)).acted == 0
    change.refresh_from_db()
    assert change.notices_sent == 1
    # Announced for the same date but swept only after the sweep was down for weeks: 01/04/2027 is no longer
    # 3 months after the presumed receipt, so the notice is refused and flagged for staff.
    ConditionChangeNotice.objects.create(change=change, contract=late_contract, due_on=date(2026, 11, 25))
    run = deadlines.run_sweep(name, now=datetime(2026, 12, 30, 9, tzinfo=ROME))
    assert (run.acted, run.failed) == (0, 1)
    assert ConditionChangeNotice.objects.get(contract=late_contract).sent_on is None


def test_the_customer_withdrawal_action_registers_the_request_through_the_service(billing):
    client, user = billing
    contract = active_contract()
    form_page = run_action(client, "register_customer_withdrawal", [contract])
    assert 'name="received_on"' in form_page.content.decode()

    response = run_action(
        client,
        "register_customer_withdrawal",
        [contract],
        apply="1",
        kind="deactivation",
        received_on="2026-11-20",
    )

    assert response.status_code == 302
    withdrawal = WithdrawalRequest.objects.get(contract=contract)
    assert (withdrawal.kind, withdrawal.channel, withdrawal.requested_by) == ("deactivation", "staff", user)
    assert withdrawal.effective_on == date(2026, 12, 20)
    contract.refresh_from_db()
    assert (contract.status, contract.terminates_on) == (Contract.Status.TERMINATING, date(2026, 12, 20))
    entry = LogEntry.objects.get(object_id=str(contract.pk), user=user, action_flag=CHANGE)
    assert "20/12/2026" in entry.change_message
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("efficace dal 20/12/2026" in m for m in messages)


def test_a_partial_withdrawal_needs_one_contract(billing):
    client, _user = billing
    first, second = active_contract(), active_contract()
    service = first.services.get()

    response = run_action(
        client,
        "register_customer_withdrawal",
        [first, second],
        apply="1",
        kind="deactivation",
        received_on="2026-11-20",
        service=service.pk,
    )

    assert response.status_code == 200
    assert "seleziona un solo contratto" in response.content.decode()
    assert not WithdrawalRequest.objects.exists()


def test_a_partial_withdrawal_deactivates_one_service(billing):
    client, _user = billing
    contract = active_contract()
    mobile = ServiceFactory(
        contract=contract, kind=Service.Kind.MOBILE, pod="", sim_number="333", iccid="8939"
    )
    Service.objects.filter(pk=mobile.pk).update(status=Service.Status.ACTIVE)

    run_action(
        client,
        "register_customer_withdrawal",
        [contract],
        apply="1",
        kind="deactivation",
        received_on="2026-11-20",
        service=mobile.pk,
    )

    mobile.refresh_from_db()
    assert (mobile.status, mobile.deactivates_on) == (Service.Status.DEACTIVATING, date(2026, 12, 20))
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE


def test_a_refused_withdrawal_is_reported_not_raised(billing):
    client, _user = billing
    contract = active_contract()
    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.TERMINATED)

    response = run_action(
        client, "register_customer_withdrawal", [contract], apply="1", kind="switch", received_on="2026-11-20"
    )

    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("non è attivo" in m for m in messages)
    assert not WithdrawalRequest.objects.exists()


def test_the_supplier_withdrawal_action_sets_the_termination_date(billing):
    client, user = billing
    contract = active_contract()  # electricity: 6 months from the 1st of the month after receipt

    response = run_action(client, "register_supplier_withdrawal", [contract], apply="1", sent_on="2026-11-25")

    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.terminates_on) == (Contract.Status.TERMINATING, date(2027, 7, 1))
    withdrawal = WithdrawalRequest.objects.get(contract=contract)
    assert (withdrawal.kind, withdrawal.requested_by) == (WithdrawalRequest.Kind.SUPPLIER, user)
    assert LogEntry.objects.filter(object_id=str(contract.pk), user=user, action_flag=CHANGE).exists()


def test_the_supplier_withdrawal_skips_contracts_that_are_not_active(billing):
    client, _user = billing
    proposed = ContractFactory()

    response = run_action(client, "register_supplier_withdrawal", [proposed], apply="1", sent_on="2026-11-25")

    assert response.status_code == 302
    assert not WithdrawalRequest.objects.exists()


def test_bad_action_input_is_a_form_error(billing):
    client, _user = billing
    contract = active_contract()
    for action, data in [
        ("register_customer_withdrawal", {"kind": "price_change", "received_on": "31/02/2026"}),
        (
            "register_customer_withdrawal",
            {"kind": "switch", "received_on": "2026-11-20", "service": "999999"},
        ),
        ("register_supplier_withdrawal", {"sent_on": "yesterday"}),
        ("announce_condition_change", {"title": "", "effective_on": "2027-13-01", "sent_on": ""}),
    ]:
        response = run_action(client, action, [contract], apply="1", **data)
        assert response.status_code == 200, action
    assert not WithdrawalRequest.objects.exists() and not ConditionChange.objects.exists()


def test_the_cooling_off_action_asks_when_the_customer_sent_it(billing):
    client, _user = billing
    contract = active_contract()

    form_page = run_action(client, "register_cooling_off", [contract])
    refused = run_action(client, "register_cooling_off", [contract], apply="1", sent_on="ieri")

    assert 'name="sent_on"' in form_page.content.decode() and "art. 52" in form_page.content.decode()
    assert refused.status_code == 200 and "sent_on" in refused.context_data["form"].errors
    assert not WithdrawalRequest.objects.exists()


def test_staff_activate_a_service_and_the_contract_period_starts(billing):
    client, user = billing
    contract = ContractFactory()
    service = ServiceFactory(contract=contract)

    response = client.post(
        reverse("admin:contracts_service_changelist"),
        {
            "action": "activate",
            "_selected_action": [service.pk],
            "index": 0,
            "select_across": 0,
            "apply": "1",
            "activated_on": "2026-02-15",
        },
    )

    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.period_start, contract.expires_on) == (
        Contract.Status.ACTIVE,
        date(2026, 3, 1),
        date(2027, 3, 1),
    )
    assert LogEntry.objects.filter(object_id=str(service.pk), user=user).exists()


def test_the_service_page_shows_only_the_fields_of_its_kind_and_its_readings(billing):
    client, _user = billing
    contract = active_contract()
    service = contract.services.get()
    service.readings.create(read_on=date(2026, 3, 1), value=1234, source="customer")

    html = client.get(reverse("admin:contracts_service_change", args=[service.pk])).content.decode()

    assert 'name="pod"' in html and 'name="pdr"' not in html and 'name="sim_number"' not in html
    assert "1234" in html


# ---------------------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------------------


def test_a_complaints_officer_can_view_contracts_but_not_change_them(client):
    client, _user = staff_client(client, roles.COMPLAINTS_OFFICER)
    contract = active_contract()
    url = reverse("admin:contracts_contract_change", args=[contract.pk])

    changelist = client.get(reverse(CHANGELIST))
    assert changelist.status_code == 200
    assert contract.number in changelist.content.decode()
    assert 'name="action"' not in changelist.content.decode()  # no actions without change permission

    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"offer_name": "Altro"}).status_code == 403

    run_action(client, "register_supplier_withdrawal", [contract], apply="1", sent_on="2026-11-25")
    assert not WithdrawalRequest.objects.exists()
    assert client.get(reverse("admin:contracts_contract_add")).status_code == 403


def test_billing_officers_and_supervisors_change_contracts(client):
    for role in (roles.BILLING_OFFICER, roles.SUPERVISOR):
        staff, user = staff_client(client, role)
        assert user.has_perm("contracts.change_contract") and user.has_perm("contracts.change_service")
        assert not user.has_perm("contracts.delete_contract")


def test_staff_record_when_a_customer_gives_the_health_data_consent(billing, alice):
    client, _user = billing
    url = reverse("admin:accounts_customer_change", args=[alice.pk])
    page = client.get(url)
    assert "Indirizzo per le risposte scritte" in page.content.decode()
    data = form_data(page)
    data["health_data_consent"] = "on"
    data["user"] = alice.user_id

    response = client.post(url, data)

    assert response.status_code == 302, response.context_data["adminform"].form.errors
    alice.refresh_from_db()
    assert alice.health_data_consent and alice.health_data_consent_at is not None


def test_an_announcement_still_sending_shows_its_progress_and_refreshes_itself(billing):
    client, _user = billing
    change = ConditionChange.objects.create(
        title="Nuovi prezzi",
        description="Testo",
        effective_on=date(2027, 4, 1),
        notices_total=3,
        notices_sent=1,
    )

    html = client.get(reverse("admin:contracts_conditionchange_change", args=[change.pk])).content.decode()

    assert "1 di 3 comunicazioni inviate" in html
    assert 'http-equiv="refresh"' in html


def test_the_customer_list_tells_who_has_a_portal_account(billing, alice):
    client, _user = billing
    without = CustomerFactory(user=None, first_name="Nina", last_name="Blu", email="nina@example.it")

    response = client.get(reverse("admin:accounts_customer_changelist"), {"user__isempty": "1"})

    assert response.status_code == 200
    assert {customer.pk for customer in response.context_data["cl"].queryset} == {without.pk}
