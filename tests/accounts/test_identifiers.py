"""Identifiers and phone numbers as Italians type them (issue 19): every form that takes a partita IVA, codice
fiscale, IBAN, POD, PDR or phone number stores it compact (07643520567, IT60X0542811101000000123456,
+393331234567) however it was typed, refuses what is no such identifier with a message in Italian, and finds
the customer by it."""

import re
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.core import mail
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer
from accounts.validators import compact_codice_fiscale, compact_partita_iva, normalise_phone
from billing.payments_import import find_customer
from complaints.forms import PublicComplaintForm
from complaints.models import Complaint
from complaints.selectors import identify_sender
from contracts.admin.supplies import ServiceInline
from contracts.forms import ContactDetailsForm
from contracts.models import Contract, Service
from contracts.validators import compact_iban, compact_pdr, compact_pod
from portal import registration, roles
from portal.forms import RegistrationForm
from portal.lib.dates import rome_date
from tests.contracts.admin_helpers import form_data, staff_client
from tests.factories import ContractFactory, CustomerFactory, ServiceFactory, UserFactory, active_contract

PARTITA_IVA = "07643520567"
CODICE_FISCALE = "RSSMRA80A01H501U"
IBAN = "IT60X0542811101000000123456"
POD = "IT001E12345678"
PDR = "00881234567890"

# What people type or paste, and what is stored.
TYPED = {
    "partita_iva": [
        ("IT07643520567", PARTITA_IVA),
        ("IT 076 435 205 67", PARTITA_IVA),
        ("it07643520567", PARTITA_IVA),
        ("076.435.205.67", PARTITA_IVA),
        (" 076-435-205-67 ", PARTITA_IVA),
    ],
    "codice_fiscale": [
        ("rssmra80a01h501u", CODICE_FISCALE),
        ("RSS MRA 80A01 H501U", CODICE_FISCALE),
        ("RSS-MRA-80A01-H501U", CODICE_FISCALE),
        # A company's codice fiscale is its partita IVA, typed in its VAT-number form.
        ("IT 076 435 205 67", PARTITA_IVA),
    ],
    "iban": [
        ("IT60 X054 2811 1010 0000 0123 456", IBAN),
        ("it60x0542811101000000123456", IBAN),
        ("IT60-X054-2811-1010-0000-0123-456", IBAN),
    ],
    "pod": [
        ("it001e12345678", POD),
        ("IT001E 1234 5678", POD),
        ("IT 001 E 1234.5678", POD),
    ],
    "pdr": [
        ("0088 1234 5678 90", PDR),
        ("0088.1234.5678.90", PDR),
        ("0088-1234-5678-90", PDR),
    ],
    "phone": [
        ("333-1234567", "+393331234567"),
        ("333.1234567", "+393331234567"),
        ("(+39) 333 1234567", "+393331234567"),
        ("+39 081 555 1234", "+390815551234"),
        ("0815551234", "+390815551234"),
        ("+41 44 668 18 00", "+41446681800"),
    ],
}
TYPED["tax_id"] = TYPED["partita_iva"] + TYPED["codice_fiscale"]

# What is refused, and the message next to the field.
REFUSED = {
    "partita_iva": [
        ("07643520568", "La partita IVA non è valida"),  # wrong check digit
        ("IT 076 435 205 68", "La partita IVA non è valida"),
    ],
    "codice_fiscale": [("RSSMRA80A01H501X", "Il codice fiscale non è valido")],
    "tax_id": [
        ("IT07643520568", "Scrivi un codice fiscale (16 caratteri) o una partita IVA (11 cifre) validi."),
        (
            "rss mra 80a01 h501x",
            "Scrivi un codice fiscale (16 caratteri) o una partita IVA (11 cifre) validi.",
        ),
    ],
    "iban": [("IT60 X054 2811 1010 0000 0123 457", "L'IBAN non è valido")],
    "pod": [
        ("IT001E12345678A", "Il POD inizia con IT, poi 3 cifre, la lettera E e 8 cifre"),
        ("IT001E1234567", "Il POD inizia con IT, poi 3 cifre, la lettera E e 8 cifre"),
        ("IT001X12345678", "Il POD inizia con IT, poi 3 cifre, la lettera E e 8 cifre"),
    ],
    "pdr": [("0088 1234 5678 9", "Il PDR è composto da 14 cifre."), ("0088123456789A", "Il PDR è composto")],
    "phone": [
        ("000000", "Il numero di telefono non è valido"),
        ("12345678901234567", "Il numero di telefono non è valido"),
        ("+39 333 1234567 8901", "Il numero di telefono non è valido"),
        ("chiamami", "Il numero di telefono non è valido"),
    ],
}


