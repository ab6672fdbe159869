"""A sent notice whose bills a complaint holds (ARERA: an anomalous bill under complaint cannot lead to
suspension before the reasoned reply): not "suspension allowed" while every bill still due is held, and the
worklist and the notice pages say which complaint holds it instead of offering the step the form refuses."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.dunning import notices, selectors
from billing.dunning.lifecycle import Operation
from billing.models import DefaultNotice
from portal import roles
from tests.billing.test_admin import staff_client
from tests.billing.test_dunning import (
    ISSUED,
    NOTICE_DAY,
    SENT,
    at,
    complaint_about,
    dispatch_by_pec,
    issue,
    step,
    sweep,
    with_pec,
)
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

# Sent by PEC on 13/03/2026: a step is allowed from 28/04/2026 (tests/billing/test_dunning.py).
STEP_DAY = date(2026, 4, 28)
WORKLIST = reverse("admin:billing_defaultnotice_worklist")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"  # the notices' PDFs


@pytest.fixture
def contract():
    return with_pec(active_contract(activated_on=date(2025, 12, 1)))


@pytest.fixture
def billing(client):
    client, _user = staff_client(client, roles.BILLING_OFFICER)
    return client


def sent_notice(contract, *months):
    """A notice sent on 13/03/2026 for one bill per month, each issued on the 15th of January or before."""
    for month, issued_on in months:
        issue(contract, issued_on=issued_on, month=month)
    sweep("default_notices", NOTICE_DAY)
    return dispatch_by_pec(DefaultNotice.objects.get(), SENT)


def hold(invoice, complaint):
    return notices.block_dunning(invoice=invoice, complaint=complaint, reason="Bolletta anomala", manual=True)


def test_a_notice_whose_every_bill_is_held_does_not_become_suspension_allowed(contract, billing):
    notice = sent_notice(contract, (1, ISSUED))
    complaint = complaint_about(contract)
    block = hold(notice.invoices.get(), complaint)

    sweep("suspension_allowed", STEP_DAY)

    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED and notice.suspension_allowed_on is None
    assert sweep("suspension_allowed", date(2026, 4, 29)).acted == 0  # held: off the sweep
    rows = {section.key: section.rows for section in selectors.worklist(STEP_DAY)}["deadline-passed"]
    assert [(row.notice, row.blocked_by) for row in rows] == [(notice, (complaint.code,))]
    html = billing.get(WORKLIST).content.decode()
    assert f"bloccata (reclamo {complaint.code})" in html
    assert reverse("admin:billing_defaultnotice_step", args=[notice.pk]) not in html

    # The reply lifts the block: the day has passed, so the notice allows a step at once.
    notices.lift_dunning_block(block=block, by_hand=False, now=at(date(2026, 5, 4)))
    notice.refresh_from_db()
    assert (
        notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED and notice.suspension_allowed_on == STEP_DAY
    )


def test_blocking_the_last_free_bill_takes_a_notice_back_from_suspension_allowed(contract):
    notice = sent_notice(contract, (1, ISSUED))
    sweep("suspension_allowed", STEP_DAY)
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED

    hold(notice.invoices.get(), complaint_about(contract))

    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED and notice.suspension_allowed_on is None


def test_a_notice_with_one_held_bill_says_so_instead_of_offering_the_refused_step(contract, billing):
    notice = sent_notice(contract, (12, date(2026, 1, 10)), (1, ISSUED))
    complaint = complaint_about(contract)
    held = notice.invoices.get(issued_on=ISSUED)
    hold(held, complaint)
    sweep("suspension_allowed", STEP_DAY)
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.SUSPENSION_ALLOWED  # the other bill is still free

    (row,) = {section.key: section.rows for section in selectors.worklist(STEP_DAY)}["allowed-today"]
    assert row.operation is None and row.blocked_by == (complaint.code,)
    with pytest.raises(
        ValidationError, match=complaint.code
    ):  # and the form refuses it, naming the complaint
        step(notice, contract, "power_reduction", STEP_DAY)

    step_url = reverse("admin:billing_defaultnotice_step", args=[notice.pk])
    listed = billing.get(reverse("admin:billing_defaultnotice_changelist")).content.decode()
    page = billing.get(reverse("admin:billing_defaultnotice_change", args=[notice.pk])).content.decode()
    for html in (listed, page):
        assert f"bloccata (reclamo {complaint.code})" in html and step_url not in html
    assert Operation.RECORD_STEP not in selectors.offered_operations(notice, blocked_by=[complaint.code])
