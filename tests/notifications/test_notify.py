"""Writing a communication: rendered once in the customer's language, never created twice."""

import threading
import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from portal.notifications.models import Communication, Delivery
from portal.notifications.services import notify
from tests.notifications.conftest import PDF

EMAIL, PEC, LETTER = Delivery.Channel.EMAIL, Delivery.Channel.PEC, Delivery.Channel.LETTER


def notice(customer, *, dedupe_key="notice-1", channels=(EMAIL,), **kwargs):
    kwargs.setdefault(
        "context", {"title": "Aggiornamento", "message": "Il tuo contratto è stato aggiornato."}
    )
    return notify(
        customer=customer, template_key="generic", channels=channels, dedupe_key=dedupe_key, **kwargs
    )


@pytest.mark.django_db
def test_it_writes_one_communication_with_one_delivery_per_channel(alice, settings):
    settings.EMAIL_MESSAGE_ID_DOMAIN = "areaclienti.example.it"
    alice.pec = "alice@pec.example.it"
    communication = notice(alice, channels=[EMAIL, PEC, LETTER])

    assert communication.customer == alice and communication.language == "it"
    deliveries = {d.channel: d for d in communication.deliveries.all()}
    assert deliveries[EMAIL].address == "alice@example.it"
    assert deliveries[PEC].address == "alice@pec.example.it"
    assert deliveries[LETTER].address == "Alice Verdi\nVia Roma 1\n80100 NAPOLI NA"
    assert all(d.status == Delivery.Status.PENDING for d in deliveries.values())
    assert deliveries[EMAIL].next_attempt_at == communication.created_at
    assert deliveries[LETTER].next_attempt_at is None
    assert len({d.message_id for d in deliveries.values()}) == 3
    assert deliveries[EMAIL].message_id.endswith("@areaclienti.example.it>")  # the portal's domain


@pytest.mark.django_db
def test_notifying_twice_with_the_same_dedupe_key_returns_the_first_communication(alice):
    first = notice(alice)
    second = notice(alice, context={"title": "Altro", "message": "Altro testo"})

    assert second.pk == first.pk
    assert Communication.objects.count() == 1
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_a_dedupe_key_reused_for_another_customer_is_refused(alice, bob):
    notice(alice)
    with pytest.raises(ValueError, match="dedupe key"):
        notice(bob)


@pytest.mark.django_db
def test_it_is_written_in_the_callers_transaction_and_rolls_back_with_it(alice):
    with pytest.raises(RuntimeError), transaction.atomic():
        notice(alice)
        raise RuntimeError("the sweep failed after writing the notice")
    assert not Communication.objects.exists()


@pytest.mark.django_db
def test_the_email_is_queued_only_when_the_transaction_commits(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice(alice)
    assert len(callbacks) == 1
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_existing_communication_is_not_queued_again(alice, django_capture_on_commit_callbacks):
    notice(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        notice(alice)
    assert callbacks == []


@pytest.mark.django_db
def test_a_pec_delivery_needs_a_pec_address(alice):
    with pytest.raises(ValidationError, match="PEC"):
        notice(alice, channels=[PEC])
    assert not Communication.objects.exists()


@pytest.mark.django_db
def test_the_inbox_alone_needs_no_delivery(alice):
    communication = notice(alice, channels=[])
    assert not communication.deliveries.exists()


@pytest.mark.django_db
def test_it_renders_subject_and_bodies_in_italian(alice):
    communication = notice(alice)

    assert communication.subject == "Optima · Aggiornamento"
    assert communication.body_text.startswith("Gentile Alice Verdi,\n\nIl tuo contratto è stato aggiornato.")
    assert "Cordiali saluti," in communication.body_text
    assert "Il Servizio Clienti Optima" in communication.body_text
    assert "<p>Il tuo contratto è stato aggiornato.</p>" in communication.body_html
    assert "In allegato" not in communication.body_text


@pytest.mark.django_db
def test_it_renders_in_english_for_an_english_customer(giulia):
    communication = notice(giulia, document=PDF, document_name="notice.pdf")

    assert communication.language == "en"
    assert communication.body_text.startswith("Dear Giulia Bianchi,")
    assert "Please find the document attached as a PDF." in communication.body_text
    assert "Kind regards," in communication.body_html
    assert "Optima Customer Service" in communication.body_html
    assert "Gentile" not in communication.body_html


@pytest.mark.django_db
def test_the_callers_text_is_escaped_in_the_html_body(alice):
    communication = notice(alice, context={"title": "Avviso", "message": "<script>alert(1)</script>"})
    assert "<script>" not in communication.body_html
    assert "&lt;script&gt;" in communication.body_html


@pytest.mark.django_db
def test_the_document_is_stored_privately_under_a_random_name(alice, settings):
    communication = notice(alice, document=PDF, document_name="Costituzione in mora.pdf")

    assert communication.document_name == "Costituzione in mora.pdf"
    assert communication.document.name.startswith("communications/")
    assert "mora" not in communication.document.name
    assert communication.document.read() == PDF
    assert "In allegato trovi il documento in PDF." in communication.body_text


@pytest.mark.django_db
def test_it_links_the_communication_to_what_it_is_about(alice):
    communication = notice(alice, about=alice)
    assert Communication.objects.get(pk=communication.pk).about == alice


@pytest.mark.django_db(transaction=True)
def test_two_workers_notifying_at_once_create_one_communication_and_send_one_email(alice):
    # The first worker holds its new row uncommitted while the second, which cannot see it yet, renders and
    # inserts the same key: the second insert waits on the unique index and must come back with the first row.
    inserted = threading.Event()
    results, errors = {}, []

    def first_worker():
        try:
            with transaction.atomic():
                results["first"] = notice(alice)
                inserted.set()
                time.sleep(0.5)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            inserted.set()
            connection.close()

    def second_worker():
        inserted.wait(timeout=10)
        started = time.monotonic()
        try:
            results["second"] = notice(alice)
            results["second_waited"] = time.monotonic() - started
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_worker), threading.Thread(target=second_worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    assert results["first"].pk == results["second"].pk
    assert results["second_waited"] > 0.3  # it reached the insert and waited for the first to commit
    assert Communication.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert len(mail.outbox) == 1
