"""The default notice and what follows it, through the sweeps and billing.dunning, on PostgreSQL."""

import threading
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Customer
from billing import deadlines as billing_deadlines
from billing import services
from billing.dunning import notices, steps
from billing.models import Credit, DefaultNotice, Invoice, InvoiceLine, SuspensionStep
from billing.services import LineSpec
from contracts.models import Contract, Service
from portal import deadlines
from portal.lib.dates import ROME, add_days, rome_date
from portal.notifications.models import Communication, Delivery
from portal.notifications.services import record_letter_dispatch
from tests.factories import ServiceFactory, UserFactory, active_contract
from tests.pdf_utils import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal


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
    """An invoice whose total is `amount` (one line at 0% VAT: no VAT, no stamp duty) issued on `issued_on`:
    due 15 days later, due for a default notice 10 days after that."""
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


def pay(customer, amount, on, invoice=None):
    return services.record_payment(
        customer=customer, amount=D(amount), received_on=on, method="bank_transfer", invoice=invoice
    )


def dispatch_by_pec(notice, sent_on):
    return notices.record_dispatch(notice=notice, channel="pec", sent_on=sent_on, by=None, now=at(sent_on))


def with_pec(contract):
    contract.customer.pec = "cliente@pec.example.it"
    contract.customer.save()
    return contract


def gas_contract(**kwargs):
    contract = active_contract(**kwargs)
    contract.services.update(
        kind=Service.Kind.GAS, pod="", pdr="12345678901234", meter_class="G4", power_kw=None
    )
    return contract


# Issued 15/01/2026 → due 30/01/2026 → due for a notice 09/02/2026.
ISSUED = date(2026, 1, 15)
NOTICE_DAY = date(2026, 2, 9)
# Sent Fri 13/03/2026 → pay by Wed 22/04/2026 → Thu 23, Fri 24, Mon 27 pass (Sat 25 April) → Tue 28/04/2026.
SENT = date(2026, 3, 13)


@pytest.fixture
def contract():
    return with_pec(active_contract(activated_on=date(2025, 12, 1)))


@pytest.fixture
def notice(contract):
    """A notice sent by PEC on 13/03/2026 for one unpaid invoice of 100 €."""
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    return dispatch_by_pec(DefaultNotice.objects.get(), SENT)


# ---------------------------------------------------------------------------------------------------------
# Overdue invoices and preparing the notice
# ---------------------------------------------------------------------------------------------------------


def test_an_invoice_is_overdue_the_day_after_its_due_date(contract):
    invoice = issue(contract, issued_on=ISSUED)  # due 30/01/2026
    assert sweep("overdue_invoices", date(2026, 1, 30)).acted == 0
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED
    assert sweep("overdue_invoices", date(2026, 1, 31)).acted == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OVERDUE


def test_the_sweep_prepares_one_notice_per_customer_covering_all_their_overdue_invoices(contract):
    first = issue(contract, issued_on=date(2026, 1, 2), month=12)
    second = issue(contract, issued_on=ISSUED, amount="49.50")
    not_yet = issue(contract, issued_on=date(2026, 2, 2), month=2)  # due 17/02: not 10 days overdue yet
    other = active_contract()
    other_invoice = issue(other, issued_on=ISSUED)
    assert first.dunning_due_on == date(2026, 1, 27) and second.dunning_due_on == NOTICE_DAY

    assert sweep("default_notices", date(2026, 2, 8)).acted == 1  # the first invoice only
    run = sweep("default_notices", NOTICE_DAY)

    assert run.acted == 2  # the second invoice, and the other customer's
    notice = DefaultNotice.objects.get(customer=contract.customer)
    assert notice.status == DefaultNotice.Status.PREPARED and notice.prepared_on == date(2026, 2, 8)
    assert set(notice.invoices.all()) == {first, second}
    assert notice.total_due == D("149.50")
    assert notice.channel == DefaultNotice.Channel.PEC  # the customer has a PEC address
    assert set(DefaultNotice.objects.get(customer=other.customer).invoices.all()) == {other_invoice}
    assert DefaultNotice.objects.get(customer=other.customer).channel == DefaultNotice.Channel.RACCOMANDATA
    not_yet.refresh_from_db()
    assert not notice.invoices.filter(pk=not_yet.pk).exists() and not_yet.dunning_due_on is not None


