"""One complaint, two doors: filed by the customer online or registered by staff, the same rules apply.

The customer files from the Area Clienti (supply chosen from their own) or, when the supply cannot be
identified, from the public form; staff register the same complaint, received by e-mail the same day, from
the admin's add page. Both go through `services.file_complaint`, so the case code, the answer-by date, the
reclassification of a complaint without an identified supply (or about a communications service: AGCOM's)
and the queued acknowledgement must agree.
"""

import re
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from complaints import tasks
from complaints.models import Complaint
from portal import roles
from portal.lib import dates
from portal.lib.dates import add_days, rome_date
from tests.complaints.lines import fibre_line
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db

DESCRIPTION = "La bolletta di gennaio riporta consumi che non ho fatto."
UNKNOWN_VAT = "07469040633"  # a valid partita IVA that is nobody's here
UNKNOWN_POD = "IT001E99999999"


@dataclass(frozen=True)
class Case:
    kind: str
    supply: str | None  # the kind of the customer's supply it is about; None: the supply is not identified
    # What both doors must give.
    filed_as: str
    answer_days: int


CASES = {
    "complaint about electricity": Case("complaint", "electricity", "complaint", 30),
    "rectification of an electricity bill": Case(
        "billing_rectification", "electricity", "billing_rectification", 60
    ),
    "complaint about a fibre line": Case("complaint", "fibre", "telecom_complaint", 30),
    "complaint, supply not identified": Case("complaint", None, "information_request", 30),
    "rectification, supply not identified": Case("billing_rectification", None, "billing_rectification", 60),
}


@pytest.fixture
def day(monkeypatch, settings, tmp_path):
    """A recent day (staff cannot register a complaint received in the future) as the portal's today."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # the public form's rate limit
    received = add_days(rome_date(timezone.now()), -2)
    monkeypatch.setattr(dates, "today", lambda: received)
    return received


@pytest.fixture
def queued(monkeypatch):
    """The cases whose acknowledgement was handed to the worker."""
    cases = []
    monkeypatch.setattr(tasks.send_acknowledgement, "delay", lambda pk: cases.append(pk))
    return cases


def token_of(response) -> str:
    return re.search(r'name="submission_token" value="([^"]+)"', response.content.decode())[1]


def file_online(client, case: Case, customer, service):
    if case.supply:
        client.force_login(customer.user)
        page = reverse("complaints:new")
        data = {"supply": f"service:{service.pk}", "reply_address": ""}
    else:
        page = reverse("complaints:public_new")
        data = {
            "sender_name": "Carla Esposito",
            "tax_id": UNKNOWN_VAT,
            "supply_reference": UNKNOWN_POD,
            "email": "carla.esposito@example.org",
            "reply_address": "Via Chiaia 10, 80121 Napoli (NA)",
            "website": "",
        }
    data |= {"kind": case.kind, "topic": "fatturazione", "description": DESCRIPTION}
    response = client.post(page, {**data, "submission_token": token_of(client.get(page))})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Complaint.objects.exclude(channel=Complaint.Channel.EMAIL).get()


def register_in_admin(case: Case, customer, service, *, received: date):
    officer = UserFactory(email="reclami@optima.example", is_staff=True)
    officer.groups.add(roles.sync_roles()[roles.COMPLAINTS_OFFICER])
    staff = Client()
    staff.force_login(officer)
    data = {
        "channel": "email",
        "received_on": received.isoformat(),
        "sent_on": "",
        "invoice": "",
        "sender_tax_id": "",
        "supply_reference": "",
        "kind": case.kind,
        "topic": "fatturazione",
        "description": DESCRIPTION,
    }
    if case.supply:
        data |= {"customer": customer.pk, "contract": service.contract_id, "service": service.pk}
        data |= {"sender_name": "", "sender_email": "", "reply_address": ""}
    else:
        data |= {"customer": "", "contract": "", "service": ""}
        data |= {
            "sender_name": "Carla Esposito",
            "sender_email": "carla.esposito@example.org",
            "reply_address": "Via Chiaia 10, 80121 Napoli (NA)",
        }
    response = staff.post(reverse("admin:complaints_complaint_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Complaint.objects.get(channel=Complaint.Channel.EMAIL)


def outcome(complaint: Complaint, queued: list[int]) -> dict:
    return {
        "code": re.sub(r"\d{6}$", "NNNNNN", complaint.code),
        "kind": complaint.kind,
        "received_on": complaint.received_on,
        "answer_due_on": complaint.answer_due_on,
        "acknowledgement_queued": queued.count(complaint.pk) == 1,
    }


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_complaint_filed_online_and_registered_by_staff_follows_the_same_rules(
    client, alice, case, day, queued, django_capture_on_commit_callbacks
):
    contract = active_contract(alice, activated_on=date(2025, 6, 1))
    service = contract.services.get()
    if case.supply == "fibre":
        service = fibre_line(contract)
    with django_capture_on_commit_callbacks(execute=True):
        online = file_online(client, case, alice, service)
        registered = register_in_admin(case, alice, service, received=day)

    expected = {
        "code": f"R-{day.year}-NNNNNN",
        "kind": case.filed_as,
        "received_on": day,
        "answer_due_on": add_days(day, case.answer_days),
        "acknowledgement_queued": True,
    }
    assert outcome(online, queued) == outcome(registered, queued) == expected
    assert (online.customer, registered.customer) == ((alice, alice) if case.supply else (None, None))
