"""The default notice's lifecycle, declared once (billing/dunning/lifecycle.py), and the dunning reads built
on it: what is still due on a notice, in SQL, and the worklist in a fixed number of queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Q

from billing.dunning import lifecycle, selectors
from billing.dunning.lifecycle import Operation, Status
from billing.models import DefaultNotice
from tests.billing.test_dunning import NOTICE_DAY, SENT, dispatch_by_pec, issue, pay, sweep, with_pec
from tests.factories import active_contract

D = Decimal


class FakeNotice:
    """A notice as the lifecycle reads it, without the database."""

    _meta = DefaultNotice._meta

    def __init__(self, status, *, communication_id=None, received_on=None):
        self.status, self.communication_id, self.received_on = status, communication_id, received_on


@pytest.mark.parametrize(
    ("notice", "operations"),
    [
        (FakeNotice(Status.PREPARED), [Operation.SEND, Operation.CANCEL]),
        (FakeNotice(Status.PREPARED, communication_id=1), [Operation.RECORD_POSTING, Operation.CANCEL]),
        (
            FakeNotice(Status.DISPATCHED, communication_id=1),
            [Operation.RECORD_RECEIPT, Operation.RECORD_STEP, Operation.CANCEL],
        ),
        (
            FakeNotice(Status.DISPATCHED, communication_id=1, received_on=SENT),
            [Operation.RECORD_STEP, Operation.CANCEL],
        ),
        (
            FakeNotice(Status.SUSPENSION_ALLOWED, communication_id=1),
            [Operation.RECORD_STEP, Operation.RECORD_RECEIPT, Operation.CANCEL],
        ),
        (FakeNotice(Status.POWER_REDUCED, communication_id=1), [Operation.RECORD_STEP, Operation.REACTIVATE]),
        (FakeNotice(Status.SUSPENDED, communication_id=1), [Operation.RECORD_STEP, Operation.REACTIVATE]),
        (FakeNotice(Status.CLOSED_PAID, communication_id=1), []),
        (FakeNotice(Status.REACTIVATED, communication_id=1), []),
        (FakeNotice(Status.CANCELLED), []),
    ],
)
def test_staff_are_offered_the_operations_of_the_state_the_most_likely_first(notice, operations):
    assert lifecycle.available_operations(notice) == operations


def test_every_state_is_declared_and_the_final_ones_are_not_open():
    assert set(lifecycle.ALLOWED) == set(Status)
    assert set(lifecycle.OPEN_STATUSES) == set(Status) - {
        Status.CLOSED_PAID,
        Status.REACTIVATED,
        Status.CANCELLED,
    }
    assert lifecycle.statuses(Operation.CLOSE_PAID) == lifecycle.statuses(Operation.CANCEL)
    # Payment closes a notice only while no step has been asked for; after one, the supply is restored.
    assert not set(lifecycle.statuses(Operation.CLOSE_PAID)) & set(lifecycle.statuses(Operation.REACTIVATE))


def test_the_partial_indexes_and_the_sweep_read_the_same_declaration():
    from billing.tasks import SUSPENSION_ALLOWED

    meta = DefaultNotice._meta
    indexes = {index.name: index for index in meta.indexes}
    constraints = {constraint.name: constraint for constraint in meta.constraints}
    # As migrated: `status = 'dispatched'`, and the six open states in their order.
    assert indexes["notice_suspension_allowed_due"].condition == Q(status="dispatched")
    assert indexes["notice_open"].condition == Q(
        status__in=[
            "prepared",
            "dispatched",
            "suspension_allowed",
            "power_reduced",
            "suspension_requested",
            "suspended",
        ]
    )
    assert constraints["one_collecting_notice_per_customer"].condition == Q(
        status="prepared", communication__isnull=True
    )
    assert SUSPENSION_ALLOWED.pending().query.where == (
        DefaultNotice.objects.filter(indexes["notice_suspension_allowed_due"].condition).query.where
    )


# ---------------------------------------------------------------------------------------------------------
# Reads: still due, the worklist
# ---------------------------------------------------------------------------------------------------------


def sent_notice(*, amount="100.00"):
    contract = with_pec(active_contract(activated_on=date(2025, 12, 1)))
    issue(contract, issued_on=date(2026, 1, 15), amount=amount)
    sweep("default_notices", NOTICE_DAY)
    return contract, dispatch_by_pec(DefaultNotice.objects.get(customer=contract.customer), SENT)


@pytest.mark.django_db
def test_the_amount_still_due_in_sql_is_what_the_invoices_still_ask():
    contract, notice = sent_notice(amount="100.00")
    assert selectors.amount_still_due(notice) == D("100.00")
    DefaultNotice.objects.filter(pk=notice.pk).update(status=Status.POWER_REDUCED)  # payment keeps it open
    pay(contract.customer, "30.00", date(2026, 4, 1))
    annotated = selectors.with_amount_still_due(DefaultNotice.objects.filter(pk=notice.pk)).get()
    assert selectors.amount_still_due(notice) == annotated.still_due == D("70.00")
    pay(contract.customer, "90.00", date(2026, 4, 2))  # 20 € more than due: a credit, not a negative debt
    assert selectors.amount_still_due(notice) == D("0.00")


@pytest.mark.django_db
def test_the_worklist_takes_the_same_queries_for_one_notice_paid_after_a_step_or_for_many(
    django_assert_max_num_queries,
):
    def paid_after_a_step():
        contract, notice = sent_notice()
        DefaultNotice.objects.filter(pk=notice.pk).update(status=Status.POWER_REDUCED)
        pay(contract.customer, "100.00", date(2026, 4, 1))
        return notice

    def worklist():
        sections = {section.key: section for section in selectors.worklist(date(2026, 4, 2))}
        for section in sections.values():
            for row in section.rows or []:
                str(row.notice.customer)  # what the page shows of each row
        return sections

    _contract, unpaid = sent_notice()
    DefaultNotice.objects.filter(pk=unpaid.pk).update(status=Status.SUSPENDED)
    paid = [paid_after_a_step() for _ in range(5)]

    # One per section, one for the complaints' blocks and one for the instalment plans of all rows.
    with django_assert_max_num_queries(9):
        sections = worklist()

    rows = sections["paid-after-step"].rows
    assert [row.notice.pk for row in rows] == [notice.pk for notice in paid]  # not the unpaid one
    assert {row.operation for row in rows} == {Operation.REACTIVATE}