@pytest.fixture(autouse=True)
def environment(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    mail.outbox = []
    cache.clear()  # the registration's attempt counters live in the cache
    yield
    cache.clear()


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def admin_errors(response, field):
    assert response.status_code == 200, "the form should come back with its errors"
    return " ".join(response.context_data["adminform"].form.errors.get(field, []))


# ---------------------------------------------------------------------------------------------------------
# One normaliser per identifier
# ---------------------------------------------------------------------------------------------------------

NORMALISERS = {
    "partita_iva": compact_partita_iva,
    "codice_fiscale": compact_codice_fiscale,
    "tax_id": compact_codice_fiscale,
    "iban": compact_iban,
    "pod": compact_pod,
    "pdr": compact_pdr,
    "phone": normalise_phone,
}


@pytest.mark.parametrize(
    ("kind", "typed", "stored"), [(kind, typed, stored) for kind in TYPED for typed, stored in TYPED[kind]]
)
def test_each_identifier_has_one_normaliser_that_compacts_it(kind, typed, stored):
    assert NORMALISERS[kind](typed) == stored


def test_a_phone_number_that_is_no_number_comes_back_as_typed_for_the_validator_to_refuse():
    assert normalise_phone("000000") == "000000"
    assert normalise_phone("chiamami") == "chiamami"


# ---------------------------------------------------------------------------------------------------------
# Every form that takes an identifier, through its real class
# ---------------------------------------------------------------------------------------------------------


def _admin_request():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(email="root@optima.example", is_staff=True, is_superuser=True)
    return request


def _admin_form(model, data):
    form_class = admin.site._registry[model].get_form(_admin_request(), None)
    return form_class(data)


def _service_inline_form(data):
    inline = ServiceInline(Contract, admin.site)
    return inline.get_formset(_admin_request(), None).form(data)


def _contact_details_form(data):
    return ContactDetailsForm(data, instance=CustomerFactory())


def _public_complaint_form(data):
    return PublicComplaintForm(data, today=date(2026, 7, 1))


# (form, field, identifier): every form in the portal and the admin where one of them is typed.
FORMS = {
    "registration": (RegistrationForm, "tax_id", "tax_id"),
    "public complaint": (_public_complaint_form, "tax_id", "tax_id"),
    "complaint admin (add)": (lambda data: _admin_form(Complaint, data), "sender_tax_id", "tax_id"),
    "contact details": (_contact_details_form, "phone", "phone"),
    "customer admin: codice fiscale": (
        lambda data: _admin_form(Customer, data),
        "codice_fiscale",
        "codice_fiscale",
    ),
    "customer admin: partita IVA": (lambda data: _admin_form(Customer, data), "partita_iva", "partita_iva"),
    "customer admin: phone": (lambda data: _admin_form(Customer, data), "phone", "phone"),
    "contract admin: IBAN": (lambda data: _admin_form(Contract, data), "iban", "iban"),
    "service admin: POD": (lambda data: _admin_form(Service, data), "pod", "pod"),
    "service admin: PDR": (lambda data: _admin_form(Service, data), "pdr", "pdr"),
    "contract admin, services inline: POD": (_service_inline_form, "pod", "pod"),
    "contract admin, services inline: PDR": (_service_inline_form, "pdr", "pdr"),
}


def _cases(table):
    return [
        pytest.param(name, typed, expected, id=f"{name}: {typed}")
        for name, (_form, _field, kind) in FORMS.items()
        for typed, expected in table[kind]
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("form_name", "typed", "stored"), _cases(TYPED))
def test_every_form_cleans_an_identifier_to_its_compact_form(form_name, typed, stored):
    build, field, _kind = FORMS[form_name]
    form = build({field: typed})
    form.is_valid()  # the other fields are missing: only this one is looked at
    assert field not in form.errors, form.errors[field]
    assert form.cleaned_data[field] == stored


@pytest.mark.django_db
@pytest.mark.parametrize(("form_name", "typed", "message"), _cases(REFUSED))
def test_every_form_refuses_what_is_no_such_identifier_with_a_message(form_name, typed, message):
    build, field, _kind = FORMS[form_name]
    form = build({field: typed})
    assert not form.is_valid()
    assert message in " ".join(form.errors.get(field, []))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "field", "typed"),
    [
        (Customer, "partita_iva", "IT 076 435 205 67"),
        (Customer, "codice_fiscale", "RSS MRA 80A01 H501U"),
        (Contract, "iban", "IT60 X054 2811 1010 0000 0123 456"),
        (Service, "pod", "IT 001 E 1234.5678"),
    ],
)
def test_the_admin_box_is_long_enough_to_type_the_identifier_with_its_separators(model, field, typed):
    html = str(_admin_form(model, None)[field])
    assert int(re.search(r'maxlength="(\d+)"', html).group(1)) >= len(typed)


