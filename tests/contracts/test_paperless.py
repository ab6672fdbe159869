"""Bolletta web or paper bills: chosen on the contract's payment page with its date, printed on the bills,
and a paper bill goes to the letters to post once per invoice."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import tasks
from billing.generation import generate_invoices
from billing.models import Tariff
from billing.pdf import render_invoice
from contracts import mandates
from contracts.models import Contract, MeterReading, Service
from portal.notifications.models import Communication, Delivery
from tests.factories import active_contract
from tests.pdf_utils import pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("outbox")]


@pytest.fixture
def contract(alice):
    Tariff.objects.create(
        offer_name="Optima Super Casa Smart con Teleconsulto Medico",
        energy_price_kwh=Decimal("0.120000"),
        gas_price_smc=Decimal("0.900000"),
        electricity_monthly_fee=Decimal("8"),
    )
    contract = active_contract(alice)
    service = contract.services.get(kind=Service.Kind.ELECTRICITY)
    for day, value in [(date(2026, 9, 30), 1400), (date(2026, 10, 31), 1700)]:
        MeterReading.objects.create(service=service, read_on=day, value=value, source="distributor")
    return contract


def issue(contract):
    generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
    return contract.invoices.get()


def choose(client, contract, delivery):
    return client.post(reverse("contracts:bill_delivery", args=[contract.number]), {"delivery": delivery})


def test_the_choice_is_recorded_with_its_date(alice_client, contract):
    assert choose(alice_client, contract, "paper").status_code == 302
    contract.refresh_from_db()
    assert contract.paper_bills is True
    chosen_at = contract.bill_delivery_chosen_at
    assert chosen_at is not None and abs(timezone.now() - chosen_at).total_seconds() < 60

    choose(alice_client, contract, "paper")  # the same choice again: still the date it was made
    contract.refresh_from_db()
    assert contract.bill_delivery_chosen_at == chosen_at

    choose(alice_client, contract, "web")
    contract.refresh_from_db()
    assert contract.paper_bills is False and contract.bill_delivery_chosen_at > chosen_at


def test_an_unknown_choice_re_renders_the_page_with_the_error(alice_client, contract):
    response = choose(alice_client, contract, "pigeon")
    assert response.status_code == 200
    assert response.context["delivery_form"].errors["delivery"]
    contract.refresh_from_db()
    assert contract.bill_delivery_chosen_at is None


def test_another_customers_contract_is_not_found(bob, client, contract):
    client.force_login(bob.user)
    assert choose(client, contract, "paper").status_code == 404
    contract.refresh_from_db()
    assert contract.paper_bills is False


def test_the_bill_prints_the_choice_and_its_date(contract):
    contract = mandates.choose_bill_delivery(
        contract=contract, paper_bills=True, now=timezone.make_aware(timezone.datetime(2026, 10, 20, 9))
    )
    text = pdf_text(render_invoice(issue(contract)))
    assert "Invio della bolletta Bolletta cartacea (scelta del 20/10/2026)" in text


def test_a_bill_without_a_choice_is_a_bolletta_web(contract):
    text = pdf_text(render_invoice(issue(contract)))
    assert "Invio della bolletta Bolletta web" in text and "Bolletta cartacea" not in text


def test_a_paper_bill_goes_to_the_letters_to_post_once_even_if_rendered_twice(contract):
    mandates.choose_bill_delivery(contract=contract, paper_bills=True, now=timezone.now())
    invoice = issue(contract)
    tasks.render_invoice_pdf(invoice.pk)
    tasks.render_invoice_pdf(invoice.pk)
    tasks.render_invoice_pdf(invoice.pk, force=True)

    letters = Delivery.objects.letters_to_post().filter(communication__customer=contract.customer)
    assert letters.count() == 1
    letter = letters.get()
    assert letter.channel == Delivery.Channel.POST  # no legal term counts from a bill's posting
    assert letter.communication.template_key == "paper_bill"
    assert letter.communication.about == invoice
    assert invoice.number in pdf_text(letter.communication.document.read())
    assert contract.customer.billing_city.upper() in letter.address


def test_a_bolletta_web_contract_gets_no_letter(contract):
    mandates.choose_bill_delivery(contract=contract, paper_bills=False, now=timezone.now())
    tasks.render_invoice_pdf(issue(contract).pk)
    assert not Delivery.objects.filter(channel__in=Delivery.POSTAL).exists()
    assert not Communication.objects.filter(template_key="paper_bill").exists()


def test_the_contract_page_shows_the_choice(alice_client, contract):
    Contract.objects.filter(pk=contract.pk).update(paper_bills=True)
    page = alice_client.get(reverse("contracts:detail", args=[contract.number])).content.decode()
    assert "Bolletta cartacea, per posta" in page