def test_running_the_sweep_twice_prepares_nothing_more(contract):
    issue(contract, issued_on=ISSUED)
    issue(contract, issued_on=date(2026, 1, 10), month=12)
    assert sweep("default_notices", NOTICE_DAY).acted == 2
    assert sweep("default_notices", NOTICE_DAY).acted == 0
    assert sweep("default_notices", date(2026, 2, 20)).acted == 0
    assert DefaultNotice.objects.count() == 1 and DefaultNotice.objects.get().items.count() == 2


def test_an_invoice_due_later_joins_the_notice_until_it_is_sent_then_starts_a_new_one(contract):
    january = issue(contract, issued_on=ISSUED)
    february = issue(contract, issued_on=date(2026, 2, 2), month=2)  # due for a notice 27/02
    march = issue(contract, issued_on=date(2026, 3, 2), month=3)  # due for a notice 27/03
    sweep("default_notices", NOTICE_DAY)
    sweep("default_notices", date(2026, 2, 27))
    notice = DefaultNotice.objects.get()
    assert set(notice.invoices.all()) == {january, february}

    dispatch_by_pec(notice, SENT)
    sweep("default_notices", date(2026, 3, 27))

    second = DefaultNotice.objects.exclude(pk=notice.pk).get()
    assert set(second.invoices.all()) == {march} and notice.items.count() == 2


def complaint_about(contract, invoice=None):
    """An open complaint of the contract's customer (its invoice, when given, linked)."""
    from complaints.models import Complaint
    from complaints.services import file_complaint

    return file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL,
        description="La bolletta è molto più alta del solito.",
        sent_on=date(2026, 2, 2),
        customer=contract.customer,
        contract=contract,
        invoice=invoice,
    )


def test_an_invoice_blocked_by_an_anomalous_invoice_complaint_is_left_out(contract):
    blocked = issue(contract, issued_on=ISSUED)
    other = issue(contract, issued_on=date(2026, 1, 10), month=12)
    complaint = complaint_about(contract)
    notices.block_dunning(invoice=blocked, complaint=complaint, reason="Reclamo per bolletta anomala")
    sweep("default_notices", NOTICE_DAY)
    notice = DefaultNotice.objects.get()
    assert list(notice.invoices.all()) == [other]

    notices.unblock_dunning(invoice=blocked, reason="Letture verificate: la bolletta è corretta")
    sweep("default_notices", date(2026, 2, 10))
    assert set(notice.invoices.all()) == {blocked, other}


def test_blocking_an_invoice_takes_it_out_of_the_notice_being_prepared(contract):
    kept = issue(contract, issued_on=date(2026, 1, 10), month=12)
    invoice = issue(contract, issued_on=ISSUED)
    complaint = complaint_about(contract)
    sweep("default_notices", NOTICE_DAY)
    notices.block_dunning(invoice=invoice, complaint=complaint, reason="Reclamo per bolletta anomala")
    notice = DefaultNotice.objects.get()
    assert list(notice.invoices.all()) == [kept] and notice.total_due == D("100.00")
    notices.block_dunning(invoice=kept, complaint=complaint, reason="Reclamo per bolletta anomala")
    assert not DefaultNotice.objects.exists()  # it had nothing else to demand and never went out
    with pytest.raises(ValidationError, match="reason"):
        notices.block_dunning(invoice=invoice, complaint=complaint, reason=" ")


@pytest.fixture
def one_invoice_per_batch():
    """Workers claim one row at a time, so that two of them interleave on the same customers' invoices."""
    original = deadlines.get_sweep("billing.default_notices")
    deadlines.register(replace(original, batch_size=1))
    yield
    deadlines.register(original)