# ---------------------------------------------------------------------------------------------------------
# Registration: /account/registrati/
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def company(db):
    """A business customer with a contract and no portal account, known by its partita IVA."""
    customer = CustomerFactory(
        user=None,
        kind=Customer.Kind.BUSINESS,
        company_name="Pizzeria Sole srl",
        first_name="",
        last_name="",
        code="C000100003",
        codice_fiscale="",
        partita_iva=PARTITA_IVA,
        email="amministrazione@pizzeriasole.example",
    )
    ContractFactory(customer=customer)
    return customer


def register(client, *, tax_id, code="C000100003", email="titolare@pizzeriasole.example"):
    return client.post(reverse("register"), {"tax_id": tax_id, "customer_code": code, "email": email})


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["IT 076 435 205 67", "IT07643520567", "it07643520567", "076.435.205.67"])
def test_registering_with_the_partita_iva_as_typed_sends_the_activation_link(client, company, typed):
    response = register(client, tax_id=typed)

    assert response.status_code == 302 and response["Location"] == reverse("register_sent")
    [message] = mail.outbox
    assert message.to == ["titolare@pizzeriasole.example"]
    assert "/account/attiva/" in message.body


@pytest.mark.django_db
def test_registering_with_a_spaced_lowercase_codice_fiscale_sends_the_activation_link(client):
    person = CustomerFactory(
        user=None,
        first_name="Mario",
        last_name="Rossi",
        email="mario.rossi@example.it",
        code="C000100004",
        codice_fiscale=CODICE_FISCALE,
    )
    ContractFactory(customer=person)

    register(client, tax_id="rss mra 80a01 h501u", code="c000100004", email="mario@example.it")

    assert [message.to for message in mail.outbox] == [["mario@example.it"]]


@pytest.mark.django_db
def test_registering_with_a_wrong_check_digit_shows_the_form_again_and_sends_nothing(client, company):
    response = register(client, tax_id="IT 076 435 205 68")

    assert response.status_code == 200
    assert "Scrivi un codice fiscale (16 caratteri) o una partita IVA (11 cifre) validi." in text_of(response)
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_prefixed_and_the_bare_partita_iva_share_one_attempt_counter(client, company):
    for _attempt in range(registration.MAX_ATTEMPTS):
        registration.register_attempt(client_address="10.0.0.1", tax_id=PARTITA_IVA)

    assert not registration.register_attempt(client_address="10.0.0.2", tax_id="IT 076 435 205 67")


# ---------------------------------------------------------------------------------------------------------
# The public complaint form: the sender is identified by the tax id as typed
# ---------------------------------------------------------------------------------------------------------


