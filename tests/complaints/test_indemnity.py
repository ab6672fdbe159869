"""The legal clock and the automatic indemnity through the services: what the customer is owed, and once."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.generation import generate_invoices
from billing.models import Credit, CreditUse, InvoiceLine, Tariff
from billing.services import INDEMNITY_WORDING
from complaints import deadlines, selectors, services
from complaints.models import Complaint, ComplaintEvent
from portal.lib.dates import add_days
from tests.complaints.lines import mobile_line
from tests.factories import ContractFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal
OFFER = "Optima Super Casa Smart con Teleconsulto Medico"


def file(received_on, kind="complaint", contract=None, topic="fatturazione"):
    """A complaint filed online (sent and received the same day) on the contract's supply (electricity unless
    `contract` is given)."""
    contract = contract or active_contract()
    return services.file_complaint(
        kind=kind,
        topic=topic,
        channel=Complaint.Channel.PORTAL,
        description="La bolletta di settembre è il doppio del solito.",
        sent_on=received_on,
        customer=contract.customer,
        contract=contract,
        service=contract.services.get(),
    )


def mobile_contract():
    """A contract with one mobile line: what a communications (AGCOM) complaint is about."""
    contract = ContractFactory()
    mobile_line(contract)
    return contract


def write_reply(complaint):
    complaint.reply_complaint = "Ci ha scritto che la bolletta di settembre è troppo alta."
    complaint.reply_checks = "Abbiamo esaminato le letture e i consumi."
    complaint.reply_conclusions = "La bolletta è corretta."
    complaint.reply_rights = "Può rivolgersi al Servizio Conciliazione di ARERA."
    complaint.save(update_fields=["reply_complaint", "reply_checks", "reply_conclusions", "reply_rights"])
    return complaint


def answer(complaint, on):
    return services.send_reply(complaint=write_reply(complaint), answered_on=on, by=None)


@pytest.mark.parametrize(
    ("kind", "received_on", "answer_by"),
    [
        ("complaint", date(2026, 1, 31), date(2026, 3, 2)),
        ("complaint", date(2028, 2, 29), date(2028, 3, 30)),
        ("complaint", date(2025, 12, 31), date(2026, 1, 30)),
        ("complaint", date(2026, 1, 1), date(2026, 1, 31)),
        ("information_request", date(2026, 1, 31), date(2026, 3, 2)),
        ("billing_rectification", date(2026, 1, 31), date(2026, 4, 1)),
        ("double_billing", date(2025, 12, 31), date(2026, 1, 20)),  # 20 days until 31/12/2025
        ("double_billing", date(2026, 1, 1), date(2026, 1, 16)),  # 15 days from 1/1/2026
        ("telecom_complaint", date(2028, 2, 29), date(2028, 3, 30)),
    ],
)
def test_filing_stores_the_answer_by_date_and_the_sweep_dates(kind, received_on, answer_by):
    complaint = file(
        received_on, kind=kind, contract=mobile_contract() if kind == "telecom_complaint" else None
    )
    assert complaint.kind == kind
    assert complaint.answer_due_on == answer_by
    assert complaint.reminder_due_on == add_days(answer_by, -5)
    assert complaint.overdue_on == add_days(answer_by, 1)
    assert complaint.conciliation_due_on == add_days(received_on, 40)


@pytest.mark.parametrize(
    ("day", "euro"),
    [(30, None), (31, D("30.00")), (60, D("30.00")), (61, D("60.00")), (90, D("60.00")), (91, D("90.00"))],
)
def test_a_2026_complaint_answered_on_day_n_earns_its_band(day, euro):
    received = date(2026, 3, 2)
    complaint = answer(file(received), add_days(received, day))
    assert complaint.indemnity_amount == euro
    credits = Credit.objects.filter(customer=complaint.customer)
    if euro is None:
        assert not credits.exists() and complaint.indemnity_credit is None
    else:
        [credit] = credits
        assert (credit.amount, credit.remaining, credit.reason) == (
            euro,
            euro,
            Credit.Reason.COMPLAINT_INDEMNITY,
        )
        assert complaint.indemnity_credit == credit
        assert complaint.events.filter(kind=ComplaintEvent.Kind.INDEMNITY).count() == 1


@pytest.mark.parametrize(
    ("received", "euro"),
    [(date(2025, 12, 31), D("25.00")), (date(2026, 1, 1), D("30.00"))],
)
def test_the_base_is_the_one_in_force_on_the_receipt_date(received, euro):
    # Both answered in 2026, one day late: the receipt date decides the base (TIQV 2026 art. 19).
    complaint = answer(file(received), add_days(received, 31))
    assert complaint.indemnity_amount == euro


@pytest.mark.parametrize(
    ("received", "day", "euro"),
    [
        (date(2025, 12, 31), 20, None),
        (date(2025, 12, 31), 21, D("25.00")),
        (date(2026, 1, 1), 15, None),
        (date(2026, 1, 1), 16, D("30.00")),
        (date(2026, 1, 1), 31, D("60.00")),
        (date(2026, 1, 1), 46, D("90.00")),
    ],
)
def test_double_billing_is_late_after_20_days_until_2025_and_after_15_from_2026(received, day, euro):
    complaint = answer(file(received, kind="double_billing"), add_days(received, day))
    assert complaint.indemnity_amount == euro


def test_information_requests_and_telecom_complaints_earn_no_automatic_indemnity():
    received = date(2026, 3, 2)
    # A communications complaint is one about a fibre or mobile line (the supply decides the kind).
    for kind, contract in (("information_request", None), ("telecom_complaint", mobile_contract())):
        complaint = answer(file(received, kind=kind, contract=contract), add_days(received, 95))
        assert (complaint.kind, complaint.indemnity_amount) == (kind, None)
    assert not Credit.objects.exists()


def test_the_reply_cannot_be_sent_twice_so_the_credit_is_created_once():
    received = date(2026, 3, 2)
    complaint = answer(file(received), add_days(received, 40))
    with pytest.raises(ValidationError):
        services.send_reply(complaint=complaint, answered_on=add_days(received, 95), by=None)
    complaint.refresh_from_db()
    assert complaint.answered_on == add_days(received, 40) and complaint.indemnity_amount == D("30.00")
    assert Credit.objects.count() == 1
    assert complaint.events.filter(kind=ComplaintEvent.Kind.REPLIED).count() == 1


def test_a_reply_needs_all_four_sections():
    complaint = file(date(2026, 3, 2))
    complaint.reply_complaint = "Solo la prima sezione."
    complaint.save()
    with pytest.raises(ValidationError, match="quattro le sezioni"):
        services.send_reply(complaint=complaint, answered_on=date(2026, 3, 10), by=None)
    complaint.refresh_from_db()
    assert complaint.answered_on is None and complaint.is_open


def test_an_exclusion_with_a_reason_suppresses_the_indemnity():
    received = date(2026, 3, 2)
    complaint = file(received)
    services.exclude_indemnity(
        complaint=complaint,
        exclusion=Complaint.Exclusion.FORCE_MAJEURE,
        reason="Alluvione: uffici chiusi per ordinanza dal 10 al 31 marzo.",
        by=None,
    )
    complaint = answer(complaint, add_days(received, 70))
    assert complaint.indemnity_amount is None and complaint.indemnity_credit is None
    assert not Credit.objects.exists()
    assert complaint.indemnity_exclusion == Complaint.Exclusion.FORCE_MAJEURE


def test_an_exclusion_without_a_reason_is_refused():
    complaint = file(date(2026, 3, 2))
    with pytest.raises(ValidationError):
        services.exclude_indemnity(
            complaint=complaint, exclusion=Complaint.Exclusion.ALREADY_PAID, reason="  ", by=None
        )
    complaint.refresh_from_db()
    assert complaint.indemnity_exclusion == ""


def test_the_credit_carries_the_regulation_wording():
    received = date(2026, 3, 2)
    complaint = answer(file(received), add_days(received, 45))
    credit = complaint.indemnity_credit
    assert credit.description == INDEMNITY_WORDING
    assert credit.description.startswith("Indennizzo automatico per mancato rispetto dei livelli specifici")
    assert credit.created_on == add_days(received, 45)
    assert credit.pay_by is not None


def test_the_credit_is_due_within_6_months_of_the_receipt():
    received = date(2026, 3, 2)
    complaint = answer(file(received), add_days(received, 45))
    assert complaint.indemnity_credit.pay_by == deadlines.indemnity_payment_due_by(received)


def test_the_indemnity_is_a_line_on_the_customers_next_invoice():
    Tariff.objects.create(
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
    contract = active_contract()
    received = date(2026, 9, 1)
    complaint = answer(file(received, contract=contract), date(2026, 10, 5))  # day 34: 30 €
    assert complaint.indemnity_amount == D("30.00")

    report = generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
    assert report.errors == []
    invoice = contract.invoices.get()
    [line] = invoice.lines.filter(kind=InvoiceLine.Kind.INDEMNITY)
    assert line.description == INDEMNITY_WORDING
    assert line.amount == D("-30.00")
    use = CreditUse.objects.get(credit=complaint.indemnity_credit)
    assert (use.invoice, use.amount) == (invoice, D("30.00"))
    complaint.indemnity_credit.refresh_from_db()
    assert complaint.indemnity_credit.remaining == D("0.00")


def test_an_open_case_from_an_unidentified_sender_says_no_indemnity_whenever_it_is_answered():
    """Not "none if answered by <a date already past>": nobody can be credited, late or not."""
    received = date(2026, 3, 2)
    # A case about an identified supply whose sender is not its customer (e.g. a letter from the tenant).
    complaint = file(received)
    Complaint.objects.filter(pk=complaint.pk).update(customer=None)
    complaint.refresh_from_db()
    for today in (add_days(received, 10), add_days(received, 60)):
        outlook = selectors.indemnity_outlook(complaint, today=today)
        assert outlook.status == selectors.Indemnity.NOT_A_CUSTOMER
    customer_case = file(received)
    assert selectors.indemnity_outlook(customer_case, today=add_days(received, 10)).status == (
        selectors.Indemnity.NONE_IF_ON_TIME
    )
    assert selectors.indemnity_outlook(customer_case, today=add_days(received, 60)).status == (
        selectors.Indemnity.IF_SENT_TODAY
    )
