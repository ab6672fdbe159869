"""Billing back office: issued invoices are frozen, credit notes and payments go through the services,
default notices move through forms that show the services' refusals, the worklist, the roles."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.dunning import notices
from billing.models import Credit, DefaultNotice, Invoice, Payment, SuspensionStep
from portal import roles
from portal.lib.dates import rome_date
from portal.notifications.models import Delivery
from tests.billing.test_dunning import ISSUED, NOTICE_DAY, complaint_about, issue, sweep, with_pec
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def outbox(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []


def staff_client(client, role):
    user = UserFactory(email=f"{role.split()[0].lower()}@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[role])
    client.force_login(user)
    return client, user


@pytest.fixture
def billing(client):
    return staff_client(client, roles.BILLING_OFFICER)


@pytest.fixture
def complaints(client):
    return staff_client(client, roles.COMPLAINTS_OFFICER)


def today():
    return rome_date(timezone.now())


@pytest.fixture
def contract():
    return active_contract(activated_on=date(2025, 12, 1))


def run_action(client, url, action, objects, **data):
    return client.post(
        url,
        {
            "action": action,
            "_selected_action": [obj.pk for obj in objects],
            "index": 0,
            "select_across": 0,
            **data,
        },
    )


INVOICES = reverse("admin:billing_invoice_changelist")
NOTICES = reverse("admin:billing_defaultnotice_changelist")


# ---------------------------------------------------------------------------------------------------------
# Invoices
# ---------------------------------------------------------------------------------------------------------


def test_the_invoice_list_shows_amounts_in_italian_format_and_the_status(billing, contract):
    client, _user = billing
    invoice = issue(contract, issued_on=ISSUED, amount="1234.50")
    html = client.get(INVOICES).content.decode()
    assert invoice.number in html and "1.234,50\N{NO-BREAK SPACE}€" in html
    assert "Da pagare" in html and "30/01/2026" in html


def test_an_issued_invoice_cannot_be_edited_or_deleted_in_admin(billing, contract):
    client, _user = billing
    invoice = issue(contract, issued_on=ISSUED)
    change = reverse("admin:billing_invoice_change", args=[invoice.pk])

    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"period_start": "2026-01-02"}).status_code == 403
    assert client.get(reverse("admin:billing_invoice_delete", args=[invoice.pk])).status_code == 403
    actions = client.get(INVOICES).context_data["action_form"].fields["action"].choices
    assert "delete_selected" not in {name for name, _label in actions}
    invoice.refresh_from_db()
    assert invoice.period_start == date(2026, 1, 1)


def test_a_draft_can_be_edited_and_its_line_amount_is_recomputed(billing, contract):
    client, _user = billing
    from billing import services
    from billing.models import InvoiceLine

    draft = services.create_draft(
        contract=contract,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        lines=[services.LineSpec(kind="charge", description="Consumi", unit_price=D("10"), vat_rate=D("10"))],
    )
    line = draft.lines.get()
    change = reverse("admin:billing_invoice_change", args=[draft.pk])
    prefix = "lines"
    data = {
        "period_start": "2026-03-01",
        "period_end": "2026-03-30",
        f"{prefix}-TOTAL_FORMS": 1,
        f"{prefix}-INITIAL_FORMS": 1,
        f"{prefix}-0-id": line.pk,
        f"{prefix}-0-invoice": draft.pk,
        f"{prefix}-0-position": 1,
        f"{prefix}-0-kind": "charge",
        f"{prefix}-0-description": "Consumi",
        f"{prefix}-0-quantity": "3",
        f"{prefix}-0-unit": "",
        f"{prefix}-0-unit_price": "1.234567",
        f"{prefix}-0-vat_rate": "10",
        "allocations-TOTAL_FORMS": 0,
        "allocations-INITIAL_FORMS": 0,
    }
    response = client.post(change, data)
    assert response.status_code == 302, response.context_data["errors"] if response.context_data else ""
    assert InvoiceLine.objects.get(pk=line.pk).amount == D("3.70")  # 3 × 1.234567 = 3.703701 → 3.70
    draft.refresh_from_db()
    assert draft.period_end == date(2026, 3, 30)


def test_the_credit_note_action_asks_the_reason_then_cancels_the_invoice(billing, contract):
    client, user = billing
    invoice = issue(contract, issued_on=ISSUED)

    form_page = run_action(client, INVOICES, "issue_credit_notes", [invoice])
    assert form_page.status_code == 200 and "Motivo della rettifica" in form_page.content.decode()

    response = run_action(
        client,
        INVOICES,
        "issue_credit_notes",
        [invoice],
        apply="1",
        reason="Doppia fatturazione",
        issued_on="2026-02-01",
    )

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    note = Invoice.objects.get(kind=Invoice.Kind.CREDIT_NOTE)
    assert note.corrects == invoice and note.total == -invoice.total
    assert LogEntry.objects.filter(user=user, object_id=str(invoice.pk)).exists()
    # Twice: refused, reported, no error page.
    again = run_action(
        client, INVOICES, "issue_credit_notes", [invoice], apply="1", reason="Ancora", issued_on="2026-02-02"
    )
    assert again.status_code == 302
    assert Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).count() == 1
    assert "già stata annullata" in client.get(INVOICES).content.decode()


def test_the_invoice_pdf_is_served_to_staff(billing, contract):
    client, _user = billing
    from django.core.files.base import ContentFile

    invoice = issue(contract, issued_on=ISSUED)
    url = reverse("admin:billing_invoice_pdf", args=[invoice.pk])
    assert client.get(url).status_code == 404
    invoice.pdf.save("x.pdf", ContentFile(b"%PDF-1.7 test"))
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.7 test"


# ---------------------------------------------------------------------------------------------------------
# Payments
# ---------------------------------------------------------------------------------------------------------


def test_a_payment_registered_in_admin_is_allocated_to_the_oldest_invoice_first(billing, contract):
    client, user = billing
    older = issue(contract, issued_on=date(2026, 1, 2), month=12)
    newer = issue(contract, issued_on=ISSUED)
    add = reverse("admin:billing_payment_add")
    assert client.get(add).status_code == 200

    response = client.post(
        add,
        {
            "customer": contract.customer.pk,
            "amount": "150,00",
            "received_on": "2026-01-20",
            "method": "bank_transfer",
            "invoice": "",
            "transaction_id": "CRO-0001",
        },
    )

    payment = Payment.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "admin:billing_payment_change", args=[payment.pk]
    )
    assert payment.registered_by == user and payment.transaction_id == "CRO-0001"
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.amount_paid) == (Invoice.Status.PAID, D("50.00"))
    page = client.get(response.url).content.decode()
    assert older.number in page and "100,00\N{NO-BREAK SPACE}€" in page and "50,00\N{NO-BREAK SPACE}€" in page
    assert client.post(response.url, {}).status_code == 403  # a payment is a record


def test_a_payment_the_service_refuses_is_shown_on_the_form(billing, contract):
    client, _user = billing
    other_invoice = issue(active_contract(), issued_on=ISSUED)
    response = client.post(
        reverse("admin:billing_payment_add"),
        {
            "customer": contract.customer.pk,
            "amount": "10",
            "received_on": "2026-01-20",
            "method": "card",
            "invoice": other_invoice.pk,
        },
    )
    assert response.status_code == 200
    assert "La bolletta non è di questo cliente." in response.content.decode()
    assert not Payment.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------------------


def test_a_complaints_officer_sees_invoices_and_payments_but_cannot_change_them(complaints, contract):
    client, _user = complaints
    invoice = issue(contract, issued_on=ISSUED)
    assert client.get(INVOICES).status_code == 200
    assert client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 200
    assert client.get(reverse("admin:billing_payment_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_payment_add")).status_code == 403

    run_action(
        client, INVOICES, "issue_credit_notes", [invoice], apply="1", reason="x", issued_on="2026-02-01"
    )
    notices.block_dunning(invoice=invoice, complaint=complaint_about(contract), reason="Bolletta anomala")
    run_action(client, INVOICES, "unblock_dunning", [invoice], apply="1", reason="x")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED and invoice.dunning_blocked
    assert not Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).exists()
    assert client.get(reverse("admin:billing_defaultnotice_worklist")).status_code == 200


def test_lifting_a_block_from_the_invoices_needs_a_reason_while_its_complaint_waits_for_the_reply(
    billing, contract
):
    client, user = billing
    invoice = issue(contract, issued_on=ISSUED)
    complaint = complaint_about(contract, invoice)
    notices.block_dunning(invoice=invoice, complaint=complaint, reason="Bolletta anomala", manual=True)
    page = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    assert complaint.code in page and "Bolletta anomala" in page

    response = run_action(client, INVOICES, "unblock_dunning", [invoice], apply="1", reason="")
    assert "non ha ancora una risposta: indica il motivo" in " ".join(
        str(message) for message in get_messages(response.wsgi_request)
    )
    invoice.refresh_from_db()
    assert invoice.dunning_blocked and complaint.code in invoice.dunning_blocked_reason
    sweep("default_notices", NOTICE_DAY)
    assert not DefaultNotice.objects.exists()

    run_action(client, INVOICES, "unblock_dunning", [invoice], apply="1", reason="Letture verificate")
    invoice.refresh_from_db()
    block = invoice.dunning_blocks.get()
    assert not invoice.dunning_blocked
    assert (block.lift_reason, block.lifted_by, block.lifted_by_hand) == ("Letture verificate", user, True)


# ---------------------------------------------------------------------------------------------------------
# Default notices
# ---------------------------------------------------------------------------------------------------------


def prepared_notice(contract):
    issue(contract, issued_on=ISSUED)
    sweep("default_notices", NOTICE_DAY)
    return DefaultNotice.objects.get(customer=contract.customer)


def test_recording_the_raccomandata_in_the_letters_admin_starts_the_40_days(billing, contract):
    client, _user = billing
    notice = notices.issue_notice_letter(notice=prepared_notice(contract))
    letter = Delivery.objects.get(communication=notice.communication)

    response = client.post(
        reverse("admin:notifications_lettertopost_dispatch", args=[letter.pk]),
        {"dispatched_on": today().isoformat(), "tracking_number": "RR123456789IT"},
    )

    assert response.status_code == 302
    notice.refresh_from_db()
    assert (notice.status, notice.sent_on, notice.tracking_number) == (
        DefaultNotice.Status.DISPATCHED,
        today(),
        "RR123456789IT",
    )
    assert notice.payment_due_on == today() + timedelta(days=40)
    html = client.get(NOTICES).content.decode()
    assert "40 giorni" in html and _day(notice.payment_due_on) in html


def _day(value):
    return value.strftime("%d/%m/%Y")


def test_the_dispatch_form_here_records_the_letter_too(billing, contract):
    client, _user = billing
    notice = notices.issue_notice_letter(notice=prepared_notice(contract))
    url = reverse("admin:billing_defaultnotice_dispatch", args=[notice.pk])
    future = client.post(
        url, {"sent_on": (today() + timedelta(days=1)).isoformat(), "tracking_number": "RR1"}
    )
    assert future.status_code == 200 and "non può essere nel futuro" in future.content.decode()

    response = client.post(url, {"sent_on": today().isoformat(), "tracking_number": "RR1"})

    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED
    assert Delivery.objects.get(communication=notice.communication).dispatched_on == today()


def test_sending_by_pec_from_the_list_is_queued_and_goes_out(
    billing, contract, django_capture_on_commit_callbacks
):
    client, _user = billing
    with_pec(contract)
    notice = prepared_notice(contract)
    no_pec = prepared_notice_for_another_customer()

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(client, NOTICES, "send_by_pec", [notice, no_pec])

    assert response.status_code == 302
    notice.refresh_from_db()
    no_pec.refresh_from_db()
    assert notice.status == DefaultNotice.Status.DISPATCHED and notice.sent_on == today()
    assert notice.communication.deliveries.get().channel == Delivery.Channel.PEC
    assert no_pec.status == DefaultNotice.Status.PREPARED and no_pec.communication is None
    assert "senza PEC" in client.get(NOTICES).content.decode()


def prepared_notice_for_another_customer():
    return prepared_notice(active_contract(activated_on=date(2025, 12, 1)))


def test_preparing_the_letters_puts_them_in_the_letters_to_post(
    billing, contract, django_capture_on_commit_callbacks
):
    client, _user = billing
    notice = prepared_notice(contract)
    with django_capture_on_commit_callbacks(execute=True):
        run_action(client, NOTICES, "prepare_letters", [notice])
    notice.refresh_from_db()
    letter = Delivery.objects.get(communication=notice.communication)
    assert letter.channel == Delivery.Channel.LETTER and letter.status == Delivery.Status.PENDING
    assert notice.status == DefaultNotice.Status.PREPARED
    listed = client.get(reverse("admin:notifications_lettertopost_changelist")).content.decode()
    assert notice.communication.subject[:40] in listed


def sent_today_by_pec(contract):
    with_pec(contract)
    return notices.record_dispatch(notice=prepared_notice(contract), channel="pec", sent_on=today())


def test_an_early_step_is_refused_on_the_form_and_can_be_forced_with_a_reason(billing, contract):
    client, _user = billing
    notice = sent_today_by_pec(contract)
    url = reverse("admin:billing_defaultnotice_step", args=[notice.pk])
    service = contract.services.get()
    data = {"service": service.pk, "kind": "power_reduction", "requested_on": today().isoformat()}

    refused = client.post(url, data)

    assert refused.status_code == 200
    assert (
        f"Intervento non consentito prima del {_day(notice.suspension_allowed_on)}"
        in refused.content.decode()
    )
    assert not SuspensionStep.objects.exists()

    forced = client.post(url, {**data, "override_reason": "Richiesta urgente del distributore"})

    assert forced.status_code == 302
    step = SuspensionStep.objects.get()
    assert step.fees_waived and step.indemnity.amount == D("20.00")
    assert "indennizzo automatico di 20,00" in client.get(forced.url).content.decode()


def test_a_step_without_a_notice_is_recorded_from_the_steps_admin_with_the_30_euro_indemnity(
    billing, contract
):
    client, _user = billing
    add = reverse("admin:billing_suspensionstep_add")
    service = contract.services.get()
    data = {
        "service": service.pk,
        "kind": "suspension_executed",
        "requested_on": "2026-06-01",
        "executed_on": "2026-06-02",
    }
    refused = client.post(add, data)
    assert refused.status_code == 200 and "30 €" in refused.content.decode()

    response = client.post(add, {**data, "override_reason": "Sospensione eseguita per errore"})

    assert response.status_code == 302
    assert Credit.objects.get().amount == D("30.00")


def test_the_worklist_lists_what_is_due_today(billing, contract):
    client, _user = billing
    to_send = prepared_notice(contract)
    allowed_today = sent_today_by_pec(active_contract(activated_on=date(2025, 12, 1)))
    DefaultNotice.objects.filter(pk=allowed_today.pk).update(
        status=DefaultNotice.Status.SUSPENSION_ALLOWED, suspension_allowed_on=today()
    )
    waiting = sent_today_by_pec(active_contract(activated_on=date(2025, 12, 1)))

    response = client.get(reverse("admin:billing_defaultnotice_worklist"))

    assert response.status_code == 200
    sections = {section["key"]: section for section in response.context["sections"]}
    assert [row["notice"] for row in sections["to-send"]["rows"]] == [to_send]
    assert [row["notice"] for row in sections["allowed-today"]["rows"]] == [allowed_today]
    assert sections["allowed-today"]["rows"][0]["operation"][1].endswith("/intervento/")
    listed = {row["notice"] for section in sections.values() for row in section.get("rows", [])}
    assert waiting not in listed  # its deadline has not even passed
    html = response.content.decode()
    assert "Sospensione consentita da oggi" in html and allowed_today.reference in html


def test_the_notice_list_shows_days_left_and_the_next_step(billing, contract):
    client, _user = billing
    notice = sent_today_by_pec(contract)
    html = client.get(NOTICES).content.decode()
    assert notice.reference in html and "40 giorni" in html
    assert reverse("admin:billing_defaultnotice_receipt", args=[notice.pk]) in html
    page = client.get(reverse("admin:billing_defaultnotice_change", args=[notice.pk])).content.decode()
    assert 'name="_save"' not in page and "Registra intervento" in page


def test_a_receipt_before_the_sending_is_refused_on_the_form(billing, contract):
    client, _user = billing
    notice = sent_today_by_pec(contract)
    url = reverse("admin:billing_defaultnotice_receipt", args=[notice.pk])
    refused = client.post(url, {"received_on": (today() - timedelta(days=1)).isoformat()})
    assert refused.status_code == 200 and "non può precedere" in refused.content.decode()
    assert client.post(url, {"received_on": today().isoformat()}).status_code == 302
    notice.refresh_from_db()
    assert notice.received_on == today()
