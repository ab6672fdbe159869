"""Back office: letters to post, dispatch recorded through the service, failed e-mails retried."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal import roles
from portal.lib.dates import rome_date
from portal.notifications.models import Delivery
from portal.notifications.services import MAX_ATTEMPTS, notify
from tests.factories import UserFactory
from tests.notifications.conftest import PDF

pytestmark = pytest.mark.django_db


def staff_client(client, role):
    user = UserFactory(email=f"{role.split()[0].lower()}@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[role])
    client.force_login(user)
    return client, user


def letter_for(customer, key="notice-1"):
    communication = notify(
        customer=customer,
        template_key="generic",
        context={"title": "Costituzione in mora", "message": "Testo"},
        channels=[Delivery.Channel.LETTER],
        dedupe_key=key,
        document=PDF,
        document_name="Costituzione in mora.pdf",
    )
    return communication.deliveries.get()


def test_letters_to_post_lists_pending_letters_with_their_pdf(client, alice, bob):
    client, _user = staff_client(client, roles.BILLING_OFFICER)
    letter = letter_for(alice)
    posted = letter_for(bob, key="notice-2")
    Delivery.objects.filter(pk=posted.pk).update(
        status=Delivery.Status.SENT, dispatched_on=rome_date(timezone.now())
    )

    html = client.get(reverse("admin:notifications_lettertopost_changelist")).content.decode()

    assert "Alice Verdi" in html and "80100 NAPOLI NA" in html
    assert "Roberto Neri" not in html
    assert reverse("admin:notifications_lettertopost_dispatch", args=[letter.pk]) in html
    assert reverse("admin:notifications_communication_document", args=[letter.communication_id]) in html


def test_staff_record_the_dispatch_date_and_tracking_number(client, alice):
    client, user = staff_client(client, roles.BILLING_OFFICER)
    letter = letter_for(alice)
    today = rome_date(timezone.now())
    url = reverse("admin:notifications_lettertopost_dispatch", args=[letter.pk])

    response = client.post(
        url, {"dispatched_on": today.isoformat(), "tracking_number": "150123456789"}, follow=True
    )

    assert "Spedizione registrata: raccomandata 150123456789" in response.content.decode()
    letter.refresh_from_db()
    assert letter.dispatched_on == today and letter.dispatch_recorded_by == user
    assert letter.status == Delivery.Status.SENT


def test_a_future_dispatch_date_is_shown_as_a_form_error(client, alice):
    client, _user = staff_client(client, roles.SUPERVISOR)
    letter = letter_for(alice)
    tomorrow = rome_date(timezone.now()) + timedelta(days=1)
    url = reverse("admin:notifications_lettertopost_dispatch", args=[letter.pk])

    response = client.post(url, {"dispatched_on": tomorrow.isoformat(), "tracking_number": "150123456789"})

    assert response.status_code == 200
    assert "La data di spedizione non può essere nel futuro." in response.content.decode()
    letter.refresh_from_db()
    assert letter.dispatched_on is None


def test_a_complaints_officer_sees_communications_but_cannot_record_a_dispatch(client, alice):
    client, _user = staff_client(client, roles.COMPLAINTS_OFFICER)
    letter = letter_for(alice)

    assert client.get(reverse("admin:notifications_communication_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_lettertopost_changelist")).status_code == 200
    url = reverse("admin:notifications_lettertopost_dispatch", args=[letter.pk])
    assert client.get(url).status_code == 403


def test_staff_download_the_letter_pdf_from_admin(client, alice):
    client, _user = staff_client(client, roles.BILLING_OFFICER)
    letter = letter_for(alice)

    response = client.get(
        reverse("admin:notifications_communication_document", args=[letter.communication_id])
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_failed_emails_show_their_error_and_retry_now_sends_them(
    client, alice, django_capture_on_commit_callbacks
):
    client, _user = staff_client(client, roles.BILLING_OFFICER)
    communication = notify(
        customer=alice,
        template_key="generic",
        context={"title": "Avviso", "message": "Testo"},
        channels=[Delivery.Channel.EMAIL],
        dedupe_key="email-1",
    )
    delivery = communication.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, attempts=MAX_ATTEMPTS, last_error="SMTPServerDisconnected: gone"
    )
    changelist = reverse("admin:notifications_delivery_changelist")

    html = client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert "SMTPServerDisconnected: gone" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "retry_now", "_selected_action": [delivery.pk]}, follow=True
        )
    assert "1 invio rimesso in coda." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert len(mail.outbox) == 1


def test_communications_are_read_only_in_admin(client, alice):
    client, _user = staff_client(client, roles.SUPERVISOR)
    letter = letter_for(alice)
    url = reverse("admin:notifications_communication_change", args=[letter.communication_id])

    response = client.get(url)

    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert client.post(url, {"subject": "changed"}).status_code == 403