@pytest.mark.parametrize(
    ("total", "average", "received_on", "protected"),
    [
        ("151.00", "100.00", date(2026, 2, 9), True),  # 1.51 × average, 51 € above it, 10 days after due
        ("150.00", "100.00", date(2026, 2, 9), False),  # not above 1.5 × average
        ("75.01", "50.00", date(2026, 2, 9), False),  # anomalous, but only 25,01 € above the average
        ("151.00", "100.00", date(2026, 2, 10), False),  # complaint more than 10 days after the due date
        ("500.00", None, date(2026, 2, 1), False),  # no earlier invoice: no average
    ],
)
def test_the_anomalous_invoice_rule(total, average, received_on, protected):
    assert (
        notices.anomalous_invoice_is_protected(
            total=D(total),
            average=D(average) if average else None,
            due_on=date(2026, 1, 30),
            complaint_received_on=received_on,
        )
        is protected
    )


def test_an_invoice_is_anomalous_against_the_contracts_last_12_months(contract):
    for month, issued_on in ((10, date(2025, 11, 3)), (11, date(2025, 12, 2))):
        issue(contract, issued_on=issued_on, amount="80.00", month=month)
    issue(contract, issued_on=date(2024, 12, 2), amount="900.00", month=12)  # more than 12 months before
    anomalous = issue(contract, issued_on=ISSUED, amount="200.00")
    assert notices.is_anomalous_for_complaint(invoice=anomalous, complaint_received_on=date(2026, 2, 2))
    assert not notices.is_anomalous_for_complaint(invoice=anomalous, complaint_received_on=date(2026, 2, 10))


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_prepare_one_notice_per_customer(one_invoice_per_batch):
    contracts = [active_contract(activated_on=date(2025, 12, 1)) for _ in range(4)]
    for contract in contracts:
        for month, issued_on in ((11, date(2026, 1, 2)), (12, date(2026, 1, 10)), (1, ISSUED)):
            issue(contract, issued_on=issued_on, month=month)
    barrier = threading.Barrier(2)
    errors = []

    def run():
        barrier.wait()
        try:
            sweep("default_notices", NOTICE_DAY)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    for contract in contracts:
        assert DefaultNotice.objects.filter(customer=contract.customer).count() == 1
    # An invoice the other worker held at that moment is picked up, into the same notice, on the next run.
    sweep("default_notices", date(2026, 2, 10))
    for contract in contracts:
        assert DefaultNotice.objects.get(customer=contract.customer).items.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_worker_never_waits_for_a_customer_another_one_holds():
    contract = active_contract(activated_on=date(2025, 12, 1))
    issue(contract, issued_on=ISSUED)
    held, release = threading.Event(), threading.Event()

    def hold_the_customer():
        try:
            with transaction.atomic():
                Customer.objects.select_for_update(no_key=True).get(pk=contract.customer_id)
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_customer)
    holder.start()
    try:
        assert held.wait(timeout=10)
        run = sweep("default_notices", NOTICE_DAY)  # returns at once instead of waiting
        assert (run.failed, DefaultNotice.objects.count()) == (0, 0)
    finally:
        release.set()
        holder.join(timeout=30)
    sweep("default_notices", date(2026, 2, 10))  # the next run
    assert DefaultNotice.objects.get().items.count() == 1


# ---------------------------------------------------------------------------------------------------------
# Sending: raccomandata and PEC
# ---------------------------------------------------------------------------------------------------------


def test_the_raccomandata_states_the_rule_and_its_posting_date_starts_the_40_days():
    contract = active_contract(activated_on=date(2025, 12, 1))  # no PEC address
    invoice = issue(contract, issued_on=ISSUED, amount="1234.56")
    sweep("default_notices", NOTICE_DAY)
    notice = DefaultNotice.objects.get()
    staff = UserFactory(email="bollette@optima.example", is_staff=True)

    notice = notices.issue_notice_letter(notice=notice)

    letter = Delivery.objects.get(communication=notice.communication)
    assert letter.channel == Delivery.Channel.LETTER and letter.status == Delivery.Status.PENDING
    assert notice.status == DefaultNotice.Status.PREPARED and notice.sent_on is None
    text = pdf_text(notice.communication.document.read())
    assert invoice.number in text and "30/01/2026" in text and "1.234,56 €" in text
    assert "entro 40 giorni solari dalla data di invio della presente" in text
    assert "riduzione della potenza disponibile al 15%" in text
    assert "art. 12.2" in text

    # Staff post it and record the date in "Lettere da spedire" (the notifications service).
    now = timezone.now()
    today = rome_date(now)
    record_letter_dispatch(
        delivery=letter, dispatched_on=today, tracking_number="RR1234567890", by=staff, now=now
    )

    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED
    assert (notice.sent_on, notice.tracking_number) == (today, "RR1234567890")
    assert notice.payment_due_on == billing_deadlines.default_notice_payment_deadline(today)
    assert notice.dispatch_recorded_by == staff
    assert notice.suspension_allowed_on == billing_deadlines.earliest_suspension_request(
        notice.payment_due_on, add_days(today, 10), "electricity_lv"
    )