def post_public_complaint(client, **fields):
    page = client.get(reverse("complaints:public_new")).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', page)[1]
    data = {
        "sender_name": "Pizzeria Sole srl",
        "email": "titolare@pizzeriasole.example",
        "reply_address": "Via Toledo 10, 80134 Napoli (NA)",
        "kind": "complaint",
        "topic": "misura",
        "description": "Il contatore segna consumi impossibili da due mesi.",
        "website": "",
        "submission_token": token,
        **fields,
    }
    return client.post(reverse("complaints:public_new"), data)


@pytest.mark.django_db
def test_a_public_complaint_with_the_prefixed_partita_iva_and_a_lowercase_pod_identifies_the_customer(
    client, company
):
    service = ServiceFactory(contract=company.contracts.get(), pod=POD)

    response = post_public_complaint(client, tax_id="IT 076 435 205 67", supply_reference="it001e 1234 5678")

    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.customer, complaint.service) == (company, service)
    assert complaint.sender_tax_id == PARTITA_IVA


@pytest.mark.django_db
def test_a_public_complaint_with_a_wrong_partita_iva_comes_back_with_the_message(client, company):
    response = post_public_complaint(client, tax_id="IT07643520568", supply_reference=POD)

    assert response.status_code == 200
    assert "Scrivi un codice fiscale (16 caratteri) o una partita IVA (11 cifre) validi." in text_of(response)
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_the_sender_is_identified_by_a_tax_id_however_typed(company):
    service = ServiceFactory(contract=company.contracts.get(), pod=POD)

    assert identify_sender(tax_id="it 076.435.205.67", reference=POD).service == service


# ---------------------------------------------------------------------------------------------------------
# Admin: the customer, contract and service pages, and complaints registered by staff
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def billing_officer(client):
    return staff_client(client, roles.BILLING_OFFICER)[0]


def post_customer_page(client, customer, **changes):
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    data = form_data(client.get(url))
    data.update(user=customer.user_id or "", **changes)
    return client.post(url, data)


@pytest.mark.django_db
def test_the_customer_admin_stores_tax_ids_and_phone_compact(billing_officer, alice):
    response = post_customer_page(
        billing_officer,
        alice,
        codice_fiscale=" rss mra 80a01 h501u ",
        partita_iva="IT 076 435 205 67",
        phone="(+39) 333 1234567",
    )

    assert response.status_code == 302, response.context_data["adminform"].form.errors
    alice.refresh_from_db()
    assert (alice.codice_fiscale, alice.partita_iva, alice.phone) == (
        CODICE_FISCALE,
        PARTITA_IVA,
        "+393331234567",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("partita_iva", "IT 076 435 205 68", "La partita IVA non è valida"),
        ("codice_fiscale", "RSS MRA 80A01 H501X", "Il codice fiscale non è valido"),
        ("phone", "000000", "Il numero di telefono non è valido"),
        ("phone", "12345678901234567", "Il numero di telefono non è valido"),
    ],
)
def test_the_customer_admin_refuses_a_wrong_identifier_next_to_the_field(
    billing_officer, alice, field, typed, message
):
    before = getattr(alice, field)

    response = post_customer_page(billing_officer, alice, **{field: typed})

    assert message in admin_errors(response, field)
    alice.refresh_from_db()
    assert getattr(alice, field) == before


def post_contract_page(client, contract, **changes):
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    data = form_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


@pytest.mark.django_db
def test_the_contract_admin_stores_the_iban_in_one_piece(billing_officer):
    contract = active_contract(iban="")

    response = post_contract_page(billing_officer, contract, iban="it60 x054 2811 1010 0000 0123 456")

    assert response.status_code == 302, response.context_data["adminform"].form.errors
    contract.refresh_from_db()
    assert contract.iban == IBAN


