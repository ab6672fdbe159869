"""Supervisors see the clocks: the deadline sweeps' runs and failures, and the dashboard per officer and for
the team, each number a link to the admin list that shows exactly that many rows."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services
from portal import dashboard, deadlines, roles
from portal.lib import dates
from portal.lib.dates import add_days
from portal.models import SweepFailure, SweepRun
from portal.notifications.models import Delivery
from portal.notifications.services import notify
from tests.billing.test_einvoice_screens import business, issue, notification, sent
from tests.complaints.test_staff import SECTIONS, file, staff, today
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("staff_dashboard")
FIGURES = ["due_today", "due_soon", "overdue", "waiting_customer"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def officer():
    return staff("reclami@optima.example", roles.COMPLAINTS_OFFICER)


@pytest.fixture
def colleague():
    return staff("reclami2@optima.example", roles.COMPLAINTS_OFFICER)


@pytest.fixture
def supervisor():
    return staff("supervisore@optima.example", roles.SUPERVISOR)


def case(*, days_ago, to=None):
    complaint = file(active_contract(), received_on=add_days(today(), -days_ago))
    if to is not None:
        services.assign(complaint=complaint, to=to, by=to)
    return complaint


@pytest.fixture
def cases(officer, colleague):
    """Three cases due the same day D (one the colleague is waiting on the customer for), one due two days
    later, one nobody holds that is a week older, and one answered, which counts nowhere."""
    first = case(days_ago=3, to=officer)
    cases = {
        "first": first,
        "later": case(days_ago=1, to=officer),
        "colleague": case(days_ago=3, to=colleague),
        "nobody": case(days_ago=10),
        "answered": case(days_ago=3, to=officer),
    }
    services.ask_customer(
        complaint=cases["colleague"], text="Ci manda la lettura del contatore?", by=colleague
    )
    cases["answered"].__dict__.update(SECTIONS)
    cases["answered"].save(update_fields=list(SECTIONS))
    services.send_reply(complaint=cases["answered"], answered_on=today(), by=officer)
    assert cases["later"].answer_due_on == add_days(first.answer_due_on, 2)
    assert cases["nobody"].answer_due_on == add_days(first.answer_due_on, -7)
    return cases


def figures_of(workloads, team):
    by_person = {(w.assignee.email if w.assignee else None): w.counts for w in workloads}
    return by_person, team


def counts(*values):
    return dict(zip(FIGURES, values, strict=True))


# ---------------------------------------------------------------------------------------------------------
# The sweeps' runs and failures
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def failed_run():
    now = timezone.now()
    run = SweepRun.objects.create(
        sweep="complaints.overdue", as_of=now, started_at=now, finished_at=now, acted=3, failed=1
    )
    SweepFailure.objects.create(
        run=run,
        sweep=run.sweep,
        object_type="complaints.complaint",
        object_pk="7",
        object_repr="R-2026-000007",
        error="OperationalError: server closed the connection",
    )
    return run


class TestSweepsForSupervisors:
    def test_a_supervisor_sees_the_runs_and_the_failures(self, client, supervisor, failed_run):
        client.force_login(supervisor)
        runs = client.get(reverse("admin:portal_sweeprun_changelist"))
        assert runs.status_code == 200
        assert "complaints.overdue" in runs.content.decode()
        assert "Scadenze legali: situazione attuale" in runs.content.decode()  # the clock overview
        failures = client.get(reverse("admin:portal_sweepfailure_changelist"), {"resolved_at__isempty": "1"})
        assert failures.status_code == 200 and "server closed the connection" in failures.content.decode()
        page = client.get(reverse("admin:portal_sweepfailure_change", args=[failed_run.failures.get().pk]))
        assert page.status_code == 200

    def test_a_supervisor_reads_the_failures_but_does_not_mark_them_resolved(
        self, client, supervisor, failed_run
    ):
        client.force_login(supervisor)
        changelist = reverse("admin:portal_sweepfailure_changelist")
        assert client.get(changelist).context["action_form"] is None  # no action offered
        failure = failed_run.failures.get()
        client.post(changelist, {"action": "mark_resolved", "_selected_action": [failure.pk]})
        failure.refresh_from_db()
        assert failure.resolved_at is None

    def test_officers_still_do_not_see_them(self, client, officer, failed_run):
        client.force_login(officer)
        assert client.get(reverse("admin:portal_sweeprun_changelist")).status_code == 403
        assert client.get(reverse("admin:portal_sweepfailure_changelist")).status_code == 403


# ---------------------------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------------------------


class TestFigures:
    def test_on_the_day_three_cases_are_due(self, cases, officer, colleague):
        day = cases["first"].answer_due_on
        by_person, team = figures_of(*dashboard.complaint_workloads(today=day))
        assert by_person[officer.email] == counts(1, 2, 0, 0)  # due today, within 5 days, overdue, waiting
        assert by_person[colleague.email] == counts(1, 1, 0, 1)
        assert by_person[None] == counts(0, 0, 1, 0)
        assert team == counts(2, 3, 1, 1)

    def test_the_next_day_they_are_overdue(self, cases, officer, colleague):
        day = add_days(cases["first"].answer_due_on, 1)
        by_person, team = figures_of(*dashboard.complaint_workloads(today=day))
        assert by_person[officer.email] == counts(0, 1, 1, 0)
        assert by_person[colleague.email] == counts(0, 0, 1, 1)
        assert team == counts(0, 1, 3, 1)

    def test_a_week_before_nothing_is_due_but_the_oldest_case(self, cases, officer):
        day = add_days(cases["first"].answer_due_on, -7)
        by_person, team = figures_of(*dashboard.complaint_workloads(today=day))
        assert by_person[officer.email] == counts(0, 0, 0, 0)
        assert by_person[None] == counts(1, 1, 0, 0)
        assert team == counts(1, 1, 0, 1)

    def test_someone_who_holds_cases_but_left_keeps_a_line(self, cases, colleague):
        colleague.is_active = False
        colleague.save(update_fields=["is_active"])
        day = cases["first"].answer_due_on
        by_person, _team = figures_of(*dashboard.complaint_workloads(today=day))
        assert by_person[colleague.email] == counts(1, 1, 0, 1)

    def test_everyone_who_can_be_given_cases_has_a_line_even_with_none(self, cases):
        idle = staff("reclami3@optima.example", roles.COMPLAINTS_OFFICER)
        by_person, _team = figures_of(*dashboard.complaint_workloads(today=today()))
        assert by_person[idle.email] == counts(0, 0, 0, 0)


# ---------------------------------------------------------------------------------------------------------
# The page and its links
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def letter():
    customer = active_contract().customer
    communication = notify(
        customer=customer,
        template_key="generic",
        context={"title": "Costituzione in mora", "message": "Testo"},
        channels=[Delivery.Channel.LETTER],
        dedupe_key="dashboard-letter-1",
        about=customer,
    )
    return communication.deliveries.get()


@pytest.fixture
def rejected_einvoice():
    return notification(sent(issue(business())), "NS")


def listed_count(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


class TestDashboardPage:
    def test_each_number_opens_a_list_of_exactly_that_many(
        self,
        client,
        supervisor,
        officer,
        colleague,
        cases,
        letter,
        rejected_einvoice,
        failed_run,
        monkeypatch,
    ):
        # The day three cases are due: the page and the lists it links to read the same clock.
        monkeypatch.setattr(dates, "today", lambda: cases["first"].answer_due_on)
        client.force_login(supervisor)
        page = client.get(DASHBOARD)
        assert page.status_code == 200
        context = page.context
        rows = {row["name"]: row["cells"] for row in context["rows"]}
        assert [cell["count"] for cell in context["team"]] == [2, 3, 1, 1]
        assert [cell["count"] for cell in rows["Non assegnati"]] == [0, 0, 1, 0]
        cells = [cell for row in context["rows"] for cell in row["cells"]] + context["team"]
        for cell in cells:
            assert listed_count(client, cell["url"]) == cell["count"], cell
        assert sum(cell["count"] for cell in cells) > 0

        assert context["letters"]["count"] == 1
        assert listed_count(client, context["letters"]["url"]) == 1
        assert context["einvoices"]["count"] == 1
        assert listed_count(client, context["einvoices"]["url"]) == 1
        assert context["failures"]["count"] == 1
        assert listed_count(client, context["failures"]["url"]) == 1
        assert client.get(context["sweeps"]["url"]).status_code == 200

    def test_the_numbers_are_links_on_the_page(self, client, supervisor, cases, letter):
        client.force_login(supervisor)
        html = client.get(DASHBOARD).content.decode()
        assert "Cruscotto delle scadenze" in html and "Tutta la squadra" in html
        assert 'href="/admin/notifications/lettertopost/?fase=da-spedire">1</a>' in html
        assert "/admin/complaints/complaint/?assegnato=nessuno&amp;termine=scaduto" in html

    def test_a_complaints_officer_sees_the_cases_but_not_the_sweeps(self, client, officer, cases):
        client.force_login(officer)
        context = client.get(DASHBOARD).context
        assert context["complaints"] and context["rows"]
        assert not context["sweeps"] and not context["failures"]

    def test_the_admin_index_links_to_it(self, client, officer):
        client.force_login(officer)
        assert DASHBOARD in client.get(reverse("admin:index")).content.decode()

    def test_it_is_for_staff_only(self, client):
        client.force_login(UserFactory(email="mario@example.it"))
        assert client.get(DASHBOARD).status_code == 302  # to the admin login
        client.force_login(UserFactory(email="nobody@optima.example", is_staff=True))
        assert client.get(DASHBOARD).status_code == 403

    def test_a_stopped_clock_is_counted(self, client, supervisor):
        client.force_login(supervisor)
        now = timezone.now()
        runs = [
            SweepRun.objects.create(sweep=sweep.name, as_of=now, started_at=now, finished_at=now)
            for sweep in deadlines.sweeps()
        ]
        assert client.get(DASHBOARD).context["sweeps"]["stopped"] == 0
        SweepRun.objects.filter(pk=runs[0].pk).update(finished_at=now - timedelta(days=3))
        assert client.get(DASHBOARD).context["sweeps"]["stopped"] == 1