def test_recording_the_dispatch_here_records_it_on_the_letter_too():
    contract = active_contract(activated_on=date(2025, 12, 1))
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    notice = DefaultNotice.objects.get()
    with pytest.raises(ValidationError, match="Prepara prima la raccomandata"):
        notices.record_dispatch(notice=notice, channel="raccomandata", sent_on=rome_date(timezone.now()))
    notice = notices.issue_notice_letter(notice=notice)
    today = rome_date(timezone.now())

    notice = notices.record_dispatch(
        notice=notice, channel="raccomandata", sent_on=today, tracking_number="RR1"
    )

    assert notice.status == DefaultNotice.Status.DISPATCHED and notice.sent_on == today
    letter = Delivery.objects.get(communication=notice.communication)
    assert (letter.dispatched_on, letter.tracking_number) == (today, "RR1")
    # The return receipt, recorded here, is on the letter as well.
    notice = notices.record_receipt(notice=notice, received_on=today)
    letter.refresh_from_db()
    assert notice.received_on == today and letter.delivered_on == today


def test_the_pec_goes_out_at_once_and_prints_the_exact_deadline(contract):
    issue(contract, issued_on=ISSUED, amount="80.00")
    sweep("default_notices", NOTICE_DAY)
    notice = DefaultNotice.objects.get()
    with pytest.raises(ValidationError, match="13/03/2026"):
        notices.record_dispatch(notice=notice, channel="pec", sent_on=date(2026, 3, 12), now=at(SENT))

    notice = dispatch_by_pec(notice, SENT)

    assert notice.status == DefaultNotice.Status.DISPATCHED
    assert (notice.sent_on, notice.payment_due_on) == (SENT, date(2026, 4, 22))
    pec = notice.communication.deliveries.get()
    assert pec.channel == Delivery.Channel.PEC and pec.address == "cliente@pec.example.it"
    assert notice.tracking_number == pec.message_id
    text = pdf_text(notice.communication.document.read())
    assert "entro il 22/04/2026" in text and "13/03/2026" in text and "80,00 €" in text
    assert "Come pagare" in text and notice.communication.subject.startswith("Optima · Costituzione in mora")


def test_the_document_demands_what_is_still_due_when_it_is_sent(contract):
    paid_meanwhile = issue(contract, issued_on=date(2026, 1, 10), month=12)
    partly = issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    pay(contract.customer, "100.00", date(2026, 2, 20), invoice=paid_meanwhile)
    pay(contract.customer, "30.00", date(2026, 2, 21), invoice=partly)

    notice = dispatch_by_pec(DefaultNotice.objects.get(), SENT)

    assert [(item.invoice, item.amount_due) for item in notice.items.all()] == [(partly, D("70.00"))]
    assert notice.total_due == D("70.00")


# ---------------------------------------------------------------------------------------------------------
# When a suspension may be asked for (Easter and 25 April 2026)
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_on", "make_contract", "allowed_on"),
    [
        # Presumed receipt 23/03 + 25 = 17/04: the 3 working days after 22/04 decide → Tue 28/04.
        (None, active_contract, date(2026, 4, 28)),
        (date(2026, 3, 14), active_contract, date(2026, 4, 28)),
        # Delivered late: receipt + 25 days is later.
        (date(2026, 4, 5), active_contract, date(2026, 4, 30)),
        # Gas: receipt + 40 days (presumed 23/03 → 02/05; proven 14/03 → 23/04, so 28/04).
        (None, gas_contract, date(2026, 5, 2)),
        (date(2026, 3, 14), gas_contract, date(2026, 4, 28)),
    ],
)
def test_the_suspension_allowed_day_across_easter_and_25_april(received_on, make_contract, allowed_on):
    contract = with_pec(make_contract(activated_on=date(2025, 12, 1)))
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    notice = dispatch_by_pec(DefaultNotice.objects.get(), SENT)
    assert notice.payment_due_on == date(2026, 4, 22)
    if received_on:
        notice = notices.record_receipt(notice=notice, received_on=received_on, now=at(date(2026, 4, 10)))
    assert notice.suspension_allowed_on == allowed_on


