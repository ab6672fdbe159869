"""The complaint sweeps on the deadline engine: staff reminders, overdue cases, the conciliation notice."""

import threading
from datetime import date, datetime

import pytest
from django.core import mail
from django.db import connection

from complaints import services
from complaints.models import Complaint, ComplaintEvent
from portal import deadlines, roles
from portal.lib.dates import ROME, add_days
from portal.notifications.models import Communication
from tests.complaints.lines import mobile_line
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db

RECEIVED = date(2026, 3, 2)
DUE = date(2026, 4, 1)  # 30 days


def at(day: date, hour=6):
    return datetime(day.year, day.month, day.day, hour, tzinfo=ROME)


def sweep(name, day):
    return deadlines.run_sweep(f"complaints.{name}", now=at(day))


def file(received_on=RECEIVED, assignee=None, line=None):
    contract = active_contract()
    complaint = services.file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL,
        description="Mi avete fatturato due volte lo stesso mese.",
        sent_on=received_on,
        customer=contract.customer,
        contract=contract,
        service=line(contract) if line else contract.services.get(),
    )
    if assignee is not None:
        complaint = services.assign(complaint=complaint, to=assignee, by=assignee)
    return complaint


def events(complaint, kind):
    return list(complaint.events.filter(kind=kind).order_by("at", "id"))


def staff_alerts(code):
    return [message for message in mail.outbox if message.subject.startswith(code)]


@pytest.fixture
def supervisors():
    groups = roles.sync_roles()
    people = [UserFactory(email=f"supervisore{n}@optima.example", is_staff=True) for n in (1, 2)]
    for person in people:
        person.groups.add(groups[roles.SUPERVISOR])
    return people


