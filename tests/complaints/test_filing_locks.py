"""Filing a complaint holds the year's case-code counter only for its inserts: the acknowledgement's PDF is
rendered by a task after the commit, and a racing double submit neither files two cases nor burns a code."""

import logging
import re
import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from complaints import complaint_form, services, tasks
from complaints.models import Complaint, ComplaintCounter
from portal import deadlines
from portal.lib import dates
from portal.notifications.models import Communication, Delivery
from tests.factories import active_contract
from tests.pdf_utils import pdf_text

SENT_ON = date(2026, 1, 31)
STAND_IN_PDF = b"%PDF-1.4\n% a stand-in acknowledgement\n%%EOF\n"


@pytest.fixture(autouse=True)
def environment(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def service(alice):
    return active_contract(alice, activated_on=date(2025, 6, 1)).services.get()


@pytest.fixture
def renders(monkeypatch):
    """The acknowledgement renders as a stand-in; each call is recorded."""
    calls = []

    def render(template, context, language=None, **options):
        calls.append(context["complaint"].code)
        return STAND_IN_PDF

    monkeypatch.setattr(complaint_form, "render_pdf", render)
    return calls


def file(service, **fields):
    return services.file_complaint(
        kind="complaint",
        topic="fatturazione",
        channel="portal",
        description="La bolletta di gennaio riporta consumi che non ho fatto.",
        sent_on=SENT_ON,
        customer=service.contract.customer,
        service=service,
        **fields,
    )


def acknowledgements():
    return Communication.objects.filter(template_key="complaint_ack")


@pytest.mark.django_db
def test_filing_commits_without_rendering_and_the_task_after_the_commit_sends_the_copy(
    service, alice, monkeypatch, django_capture_on_commit_callbacks
):
    rendered, real_render = [], complaint_form.render_pdf

    def render(template, context, language=None, **options):
        rendered.append(template)
        return real_render(template, context, language=language, **options)

    monkeypatch.setattr(complaint_form, "render_pdf", render)
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        complaint = file(service)
    assert rendered == [] and not acknowledgements().exists()

    with django_capture_on_commit_callbacks(execute=True):  # the commit, then the e-mail the task queues
        for callback in after_commit:
            callback()

    assert rendered == ["pdf/complaint_form.html"]
    ack = acknowledgements().get()
    assert (ack.customer, ack.about) == (alice, complaint)
    assert complaint.code in pdf_text(ack.document.read())
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert message.attachments[0][0] == f"reclamo-{complaint.code}.pdf"


@pytest.mark.django_db
def test_the_acknowledgement_task_run_twice_renders_and_sends_once(
    service, renders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        complaint = file(service)
        tasks.send_acknowledgement(complaint.pk)  # the broker delivers the message again

    assert renders == [complaint.code]
    assert acknowledgements().count() == 1
    assert Delivery.objects.filter(communication__template_key="complaint_ack").count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_broker_outage_does_not_fail_the_filing(
    alice_client, service, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(dates, "today", lambda: SENT_ON)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_acknowledgement, "delay", broker_down)
    form = alice_client.get(reverse("complaints:new")).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', form)[1]
    data = {
        "supply": f"service:{service.pk}",
        "kind": "complaint",
        "topic": "fatturazione",
        "description": "La bolletta di gennaio riporta consumi che non ho fatto.",
        "reply_address": "",
        "submission_token": token,
    }
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("complaints:new"), data)

    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('complaints:detail', args=[complaint.code])}?inviato=1"
    assert "Connection refused" in caplog.text  # logged by the robust on_commit
    assert not acknowledgements().exists()