def test_the_sweep_marks_suspension_allowed_on_that_day_if_still_unpaid(notice):
    assert sweep("suspension_allowed", date(2026, 4, 27)).acted == 0
    run = sweep("suspension_allowed", date(2026, 4, 28))
    notice.refresh_from_db()
    assert (run.acted, notice.status) == (1, DefaultNotice.Status.SUSPENSION_ALLOWED)
    assert sweep("suspension_allowed", date(2026, 4, 29)).acted == 0


def test_a_late_receipt_moves_the_day_and_undoes_suspension_allowed(notice):
    sweep("suspension_allowed", date(2026, 4, 28))
    notice = notices.record_receipt(notice=notice, received_on=date(2026, 4, 5), now=at(date(2026, 4, 29)))
    assert notice.suspension_allowed_on == date(2026, 4, 30)
    assert notice.status == DefaultNotice.Status.DISPATCHED
    sweep("suspension_allowed", date(2026, 4, 30))
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED


# ---------------------------------------------------------------------------------------------------------
# Steps: refusal, override, indemnities
# ---------------------------------------------------------------------------------------------------------


def supply(contract):
    return contract.services.get()


def step(notice, contract, kind, requested_on, executed_on=None, **kwargs):
    return steps.record_suspension_step(
        notice=notice,
        service=supply(contract),
        kind=kind,
        requested_on=requested_on,
        executed_on=executed_on,
        now=at(date(2026, 6, 30)),
        **kwargs,
    )


def test_an_early_step_is_refused_naming_the_day_it_is_allowed(notice, contract):
    with pytest.raises(ValidationError) as refused:
        step(notice, contract, "power_reduction", date(2026, 4, 27))
    message = " ".join(refused.value.messages)
    assert "28/04/2026" in message and "indennizzo automatico di 20 €" in message
    assert not SuspensionStep.objects.exists() and not Credit.objects.exists()

    reduction = step(notice, contract, "power_reduction", date(2026, 4, 28))
    assert reduction.allowed_on == date(2026, 4, 28) and reduction.indemnity is None
    assert not reduction.fees_waived
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.SUSPENSION_REQUESTED  # asked for, not yet executed


def test_an_early_step_forced_with_a_reason_carries_the_20_euro_indemnity_and_no_fees(notice, contract):
    forced = step(
        notice,
        contract,
        "power_reduction",
        date(2026, 4, 23),
        executed_on=date(2026, 4, 24),
        override_reason="Errore",
    )
    assert forced.fees_waived and forced.override_reason == "Errore"
    credit = forced.indemnity
    assert (credit.amount, credit.reason, credit.customer) == (
        D("20.00"),
        Credit.Reason.DEFAULT_INDEMNITY,
        contract.customer,
    )
    assert credit.description.startswith("Indennizzo automatico per mancato rispetto")
    assert credit.pay_by == date(2026, 12, 24)  # 8 months (CP-LG 6.5)
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.POWER_REDUCED
    # Later steps of the same procedure carry no fees either, and no second indemnity.
    suspension = step(notice, contract, "suspension_request", date(2026, 5, 9))
    assert suspension.fees_waived and suspension.indemnity is None
    assert Credit.objects.count() == 1


