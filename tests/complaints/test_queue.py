"""The complaint queue as officers open it: open cases by deadline, an officer's own by default (a supervisor
sees the team's), a default that can be cleared, and cases assigned or reassigned in bulk."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, ComplaintEvent
from portal import roles
from portal.lib import dates
from portal.lib.dates import add_days
from tests.complaints.test_staff import SECTIONS, file, staff, today
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:complaints_complaint_changelist")


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


def answered(to):
    complaint = case(days_ago=20, to=to)
    complaint.__dict__.update(SECTIONS)
    complaint.save(update_fields=list(SECTIONS))
    return services.send_reply(complaint=complaint, answered_on=today(), by=to)


def listed(client, query=""):
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return [complaint.code for complaint in response.context["cl"].result_list]


@pytest.fixture
def cases(officer, colleague):
    """The officer's two open cases (the later-received one due first), a colleague's, an unassigned one, and
    one the officer already answered."""
    return {
        "mine_later": case(days_ago=2, to=officer),
        "mine_sooner": case(days_ago=20, to=officer),
        "colleague": case(days_ago=10, to=colleague),
        "nobody": case(days_ago=5),
        "answered": answered(officer),
    }


class TestDefaultView:
    def test_an_officer_opens_on_their_own_open_cases_nearest_deadline_first(self, client, officer, cases):
        client.force_login(officer)
        response = client.get(CHANGELIST)
        assert response.status_code == 302
        assert parse_qs(urlsplit(response.url).query) == {"stato": ["aperti"], "assegnato": ["me"]}
        assert listed(client, "?" + urlsplit(response.url).query) == [
            cases["mine_sooner"].code,
            cases["mine_later"].code,
        ]

    def test_a_supervisor_opens_on_the_teams_open_cases(self, client, supervisor, cases):
        client.force_login(supervisor)
        response = client.get(CHANGELIST, follow=True)
        assert [c.code for c in response.context["cl"].result_list] == [
            cases[name].code for name in ("mine_sooner", "colleague", "nobody", "mine_later")
        ]
        assert [c.answer_due_on for c in response.context["cl"].result_list] == sorted(
            c.answer_due_on for c in response.context["cl"].result_list
        )

    def test_choosing_all_clears_each_default(self, client, officer, cases):
        client.force_login(officer)
        team = listed(client, "?stato=aperti&assegnato=tutti")
        assert cases["colleague"].code in team and cases["nobody"].code in team
        assert cases["answered"].code not in team
        assert cases["answered"].code in listed(client, "?stato=tutti&assegnato=me")

    def test_the_filters_offer_all_as_a_choice_of_its_own(self, client, officer, cases):
        client.force_login(officer)
        response = client.get(CHANGELIST + "?stato=aperti&assegnato=me")
        choices = {
            spec.parameter_name: list(spec.choices(response.context["cl"]))
            for spec in response.context["cl"].filter_specs
            if hasattr(spec, "parameter_name")
        }
        everyone = next(c for c in choices["assegnato"] if c["display"] == "Tutti")
        assert not everyone["selected"]
        assert parse_qs(everyone["query_string"].lstrip("?"))["assegnato"] == ["tutti"]
        assert [c["display"] for c in choices["assegnato"] if c["selected"]] == ["A me"]

    def test_clearing_every_filter_shows_every_case(self, client, officer, cases):
        client.force_login(officer)
        response = client.get(CHANGELIST + "?stato=aperti&assegnato=me")
        assert set(listed(client, response.context["cl"].clear_all_filters_qs)) == {
            complaint.code for complaint in cases.values()
        }

    def test_a_link_with_filters_of_its_own_is_shown_as_it_is(self, client, officer, cases):
        client.force_login(officer)
        # e.g. the dashboard's figures of the whole team: no "mine" added on top.
        open_cases = {cases[name].code for name in ("mine_sooner", "mine_later", "colleague", "nobody")}
        assert set(listed(client, "?stato=aperti")) == open_cases
        assert set(listed(client, "?assegnato=nessuno")) == {cases["nobody"].code}

    def test_due_today_filter(self, client, officer, monkeypatch, cases):
        client.force_login(officer)
        monkeypatch.setattr(dates, "today", lambda: cases["colleague"].answer_due_on)
        assert listed(client, "?termine=oggi") == [cases["colleague"].code]


class TestBulkAssignment:
    def post(self, client, cases, query="", **data):
        return client.post(
            CHANGELIST + query,
            {"action": "assign_to", "_selected_action": [c.pk for c in cases], **data},
        )

    def test_a_supervisor_reassigns_an_officers_cases_to_a_colleague(
        self, client, supervisor, officer, colleague, cases
    ):
        client.force_login(supervisor)
        chosen = [cases["mine_sooner"], cases["nobody"]]
        confirm = self.post(client, chosen, "?stato=aperti")
        page = confirm.content.decode()
        assert confirm.status_code == 200 and "2 casi selezionati" in page
        assert "assegnato a Mario Rossi" in page and "non assegnato" in page  # who holds each case now

        done = self.post(client, chosen, "?stato=aperti", apply="1", assignee=colleague.pk)
        assert done.status_code == 302
        for complaint in chosen:
            complaint.refresh_from_db()
            assert complaint.assignee == colleague
            assert complaint.status == Complaint.Status.IN_PROGRESS
            event = complaint.events.filter(kind=ComplaintEvent.Kind.ASSIGNED).last()
            assert event.actor == supervisor and event.text == str(colleague) and event.internal
            assert LogEntry.objects.filter(
                object_id=str(complaint.pk), action_flag=CHANGE, user=supervisor
            ).exists()
        cases["mine_later"].refresh_from_db()
        assert cases["mine_later"].assignee == officer  # not selected: left alone

    def test_an_answered_case_in_the_selection_is_named_and_left_alone(
        self, client, supervisor, colleague, cases
    ):
        client.force_login(supervisor)
        response = self.post(
            client,
            [cases["answered"], cases["nobody"]],
            "?stato=tutti",
            apply="1",
            assignee=colleague.pk,
        )
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert any(m.startswith(cases["answered"].code) for m in messages)
        assert any("1 caso assegnato" in m for m in messages)
        cases["answered"].refresh_from_db()
        cases["nobody"].refresh_from_db()
        assert cases["answered"].assignee != colleague and cases["nobody"].assignee == colleague

    def test_only_complaint_staff_can_be_chosen(self, client, supervisor, cases):
        client.force_login(supervisor)
        billing = staff("bollette@optima.example", roles.BILLING_OFFICER)
        response = self.post(client, [cases["nobody"]], apply="1", assignee=billing.pk)
        assert response.status_code == 200 and "assignee" in response.context["form"].errors
        cases["nobody"].refresh_from_db()
        assert cases["nobody"].assignee is None

    def test_a_billing_officer_is_not_offered_the_action(self, client, cases):
        client.force_login(staff("bollette@optima.example", roles.BILLING_OFFICER))
        response = client.get(CHANGELIST + "?stato=aperti")
        actions = {name for name, _label in response.context["action_form"].fields["action"].choices}
        assert "assign_to" not in actions and "assign_to_me" not in actions
