"""The anomalous-bill block follows the case (ARERA: an invoice above 1.5 times the last 12 months' average,
under complaint, cannot lead to suspension before the reasoned reply): at filing whatever kind the sender
chose, when the invoice is linked later on the case page, on reclassification, set or lifted by the officer
from the case (with a reason before the reply), and lifted by the reply — only the replied case's block."""

from datetime import date

import pytest
from django.core import mail

from billing.models import DefaultNotice, DunningBlock, Invoice
from complaints import services
from complaints.models import Complaint, ComplaintEvent
from portal import roles
from tests.billing.test_dunning import NOTICE_DAY, issue, sweep
from tests.complaints.test_staff import SECTIONS, change_form_data, staff, url
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

RECEIVED = date(2026, 2, 2)  # 3 days after the anomalous bill's due date (30/01/2026)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []


@pytest.fixture
def officer():
    return staff("reclami@optima.example", roles.COMPLAINTS_OFFICER)


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def contract():
    return active_contract(activated_on=date(2025, 10, 1))


@pytest.fixture
def usual(contract):
    """Two bills of 80 €: what the average is made of."""
    return [
        issue(contract, issued_on=date(2025, 11, 3), amount="80.00", month=10),
        issue(contract, issued_on=date(2025, 12, 2), amount="80.00", month=11),
    ]


@pytest.fixture
def anomalous(contract, usual):
    """200 € against an average of 80 €, issued 15/01/2026, due 30/01/2026."""
    return issue(contract, issued_on=date(2026, 1, 15), amount="200.00", month=1)


def file(contract, *, invoice=None, kind=Complaint.Kind.COMPLAINT):
    return services.file_complaint(
        kind=kind,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL,
        description="La bolletta di gennaio è più del doppio del solito.",
        sent_on=RECEIVED,
        customer=contract.customer,
        contract=contract,
        service=contract.services.get(),
        invoice=invoice,
    )


def blocked(invoice) -> bool:
    return Invoice.objects.get(pk=invoice.pk).dunning_blocked


@pytest.mark.parametrize(
    ("kind", "blocks"),
    [
        (Complaint.Kind.COMPLAINT, True),  # "Reclamo", the default kind of the forms
        (Complaint.Kind.BILLING_RECTIFICATION, True),
        (Complaint.Kind.DOUBLE_BILLING, True),
        (Complaint.Kind.INFORMATION_REQUEST, False),  # not a complaint
    ],
)
def test_any_complaint_about_an_anomalous_bill_blocks_it_whatever_kind_was_chosen(
    contract, anomalous, kind, blocks
):
    complaint = file(contract, invoice=anomalous, kind=kind)
    assert blocked(anomalous) is blocks
    if blocks:
        assert anomalous.dunning_blocks.get().complaint == complaint
        sweep("default_notices", NOTICE_DAY)
        assert not DefaultNotice.objects.filter(items__invoice=anomalous).exists()


def test_an_invoice_linked_later_on_the_case_page_is_blocked(officer_client, officer, contract, anomalous):
    complaint = file(contract)
    assert not blocked(anomalous)

    page = officer_client.get(url("change", complaint))
    response = officer_client.post(
        url("change", complaint), {**change_form_data(page), "invoice": anomalous.pk, "_continue": "1"}
    )

    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.invoice == anomalous and blocked(anomalous)
    block = anomalous.dunning_blocks.get()
    assert block.complaint == complaint and not block.manual
    linked = complaint.events.get(kind=ComplaintEvent.Kind.INVOICE_LINKED)
    assert linked.actor == officer and anomalous.number in linked.text
    html = officer_client.get(url("change", complaint)).content.decode()
    assert "Bloccati fino alla risposta" in html and "per regola" in html


def test_an_invoice_of_another_customer_cannot_be_linked(officer_client, contract, anomalous):
    complaint = file(active_contract())
    page = officer_client.get(url("change", complaint))
    response = officer_client.post(
        url("change", complaint), {**change_form_data(page), "invoice": anomalous.pk, "_continue": "1"}
    )
    assert response.status_code == 200
    assert "non è intestata al cliente del reclamo" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.invoice is None and not blocked(anomalous)


