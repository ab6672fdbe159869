"""Ordinary post ("Posta ordinaria"): letters staff post like registered ones, with a posting date and nothing
else — no raccomandata number, no return receipt — in the same "Lettere da spedire" list."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from portal import roles
from portal.lib.dates import rome_date
from portal.lib.formatting import day
from portal.notifications import handlers
from portal.notifications.models import Delivery
from portal.notifications.services import Recipient, notify, record_letter_delivery, record_letter_dispatch
from tests.factories import UserFactory
from tests.notifications.conftest import PDF

pytestmark = pytest.mark.django_db


def letter(channel, key, **who):
    communication = notify(
        **who,
        template_key="generic",
        context={"title": "Avviso", "message": "Testo"},
        channels=[channel],
        dedupe_key=key,
        document=PDF,
        document_name="lettera.pdf",
    )
    return communication.deliveries.get()


def by_post(key="post-1"):
    return letter(
        Delivery.Channel.POST,
        key,
        recipient=Recipient(name="Anna Ferrero", postal_address="Via Garibaldi 12, 10122 Torino (TO)"),
    )


@pytest.fixture
def billing_client(client):
    user = UserFactory(email="bollette@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[roles.BILLING_OFFICER])
    client.force_login(user)
    return client


def test_someone_who_is_not_a_customer_is_reached_by_post_at_the_address_they_gave():
    delivery = by_post()

    assert delivery.channel == Delivery.Channel.POST and delivery.status == Delivery.Status.PENDING
    assert delivery.address == "Anna Ferrero\nVia Garibaldi 12, 10122 Torino (TO)"
    assert delivery.next_attempt_at is None  # never picked up by the e-mail sweep
    assert delivery.communication.customer is None
    assert delivery.communication.recipient_name == "Anna Ferrero"


def test_a_recipient_without_a_postal_address_cannot_be_written_to_by_post():
    with pytest.raises(ValueError, match="no address"):
        notify(
            recipient=Recipient(name="Anna Ferrero", email="anna@example.it"),
            template_key="generic",
            context={"title": "Avviso", "message": "Testo"},
            channels=[Delivery.Channel.POST],
            dedupe_key="post-1",
        )


def test_a_customer_s_ordinary_letter_goes_to_the_billing_address(alice):
    delivery = letter(Delivery.Channel.POST, "post-1", customer=alice)
    assert delivery.address.endswith("80100 NAPOLI NA")


def test_an_ordinary_letter_is_posted_with_a_date_and_no_number(staff_user):
    delivery = by_post()
    seen = []

    def handler(*, delivery, dispatched_on):
        seen.append(dispatched_on)

    handlers.register_dispatch_handler("generic", handler)
    now = timezone.now()
    try:
        record_letter_dispatch(delivery=delivery, dispatched_on=rome_date(now), by=staff_user, now=now)
    finally:
        handlers.unregister_handler("generic", handler)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.dispatched_on == rome_date(now)
    assert delivery.tracking_number == "" and seen == [rome_date(now)]


def test_an_ordinary_letter_has_no_raccomandata_number_nor_return_receipt(staff_user):
    delivery = by_post()
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        record_letter_dispatch(
            delivery=delivery, dispatched_on=rome_date(now), tracking_number="150123", by=staff_user, now=now
        )
    assert "tracking_number" in error.value.message_dict

    record_letter_dispatch(delivery=delivery, dispatched_on=rome_date(now), by=staff_user, now=now)
    with pytest.raises(ValidationError, match="ricevuta di ritorno"):
        record_letter_delivery(delivery=delivery, delivered_on=rome_date(now), by=staff_user, now=now)


def test_letters_to_post_show_both_kinds_with_their_channel(billing_client, alice):
    registered = letter(Delivery.Channel.LETTER, "letter-1", customer=alice)
    ordinary = by_post()

    html = billing_client.get(reverse("admin:notifications_lettertopost_changelist")).content.decode()

    assert "Raccomandata A/R" in html and "Posta ordinaria" in html
    assert "Anna Ferrero" in html and "Alice Verdi" in html
    for delivery in (registered, ordinary):
        assert reverse("admin:notifications_lettertopost_dispatch", args=[delivery.pk]) in html


def test_staff_record_an_ordinary_letter_s_posting_with_its_date_only(billing_client):
    delivery = by_post()
    url = reverse("admin:notifications_lettertopost_dispatch", args=[delivery.pk])
    today = rome_date(timezone.now())

    form = billing_client.get(url).content.decode()
    assert 'name="dispatched_on"' in form and 'name="tracking_number"' not in form
    response = billing_client.post(url, {"dispatched_on": today.isoformat()}, follow=True)

    assert f"Spedizione registrata: lettera in posta ordinaria del {day(today)}." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.dispatched_on == today and delivery.status == Delivery.Status.SENT
    posted = billing_client.get(
        reverse("admin:notifications_lettertopost_changelist"), {"fase": "tutte"}
    ).content.decode()
    assert f"Spedita il {day(today)}" in posted
    assert reverse("admin:notifications_lettertopost_receipt", args=[delivery.pk]) not in posted
    receipt = billing_client.get(reverse("admin:notifications_lettertopost_receipt", args=[delivery.pk]))
    assert receipt.status_code == 404
