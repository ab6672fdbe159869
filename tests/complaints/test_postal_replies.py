"""A sender known only by post (a letter from someone who is not a customer and gave no e-mail address): every
communication of the case is a letter in the letters to post, and the reply is sent on the day staff post it."""

from datetime import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.models import Credit
from complaints import selectors, services
from complaints.models import Complaint, ComplaintEvent
from portal import deadlines, roles
from portal.lib.dates import ROME, add_days, rome_date
from portal.lib.formatting import day
from portal.notifications.models import Communication, Delivery
from portal.notifications.services import record_letter_dispatch
from tests.factories import UserFactory
from tests.pdf_utils import pdf_text

pytestmark = pytest.mark.django_db

REPLY_ADDRESS = "Via Garibaldi 12, 10122 Torino (TO)"
SECTIONS = {
    "reply_complaint": "Ci ha scritto che la bolletta di settembre del Suo vicino Le è stata addebitata.",
    "reply_checks": "Abbiamo verificato le nostre anagrafiche: nessuna fornitura è intestata a Lei.",
    "reply_conclusions": "Non risulta alcun addebito a Suo nome.",
    "reply_rights": "Se la risposta non La soddisfa può rivolgersi al Servizio Conciliazione di ARERA.",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


@pytest.fixture
def officer():
    user = UserFactory(email="reclami@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[roles.COMPLAINTS_OFFICER])
    return user


@pytest.fixture
def mailroom():
    """Who posts the letters: the billing officer records the posting in "Lettere da spedire"."""
    user = UserFactory(email="bollette@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[roles.BILLING_OFFICER])
    return user


def today():
    return rome_date(timezone.now())


def at(day_, hour=9):
    return datetime(day_.year, day_.month, day_.day, hour, tzinfo=ROME)


def letter_complaint(received_on, kind=Complaint.Kind.INFORMATION_REQUEST):
    """The finding's case: a letter, no customer, no e-mail address, only where to send the reply."""
    return services.file_complaint(
        kind=kind,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.LETTER,
        description="Mi scrivete per una bolletta che non è mia: non sono vostro cliente.",
        sent_on=add_days(received_on, -2),
        received_on=received_on,
        sender_name="Anna Ferrero",
        reply_address=REPLY_ADDRESS,
        supply_reference="IT001E99999999",
    )


def write_and_send(complaint, by, on=None):
    for name, text in SECTIONS.items():
        setattr(complaint, name, text)
    complaint.save(update_fields=list(SECTIONS))
    return services.send_reply(complaint=complaint, answered_on=on or today(), by=by)


def reply_letter(complaint):
    return Delivery.objects.get(
        communication__template_key="complaint_reply", communication__about_id=complaint.pk
    )


def post(letter, on, by):
    return record_letter_dispatch(delivery=letter, dispatched_on=on, by=by, now=at(on, 15))


def test_the_acknowledgement_is_the_copy_of_the_form_posted_to_the_reply_address():
    complaint = letter_complaint(add_days(today(), -1))
    services.send_acknowledgement(complaint)

    letter = Delivery.objects.letters_to_post().get(communication__template_key="complaint_ack")
    assert letter.channel == Delivery.Channel.POST
    assert letter.address == f"Anna Ferrero\n{REPLY_ADDRESS}"
    text = pdf_text(letter.communication.document.read())
    assert complaint.code in text and "Via Garibaldi 12" in text
    assert mail.outbox == []


def test_the_reply_waits_in_the_letters_to_post_and_the_case_is_not_answered(officer):
    complaint = write_and_send(letter_complaint(add_days(today(), -10)), officer)

    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.REPLY_TO_POST and complaint.answered_on is None
    letter = reply_letter(complaint)
    assert letter.status == Delivery.Status.PENDING and letter.channel == Delivery.Channel.POST
    assert letter in Delivery.objects.letters_to_post()
    text = pdf_text(letter.communication.document.read())
    assert "Anna Ferrero" in text and "Via Garibaldi 12" in text
    assert "Non risulta alcun addebito a Suo nome." in text
    assert not complaint.events.filter(kind=ComplaintEvent.Kind.REPLIED).exists()
    assert mail.outbox == []


def test_the_posting_date_staff_record_is_the_answer_date(officer, mailroom):
    complaint = write_and_send(letter_complaint(add_days(today(), -10)), officer)
    posted_on = add_days(today(), 2)  # the letter is printed today and posted two days later

    letter = post(reply_letter(complaint), posted_on, mailroom)

    complaint.refresh_from_db()
    assert complaint.answered_on == posted_on and complaint.status == Complaint.Status.ANSWERED
    assert letter.status == Delivery.Status.SENT and letter.tracking_number == ""
    replied = complaint.events.get(kind=ComplaintEvent.Kind.REPLIED)
    assert replied.actor == mailroom and day(posted_on) in replied.text
    assert complaint.reminder_due_on is None


def test_until_the_letter_is_posted_the_clock_runs_and_a_late_posting_is_a_late_reply(officer, mailroom):
    complaint = letter_complaint(add_days(today(), -28), kind=Complaint.Kind.COMPLAINT)
    due = complaint.answer_due_on  # in 2 days
    complaint = write_and_send(complaint, officer)  # written on time...

    assert deadlines.run_sweep("complaints.staff_reminders", now=at(due, 6)).acted == 1
    assert deadlines.run_sweep("complaints.overdue", now=at(add_days(due, 1), 6)).acted == 1
    complaint.refresh_from_db()
    assert complaint.overdue and complaint.answered_on is None
    assert complaint in selectors.overdue(Complaint.objects.all(), today=add_days(due, 1))

    post(reply_letter(complaint), add_days(due, 3), mailroom)  # ...posted 3 days after the answer-by date

    complaint.refresh_from_db()
    assert complaint.answered_on == add_days(due, 3)
    assert selectors.days_answered_late(complaint) == 3
    assert complaint in selectors.answered_late(Complaint.objects.all())
    # Nobody to credit: the sender is not an identified customer (TIQV art. 18, 20).
    outlook = selectors.indemnity_outlook(complaint, today=add_days(due, 3))
    assert outlook.status == selectors.Indemnity.NOT_A_CUSTOMER
    assert not Credit.objects.exists()


def test_a_reply_waiting_to_be_posted_is_no_longer_worked(officer):
    complaint = write_and_send(letter_complaint(add_days(today(), -10)), officer)

    with pytest.raises(ValidationError):
        services.send_reply(complaint=complaint, answered_on=today(), by=officer)
    with pytest.raises(ValidationError):
        services.restart_reply(complaint=complaint)
    with pytest.raises(ValidationError):
        services.close(complaint=complaint, by=officer)
    assert Communication.objects.filter(template_key="complaint_reply").count() == 1


def test_a_posting_date_before_the_letter_was_written_is_refused(officer, mailroom):
    complaint = write_and_send(letter_complaint(add_days(today(), -10)), officer)

    with pytest.raises(ValidationError) as error:
        post(reply_letter(complaint), add_days(today(), -1), mailroom)

    assert "dispatched_on" in error.value.message_dict
    complaint.refresh_from_db()
    assert complaint.answered_on is None and complaint.status == Complaint.Status.REPLY_TO_POST


def test_a_request_for_information_and_the_conciliation_notice_are_letters_too(officer):
    complaint = letter_complaint(add_days(today(), -45))
    services.ask_customer(complaint=complaint, text="Ci indichi il POD scritto sulla bolletta.", by=officer)

    request = Delivery.objects.letters_to_post().get(
        communication__template_key="complaint_information_requested"
    )
    text = pdf_text(request.communication.document.read())
    assert "Ci indichi il POD scritto sulla bolletta." in text
    assert "Rispondici per lettera" in text and complaint.code in text
    assert "Segui la tua pratica" not in text

    assert deadlines.run_sweep("complaints.conciliation", now=at(today(), 6)).acted == 1
    notice = Delivery.objects.letters_to_post().get(communication__template_key="complaint_conciliation")
    assert "Servizio Conciliazione" in pdf_text(notice.communication.document.read())
    assert mail.outbox == []


def test_the_case_page_says_the_reply_waits_to_be_posted_then_when_it_was_posted(client, officer, mailroom):
    complaint = write_and_send(letter_complaint(add_days(today(), -10)), officer)
    client.force_login(officer)
    page = reverse("admin:complaints_complaint_change", args=[complaint.pk])

    html = client.get(page).content.decode()
    assert "Risposta da spedire per posta" in html
    assert "risposto il" not in html.lower()

    post(reply_letter(complaint), today(), mailroom)

    html = client.get(page).content.decode()
    assert "Risposta da spedire per posta" not in html
    assert f"risposto il {day(today())}" in html


def test_a_reply_waiting_to_be_posted_stays_in_the_open_queue_until_it_is_posted(client, officer, mailroom):
    complaint = write_and_send(letter_complaint(add_days(today(), -10)), officer)
    client.force_login(officer)
    queue = reverse("admin:complaints_complaint_changelist") + "?stato=aperti&assegnato=tutti"

    def listed():
        return [case.code for case in client.get(queue).context["cl"].result_list]

    assert listed() == [complaint.code]  # its clock still runs: the officer keeps it in sight

    post(reply_letter(complaint), today(), mailroom)
    assert listed() == []