def test_low_voltage_suspension_is_refused_until_15_days_after_the_power_reduction(notice, contract):
    with pytest.raises(ValidationError, match="prima ridotta al 15%"):
        step(notice, contract, "suspension_request", date(2026, 4, 28))
    reduction = step(notice, contract, "power_reduction", date(2026, 4, 28))
    with pytest.raises(ValidationError, match="prima ridotta al 15%"):  # asked for, not executed yet
        step(notice, contract, "suspension_request", date(2026, 5, 20))
    steps.record_step_execution(step=reduction, executed_on=date(2026, 4, 30), now=at(date(2026, 4, 30)))
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.POWER_REDUCED

    with pytest.raises(ValidationError, match="15/05/2026"):
        step(notice, contract, "suspension_request", date(2026, 5, 14))
    suspension = step(notice, contract, "suspension_request", date(2026, 5, 15))
    assert suspension.allowed_on == date(2026, 5, 15) and suspension.indemnity is None


def test_gas_has_no_power_reduction_and_is_suspended_directly():
    contract = with_pec(gas_contract(activated_on=date(2025, 12, 1)))
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    notice = dispatch_by_pec(DefaultNotice.objects.get(), SENT)  # presumed receipt: allowed 02/05/2026
    with pytest.raises(ValidationError, match="solo la luce in bassa tensione"):
        step(notice, contract, "power_reduction", date(2026, 5, 4))
    with pytest.raises(ValidationError, match="02/05/2026"):
        step(notice, contract, "suspension_request", date(2026, 4, 30))
    step(notice, contract, "suspension_executed", date(2026, 5, 4), executed_on=date(2026, 5, 6))
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.SUSPENDED


def test_a_suspension_without_a_notice_needs_a_reason_and_carries_the_30_euro_indemnity(contract):
    with pytest.raises(ValidationError, match="30 €"):
        step(None, contract, "power_reduction", date(2026, 6, 1))
    first = step(
        None,
        contract,
        "power_reduction",
        date(2026, 6, 1),
        executed_on=date(2026, 6, 2),
        override_reason="Errore del distributore",
    )
    second = step(
        None,
        contract,
        "suspension_executed",
        date(2026, 6, 20),
        executed_on=date(2026, 6, 21),
        override_reason="Errore del distributore",
    )
    assert first.indemnity.amount == D("30.00") and first.fees_waived
    assert second.indemnity == first.indemnity  # one episode, one indemnity
    assert Credit.objects.get().pay_by == date(2027, 2, 2)


def test_no_step_while_an_invoice_of_the_notice_is_under_an_anomalous_invoice_complaint(notice, contract):
    complaint = complaint_about(contract)
    notices.block_dunning(invoice=notice.invoices.get(), complaint=complaint, reason="Bolletta anomala")
    with pytest.raises(ValidationError, match=f"reclamo per bolletta anomala \\({complaint.code}\\)"):
        step(notice, contract, "power_reduction", date(2026, 4, 28), override_reason="forzo")


def test_reactivation_after_proven_payment_keeps_the_waived_fees(notice, contract):
    step(
        notice,
        contract,
        "power_reduction",
        date(2026, 4, 24),
        executed_on=date(2026, 4, 27),
        override_reason="Errore",
    )
    with pytest.raises(ValidationError):
        steps.reactivate(notice=notice, proven_payment_on=date(2026, 7, 1), now=at(date(2026, 6, 30)))

    (reactivation,) = steps.reactivate(
        notice=notice,
        proven_payment_on=date(2026, 5, 2),
        requested_on=date(2026, 5, 4),
        now=at(date(2026, 5, 4)),
    )

    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.REACTIVATED and notice.payment_proven_on == date(2026, 5, 2)
    assert reactivation.kind == SuspensionStep.Kind.REACTIVATION and reactivation.fees_waived


# ---------------------------------------------------------------------------------------------------------
# Payment closes the dunning; express termination
# ---------------------------------------------------------------------------------------------------------


def test_full_payment_before_the_deadline_closes_the_notice_and_tells_the_customer(notice, contract):
    pay(contract.customer, "60.00", date(2026, 4, 1))
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED  # paid in part

    pay(contract.customer, "40.00", date(2026, 4, 10))

    notice.refresh_from_db()
    assert (notice.status, notice.closed_on) == (DefaultNotice.Status.CLOSED_PAID, date(2026, 4, 10))
    told = Communication.objects.get(template_key="default_notice_closed")
    assert told.customer == contract.customer and notice.reference in told.subject
    assert "non ci sarà alcuna riduzione di potenza" in told.body_text
    assert told.deliveries.get().channel == Delivery.Channel.EMAIL
    assert sweep("suspension_allowed", date(2026, 4, 28)).acted == 0


