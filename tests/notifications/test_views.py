"""The customer's "Comunicazioni": own communications only, newest first, with their PDF."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.notifications.models import Communication, Delivery
from portal.notifications.services import notify
from tests.notifications.conftest import PDF

pytestmark = pytest.mark.django_db


def communication_for(customer, key, *, title="Avviso", document=None, **kwargs):
    return notify(
        customer=customer,
        template_key="generic",
        context={"title": title, "message": f"Messaggio {key}"},
        channels=[Delivery.Channel.EMAIL],
        dedupe_key=key,
        document=document,
        document_name="Avviso.pdf" if document else "",
        **kwargs,
    )


def test_the_inbox_needs_a_login(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_inbox_lists_only_own_communications_newest_first_with_date_and_unread_badge(
    alice_client, alice, bob
):
    older = communication_for(alice, "a-1", title="Primo avviso", document=PDF)
    Communication.objects.filter(pk=older.pk).update(created_at=older.created_at - timedelta(days=40))
    communication_for(alice, "a-2", title="Secondo avviso")
    communication_for(bob, "b-1", title="Avviso per Roberto")

    html = alice_client.get(reverse("notifications:inbox")).content.decode()

    assert html.index("Secondo avviso") < html.index("Primo avviso")
    assert "Avviso per Roberto" not in html
    assert timezone.localtime(older.created_at - timedelta(days=40)).strftime("%d/%m/%Y") in html
    assert html.count("Da leggere") == 2
    assert reverse("notifications:document", args=[older.pk]) in html


def test_opening_a_communication_shows_the_html_body_and_marks_it_read(alice_client, alice):
    communication = communication_for(alice, "a-1")

    html = alice_client.get(reverse("notifications:detail", args=[communication.pk])).content.decode()

    assert "<p>Messaggio a-1</p>" in html
    assert "Gentile Alice Verdi," in html
    communication.refresh_from_db()
    assert communication.read_at is not None
    assert "Da leggere" not in alice_client.get(reverse("notifications:inbox")).content.decode()


def test_another_customers_communication_is_a_404(alice_client, bob):
    communication = communication_for(bob, "b-1", document=PDF)

    assert alice_client.get(reverse("notifications:detail", args=[communication.pk])).status_code == 404
    assert alice_client.get(reverse("notifications:document", args=[communication.pk])).status_code == 404
    communication.refresh_from_db()
    assert communication.read_at is None


def test_the_customer_downloads_their_own_pdf(alice_client, alice):
    communication = communication_for(alice, "a-1", document=PDF)

    response = alice_client.get(reverse("notifications:document", args=[communication.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Avviso.pdf"'


def test_a_communication_without_document_has_no_download(alice_client, alice):
    communication = communication_for(alice, "a-1")
    assert alice_client.get(reverse("notifications:document", args=[communication.pk])).status_code == 404


def test_a_user_without_customer_record_sees_an_empty_inbox(client, staff_user, alice):
    communication_for(alice, "a-1", title="Avviso per Alice")
    client.force_login(staff_user)
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    assert "Avviso per Alice" not in response.content.decode()


def test_the_home_card_links_to_the_inbox_and_counts_unread_communications(alice_client, alice):
    communication_for(alice, "a-1")
    communication_for(alice, "a-2")

    html = alice_client.get("/").content.decode()

    assert f'href="{reverse("notifications:inbox")}"' in html
    assert (
        '<span class="badge rounded-pill text-bg-primary ms-1">2<span class="visually-hidden"> da leggere'
        in html
    )


def test_the_inbox_speaks_english_to_an_english_session(alice_client, alice):
    communication_for(alice, "a-1")
    alice_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = alice_client.get(reverse("notifications:inbox")).content.decode()
    assert '<h1 class="h2 mb-1">Messages</h1>' in html
    assert "Unread" in html
