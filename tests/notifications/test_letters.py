"""Registered letters: staff post them and record the date legal deadlines count from."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.lib.dates import rome_date
from portal.notifications import handlers
from portal.notifications.models import Delivery
from portal.notifications.services import notify, record_letter_delivery, record_letter_dispatch

pytestmark = pytest.mark.django_db

TEMPLATE = "generic"


@pytest.fixture
def letter(alice):
    communication = notify(
        customer=alice,
        template_key=TEMPLATE,
        context={"title": "Costituzione in mora", "message": "Testo"},
        channels=[Delivery.Channel.LETTER],
        dedupe_key="default-notice-1",
        about=alice,
    )
    return communication.deliveries.get()


@pytest.fixture
def calls():
    """Handlers registered for the test's template key; removed afterwards."""
    received = []

    def on_dispatch(*, delivery, dispatched_on):
        received.append(("dispatched", delivery.pk, dispatched_on))

    def on_receipt(*, delivery, delivered_on):
        received.append(("delivered", delivery.pk, delivered_on))

    handlers.register_dispatch_handler(TEMPLATE, on_dispatch)
    handlers.on_letter_delivered(TEMPLATE)(on_receipt)
    yield received
    handlers.unregister_handler(TEMPLATE, on_dispatch)
    handlers.unregister_handler(TEMPLATE, on_receipt)


def test_recording_the_dispatch_calls_the_handler_with_the_date(letter, staff_user, calls):
    now = timezone.now()
    today = rome_date(now)

    record_letter_dispatch(
        delivery=letter, dispatched_on=today, tracking_number=" 150123456789 ", by=staff_user, now=now
    )

    letter.refresh_from_db()
    assert letter.status == Delivery.Status.SENT
    assert letter.dispatched_on == today
    assert letter.tracking_number == "150123456789"
    assert letter.dispatch_recorded_by == staff_user and letter.dispatch_recorded_at == now
    assert calls == [("dispatched", letter.pk, today)]


def test_the_handler_reaches_the_object_the_letter_is_about(letter, staff_user, alice):
    seen = []

    def handler(*, delivery, dispatched_on):
        seen.append(delivery.communication.about)

    handlers.register_dispatch_handler(TEMPLATE, handler)
    try:
        now = timezone.now()
        record_letter_dispatch(
            delivery=letter, dispatched_on=rome_date(now), tracking_number="1", by=staff_user, now=now
        )
    finally:
        handlers.unregister_handler(TEMPLATE, handler)
    assert seen == [alice]


def test_registering_a_handler_twice_calls_it_once(letter, staff_user, calls):
    handler = handlers._dispatch_handlers[TEMPLATE][0]
    handlers.register_dispatch_handler(TEMPLATE, handler)
    now = timezone.now()
    record_letter_dispatch(
        delivery=letter, dispatched_on=rome_date(now), tracking_number="1", by=staff_user, now=now
    )
    assert len(calls) == 1


def test_a_dispatch_date_in_the_future_is_refused(letter, staff_user, calls):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        record_letter_dispatch(
            delivery=letter,
            dispatched_on=rome_date(now) + timedelta(days=1),
            tracking_number="150123456789",
            by=staff_user,
            now=now,
        )
    assert error.value.message_dict == {"dispatched_on": ["La data di spedizione non può essere nel futuro."]}
    letter.refresh_from_db()
    assert letter.dispatched_on is None and letter.status == Delivery.Status.PENDING
    assert calls == []


def test_a_dispatch_date_before_the_letter_was_written_is_refused(letter, staff_user, calls):
    now = timezone.now()
    with pytest.raises(ValidationError, match="non può precedere la creazione della comunicazione"):
        record_letter_dispatch(
            delivery=letter,
            dispatched_on=rome_date(letter.communication.created_at) - timedelta(days=1),
            tracking_number="150123456789",
            by=staff_user,
            now=now,
        )
    assert calls == []


def test_a_dispatch_without_tracking_number_is_refused(letter, staff_user):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        record_letter_dispatch(
            delivery=letter, dispatched_on=rome_date(now), tracking_number="  ", by=staff_user, now=now
        )
    assert "tracking_number" in error.value.message_dict


def test_recording_the_dispatch_twice_is_refused(letter, staff_user, calls):
    now = timezone.now()
    record_letter_dispatch(
        delivery=letter, dispatched_on=rome_date(now), tracking_number="1", by=staff_user, now=now
    )

    with pytest.raises(ValidationError, match="già stata registrata"):
        record_letter_dispatch(
            delivery=letter, dispatched_on=rome_date(now), tracking_number="2", by=staff_user, now=now
        )
    letter.refresh_from_db()
    assert letter.tracking_number == "1"
    assert len(calls) == 1


def test_a_failing_handler_records_nothing(letter, staff_user):
    def broken(*, delivery, dispatched_on):
        raise RuntimeError("billing could not start the term")

    handlers.register_dispatch_handler(TEMPLATE, broken)
    try:
        now = timezone.now()
        with pytest.raises(RuntimeError):
            record_letter_dispatch(
                delivery=letter, dispatched_on=rome_date(now), tracking_number="1", by=staff_user, now=now
            )
    finally:
        handlers.unregister_handler(TEMPLATE, broken)
    letter.refresh_from_db()
    assert letter.dispatched_on is None


def test_only_letters_are_dispatched_by_hand(alice, staff_user):
    communication = notify(
        customer=alice,
        template_key=TEMPLATE,
        context={"title": "Avviso", "message": "Testo"},
        channels=[Delivery.Channel.EMAIL],
        dedupe_key="email-1",
    )
    now = timezone.now()
    with pytest.raises(ValidationError, match="raccomandate"):
        record_letter_dispatch(
            delivery=communication.deliveries.get(),
            dispatched_on=rome_date(now),
            tracking_number="1",
            by=staff_user,
            now=now,
        )


def test_recording_the_return_receipt_calls_the_receipt_handler(letter, staff_user, calls):
    now = timezone.now()
    today = rome_date(now)
    record_letter_dispatch(delivery=letter, dispatched_on=today, tracking_number="1", by=staff_user, now=now)

    record_letter_delivery(delivery=letter, delivered_on=today, by=staff_user, now=now)

    letter.refresh_from_db()
    assert letter.delivered_on == today
    assert letter.receipt_recorded_by == staff_user
    assert calls == [("dispatched", letter.pk, today), ("delivered", letter.pk, today)]


def test_a_return_receipt_needs_the_dispatch_first_and_is_recorded_once(letter, staff_user, calls):
    now = timezone.now()
    today = rome_date(now)
    with pytest.raises(ValidationError, match="Registra prima la spedizione"):
        record_letter_delivery(delivery=letter, delivered_on=today, by=staff_user, now=now)

    record_letter_dispatch(delivery=letter, dispatched_on=today, tracking_number="1", by=staff_user, now=now)
    with pytest.raises(ValidationError, match="futuro"):
        record_letter_delivery(
            delivery=letter, delivered_on=today + timedelta(days=1), by=staff_user, now=now
        )
    with pytest.raises(ValidationError, match="precedere la spedizione"):
        record_letter_delivery(
            delivery=letter, delivered_on=today - timedelta(days=1), by=staff_user, now=now
        )
    record_letter_delivery(delivery=letter, delivered_on=today, by=staff_user, now=now)
    with pytest.raises(ValidationError, match="già stata registrata"):
        record_letter_delivery(delivery=letter, delivered_on=today, by=staff_user, now=now)
    assert [call[0] for call in calls] == ["dispatched", "delivered"]