def test_reclassifying_blocks_or_lifts_as_the_rule_says(officer_client, contract, anomalous):
    complaint = file(contract, invoice=anomalous)
    assert blocked(anomalous)

    officer_client.post(
        url("reclassify", complaint), {"kind": "information_request", "reason": "Chiede solo chiarimenti"}
    )
    assert not blocked(anomalous)
    lifted = anomalous.dunning_blocks.get()
    assert lifted.lifted_at is not None and not lifted.lifted_by_hand

    officer_client.post(url("reclassify", complaint), {"kind": "complaint", "reason": "Contesta gli importi"})
    assert blocked(anomalous)
    assert anomalous.dunning_blocks.filter(lifted_at__isnull=True).count() == 1


def test_the_officer_blocks_a_bill_from_the_case_and_the_block_names_it(
    officer_client, officer, contract, usual
):
    invoice = usual[1]  # not anomalous: the rule leaves it alone
    complaint = file(contract, invoice=invoice)
    assert not blocked(invoice)
    page = officer_client.get(url("change", complaint)).content.decode()
    assert url("block_dunning", complaint) in page

    refused = officer_client.post(url("block_dunning", complaint), {"reason": ""})
    assert refused.status_code == 200 and not blocked(invoice)
    response = officer_client.post(url("block_dunning", complaint), {"reason": "Letture contestate"})

    assert response.status_code == 302 and blocked(invoice)
    block = invoice.dunning_blocks.get()
    assert (block.complaint, block.manual, block.set_by, block.reason) == (
        complaint,
        True,
        officer,
        "Letture contestate",
    )
    assert complaint.code in Invoice.objects.get(pk=invoice.pk).dunning_blocked_reason
    # Staff's block stands whatever the kind: only the reply, or staff with a reason, lift it.
    services.reclassify(complaint=complaint, kind=Complaint.Kind.INFORMATION_REQUEST, reason="x", by=officer)
    assert blocked(invoice)
    html = officer_client.get(url("change", complaint)).content.decode()
    assert "Letture contestate" in html and url("lift_dunning", complaint) in html


def test_lifting_the_block_before_the_reply_needs_a_reason_and_the_rule_respects_it(
    officer_client, officer, contract, anomalous
):
    complaint = file(contract, invoice=anomalous)

    refused = officer_client.post(url("lift_dunning", complaint), {"reason": ""})

    assert refused.status_code == 200 and blocked(anomalous)
    assert "reason" in refused.context["form"].errors
    response = officer_client.post(
        url("lift_dunning", complaint), {"reason": "Consumi confermati dalla lettura del distributore"}
    )
    assert response.status_code == 302 and not blocked(anomalous)
    block = anomalous.dunning_blocks.get()
    assert block.lifted_by_hand and block.lifted_by == officer
    assert block.lift_reason == "Consumi confermati dalla lettura del distributore"
    unblocked = complaint.events.get(kind=ComplaintEvent.Kind.DUNNING_UNBLOCKED)
    assert "Consumi confermati" in unblocked.text and unblocked.actor == officer
    # Reclassified later, the case does not block the bill again on its own.
    services.reclassify(
        complaint=complaint, kind=Complaint.Kind.BILLING_RECTIFICATION, reason="x", by=officer
    )
    assert not blocked(anomalous)
    assert DunningBlock.objects.count() == 1


def test_the_reply_lifts_only_its_own_cases_block(officer, contract, anomalous):
    first = file(contract, invoice=anomalous)
    second = file(contract, invoice=anomalous)
    assert anomalous.dunning_blocks.filter(lifted_at__isnull=True).count() == 2

    Complaint.objects.filter(pk=first.pk).update(**SECTIONS)
    services.send_reply(complaint=first, answered_on=date(2026, 2, 20), by=officer)

    invoice = Invoice.objects.get(pk=anomalous.pk)
    assert invoice.dunning_blocked  # the second case still waits for its reply
    assert second.code in invoice.dunning_blocked_reason and first.code not in invoice.dunning_blocked_reason
