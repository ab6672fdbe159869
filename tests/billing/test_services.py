"""Invoices, credit notes, payments and credits through the billing services, on PostgreSQL."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from billing import services
from billing.models import Charge, Credit, Invoice, InvoiceLine
from billing.services import LineSpec
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

D = Decimal


def energy_lines(kwh="250", price="0.123456"):
    return [
        LineSpec(
            kind=InvoiceLine.Kind.ENERGY,
            description="Energia",
            quantity=D(kwh),
            unit="kWh",
            unit_price=D(price),
            vat_rate=D("10"),
        ),
        LineSpec(
            kind=InvoiceLine.Kind.FIXED_FEE, description="Quota fissa", unit_price=D("8.50"), vat_rate=D("10")
        ),
        LineSpec(
            kind=InvoiceLine.Kind.ADDON,
            description="Teleconsulto Medico",
            unit_price=D("4.90"),
            vat_rate=D("22"),
        ),
    ]


def issued(contract, issued_on=date(2026, 11, 2), lines=None, period=(date(2026, 10, 1), date(2026, 10, 31))):
    draft = services.create_draft(
        contract=contract, period_start=period[0], period_end=period[1], lines=lines or energy_lines()
    )
    return services.issue_invoice(invoice=draft, issued_on=issued_on)


@pytest.fixture
def contract():
    return active_contract()


def test_lines_are_rounded_once_and_vat_is_summarised_per_rate(contract):
    invoice = issued(contract)
    # 250 × 0.123456 = 30.864 → 30.86; 10% on 39.36 = 3.936 → 3.94; 22% on 4.90 = 1.078 → 1.08
    assert [line.amount for line in invoice.lines.all()] == [D("30.86"), D("8.50"), D("4.90")]
    assert services.vat_summary(invoice) == [
        (D("10"), D("39.36"), D("3.94")),
        (D("22"), D("4.90"), D("1.08")),
    ]
    assert (invoice.total_taxable, invoice.total_vat, invoice.stamp_duty, invoice.total) == (
        D("44.26"),
        D("5.02"),
        D("0.00"),
        D("49.28"),
    )


def test_issue_numbers_gaplessly_sets_the_due_date_and_freezes_the_customer_data(contract):
    first = issued(contract)
    second = issued(contract, period=(date(2026, 11, 1), date(2026, 11, 30)))
    assert (first.number, second.number) == ("2026/000001", "2026/000002")
    assert first.due_on == date(2026, 11, 17)
    contract.customer.billing_street = "Via Nuova 2"
    contract.customer.save()
    first.refresh_from_db()
    assert "Via Roma 1" in first.billing_address and first.customer_code == contract.customer.code


def test_a_new_year_starts_again_from_one(contract):
    issued(contract, issued_on=date(2026, 12, 31))
    assert (
        issued(contract, issued_on=date(2027, 1, 2), period=(date(2026, 12, 1), date(2026, 12, 31))).number
        == "2027/000001"
    )


def test_an_issued_invoice_cannot_be_issued_again_or_deleted(contract):
    invoice = issued(contract)
    with pytest.raises(ValidationError):
        services.issue_invoice(invoice=invoice, issued_on=date(2026, 11, 3))
    with pytest.raises(ValidationError, match="nota di credito"):
        invoice.delete()


@pytest.mark.django_db(transaction=True)
def test_two_connections_issuing_at_once_get_consecutive_numbers():
    contract = active_contract()
    drafts = [
        services.create_draft(
            contract=contract,
            period_start=date(2026, m, 1),
            period_end=date(2026, m, 28),
            lines=energy_lines(),
        )
        for m in range(1, 11)
    ]
    barrier = threading.Barrier(2)

    def issue(batch):
        barrier.wait()
        try:
            for draft in batch:
                services.issue_invoice(invoice=draft, issued_on=date(2026, 11, 2))
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(drafts[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    numbers = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert numbers == list(range(1, 11))


def test_stamp_duty_is_due_when_amounts_outside_vat_exceed_77_47(contract):
    def deposit(amount):
        return [
            *energy_lines(),
            LineSpec(
                kind=InvoiceLine.Kind.DEPOSIT,
                description="Deposito cauzionale",
                unit_price=D(amount),
            ),
        ]

    below = issued(contract, lines=deposit("77.47"))
    above = issued(contract, lines=deposit("77.48"), period=(date(2026, 11, 1), date(2026, 11, 30)))
    assert (below.stamp_duty, above.stamp_duty) == (D("0.00"), D("2.00"))
    assert above.total == above.total_taxable + above.total_vat + D("77.48") + D("2.00")


def test_a_credit_note_negates_the_invoice_which_is_cancelled_and_unchanged(contract):
    invoice = issued(contract)
    note = services.issue_credit_note(
        invoice=invoice, issued_on=date(2026, 11, 10), reason="Doppia fatturazione"
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED and invoice.total == D("49.28")
    assert note.kind == Invoice.Kind.CREDIT_NOTE and note.corrects == invoice
    assert note.total == D("-49.28") and note.number == "2026/000002"
    with pytest.raises(ValidationError):
        services.issue_credit_note(invoice=invoice, issued_on=date(2026, 11, 11), reason="again")


class TestPayments:
    def test_a_payment_without_a_named_invoice_pays_the_oldest_debt_first(self, contract):
        older = issued(contract, issued_on=date(2026, 10, 2), period=(date(2026, 9, 1), date(2026, 9, 30)))
        newer = issued(contract, issued_on=date(2026, 11, 2))
        services.record_payment(
            customer=contract.customer,
            amount=D("60.00"),
            received_on=date(2026, 10, 15),
            method="bank_transfer",
        )
        older.refresh_from_db()
        newer.refresh_from_db()
        assert (older.status, older.outstanding) == (Invoice.Status.PAID, D("0.00"))
        assert (newer.status, newer.amount_paid) == (Invoice.Status.PARTIALLY_PAID, D("10.72"))

    def test_a_named_invoice_is_paid_first(self, contract):
        older = issued(contract, issued_on=date(2026, 10, 2), period=(date(2026, 9, 1), date(2026, 9, 30)))
        newer = issued(contract, issued_on=date(2026, 11, 2))
        services.record_payment(
            customer=contract.customer,
            amount=D("49.28"),
            received_on=date(2026, 11, 3),
            method="card",
            invoice=newer,
        )
        older.refresh_from_db()
        newer.refresh_from_db()
        assert newer.status == Invoice.Status.PAID and older.amount_paid == 0

    def test_an_overpayment_becomes_a_credit_deducted_from_the_next_invoice(self, contract):
        issued(contract)
        services.record_payment(
            customer=contract.customer, amount=D("60.00"), received_on=date(2026, 11, 3), method="postal_slip"
        )
        credit = Credit.objects.get()
        assert (credit.reason, credit.remaining) == (Credit.Reason.OVERPAYMENT, D("10.72"))
        lines, uses = services.credit_lines_for(D("5.00"), customer=contract.customer)
        assert [line.amount for line in lines] == [D("-5.00")]  # the rest is carried forward

    def test_paying_late_charges_interest_on_the_next_invoice(self, contract):
        invoice = issued(contract, issued_on=date(2026, 11, 2))  # due 17/11/2026
        services.record_payment(
            customer=contract.customer,
            amount=D("49.28"),
            received_on=date(2026, 12, 17),
            method="bank_transfer",
        )
        charge = Charge.objects.get()
        # Good payer (no late payment before): 10 days at the legal 1.6%, 20 days at ECB 2.15 + 3.5 = 5.65%.
        # 49.28 × (10 × 1.6 + 20 × 5.65) / 100 / 365 = 49.28 × 129 / 36500 = 0.1741… → 0.17
        assert charge.amount == D("0.17") and invoice.number in charge.description

    def test_a_payment_must_be_positive_and_for_the_customers_own_invoice(self, contract):
        other = active_contract()
        invoice = issued(other)
        with pytest.raises(ValidationError):
            services.record_payment(
                customer=contract.customer, amount=D("0"), received_on=date(2026, 11, 3), method="card"
            )
        with pytest.raises(ValidationError):
            services.record_payment(
                customer=contract.customer,
                amount=D("10"),
                received_on=date(2026, 11, 3),
                method="card",
                invoice=invoice,
            )


def test_an_indemnity_credit_is_created_once_with_the_regulations_wording(contract):
    first = services.grant_indemnity(
        customer=contract.customer,
        contract=contract,
        reason=Credit.Reason.COMPLAINT_INDEMNITY,
        amount=D("30.00"),
        created_on=date(2026, 11, 20),
        source_key="complaint:1",
    )
    again = services.grant_indemnity(
        customer=contract.customer,
        contract=contract,
        reason=Credit.Reason.COMPLAINT_INDEMNITY,
        amount=D("30.00"),
        created_on=date(2026, 11, 21),
        source_key="complaint:1",
    )
    assert first.pk == again.pk and Credit.objects.count() == 1
    assert first.description.startswith("Indennizzo automatico per mancato rispetto dei livelli specifici")
    assert first.pay_by == date(2027, 5, 20)
