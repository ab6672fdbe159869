"""Sending e-mails from the outbox: once, with retries and backoff, surviving a worker that dies mid-send."""

from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.utils import timezone

from portal.notifications import rendering, services
from portal.notifications.models import Delivery
from portal.notifications.services import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    notify,
    send_due_emails,
    send_pending_delivery,
)
from portal.notifications.tasks import deliver_email, deliver_pending_emails
from tests.notifications.conftest import PDF

pytestmark = pytest.mark.django_db

EMAIL = Delivery.Channel.EMAIL


def email_notice(customer, *, dedupe_key="notice-1", **kwargs):
    communication = notify(
        customer=customer,
        template_key="generic",
        context={"title": "Aggiornamento", "message": "Il tuo contratto è stato aggiornato."},
        channels=[EMAIL],
        dedupe_key=dedupe_key,
        **kwargs,
    )
    return communication.deliveries.get()


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside the task: nothing after it runs, no handler catches it."""


def failing_send(monkeypatch, exception, times=1):
    """Make the next `times` sends raise `exception` before anything reaches the mail backend."""
    real_build = rendering.build_email
    calls = {"left": times}

    def build(delivery):
        if calls["left"]:
            calls["left"] -= 1
            raise exception
        return real_build(delivery)

    monkeypatch.setattr(rendering, "build_email", build)


def test_it_sends_the_email_with_text_html_and_the_pdf_attached(alice):
    delivery = email_notice(alice, document=PDF, document_name="Avviso.pdf")
    now = delivery.next_attempt_at

    assert send_pending_delivery(delivery.pk, now=now) is True

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.it"]
    assert message.subject == "Optima · Aggiornamento"
    assert message.extra_headers["Message-ID"] == delivery.message_id
    assert message.message()["Message-ID"] == delivery.message_id
    assert "Gentile Alice Verdi," in message.body
    assert "Optima Italia S.p.A." in message.body  # the supplier's footer
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<p>Il tuo contratto è stato aggiornato.</p>" in html
    assert "Corso Umberto I, 174" in html
    assert message.attachments == [("Avviso.pdf", PDF, "application/pdf")]

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert delivery.sent_at == now and delivery.attempts == 1


def test_the_email_is_sent_after_commit_by_the_queued_task(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = email_notice(alice)
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT


def test_an_english_customer_gets_the_email_in_english(giulia):
    delivery = email_notice(giulia)
    send_pending_delivery(delivery.pk, now=delivery.next_attempt_at)

    message = mail.outbox[0]
    assert message.body.startswith("Dear Giulia Bianchi,")
    html = message.alternatives[0][0]
    assert '<html lang="en">' in html
    assert "Customer area" in html
    assert "This message was sent automatically" in html


def test_it_sends_one_email_when_run_twice(alice):
    delivery = email_notice(alice)
    now = delivery.next_attempt_at

    assert send_pending_delivery(delivery.pk, now=now) is True
    assert send_pending_delivery(delivery.pk, now=now + timedelta(minutes=1)) is False
    assert send_due_emails(now=now + timedelta(days=1)) == 0
    deliver_email.delay(delivery.pk)
    deliver_pending_emails.delay()

    assert len(mail.outbox) == 1


def test_the_sweep_sends_what_is_due_and_nothing_else(alice, bob):
    due = email_notice(alice, dedupe_key="a")
    later = email_notice(bob, dedupe_key="b")
    now = later.next_attempt_at
    Delivery.objects.filter(pk=later.pk).update(next_attempt_at=now + timedelta(hours=1))

    assert send_due_emails(now=now) == 1
    assert [m.to for m in mail.outbox] == [["alice@example.it"]]
    assert Delivery.objects.get(pk=due.pk).status == Delivery.Status.SENT
    assert Delivery.objects.get(pk=later.pk).status == Delivery.Status.PENDING


def test_the_sweep_sends_at_most_one_batch_per_run(alice):
    for n in range(3):
        email_notice(alice, dedupe_key=f"notice-{n}")
    now = Delivery.objects.latest("pk").next_attempt_at

    assert send_due_emails(now=now, batch=2) == 2
    assert send_due_emails(now=now, batch=2) == 1
    assert len(mail.outbox) == 3


def test_an_smtp_failure_puts_it_back_with_backoff_and_a_later_run_sends_it(alice, monkeypatch):
    delivery = email_notice(alice)
    now = delivery.next_attempt_at
    failing_send(monkeypatch, SMTPServerDisconnected("Connection unexpectedly closed"))

    send_due_emails(now=now)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at == now + timedelta(minutes=2)
    assert delivery.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mail.outbox == []

    assert send_due_emails(now=now + timedelta(minutes=1)) == 0
    assert send_due_emails(now=now + timedelta(minutes=2)) == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert delivery.last_error == ""
    assert len(mail.outbox) == 1


def test_backoff_doubles_and_is_capped():
    assert [services.backoff(n).total_seconds() / 60 for n in range(1, 9)] == [2, 4, 8, 16, 32, 64, 120, 120]


def test_it_is_marked_failed_after_the_last_attempt_and_not_retried(alice, monkeypatch):
    delivery = email_notice(alice)
    now = delivery.next_attempt_at
    failing_send(monkeypatch, ConnectionRefusedError("SMTP server down"), times=MAX_ATTEMPTS)

    for _ in range(MAX_ATTEMPTS):
        send_due_emails(now=now)
        now += timedelta(hours=3)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == MAX_ATTEMPTS
    assert "SMTP server down" in delivery.last_error
    assert send_due_emails(now=now + timedelta(days=30)) == 0
    assert mail.outbox == []


def test_an_exception_right_after_the_claim_is_retried_later_and_sent_once(alice, monkeypatch):
    delivery = email_notice(alice)
    now = delivery.next_attempt_at
    failing_send(monkeypatch, RuntimeError("crashed right after the claim"))

    send_pending_delivery(delivery.pk, now=now)
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.PENDING

    send_due_emails(now=now + timedelta(minutes=2))
    send_due_emails(now=now + timedelta(minutes=10))
    assert len(mail.outbox) == 1


def test_a_worker_killed_between_claim_and_send_is_retried_after_the_claim_timeout_and_sends_once(
    alice, monkeypatch
):
    delivery = email_notice(alice)
    failing_send(monkeypatch, WorkerKilled())

    with pytest.raises(WorkerKilled):
        deliver_email.apply(args=[delivery.pk], throw=True)  # killed: the row stays claimed
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENDING and delivery.attempts == 1
    claimed_at = delivery.claimed_at

    # The broker redelivers the unacknowledged task (acks_late): the claim guards the repeat.
    assert send_pending_delivery(delivery.pk, now=claimed_at + timedelta(seconds=5)) is False
    # While the claim is fresh the sweep leaves it alone: that worker may still be sending.
    assert send_due_emails(now=claimed_at + CLAIM_TIMEOUT - timedelta(seconds=1)) == 0
    assert mail.outbox == []

    assert send_due_emails(now=claimed_at + CLAIM_TIMEOUT + timedelta(seconds=1)) == 1
    assert send_due_emails(now=claimed_at + CLAIM_TIMEOUT + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == delivery.message_id
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2


def test_an_abandoned_claim_on_the_last_attempt_is_marked_failed(alice):
    delivery = email_notice(alice)
    now = delivery.next_attempt_at
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, claimed_at=now, attempts=MAX_ATTEMPTS
    )

    send_due_emails(now=now + CLAIM_TIMEOUT + timedelta(minutes=1))

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert mail.outbox == []


def test_a_slow_worker_finishing_after_its_claim_was_released_still_records_the_send(alice):
    delivery = email_notice(alice)
    now = delivery.next_attempt_at
    claimed = services._claim(Delivery.objects.filter(pk=delivery.pk), now=now)
    services.release_stale_claims(now=now + CLAIM_TIMEOUT + timedelta(minutes=1))

    services._send_claimed(claimed, now=now + CLAIM_TIMEOUT + timedelta(minutes=2))

    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.SENT
    assert send_due_emails(now=now + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_retry_now_gives_a_failed_email_one_more_attempt(alice, django_capture_on_commit_callbacks):
    delivery = email_notice(alice)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, attempts=MAX_ATTEMPTS, next_attempt_at=None
    )
    now = timezone.now()  # the queued task reads the clock too

    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_delivery(delivery=delivery, now=now) is True

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == MAX_ATTEMPTS + 1
    assert len(mail.outbox) == 1


def test_retry_now_never_resends_a_sent_email(alice):
    delivery = email_notice(alice)
    send_pending_delivery(delivery.pk, now=delivery.next_attempt_at)

    assert services.retry_delivery(delivery=delivery, now=delivery.next_attempt_at) is False
    assert len(mail.outbox) == 1


def test_pec_is_sent_like_an_email_to_the_pec_address(alice):
    alice.pec = "alice@pec.example.it"
    communication = notify(
        customer=alice,
        template_key="generic",
        context={"title": "Avviso", "message": "Testo"},
        channels=[Delivery.Channel.PEC],
        dedupe_key="pec-1",
    )
    delivery = communication.deliveries.get()
    send_due_emails(now=delivery.next_attempt_at)
    assert mail.outbox[0].to == ["alice@pec.example.it"]


def test_letters_are_never_picked_up_by_the_email_sweep(alice):
    communication = notify(
        customer=alice,
        template_key="generic",
        context={"title": "Avviso", "message": "Testo"},
        channels=[Delivery.Channel.LETTER],
        dedupe_key="letter-1",
    )
    assert send_due_emails(now=communication.created_at + timedelta(days=1)) == 0
    assert communication.deliveries.get().status == Delivery.Status.PENDING


def test_the_delivery_sweep_reads_only_the_pending_rows_through_the_partial_index(alice):
    from django.db import connection

    sql, params = (
        Delivery.objects.due_emails(alice.created_at).order_by("next_attempt_at").query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql} LIMIT 1", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "delivery_email_due_idx" in plan


def test_beat_runs_the_delivery_sweep_every_minute_with_late_acks():
    from portal.celery import app

    entry = app.conf.beat_schedule["deliver-pending-emails"]
    assert entry["task"] == deliver_pending_emails.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60.0
    assert deliver_email.acks_late and deliver_pending_emails.acks_late