def test_a_paid_notice_letter_cannot_be_recorded_as_posted():
    contract = active_contract(activated_on=date(2025, 12, 1))
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    notice = notices.issue_notice_letter(notice=DefaultNotice.objects.get())
    pay(contract.customer, "100.00", date(2026, 2, 12))
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.CLOSED_PAID
    now = timezone.now()
    with pytest.raises(ValidationError, match="non va spedita"):
        record_letter_dispatch(
            delivery=notice.communication.deliveries.get(channel="letter"),
            dispatched_on=rome_date(now),
            tracking_number="RR9",
            by=UserFactory(is_staff=True),
            now=now,
        )


def test_a_cancelled_notice_puts_its_unpaid_invoices_back_in_the_queue(contract):
    invoice = issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    notice = notices.cancel_notice(notice=DefaultNotice.objects.get(), reason="Importi da verificare")
    invoice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.CANCELLED and invoice.dunning_due_on == NOTICE_DAY
    sweep("default_notices", date(2026, 2, 10))
    assert DefaultNotice.objects.filter(status="prepared").get().invoices.get() == invoice


def test_two_notices_in_12_months_flag_the_express_termination_grounds(contract):
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    dispatch_by_pec(DefaultNotice.objects.get(), SENT)
    contract.refresh_from_db()
    assert contract.termination_grounds_since is None

    issue(contract, issued_on=date(2027, 1, 4), month=12)  # due 19/01/2027, notice from 29/01/2027
    sweep("default_notices", date(2027, 1, 29))
    dispatch_by_pec(DefaultNotice.objects.get(status="prepared"), date(2027, 2, 1))

    contract.refresh_from_db()
    assert contract.termination_grounds_since == date(2027, 2, 1)


def test_a_notice_a_year_later_is_not_grounds(contract):
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    dispatch_by_pec(DefaultNotice.objects.get(), SENT)
    issue(contract, issued_on=date(2027, 2, 15), month=2)
    sweep("default_notices", date(2027, 3, 12))
    dispatch_by_pec(DefaultNotice.objects.get(status="prepared"), date(2027, 3, 15))
    contract.refresh_from_db()
    assert contract.termination_grounds_since is None


def test_a_suspension_executed_flags_the_express_termination_grounds():
    contract = with_pec(gas_contract(activated_on=date(2025, 12, 1)))
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    notice = dispatch_by_pec(DefaultNotice.objects.get(), SENT)
    step(notice, contract, "suspension_request", date(2026, 5, 4))
    assert Contract.objects.get(pk=contract.pk).termination_grounds_since is None
    steps.record_step_execution(
        step=SuspensionStep.objects.get(), executed_on=date(2026, 5, 7), now=at(date(2026, 5, 8))
    )
    assert Contract.objects.get(pk=contract.pk).termination_grounds_since == date(2026, 5, 7)


def test_the_repeat_default_flag_is_set_within_90_days_of_a_suspension_request():
    contract = with_pec(gas_contract(activated_on=date(2025, 12, 1)))
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    notice = dispatch_by_pec(DefaultNotice.objects.get(), SENT)
    step(notice, contract, "suspension_request", date(2026, 5, 4))
    issue(contract, issued_on=date(2026, 6, 1), month=6)  # notice from 26/06/2026
    sweep("default_notices", date(2026, 6, 26))
    assert DefaultNotice.objects.get(status="prepared").repeat_default


def test_a_supply_the_notice_does_not_cover_is_refused(notice):
    other = ServiceFactory(contract=active_contract(activated_on=date(2025, 12, 1)))
    with pytest.raises(ValidationError, match="non è tra quelle"):
        steps.record_suspension_step(
            notice=notice,
            service=other,
            kind="power_reduction",
            requested_on=date(2026, 4, 28),
            now=at(date(2026, 5, 1)),
        )