def in_another_connection(function):
    """Run `function` in a thread of its own, hence on a database connection of its own; return its result."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function()
        except Exception as exc:  # raised again in the caller's thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def counter_row_is_free(year: int) -> bool:
    """Whether another transaction could lock the year's counter row right now, without waiting."""
    try:
        with transaction.atomic():
            ComplaintCounter.objects.select_for_update(nowait=True).get(year=year)
    except DatabaseError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_while_the_acknowledgement_renders_the_counter_row_is_not_locked(service, monkeypatch):
    free_during_render = []

    def render(template, context, language=None, **options):
        free_during_render.append(in_another_connection(lambda: counter_row_is_free(SENT_ON.year)))
        return STAND_IN_PDF

    monkeypatch.setattr(complaint_form, "render_pdf", render)
    ComplaintCounter.objects.create(year=SENT_ON.year)  # committed, as on any day but the year's first filing
    file(service)  # its own transaction: commits, then runs the (eager) task

    assert free_during_render == [True]
    assert acknowledgements().get().document


@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_the_same_token_at_once_file_one_case_and_burn_one_code(
    service, renders, monkeypatch
):
    barrier = threading.Barrier(2, timeout=30)
    take_next = ComplaintCounter.take_next

    def take_next_together(year):
        barrier.wait()  # both submissions are past the duplicate check before either takes a number
        return take_next(year)

    monkeypatch.setattr(ComplaintCounter, "take_next", take_next_together)
    filed, errors = [], []

    def submit():
        try:
            filed.append(file(service, submission_token="same-click"))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(filed) == 2 and filed[0].pk == filed[1].pk
    assert Complaint.objects.count() == 1 and acknowledgements().count() == 1
    assert ComplaintCounter.objects.get(year=SENT_ON.year).last_number == 1

    monkeypatch.setattr(ComplaintCounter, "take_next", take_next)
    after = file(service, submission_token="next-complaint")
    assert [filed[0].code, after.code] == ["R-2026-000001", "R-2026-000002"]  # consecutive: none burned


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def minutes_ago(minutes):
    return timezone.now() - timedelta(minutes=minutes)


@pytest.mark.django_db
def test_an_acknowledgement_lost_to_a_broker_outage_is_sent_by_the_catch_up_sweep(
    service, alice, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.send_acknowledgement, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = file(service)
    assert not acknowledgements().exists()

    # Within the grace the queued task may still be on its way: the sweep leaves the case alone.
    assert deadlines.run_sweep("complaints.acknowledgements").acted == 0
    Complaint.objects.filter(pk=complaint.pk).update(created_at=minutes_ago(6))
    with django_capture_on_commit_callbacks(execute=True):  # the batch commits, then the e-mail goes
        run = deadlines.run_sweep("complaints.acknowledgements")

    assert run.acted == 1
    ack = acknowledgements().get()
    assert complaint.code in pdf_text(ack.document.read())
    assert [message.to for message in mail.outbox] == [[alice.email]]
    complaint.refresh_from_db()
    assert complaint.acknowledged_at is not None
    # The task delivered at last, and the sweep's next run: neither sends it again.
    tasks.send_acknowledgement(complaint.pk)
    assert deadlines.run_sweep("complaints.acknowledgements").acted == 0
    assert acknowledgements().count() == 1 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_letter_from_an_unknown_sender_is_acknowledged_by_post_not_retried_forever(
    renders, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.send_acknowledgement, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        complaint = services.file_complaint(
            kind="complaint",
            topic="fatturazione",
            channel="letter",
            description="Lettera: contesto la bolletta.",
            sent_on=SENT_ON,
            sender_name="Mario Rossi",
            reply_address="Via Roma 1, 80100 Napoli",
        )
    Complaint.objects.filter(pk=complaint.pk).update(created_at=minutes_ago(6))

    assert deadlines.run_sweep("complaints.acknowledgements").acted == 1
    # The copy of the form, addressed to the reply address, waits in the letters to post.
    assert renders == [complaint.code]
    letter = Delivery.objects.letters_to_post().get(communication__in=acknowledgements())
    assert letter.channel == Delivery.Channel.POST and "Via Roma 1, 80100 Napoli" in letter.address
    assert deadlines.run_sweep("complaints.acknowledgements").acted == 0
    assert renders == [complaint.code]
