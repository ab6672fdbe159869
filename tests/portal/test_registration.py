"""Registration of an existing customer: tax id + customer code + e-mail, confirmed by a one-time link."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Customer, User
from portal import registration
from tests.factories import ContractFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Luce-e-Gas-2026!"
SENT_PAGE = "Se i dati corrispondono, riceverai un'e-mail"


@pytest.fixture(autouse=True)
def clean_state(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    cache.clear()  # the attempt counters live in the cache
    yield
    cache.clear()


@pytest.fixture
def carla(db):
    """A customer with a contract and no portal account yet."""
    customer = CustomerFactory(
        user=None,
        first_name="Carla",
        last_name="Esposito",
        email="carla.vecchia@example.it",
        code="C900001234",
        codice_fiscale="SPSCRL80A41F839C",
    )
    ContractFactory(customer=customer)
    return customer


@pytest.fixture
def acme(db):
    """A business customer, known by its partita IVA."""
    customer = CustomerFactory(
        user=None,
        kind=Customer.Kind.BUSINESS,
        company_name="Acme S.r.l.",
        first_name="",
        last_name="",
        email="amministrazione@acme.example",
        code="B900000042",
        codice_fiscale="",
        partita_iva="01234560017",
    )
    ContractFactory(customer=customer)
    return customer


def register(client, *, tax_id, code, email="carla@example.it", **extra):
    return client.post(
        reverse("register"), {"tax_id": tax_id, "customer_code": code, "email": email, **extra}
    )


def activation_path(message):
    return re.search(r"http://testserver(/account/attiva/\S+/)", message.body).group(1)


def test_the_login_page_links_to_registration(client):
    html = client.get(reverse("login")).content.decode()
    assert "Non hai ancora un account?" in html and reverse("register") in html


def test_a_customer_registers_confirms_the_email_chooses_a_password_and_is_logged_in(client, carla):
    response = register(client, tax_id=" spscrl80a41 f839c ", code="c900001234", email="Carla@Example.it")

    assert response.status_code == 302 and response["Location"] == reverse("register_sent")
    assert SENT_PAGE in client.get(response["Location"]).content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carla@example.it"]
    assert "C900001234" in message.body
    link = activation_path(message)

    page = client.get(link)
    assert "Scegli la password" in page.content.decode() and "carla@example.it" in page.content.decode()
    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302 and response["Location"] == reverse("home")
    carla.refresh_from_db()
    user = carla.user
    assert user is not None and user.email == "carla@example.it"
    assert (user.first_name, user.last_name) == ("Carla", "Esposito")
    assert user.check_password(NEW_PASSWORD)
    assert int(client.session["_auth_user_id"]) == user.pk
    assert "C900001234" in client.get(reverse("home")).content.decode()
    # The customer's contact e-mail for notices is contract data: registering does not change it.
    assert carla.email == "carla.vecchia@example.it"


def test_a_business_registers_with_its_partita_iva(client, acme):
    register(client, tax_id="0123456 0017", code="B900000042", email="it@acme.example")
    assert [m.to for m in mail.outbox] == [["it@acme.example"]]


@pytest.mark.parametrize(
    ("tax_id", "code"),
    [
        ("RSSMRA80A01F839W", "C900001234"),  # a valid codice fiscale, but not Carla's
        ("SPSCRL80A41F839C", "C900009999"),  # Carla's codice fiscale, another customer code
        ("12345670017", "C900001234"),  # a valid partita IVA nobody has
    ],
)
def test_a_wrong_combination_gets_the_same_answer_as_a_right_one_and_no_email(client, carla, tax_id, code):
    right = register(client, tax_id="SPSCRL80A41F839C", code="C900001234")
    mail.outbox = []
    cache.clear()

    wrong = register(client, tax_id=tax_id, code=code)

    assert (wrong.status_code, wrong["Location"]) == (right.status_code, right["Location"])
    assert mail.outbox == []
    assert SENT_PAGE in client.get(wrong["Location"]).content.decode()


def test_a_customer_without_contracts_cannot_register(client):
    CustomerFactory(
        user=None,
        first_name="Carla",
        last_name="Esposito",
        email="carla@example.it",
        code="C900000777",
        codice_fiscale="SPSCRL80A41F839C",
    )
    register(client, tax_id="SPSCRL80A41F839C", code="C900000777")
    assert mail.outbox == []


def test_a_customer_who_already_has_an_account_is_told_to_log_in(client, alice):
    ContractFactory(customer=alice)
    response = register(client, tax_id=alice.codice_fiscale, code=alice.code, email="alice.new@example.it")

    assert response["Location"] == reverse("register_sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice.new@example.it"]
    assert "hai già un account" in message.subject
    assert "http://testserver/account/accedi/" in message.body
    assert "http://testserver/account/password/reset/" in message.body
    assert "/account/attiva/" not in message.body
    # The address of the existing account is not given away to whoever typed the data.
    assert "alice@example.it" not in message.body
    assert User.objects.filter(email="alice.new@example.it").count() == 0


def test_the_sixth_attempt_in_15_minutes_is_refused_from_the_same_address(client, carla):
    for n in range(registration.MAX_ATTEMPTS):
        response = register(client, tax_id="RSSMRA80A01F839W", code=f"C90000000{n}")
        assert response.status_code == 302

    response = register(client, tax_id="SPSCRL80A41F839C", code="C900001234")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Troppi tentativi, riprova tra qualche minuto" in html
    assert 'name="customer_code"' in html
    assert mail.outbox == []  # even the right combination waits for the window to pass


def test_attempts_on_one_tax_id_are_limited_whatever_the_client_address(client, carla):
    for n in range(registration.MAX_ATTEMPTS):
        client.post(
            reverse("register"),
            {"tax_id": "SPSCRL80A41F839C", "customer_code": f"X{n}", "email": "x@example.it"},
            REMOTE_ADDR=f"10.0.0.{n}",
        )
    response = client.post(
        reverse("register"),
        {"tax_id": "SPSCRL80A41F839C", "customer_code": "C900001234", "email": "x@example.it"},
        REMOTE_ADDR="10.0.0.99",
    )
    assert response.status_code == 429


def test_the_window_reopens_after_15_minutes(client, carla):
    for n in range(registration.MAX_ATTEMPTS + 1):
        register(client, tax_id="RSSMRA80A01F839W", code=f"C90000000{n}")
    cache.clear()  # what the cache's 15-minute expiry does
    assert register(client, tax_id="SPSCRL80A41F839C", code="C900001234").status_code == 302
    assert len(mail.outbox) == 1


def test_a_filled_honeypot_gets_the_usual_answer_and_no_email(client, carla):
    response = register(client, tax_id="SPSCRL80A41F839C", code="C900001234", website="http://spam.example")
    assert response["Location"] == reverse("register_sent")
    assert mail.outbox == []


def test_an_activation_link_works_once(client, carla):
    register(client, tax_id="SPSCRL80A41F839C", code="C900001234")
    link = activation_path(mail.outbox[0])
    client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()

    for response in (
        client.get(link),
        client.post(link, {"new_password1": "Altra-Password-99", "new_password2": "Altra-Password-99"}),
    ):
        assert response.status_code == 200
        assert "Il link non è più valido" in response.content.decode()
    carla.refresh_from_db()
    assert carla.user.check_password(NEW_PASSWORD)


def test_a_second_link_is_dead_once_the_first_one_was_used(client, carla):
    register(client, tax_id="SPSCRL80A41F839C", code="C900001234", email="one@example.it")
    register(client, tax_id="SPSCRL80A41F839C", code="C900001234", email="two@example.it")
    first, second = (activation_path(m) for m in mail.outbox)
    client.post(first, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()

    assert "Il link non è più valido" in client.get(second).content.decode()
    assert not User.objects.filter(email="two@example.it").exists()


def test_an_activation_link_expires_after_3_days(client, carla):
    register(client, tax_id="SPSCRL80A41F839C", code="C900001234")
    link = activation_path(mail.outbox[0])
    later = time.time() + (registration.ACTIVATION_MAX_AGE + timedelta(minutes=1)).total_seconds()

    with mock.patch.object(signing, "time", mock.Mock(time=lambda: later)):
        response = client.get(link)

    assert "Il link non è più valido" in response.content.decode()
    carla.refresh_from_db()
    assert carla.user is None


def test_a_weak_or_mismatched_password_is_a_form_error(client, carla):
    register(client, tax_id="SPSCRL80A41F839C", code="C900001234")
    link = activation_path(mail.outbox[0])

    weak = client.post(link, {"new_password1": "12345678", "new_password2": "12345678"})
    mismatch = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})

    assert weak.status_code == mismatch.status_code == 200
    assert "Le due password non coincidono" in mismatch.content.decode()
    carla.refresh_from_db()
    assert carla.user is None


def test_an_email_already_used_by_another_account_is_refused_on_activation(client, carla, alice):
    register(client, tax_id="SPSCRL80A41F839C", code="C900001234", email=alice.user.email)
    link = activation_path(mail.outbox[0])

    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 200
    assert "già usato da un altro account" in response.content.decode()
    carla.refresh_from_db()
    assert carla.user is None
    alice.user.refresh_from_db()
    assert not alice.user.check_password(NEW_PASSWORD)


def test_a_logged_in_customer_is_sent_home(alice_client):
    assert alice_client.get(reverse("register"))["Location"] == reverse("home")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"tax_id": "", "customer_code": "", "email": ""},
        {"tax_id": "X" * 5000, "customer_code": "C" * 5000, "email": "a" * 5000},
        {"tax_id": "SPSCRL80A41F839C\x00", "customer_code": "C900001234\x00", "email": "c@example.it"},
        {"tax_id": "SPSCRL80A41F839W", "customer_code": "C900001234", "email": "c@example.it"},
        {"tax_id": "'; DROP TABLE contracts_customer; --", "customer_code": "%", "email": "not-an-email"},
        {"tax_id": "ŞPSCRL80A41F839W", "customer_code": "C9000０1234", "email": "carla@exämple.it"},
        {"tax_id": ["a", "b"], "customer_code": ["c"], "email": ["d@example.it", "e@example.it"]},
    ],
)
def test_bad_registration_input_is_a_form_error_never_a_500(client, carla, data):
    response = client.post(reverse("register"), data)
    assert response.status_code in (200, 302)
    assert mail.outbox == []


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "a" * 2000,
        "eyJjIjoxfQ:1abcde:bad-signature",
        signing.dumps({"c": 1}, salt="another.salt"),
        signing.dumps({"c": "x", "e": "x@example.it", "a": None}, salt="portal.registration.activation"),
        signing.dumps({"c": 999999, "e": "x@example.it", "a": None}, salt="portal.registration.activation"),
        signing.dumps(["not", "a", "dict"], salt="portal.registration.activation"),
    ],
    # Fixed ids: a signed token holds the time, which differs between the xdist workers' collections.
    ids=["nonsense", "too-long", "bad-signature", "other-salt", "bad-code", "unknown-code", "not-a-dict"],
)
def test_a_forged_or_broken_link_shows_the_invalid_link_page(client, carla, token):
    for response in (client.get(f"/account/attiva/{token}/"), client.post(f"/account/attiva/{token}/", {})):
        assert response.status_code == 200
        assert "Il link non è più valido" in response.content.decode()