@pytest.mark.django_db
def test_the_contract_admin_stores_a_services_pod_compact_and_refuses_a_trailing_letter(billing_officer):
    contract = active_contract()
    service = contract.services.get()

    refused = post_contract_page(billing_officer, contract, **{"services-0-pod": "IT001E12345678A"})

    assert refused.status_code == 200
    assert "Il POD inizia con IT" in text_of(refused)
    response = post_contract_page(billing_officer, contract, **{"services-0-pod": "it001e 1234 5678"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.pod == POD


def post_service_page(client, service, **changes):
    url = reverse("admin:contracts_service_change", args=[service.pk])
    data = form_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


@pytest.mark.django_db
def test_the_service_admin_stores_a_lowercase_spaced_pod_compact(billing_officer):
    service = active_contract().services.get()

    response = post_service_page(billing_officer, service, pod="it001e 1234.5678")

    assert response.status_code == 302, response.context_data["adminform"].form.errors
    service.refresh_from_db()
    assert service.pod == POD


@pytest.mark.django_db
def test_the_service_admin_refuses_a_pod_with_a_letter_after_the_digits(billing_officer):
    service = active_contract().services.get()
    before = service.pod

    response = post_service_page(billing_officer, service, pod="IT001E12345678A")

    assert "Il POD inizia con IT" in admin_errors(response, "pod")
    service.refresh_from_db()
    assert service.pod == before


@pytest.mark.django_db
def test_the_service_admin_stores_a_spaced_pdr_compact(billing_officer):
    gas = ServiceFactory(kind=Service.Kind.GAS, pod="", pdr="00880000000001", meter_class="G4")

    response = post_service_page(billing_officer, gas, pdr="0088 1234 5678 90")

    assert response.status_code == 302, response.context_data["adminform"].form.errors
    gas.refresh_from_db()
    assert gas.pdr == PDR


@pytest.mark.django_db
def test_a_complaint_registered_by_staff_keeps_the_senders_tax_id_compact(client):
    officer = staff_client(client, roles.COMPLAINTS_OFFICER)[0]
    received = rome_date(timezone.now()) - timedelta(days=1)

    response = officer.post(
        reverse("admin:complaints_complaint_add"),
        {
            "channel": "email",
            "received_on": received.isoformat(),
            "sent_on": "",
            "sender_name": "Pizzeria Sole srl",
            "sender_tax_id": "IT 076 435 205 67",
            "sender_email": "titolare@pizzeriasole.example",
            "supply_reference": "",
            "kind": "complaint",
            "topic": "fatturazione",
            "description": "Scrive per contestare il conguaglio di ottobre.",
            "reply_address": "Via Toledo 10, 80134 Napoli (NA)",
        },
    )

    assert response.status_code == 302, response.context_data["adminform"].form.errors
    assert Complaint.objects.get().sender_tax_id == PARTITA_IVA


# ---------------------------------------------------------------------------------------------------------
# The customer's contact details page
# ---------------------------------------------------------------------------------------------------------


def post_contact_details(client, phone):
    data = {"phone": phone, "pec": "", "language": "it"}
    for name in ("reply_street", "reply_postcode", "reply_city", "reply_province"):
        data[name] = ""
    return client.post(reverse("contracts:contact_details"), data)


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored"), TYPED["phone"])
def test_the_contact_details_page_stores_the_phone_in_e164(alice_client, alice, typed, stored):
    response = post_contact_details(alice_client, typed)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.phone == stored


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "message"), REFUSED["phone"])
def test_the_contact_details_page_refuses_what_is_no_phone_number(alice_client, alice, typed, message):
    response = post_contact_details(alice_client, typed)

    assert response.status_code == 200 and message in text_of(response)
    alice.refresh_from_db()
    assert alice.phone == ""


# ---------------------------------------------------------------------------------------------------------
# Whoever stores or looks up an identifier: services, imports, queries
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_identifier_set_outside_a_form_is_stored_compact_too():
    customer = CustomerFactory(codice_fiscale="", partita_iva="IT 076 435 205 67", phone="333-1234567")
    service = ServiceFactory(pod="it001e 1234 5678", contract__iban="IT60 X054 2811 1010 0000 0123 456")

    customer.refresh_from_db()
    service.refresh_from_db()
    assert (customer.partita_iva, customer.phone) == (PARTITA_IVA, "+393331234567")
    assert (service.pod, service.contract.iban) == (POD, IBAN)


@pytest.mark.django_db
def test_customers_are_found_by_a_tax_id_however_typed(company):
    assert Customer.objects.get(partita_iva="IT07643520567") == company
    assert find_customer("IT 076 435 205 67") == company
    assert registration.find_customer_for_registration(
        tax_id="it07643520567", customer_code="c000100003"
    ) == (company)