@pytest.fixture
def officer():
    user = UserFactory(email="reclami@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[roles.COMPLAINTS_OFFICER])
    return user


class TestStaffReminders:
    def test_the_assignee_is_reminded_5_days_before(
        self, officer, supervisors, django_capture_on_commit_callbacks
    ):
        complaint = file(assignee=officer)
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep("staff_reminders", add_days(DUE, -6)).acted == 0
            assert sweep("staff_reminders", add_days(DUE, -5)).acted == 1
            assert sweep("staff_reminders", add_days(DUE, -4)).acted == 0
            assert sweep("staff_reminders", add_days(DUE, -1)).acted == 0
        [reminder] = events(complaint, ComplaintEvent.Kind.REMINDER)
        assert reminder.text == "Risposta dovuta entro 5 giorni" and reminder.internal
        [alert] = staff_alerts(complaint.code)
        assert alert.to == [officer.email]
        assert "01/04/2026" in alert.body and f"/admin/complaints/complaint/{complaint.pk}/" in alert.body
        complaint.refresh_from_db()
        assert complaint.reminder_due_on == DUE

    def test_the_assignee_is_reminded_again_on_the_day_and_then_never(
        self, officer, supervisors, django_capture_on_commit_callbacks
    ):
        complaint = file(assignee=officer)
        with django_capture_on_commit_callbacks(execute=True):
            sweep("staff_reminders", add_days(DUE, -5))
            assert sweep("staff_reminders", DUE).acted == 1
            assert sweep("staff_reminders", add_days(DUE, 1)).acted == 0
        reminders = events(complaint, ComplaintEvent.Kind.REMINDER)
        assert [event.text for event in reminders] == [
            "Risposta dovuta entro 5 giorni",
            "Risposta dovuta oggi",
        ]
        assert [message.to for message in staff_alerts(complaint.code)] == [[officer.email], [officer.email]]

    def test_an_unassigned_case_reminds_the_supervisors(
        self, supervisors, django_capture_on_commit_callbacks
    ):
        complaint = file()
        with django_capture_on_commit_callbacks(execute=True):
            sweep("staff_reminders", add_days(DUE, -5))
        [alert] = staff_alerts(complaint.code)
        assert sorted(alert.to) == sorted(person.email for person in supervisors)

    def test_after_downtime_the_day_s_reminder_goes_out_on_the_day_alone(
        self, officer, django_capture_on_commit_callbacks
    ):
        complaint = file(assignee=officer)
        with django_capture_on_commit_callbacks(execute=True):
            # Down since before the 5-day reminder: on the due day only "due today" is sent, once.
            assert sweep("staff_reminders", DUE).acted == 1
            assert sweep("staff_reminders", DUE).acted == 0
        assert [event.text for event in events(complaint, ComplaintEvent.Kind.REMINDER)] == [
            "Risposta dovuta oggi"
        ]
        assert [message.subject for message in staff_alerts(complaint.code)] == [
            f"{complaint.code}: Risposta dovuta oggi"
        ]

    @pytest.mark.parametrize(
        "order",
        [("overdue", "staff_reminders"), ("staff_reminders", "overdue")],
        ids=["overdue-first", "reminders-first"],
    )
    def test_no_reminder_follows_the_overdue_alert(
        self, officer, supervisors, django_capture_on_commit_callbacks, order
    ):
        """Time travel (`run_deadlines --now`, which runs the sweeps in name order) or downtime past the due
        day: the overdue alert goes out, and no "due today" after it, whichever sweep runs first."""
        complaint = file(assignee=officer)
        with django_capture_on_commit_callbacks(execute=True):
            sweep("staff_reminders", add_days(DUE, -5))
            for name in order:
                sweep(name, add_days(DUE, 3))
            for name in order:  # the next ticks
                sweep(name, add_days(DUE, 4))
        subjects = [message.subject for message in staff_alerts(complaint.code)]
        assert subjects == [
            f"{complaint.code}: Risposta dovuta entro 5 giorni",
            f"{complaint.code}: termine di risposta scaduto il 01/04/2026",
        ]
        assert [event.text for event in events(complaint, ComplaintEvent.Kind.REMINDER)] == [
            "Risposta dovuta entro 5 giorni"
        ]

    def test_make_run_s_alerts_link_to_the_port_it_serves(
        self, officer, settings, django_capture_on_commit_callbacks
    ):
        settings.PORTAL_BASE_URL = "http://127.0.0.1:8123"
        complaint = file(assignee=officer)
        with django_capture_on_commit_callbacks(execute=True):
            sweep("staff_reminders", add_days(DUE, -5))
        [alert] = staff_alerts(complaint.code)
        assert f"http://127.0.0.1:8123/admin/complaints/complaint/{complaint.pk}/change/" in alert.body

    def test_an_answered_case_is_not_reminded(self, officer):
        complaint = file(assignee=officer)
        complaint.reply_complaint = complaint.reply_checks = "Testo."
        complaint.reply_conclusions = complaint.reply_rights = "Testo."
        complaint.save(update_fields=["reply_complaint", "reply_checks", "reply_conclusions", "reply_rights"])
        services.send_reply(complaint=complaint, answered_on=add_days(RECEIVED, 10), by=officer)
        assert sweep("staff_reminders", add_days(DUE, -5)).acted == 0
        assert sweep("staff_reminders", DUE).acted == 0
        assert events(complaint, ComplaintEvent.Kind.REMINDER) == []


class TestOverdue:
    def test_it_is_marked_once_the_day_after_the_answer_by_date_and_supervisors_are_told(
        self, officer, supervisors, django_capture_on_commit_callbacks
    ):
        complaint = file(assignee=officer)
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep("overdue", DUE).acted == 0
            assert sweep("overdue", add_days(DUE, 1)).acted == 1
            assert sweep("overdue", add_days(DUE, 1)).acted == 0
            assert sweep("overdue", add_days(DUE, 2)).acted == 0
        complaint.refresh_from_db()
        assert complaint.overdue
        assert len(events(complaint, ComplaintEvent.Kind.OVERDUE)) == 1
        [alert] = staff_alerts(complaint.code)
        assert "termine di risposta scaduto il 01/04/2026" in alert.subject
        # Overdue goes to the supervisors even when someone has the case.
        assert sorted(alert.to) == sorted(person.email for person in supervisors)

    def test_a_sweep_that_was_down_catches_up_and_counts_it_as_late(self):
        complaint = file()
        run = sweep("overdue", add_days(DUE, 8))
        assert (run.acted, run.acted_late) == (1, 1)
        complaint.refresh_from_db()
        assert complaint.overdue

    @pytest.mark.django_db(transaction=True)
    def test_two_sweeps_at_once_mark_each_case_once(self):
        complaints = [file() for _ in range(6)]
        barrier = threading.Barrier(2)
        runs = []

        def run():
            barrier.wait()
            try:
                runs.append(sweep("overdue", add_days(DUE, 1)))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sum(run.acted for run in runs) == 6
        assert ComplaintEvent.objects.filter(kind=ComplaintEvent.Kind.OVERDUE).count() == 6
        assert Complaint.objects.filter(pk__in=[c.pk for c in complaints], overdue=True).count() == 6


class TestConciliationNotice:
    def test_the_customer_is_told_once_40_days_after_sending_without_a_reply(self):
        complaint = file()
        available_on = date(2026, 4, 11)
        assert sweep("conciliation", add_days(available_on, -1)).acted == 0
        assert sweep("conciliation", available_on).acted == 1
        assert sweep("conciliation", add_days(available_on, 1)).acted == 0
        complaint.refresh_from_db()
        assert complaint.conciliation_notified_on == available_on
        assert len(events(complaint, ComplaintEvent.Kind.CONCILIATION)) == 1
        [notice] = Communication.objects.filter(template_key="complaint_conciliation")
        assert notice.customer == complaint.customer
        assert services.conciliation_available(complaint, today=available_on)

    @pytest.mark.parametrize(
        ("line", "body", "not_named"),
        [(None, "ARERA", "Conciliaweb"), (mobile_line, "Conciliaweb", "ARERA")],
        ids=["electricity", "mobile"],
    )
    def test_the_notice_names_the_conciliation_body_of_the_supply(self, line, body, not_named):
        file(line=line)
        sweep("conciliation", date(2026, 4, 11))
        [notice] = Communication.objects.filter(template_key="complaint_conciliation")
        assert body in notice.body_text and not_named not in notice.body_text

    def test_a_case_answered_within_40_days_gets_no_notice(self):
        complaint = file()
        complaint.reply_complaint = complaint.reply_checks = "Testo."
        complaint.reply_conclusions = complaint.reply_rights = "Testo."
        complaint.save(update_fields=["reply_complaint", "reply_checks", "reply_conclusions", "reply_rights"])
        services.send_reply(complaint=complaint, answered_on=add_days(RECEIVED, 39), by=None)
        assert sweep("conciliation", add_days(RECEIVED, 40)).acted == 0
        assert not Communication.objects.filter(template_key="complaint_conciliation").exists()
