"""The back office's dashboard: where the legal clocks stand, per officer and for the team.

Per person who holds complaints (and for the cases nobody holds yet): due today, due within
`complaints.selectors.DUE_SOON_DAYS` days, overdue, waiting for the customer; for the team, also the letters
staff still have to post and the electronic invoices the SdI rejected; and whether every deadline sweep runs.
Each figure is counted by the very selector the linked admin list filters with, so a number and its list
always agree. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.utils import timezone

from billing.selectors import rejected_einvoices
from complaints import selectors as complaint_selectors
from complaints.models import Complaint
from portal import deadlines
from portal.models import SweepFailure
from portal.notifications.models import Delivery

# The complaint figures, in the dashboard's order: each a function of (all cases, today).
COMPLAINT_FIGURES = {
    "due_today": lambda cases, today: complaint_selectors.due_today(cases, today=today),
    "due_soon": lambda cases, today: complaint_selectors.due_soon(cases, today=today),
    "overdue": lambda cases, today: complaint_selectors.overdue(cases, today=today),
    "waiting_customer": lambda cases, today: complaint_selectors.waiting_for_customer(cases),
}


@dataclass
class Workload:
    """One line of the table: a person's cases (`assignee` None: the cases nobody holds)."""

    assignee: object | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPLAINT_FIGURES, 0))


@dataclass(frozen=True)
class Dashboard:
    workloads: list[Workload]  # officers (by name), then the unassigned cases
    team: dict[str, int]  # the complaint figures over every case: the sum of the lines
    letters_to_post: int
    rejected_einvoices: int
    sweeps_stopped: int  # deadline sweeps whose clock /healthz calls stopped
    sweep_failures_open: int  # rows a sweep could not act on, not marked resolved


def complaint_workloads(*, today: date) -> tuple[list[Workload], dict[str, int]]:
    """The complaint figures per person who can be given cases or holds some, then for the unassigned cases,
    and the team's totals. One grouped query per figure."""
    cases = Complaint.objects.all()
    by_assignee = {
        name: dict(figure(cases, today).order_by().values_list("assignee").annotate(n=Count("pk")))
        for name, figure in COMPLAINT_FIGURES.items()
    }
    holders = {pk for counts in by_assignee.values() for pk in counts if pk is not None}
    staff = list(complaint_selectors.complaint_staff())
    # Someone who holds cases but can no longer be given any (left, or changed role) still has a line.
    others = get_user_model().objects.filter(pk__in=holders - {user.pk for user in staff})
    people = [*staff, *others.order_by("first_name", "last_name", "email")]
    workloads = [Workload(person) for person in people] + [Workload(None)]
    for workload in workloads:
        key = workload.assignee.pk if workload.assignee is not None else None
        for name, counts in by_assignee.items():
            workload.counts[name] = counts.get(key, 0)
    team = {name: sum(counts.values()) for name, counts in by_assignee.items()}
    return workloads, team


def letters_to_post() -> QuerySet[Delivery]:
    return Delivery.objects.letters_to_post()


def open_sweep_failures() -> QuerySet[SweepFailure]:
    return SweepFailure.objects.filter(resolved_at__isnull=True)


def dashboard(*, today: date, now: datetime | None = None) -> Dashboard:
    workloads, team = complaint_workloads(today=today)
    return Dashboard(
        workloads=workloads,
        team=team,
        letters_to_post=letters_to_post().count(),
        rejected_einvoices=rejected_einvoices().count(),
        sweeps_stopped=sum(clock.stopped for clock in deadlines.clock_statuses(now=now or timezone.now())),
        sweep_failures_open=open_sweep_failures().count(),
    )
