import re

import pytest
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_visitor_sees_the_login_form_at_root_in_italian(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="it">' in html
    assert "Accedi alla tua Area Clienti" in html
    assert 'name="username"' in html and 'type="email"' in html


def test_customer_logs_in_with_email_and_sees_the_home_sections(client, alice, password):
    response = client.post(
        reverse("login"), {"username": "ALICE@example.it", "password": password, "next": "/"}, follow=True
    )
    html = response.content.decode()
    assert "La tua Area Clienti" in html
    for section in ["Contratti e forniture", "Bollette", "Reclami e richieste", "Comunicazioni", "Profilo"]:
        assert section in html
    assert alice.code in html


def test_wrong_password_re_renders_the_form_with_a_message(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice@example.it", "password": "nope", "next": "/"}
    )
    assert response.status_code == 200
    assert "E-mail o password non corretti" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post_and_ends_the_session(alice_client):
    response = alice_client.post(reverse("logout"))
    assert response.status_code == 302
    assert "Accedi alla tua Area Clienti" in alice_client.get("/").content.decode()


def test_password_reset_by_email_lets_the_customer_log_in_with_the_new_password(client, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("password_reset"), {"email": "alice@example.it"}, follow=True)
    assert "Controlla la tua e-mail" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.it"]
    link = re.search(r"http://testserver(/account/password/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Scegli una nuova password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "Nuova-Password-2026", "new_password2": "Nuova-Password-2026"}
    )
    assert done.status_code == 302

    assert client.login(username="alice@example.it", password="Nuova-Password-2026")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("password_reset"), {"email": "nobody@example.it"}, follow=True)
    assert "Controlla la tua e-mail" in response.content.decode()
    assert mail.outbox == []


def test_language_switch_shows_the_home_in_english(alice_client):
    response = alice_client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Your customer area" in html
    assert "Contracts and supplies" in html


def test_profile_requires_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_profile_shows_the_customers_own_data(alice_client, alice, bob):
    html = alice_client.get(reverse("profile")).content.decode()
    assert alice.codice_fiscale in html
    assert bob.codice_fiscale not in html


def test_staff_sees_the_portal_branding_in_admin(client, staff_user, password):
    client.post(reverse("admin:login"), {"username": staff_user.email, "password": password})
    html = client.get(reverse("admin:index")).content.decode()
    assert "Optima · Back office Area Clienti" in html


def test_an_english_browser_still_gets_italian_until_the_customer_switches(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="it">' in html


def test_a_customer_who_prefers_english_gets_english_after_login(client, alice, password):
    alice.user.language = "en"
    alice.user.save()
    client.post(reverse("login"), {"username": "alice@example.it", "password": password})
    assert '<html lang="en">' in client.get("/").content.decode()
