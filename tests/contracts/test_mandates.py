"""The SEPA direct debit mandate: signed on the contract's payment page, in the customer's Comunicazioni as a
PDF, applied from the next invoice issued, revoked back to the previous method."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.generation import generate_invoices
from billing.models import Tariff
from billing.pdf import render_invoice
from contracts import mandates
from contracts.models import Contract, MeterReading, SddMandate, Service
from portal import deadlines
from portal.notifications.models import Communication
from tests.factories import active_contract
from tests.pdf_utils import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox")]

IT_IBAN = "IT60X0542811101000000123456"
DE_IBAN = "DE89370400440532013000"


@pytest.fixture
def contract(alice):
    """Alice's contract, paid by postal slip."""
    return active_contract(alice, payment_method=Contract.PaymentMethod.POSTAL_SLIP, iban="")


def url(name, contract):
    return reverse(f"contracts:{name}", args=[contract.number])


def sign(client, contract, **fields):
    data = {"holder": "customer", "holder_name": "", "holder_tax_code": "", "iban": "", "authorise": "on"}
    return client.post(url("sign_mandate", contract), {**data, **fields})


def form_errors(response, field):
    return " ".join(str(error) for error in response.context["mandate_form"].errors.get(field, []))


def test_the_customer_activates_direct_debit_on_an_italian_iban_typed_in_groups(
    alice_client, contract, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign(alice_client, contract, iban="it60 x054 2811 1010 0000 0123 456")
    assert response.status_code == 302
    mandate = SddMandate.objects.get(contract=contract)
    assert mandate.iban == IT_IBAN
    assert mandate.status == SddMandate.Status.ACTIVE
    assert mandate.holder_name == contract.customer.display_name and mandate.holder_tax_code == ""
    assert mandate.signed_by == contract.customer.user and mandate.signed_from_ip == "127.0.0.1"
    contract.refresh_from_db()
    assert contract.payment_method == Contract.PaymentMethod.SDD and contract.iban == IT_IBAN
    page = alice_client.get(url("payment", contract)).content.decode()
    assert mandate.reference in page and "IT60 •••• •••• 3456" in page


def test_a_german_iban_of_another_holder_is_stored_compact_with_the_holders_tax_code(alice_client, contract):
    response = sign(
        alice_client,
        contract,
        holder="other",
        holder_name="Mario Rossi",
        holder_tax_code="rss mra 80a01 h501u",
        iban="DE89 3704 0044 0532 0130 00",
    )
    assert response.status_code == 302
    mandate = SddMandate.objects.get(contract=contract)
    assert (mandate.iban, mandate.holder_name, mandate.holder_tax_code) == (
        DE_IBAN,
        "Mario Rossi",
        "RSSMRA80A01H501U",
    )


def test_an_invalid_iban_is_refused_on_the_form(alice_client, contract):
    response = sign(alice_client, contract, iban="IT60X0542811101000000123457")
    assert response.status_code == 200
    assert "L'IBAN non è valido" in form_errors(response, "iban")
    assert not SddMandate.objects.exists()
    contract.refresh_from_db()
    assert contract.payment_method == Contract.PaymentMethod.POSTAL_SLIP


def test_another_holder_needs_a_tax_code(alice_client, contract):
    response = sign(alice_client, contract, holder="other", holder_name="Mario Rossi", iban=IT_IBAN)
    assert response.status_code == 200
    assert "scrivi il suo codice fiscale" in form_errors(response, "holder_tax_code")
    assert not SddMandate.objects.exists()


def test_the_authorisation_must_be_given(alice_client, contract):
    response = sign(alice_client, contract, iban=IT_IBAN, authorise="")
    assert response.status_code == 200
    assert "conferma l'autorizzazione" in form_errors(response, "authorise")
    assert not SddMandate.objects.exists()


def test_each_mandate_has_its_own_reference(contract):
    now = timezone.now()
    first = mandates.activate_mandate(contract=contract, holder_is_customer=True, iban=IT_IBAN, now=now)
    second = mandates.change_mandate(contract=contract, holder_is_customer=True, iban=DE_IBAN, now=now)
    other = mandates.activate_mandate(
        contract=active_contract(payment_method=Contract.PaymentMethod.POSTAL_SLIP, iban=""),
        holder_is_customer=True,
        iban=IT_IBAN,
        now=now,
    )
    references = [first.reference, second.reference, other.reference]
    assert len(set(references)) == 3
    assert first.reference == f"{contract.number}-M01" and second.reference == f"{contract.number}-M02"
    assert all(len(reference) <= 35 for reference in references)


def test_the_signed_mandate_is_in_comunicazioni_as_a_pdf_with_reference_and_masked_iban(
    alice_client, contract, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign(alice_client, contract, iban=IT_IBAN)
    mandate = SddMandate.objects.get(contract=contract)
    communication = Communication.objects.get(customer=contract.customer, template_key="sdd_mandate")
    text = pdf_text(communication.document.read())
    assert mandate.reference in text
    assert "IT60 •••• •••• 3456" in text and IT_IBAN not in text
    # Sent once: a second delivery of the task finds it sent.
    mandates.send_mandate_document(mandate)
    assert Communication.objects.filter(template_key="sdd_mandate").count() == 1


def test_changing_the_account_revokes_the_mandate_and_signs_a_new_one(alice_client, contract):
    sign(alice_client, contract, iban=IT_IBAN)
    response = sign(alice_client, contract, iban=DE_IBAN)
    assert response.status_code == 302
    old, new = SddMandate.objects.filter(contract=contract).order_by("pk")
    assert old.status == SddMandate.Status.REVOKED and old.revoked_at is not None
    assert new.status == SddMandate.Status.ACTIVE and new.iban == DE_IBAN
    contract.refresh_from_db()
    assert contract.iban == DE_IBAN


def test_revoking_asks_for_confirmation_then_restores_the_postal_slip(alice_client, contract):
    sign(alice_client, contract, iban=IT_IBAN)
    confirm = alice_client.get(url("revoke_mandate", contract))
    assert confirm.status_code == 200 and "Confermo: revoca" in confirm.content.decode()
    assert SddMandate.objects.get().status == SddMandate.Status.ACTIVE

    assert alice_client.post(url("revoke_mandate", contract)).status_code == 302
    mandate = SddMandate.objects.get()
    assert mandate.status == SddMandate.Status.REVOKED and mandate.revoked_by == contract.customer.user
    contract.refresh_from_db()
    assert contract.payment_method == Contract.PaymentMethod.POSTAL_SLIP and contract.iban == ""


def test_revoking_a_contract_on_card_restores_the_card(contract):
    Contract.objects.filter(pk=contract.pk).update(payment_method=Contract.PaymentMethod.CARD)
    now = timezone.now()
    mandates.activate_mandate(contract=contract, holder_is_customer=True, iban=IT_IBAN, now=now)
    mandates.change_mandate(contract=contract, holder_is_customer=True, iban=DE_IBAN, now=now)
    mandates.revoke_mandate(contract=contract, now=now)
    contract.refresh_from_db()
    assert contract.payment_method == Contract.PaymentMethod.CARD


def test_another_customers_contract_is_not_found(bob, client, contract):
    client.force_login(bob.user)
    assert client.get(url("payment", contract)).status_code == 404
    assert sign(client, contract, iban=IT_IBAN).status_code == 404
    assert client.post(url("revoke_mandate", contract)).status_code == 404
    assert not SddMandate.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# From the next invoice
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def billed_contract(contract):
    Tariff.objects.create(
        offer_name=contract.offer_name,
        energy_price_kwh=Decimal("0.120000"),
        gas_price_smc=Decimal("0.900000"),
        electricity_monthly_fee=Decimal("8"),
    )
    service = contract.services.get(kind=Service.Kind.ELECTRICITY)
    for day, value in [(date(2026, 8, 31), 1000), (date(2026, 9, 30), 1400), (date(2026, 10, 31), 1700)]:
        MeterReading.objects.create(service=service, read_on=day, value=value, source="distributor")
    return contract


def test_a_mandate_activated_between_two_invoices_applies_to_the_second(billed_contract):
    generate_invoices(period="2026-09", issued_on=date(2026, 10, 2))
    mandate = mandates.activate_mandate(
        contract=billed_contract,
        holder_is_customer=True,
        iban=IT_IBAN,
        now=timezone.make_aware(timezone.datetime(2026, 10, 15, 10, 0)),
    )
    generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
    before, after = billed_contract.invoices.order_by("period_start")

    assert before.payment_method_code == Contract.PaymentMethod.POSTAL_SLIP
    before_text = pdf_text(render_invoice(before))
    assert "Bollettino postale" in before_text and "Addebito diretto" not in before_text

    assert after.payment_method_code == Contract.PaymentMethod.SDD
    after_text = pdf_text(render_invoice(after))
    assert f"Addebito diretto SEPA sul conto IT60 •••• •••• 3456 (mandato {mandate.reference})" in after_text


def test_after_a_revocation_the_next_invoice_is_paid_by_postal_slip(billed_contract):
    now = timezone.make_aware(timezone.datetime(2026, 9, 15, 10, 0))
    mandates.activate_mandate(contract=billed_contract, holder_is_customer=True, iban=IT_IBAN, now=now)
    generate_invoices(period="2026-09", issued_on=date(2026, 10, 2))
    mandates.revoke_mandate(contract=billed_contract, now=now.replace(month=10))
    generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
    before, after = billed_contract.invoices.order_by("period_start")
    assert before.payment_method_code == Contract.PaymentMethod.SDD
    assert after.payment_method_code == Contract.PaymentMethod.POSTAL_SLIP
    assert "Addebito diretto" not in pdf_text(render_invoice(after))


def test_a_mandate_whose_pdf_task_never_ran_gets_it_from_the_catch_up_sweep(contract):
    # Signed outside a transaction's on-commit (as if the broker lost the task): no document yet.
    mandate = mandates.activate_mandate(
        contract=contract, holder_is_customer=True, iban=IT_IBAN, now=timezone.now()
    )
    assert mandate.document_sent_at is None
    assert deadlines.run_sweep("contracts.mandate_documents").acted == 0  # the queued task's grace first
    type(mandate).objects.filter(pk=mandate.pk).update(signed_at=timezone.now() - timedelta(minutes=10))
    run = deadlines.run_sweep("contracts.mandate_documents")
    assert (run.acted, run.failed) == (1, 0)
    mandate.refresh_from_db()
    assert mandate.document_sent_at is not None
    assert Communication.objects.filter(template_key="sdd_mandate", customer=contract.customer).count() == 1
    assert deadlines.run_sweep("contracts.mandate_documents").acted == 0
