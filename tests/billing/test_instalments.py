"""Instalment plans (rateizzazione): asked for from an overdue bill, decided by an officer, swept instalment by
instalment; while approved the bills are out of the default procedure, a missed instalment brings it back."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing import instalments, services
from billing.dunning import notices, steps
from billing.models import (
    DefaultNotice,
    Instalment,
    InstalmentPlan,
    InstalmentPolicy,
    Invoice,
    InvoiceLine,
    Payment,
    SuspensionStep,
)
from billing.services import LineSpec
from portal import deadlines, roles
from portal.lib import dates
from portal.lib.dates import ROME, add_days, add_months
from portal.lib.money import split
from portal.notifications.models import Communication
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal
EUR = "\N{NO-BREAK SPACE}€"  # as the pages write amounts: 150,00 €

# Issued 15/01/2026 → due 30/01/2026 → due for a default notice from 09/02/2026.
ISSUED = date(2026, 1, 15)
ASKED = date(2026, 2, 3)  # overdue, not yet in a notice
APPROVED = date(2026, 2, 5)


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []


def at(day: date, hour=9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ROME)


def sweep(name, day):
    return deadlines.run_sweep(f"billing.{name}", now=at(day, hour=6))


def issue(contract, *, issued_on, amount="100.00", month=None):
    """An invoice of exactly `amount` (one line at 0% VAT), due 15 days after `issued_on`."""
    month = month or issued_on.month
    draft = services.create_draft(
        contract=contract,
        period_start=date(issued_on.year, month, 1),
        period_end=date(issued_on.year, month, 28),
        lines=[
            LineSpec(
                kind=InvoiceLine.Kind.CHARGE, description="Consumi", unit_price=D(amount), vat_rate=D("0")
            )
        ],
    )
    return services.issue_invoice(invoice=draft, issued_on=issued_on)


@pytest.fixture
def contract(alice):
    contract = active_contract(alice, activated_on=date(2025, 12, 1))
    contract.customer.pec = "alice@pec.example.it"
    contract.customer.save()
    return contract


@pytest.fixture
def bills(contract):
    """Two overdue bills of 100 € and 50 € (due 30/12/2025 and 30/01/2026)."""
    return [
        issue(contract, issued_on=date(2025, 12, 15), month=12),
        issue(contract, issued_on=ISSUED, amount="50.00"),
    ]


def approved_plan(customer, count=3):
    plan = instalments.request_plan(customer=customer, instalment_count=count, today=ASKED, now=at(ASKED))
    return instalments.approve(plan=plan, today=APPROVED, now=at(APPROVED))


# ---------------------------------------------------------------------------------------------------------
# Eligibility, limits and the schedule
# ---------------------------------------------------------------------------------------------------------


def test_split_adds_up_to_the_cent():
    assert split(D("100.00"), 3) == [D("33.34"), D("33.33"), D("33.33")]
    assert sum(split(D("150.01"), 7)) == D("150.01")


def test_only_overdue_unpaid_bills_not_under_complaint_can_be_in_a_plan(contract, bills):
    other = active_contract(contract.customer, activated_on=date(2025, 12, 1))
    not_yet_due = issue(other, issued_on=date(2026, 1, 28))  # due 12/02/2026
    paid = issue(other, issued_on=date(2025, 12, 15))
    services.record_payment(
        customer=contract.customer,
        amount=D("100.00"),
        received_on=date(2025, 12, 20),
        method="bank_transfer",
        invoice=paid,
    )
    offer = instalments.offer(contract.customer, today=ASKED)
    assert [invoice.pk for invoice in offer.invoices] == [bill.pk for bill in bills]
    assert offer.total == D("150.00")
    assert offer.counts == [2, 3, 4, 5, 6]  # at least 25 € an instalment, by the default limits
    assert not instalments.can_request(not_yet_due, today=ASKED)
    assert instalments.can_request(bills[0], today=ASKED)

    Invoice.objects.filter(pk=bills[1].pk).update(dunning_blocked=True)
    assert [invoice.pk for invoice in instalments.offer(contract.customer, today=ASKED).invoices] == [
        bills[0].pk
    ]


def test_too_small_an_amount_cannot_be_split(contract):
    issue(contract, issued_on=ISSUED, amount="40.00")
    offer = instalments.offer(contract.customer, today=ASKED)
    assert offer.counts == []
    assert "troppo basso" in offer.unavailable
    with pytest.raises(ValidationError, match="troppo basso"):
        instalments.request_plan(customer=contract.customer, instalment_count=2, today=ASKED)


def test_staff_limits_apply_from_their_day(contract, bills):
    InstalmentPolicy.objects.create(
        valid_from=date(2026, 2, 1),
        min_instalments=2,
        max_instalments=3,
        min_instalment=D("10.00"),
        first_due_days=20,
        grace_days=5,
        source="Delibera interna 1/2026",
    )
    assert instalments.offer(contract.customer, today=date(2026, 1, 31)).counts == [2, 3, 4, 5, 6]
    assert instalments.offer(contract.customer, today=ASKED).counts == [2, 3]
    with pytest.raises(ValidationError) as refused:
        instalments.request_plan(customer=contract.customer, instalment_count=4, today=ASKED)
    assert refused.value.message_dict == {"instalment_count": ["Scegli tra 2 e 3 rate."]}
    plan = approved_plan(contract.customer, count=3)
    first = plan.instalments.get(number=1)
    assert first.due_on == add_days(APPROVED, 20) and first.check_on == add_days(first.due_on, 6)


def test_the_instalments_add_up_exactly_to_what_is_still_due_and_fall_monthly(contract, bills):
    plan = instalments.request_plan(
        customer=contract.customer, instalment_count=3, today=ASKED, now=at(ASKED)
    )
    assert plan.status == InstalmentPlan.Status.REQUESTED and plan.total == D("150.00")
    assert not plan.instalments.exists()  # the schedule runs from the approval
    # Paid in part between the request and the decision: the plan is on what is still due.
    services.record_payment(
        customer=contract.customer,
        amount=D("0.01"),
        received_on=date(2026, 2, 4),
        method="bank_transfer",
        invoice=bills[0],
    )
    plan = instalments.approve(plan=plan, today=APPROVED, now=at(APPROVED))
    rows = list(plan.instalments.values_list("number", "amount", "due_on"))
    first_due = add_days(APPROVED, 10)
    assert rows == [
        (1, D("50.00"), first_due),
        (2, D("50.00"), add_months(first_due, 1)),
        (3, D("49.99"), add_months(first_due, 2)),
    ]
    assert sum(amount for _n, amount, _d in rows) == plan.total == D("149.99")
    assert plan.status == InstalmentPlan.Status.APPROVED


def test_a_customer_asks_once_at_a_time(contract, bills):
    instalments.request_plan(customer=contract.customer, instalment_count=2, today=ASKED)
    with pytest.raises(ValidationError, match="già una rateizzazione"):
        instalments.request_plan(customer=contract.customer, instalment_count=3, today=ASKED)


def test_billing_officers_are_alerted_of_a_new_request(contract, bills, django_capture_on_commit_callbacks):
    roles.sync_roles()
    officer = UserFactory(email="bollette@optima.example", is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.BILLING_OFFICER))
    with pytest.raises(ValidationError):  # nothing alerted for a refused request
        instalments.request_plan(customer=contract.customer, instalment_count=9, today=ASKED)
    with django_capture_on_commit_callbacks(execute=True):
        plan = instalments.request_plan(customer=contract.customer, instalment_count=2, today=ASKED)
    alerts = [message for message in mail.outbox if "bollette@optima.example" in message.to]
    assert len(alerts) == 1
    assert plan.reference in alerts[0].subject
    assert reverse("admin:billing_instalmentplan_change", args=[plan.pk]) in alerts[0].body


# ---------------------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------------------


def test_a_refusal_needs_a_reason_and_the_customer_reads_it(contract, bills):
    plan = instalments.request_plan(customer=contract.customer, instalment_count=2, today=ASKED)
    with pytest.raises(ValidationError) as refused:
        instalments.refuse(plan=plan, reason="  ", today=APPROVED)
    assert "reason" in refused.value.message_dict
    plan.refresh_from_db()
    assert plan.status == InstalmentPlan.Status.REQUESTED

    plan = instalments.refuse(plan=plan, reason="Due rateizzazioni non rispettate nel 2025.", today=APPROVED)
    assert plan.status == InstalmentPlan.Status.REFUSED and plan.ended_on == APPROVED
    told = Communication.objects.get(template_key="instalment_plan_decided")
    assert "Due rateizzazioni non rispettate nel 2025." in told.body_text
    assert "non possiamo accogliere" in told.body_text
    with pytest.raises(ValidationError, match="già stata decisa"):
        instalments.approve(plan=plan, today=APPROVED)
    # Refused: the bills go on towards a default notice as before.
    sweep("default_notices", date(2026, 2, 9))
    assert DefaultNotice.objects.filter(customer=contract.customer).exists()


def test_the_approved_plan_reaches_the_customer_with_its_instalments(contract, bills):
    plan = approved_plan(contract.customer, count=2)
    told = Communication.objects.get(template_key="instalment_plan_decided")
    assert "abbiamo approvato" in told.body_text
    assert "rata 1: 75,00 € entro il 15/02/2026" in told.body_text
    assert "rata 2: 75,00 € entro il 15/03/2026" in told.body_text
    assert plan.reference in told.subject


# ---------------------------------------------------------------------------------------------------------
# The default procedure while the plan runs, and after
# ---------------------------------------------------------------------------------------------------------


def test_an_approved_plan_suspends_the_default_procedure_for_its_bills(contract, bills):
    # A notice being prepared for the first bill; the plan takes it out, and no new notice follows.
    sweep("default_notices", date(2026, 1, 10))
    assert DefaultNotice.objects.get().items.count() == 1
    approved_plan(contract.customer)
    assert not DefaultNotice.objects.exists()
    assert sweep("overdue_invoices", date(2026, 3, 1)).acted == 0
    sweep("default_notices", date(2026, 3, 1))
    assert not DefaultNotice.objects.exists()
    assert all(bill.status == Invoice.Status.OVERDUE for bill in Invoice.objects.all())
    # A bill not in the plan (issued later) still goes the usual way.
    later = issue(contract, issued_on=date(2026, 2, 15), month=2)
    sweep("default_notices", date(2026, 3, 15))
    notice = DefaultNotice.objects.get()
    assert list(notice.invoices.all()) == [later]


def test_no_suspension_step_for_a_notice_whose_bills_are_in_the_plan(contract, bills):
    sweep("default_notices", date(2026, 1, 10))
    notice = notices.record_dispatch(
        notice=DefaultNotice.objects.get(),
        channel="pec",
        sent_on=date(2026, 1, 12),
        now=at(date(2026, 1, 12)),
    )
    approved_plan(contract.customer)
    sweep("suspension_allowed", date(2026, 3, 10))
    with pytest.raises(ValidationError, match="rateizzazione approvata"):
        steps.record_suspension_step(
            notice=notice,
            service=contract.services.get(),
            kind=SuspensionStep.Kind.POWER_REDUCTION,
            requested_on=date(2026, 3, 10),
            now=at(date(2026, 3, 10)),
        )


def sent_notice(contract):
    """The notice of the first bill, sent by PEC on 12/01/2026."""
    sweep("default_notices", date(2026, 1, 10))
    return notices.record_dispatch(
        notice=DefaultNotice.objects.get(),
        channel="pec",
        sent_on=date(2026, 1, 12),
        now=at(date(2026, 1, 12)),
    )


def test_a_sent_notice_is_held_while_the_plan_runs_and_admin_says_why(
    officer_client, contract, bills, monkeypatch
):
    notice = sent_notice(contract)
    step_day = notice.suspension_allowed_on
    plan = approved_plan(contract.customer, count=3)  # 50,00 € due 15/02, 15/03 and 15/04/2026
    instalments.record_instalment_payment(
        instalment=plan.instalments.get(number=1), received_on=date(2026, 2, 14), method="bank_transfer"
    )
    sweep("instalments", date(2026, 2, 26))

    # The plan covers the bill still due: the notice stays in its payment term, off the sweep.
    sweep("suspension_allowed", step_day)
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED and notice.suspension_allowed_on is None
    assert sweep("suspension_allowed", add_days(step_day, 1)).acted == 0

    monkeypatch.setattr(dates, "today", lambda: date(2026, 3, 10))
    held = f"sospesa (rateizzazione {plan.reference})"
    step_url = reverse("admin:billing_defaultnotice_step", args=[notice.pk])
    for url in (
        reverse("admin:billing_defaultnotice_worklist"),
        reverse("admin:billing_defaultnotice_changelist"),
        reverse("admin:billing_defaultnotice_change", args=[notice.pk]),
    ):
        html = officer_client.get(url).content.decode()
        assert held in html and step_url not in html, url
    # Asked for all the same, the step is refused on the form: no power reduction while the plan runs.
    refused = officer_client.post(
        step_url,
        {
            "service": contract.services.get().pk,
            "kind": SuspensionStep.Kind.POWER_REDUCTION,
            "requested_on": "2026-03-10",
        },
    )
    assert refused.status_code == 200 and "rateizzazione approvata" in refused.content.decode()
    assert not SuspensionStep.objects.exists()

    # The second instalment missed: the plan lapses and the notice allows a step again, from its own day.
    sweep("instalments", date(2026, 3, 26))
    notice.refresh_from_db()
    assert (
        notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED and notice.suspension_allowed_on == step_day
    )
    monkeypatch.setattr(dates, "today", lambda: date(2026, 3, 26))
    html = officer_client.get(reverse("admin:billing_defaultnotice_worklist")).content.decode()
    assert step_url in html and "sospesa (rateizzazione" not in html


def test_approving_a_plan_takes_a_notice_back_from_suspension_allowed(contract, bills):
    notice = sent_notice(contract)
    step_day = notice.suspension_allowed_on
    sweep("suspension_allowed", step_day)
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED

    plan = instalments.request_plan(customer=contract.customer, instalment_count=2, today=step_day)
    instalments.approve(plan=plan, today=step_day)

    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED and notice.suspension_allowed_on is None


def test_a_missed_instalment_revives_the_procedure_and_the_customer_is_told(contract, bills):
    plan = approved_plan(contract.customer, count=3)
    first = plan.instalments.get(number=1)  # 50,00 € due 15/02/2026, 10 days' grace
    instalments.record_instalment_payment(
        instalment=first, received_on=date(2026, 2, 14), method="bank_transfer"
    )
    second = plan.instalments.get(number=2)  # due 15/03/2026
    services.record_payment(
        customer=contract.customer, amount=D("20.00"), received_on=date(2026, 3, 20), method="bank_transfer"
    )
    assert sweep("instalments", date(2026, 2, 26)).acted == 1  # the first, paid
    # Within the grace nothing happens to the second.
    assert sweep("instalments", date(2026, 3, 25)).acted == 0
    plan.refresh_from_db()
    assert plan.status == InstalmentPlan.Status.APPROVED
    assert not Communication.objects.filter(template_key="instalment_plan_lapsed").exists()

    assert sweep("instalments", date(2026, 3, 26)).acted == 1
    plan.refresh_from_db()
    assert plan.status == InstalmentPlan.Status.LAPSED and plan.ended_on == date(2026, 3, 26)
    assert dict(plan.instalments.values_list("number", "status")) == {
        1: Instalment.Status.PAID,
        2: Instalment.Status.MISSED,
        3: Instalment.Status.CANCELLED,
    }
    told = Communication.objects.get(template_key="instalment_plan_lapsed")
    assert "la rata n. 2" in told.body_text and "mancano 30,00 €" in told.body_text
    assert "80,00 € ancora da pagare" in told.body_text
    assert second.check_on == date(2026, 3, 26)
    # Back in the procedure: the next default-notice sweep prepares the notice for what is still due.
    sweep("default_notices", date(2026, 3, 26))
    notice = DefaultNotice.objects.get()
    assert notice.total_due == D("80.00")
    assert sweep("instalments", date(2026, 4, 30)).acted == 0  # the plan is over


def test_paying_every_instalment_completes_the_plan_without_any_notice(contract, bills):
    plan = approved_plan(contract.customer, count=2)
    for instalment in plan.instalments.all():
        instalments.record_instalment_payment(
            instalment=instalment, received_on=instalment.due_on, method="bank_transfer"
        )
    assert Invoice.objects.filter(status=Invoice.Status.PAID).count() == 2
    with pytest.raises(ValidationError, match="già pagata"):
        instalments.record_instalment_payment(
            instalment=plan.instalments.first(), received_on=date(2026, 3, 1), method="bank_transfer"
        )
    sweep("instalments", date(2026, 2, 26))
    plan.refresh_from_db()
    assert plan.status == InstalmentPlan.Status.COMPLETED
    assert set(plan.instalments.values_list("status", flat=True)) == {Instalment.Status.PAID}
    sweep("default_notices", date(2026, 4, 1))
    assert not DefaultNotice.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# The customer's pages
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def on(monkeypatch):
    monkeypatch.setattr(dates, "today", lambda: ASKED)


def test_the_customer_sees_the_schedule_before_confirming(alice_client, contract, bills, on):
    bill = alice_client.get(reverse("billing:invoice", args=[bills[0].pk])).content.decode()
    url = reverse("billing:instalment_request", args=[bills[0].pk])
    assert "Richiedi rateizzazione" in bill and url in bill

    page = alice_client.get(url).content.decode()
    assert f"150,00{EUR}" in page and bills[0].number in page and bills[1].number in page

    preview = alice_client.post(url, {"instalment_count": "3", "anteprima": ""}).content.decode()
    assert "Le tue rate" in preview
    assert "13/02/2026" in preview and "13/03/2026" in preview and "13/04/2026" in preview
    assert f"50,00{EUR}" in preview and "Conferma la richiesta" in preview
    assert not InstalmentPlan.objects.exists()

    wrong = alice_client.post(url, {"instalment_count": "40", "conferma": ""})
    assert wrong.status_code == 200
    assert "Scegli uno dei numeri di rate proposti." in wrong.content.decode()
    assert not InstalmentPlan.objects.exists()

    done = alice_client.post(url, {"instalment_count": "3", "conferma": ""}, follow=True)
    plan = InstalmentPlan.objects.get()
    assert (plan.customer, plan.instalment_count, plan.total) == (contract.customer, 3, D("150.00"))
    assert done.redirect_chain[-1][0] == reverse("billing:invoice", args=[bills[0].pk])
    text = done.content.decode()
    assert "Richiesta di rateizzazione inviata" in text and "in attesa di approvazione" in text
    assert "Richiedi rateizzazione" not in text


def test_the_bill_shows_the_approved_plan_instead_of_the_default_steps(alice_client, contract, bills, on):
    plan = approved_plan(contract.customer, count=2)
    services.record_payment(
        customer=contract.customer, amount=D("30.00"), received_on=date(2026, 2, 10), method="bank_transfer"
    )
    page = alice_client.get(reverse("billing:invoice", args=[bills[1].pk])).content.decode()
    assert f"Rateizzazione n. {plan.reference}" in page
    assert "15/02/2026" in page and f"75,00{EUR}" in page and "Pagata in parte" in page
    assert "Cosa succede se non paghi" not in page


def test_another_customers_bill_is_not_found(client, bob, contract, bills, on):
    client.force_login(bob.user)
    url = reverse("billing:instalment_request", args=[bills[0].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"instalment_count": "2", "conferma": ""}).status_code == 404
    assert not InstalmentPlan.objects.exists()


def test_a_bill_not_yet_due_has_no_form(alice_client, contract, on):
    bill = issue(contract, issued_on=date(2026, 1, 28))
    page = alice_client.get(reverse("billing:instalment_request", args=[bill.pk])).content.decode()
    assert "Non hai bollette scadute da rateizzare." in page
    assert "Conferma la richiesta" not in page and "Vedi le rate" not in page


# ---------------------------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def officer_client(client):
    roles.sync_roles()
    officer = UserFactory(email="bollette@optima.example", is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.BILLING_OFFICER))
    client.force_login(officer)
    return client


def test_an_officer_refuses_with_a_reason_or_approves_in_admin(officer_client, contract, bills, on):
    plan = instalments.request_plan(customer=contract.customer, instalment_count=2, today=ASKED)
    change = officer_client.get(
        reverse("admin:billing_instalmentplan_change", args=[plan.pk])
    ).content.decode()
    assert reverse("admin:billing_instalmentplan_approve", args=[plan.pk]) in change

    refuse = reverse("admin:billing_instalmentplan_refuse", args=[plan.pk])
    blank = officer_client.post(refuse, {"reason": ""})
    assert blank.status_code == 200
    plan.refresh_from_db()
    assert plan.status == InstalmentPlan.Status.REQUESTED

    approve = officer_client.post(
        reverse("admin:billing_instalmentplan_approve", args=[plan.pk]), follow=True
    )
    assert "Rateizzazione approvata: 2 rate, la prima entro il 13/02/2026." in approve.content.decode()
    plan.refresh_from_db()
    assert (
        plan.status == InstalmentPlan.Status.APPROVED and plan.decided_by.email == "bollette@optima.example"
    )

    again = officer_client.post(refuse, {"reason": "Ci ho ripensato"})
    assert "è già stata decisa" in again.content.decode()


def test_a_complaints_officer_may_read_plans_but_not_decide(client, contract, bills):
    roles.sync_roles()
    reader = UserFactory(email="reclami@optima.example", is_staff=True)
    reader.groups.add(Group.objects.get(name=roles.COMPLAINTS_OFFICER))
    client.force_login(reader)
    plan = instalments.request_plan(customer=contract.customer, instalment_count=2, today=ASKED)
    assert client.get(reverse("admin:billing_instalmentplan_change", args=[plan.pk])).status_code == 200
    assert client.post(reverse("admin:billing_instalmentplan_approve", args=[plan.pk])).status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Staff: an instalment's payment
# ---------------------------------------------------------------------------------------------------------

PAID_ON = date(2026, 2, 14)


def payment_url(instalment):
    return reverse("admin:billing_instalmentplan_payment", args=[instalment.plan_id, instalment.pk])


def test_an_officer_records_an_instalments_payment_on_the_plans_bills(
    officer_client, contract, bills, monkeypatch
):
    monkeypatch.setattr(dates, "today", lambda: PAID_ON)
    plan = approved_plan(contract.customer, count=2)  # 75,00 € due 15/02 and 15/03/2026
    first, second = plan.instalments.all()
    change = reverse("admin:billing_instalmentplan_change", args=[plan.pk])
    page = officer_client.get(change).content.decode()
    assert page.count("Registra pagamento") == 2
    assert payment_url(first) in page and payment_url(second) in page

    form = officer_client.get(payment_url(first)).content.decode()
    assert "Registra il pagamento della rata 1" in form and f"75,00{EUR}" in form
    future = officer_client.post(payment_url(first), {"received_on": "2026-02-15", "method": "bank_transfer"})
    assert future.status_code == 200
    assert "La data dell&#x27;incasso non può essere nel futuro." in future.content.decode()
    assert not Payment.objects.exists()

    done = officer_client.post(
        payment_url(first),
        {"received_on": "2026-02-14", "method": "bank_transfer", "transaction_id": "TRN0001"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == change
    page = done.content.decode()
    assert f"Pagamento della rata 1 registrato: {bills[0].number} 75,00{EUR}." in page
    assert payment_url(first) not in page and payment_url(second) in page  # the first has nothing left
    bills[0].refresh_from_db()
    assert bills[0].outstanding == D("25.00")

    # The same bank movement again: said on the form, nothing recorded.
    twice = officer_client.post(
        payment_url(second),
        {"received_on": "2026-02-14", "method": "bank_transfer", "transaction_id": "TRN0001"},
    )
    assert twice.status_code == 200
    assert "Questa operazione è già registrata: pagamento di 75,00" in twice.content.decode()
    assert Payment.objects.count() == 1

    # What the second needs pays the rest of the older bill, then the newer one.
    done = officer_client.post(
        payment_url(second),
        {"received_on": "2026-02-14", "method": "postal_slip", "transaction_id": "TRN0002"},
        follow=True,
    )
    assert (
        f"Pagamento della rata 2 registrato: {bills[0].number} 25,00{EUR}, {bills[1].number} 50,00{EUR}."
        in done.content.decode()
    )
    assert "Registra pagamento" not in done.content.decode()
    assert Invoice.objects.filter(pk__in=[bill.pk for bill in bills], status=Invoice.Status.PAID).count() == 2
    assert sorted(Payment.objects.values_list("transaction_id", flat=True)) == [
        f"TRN0001/{bills[0].pk}",
        f"TRN0002/{bills[0].pk}",
        f"TRN0002/{bills[1].pk}",
    ]

    # An instalment already paid, from an old link: the refusal on the form, not an error page.
    again = officer_client.post(payment_url(first), {"received_on": "2026-02-14", "method": "bank_transfer"})
    assert again.status_code == 200 and "La rata 1 è già pagata." in again.content.decode()


def test_only_those_who_decide_plans_record_an_instalments_payment(client, contract, bills):
    roles.sync_roles()
    reader = UserFactory(email="reclami@optima.example", is_staff=True)
    reader.groups.add(Group.objects.get(name=roles.COMPLAINTS_OFFICER))
    client.force_login(reader)
    plan = approved_plan(contract.customer, count=2)
    first = plan.instalments.first()
    page = client.get(reverse("admin:billing_instalmentplan_change", args=[plan.pk])).content.decode()
    assert f"75,00{EUR}" in page and payment_url(first) not in page
    assert client.get(payment_url(first)).status_code == 403
    posted = client.post(payment_url(first), {"received_on": "2026-02-14", "method": "bank_transfer"})
    assert posted.status_code == 403 and not Payment.objects.exists()
