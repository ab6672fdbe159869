"""/admin/cruscotto/: the figures of portal.dashboard, each a link to the admin list that shows exactly its
rows (the list's own filters, whose values are named here once). A section shows only when the user may open
the list it links to."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from billing.models import EInvoice
from complaints.admin.common import person
from complaints.admin.filters import AssigneeFilter, DeadlineFilter, StatusFilter
from complaints.models import Complaint
from portal import dashboard
from portal.lib import dates
from portal.models import SweepFailure, SweepRun
from portal.notifications.admin import LetterStageFilter
from portal.notifications.models import LetterToPost

# The complaint columns: the figure's name in portal.dashboard, its heading, the list filter that shows it.
COMPLAINT_COLUMNS = [
    ("due_today", _("Scadono oggi"), {DeadlineFilter.parameter_name: DeadlineFilter.DUE_TODAY}),
    # As the list's filter says it (complaints.selectors.DUE_SOON_DAYS).
    ("due_soon", _("Scadono entro 5 giorni"), {DeadlineFilter.parameter_name: DeadlineFilter.DUE_SOON}),
    ("overdue", _("Scaduti, senza risposta"), {DeadlineFilter.parameter_name: DeadlineFilter.OVERDUE}),
    (
        "waiting_customer",
        _("In attesa del cliente"),
        {StatusFilter.parameter_name: Complaint.Status.WAITING_CUSTOMER},
    ),
]
LINKED_MODELS = [Complaint, LetterToPost, EInvoice, SweepRun, SweepFailure]


def changelist_url(model, **params) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def dashboard_view(request):
    may_view = {
        model: admin.site.get_model_admin(model).has_view_permission(request) for model in LINKED_MODELS
    }
    if not any(may_view.values()):
        raise PermissionDenied
    today = dates.today()
    figures = dashboard.dashboard(today=today)
    rows = [
        {
            "name": person(workload.assignee) if workload.assignee else _("Non assegnati"),
            "cells": _complaint_cells(
                workload.counts,
                {
                    AssigneeFilter.parameter_name: (
                        str(workload.assignee.pk) if workload.assignee else AssigneeFilter.NOBODY
                    )
                },
            ),
        }
        for workload in figures.workloads
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Cruscotto delle scadenze"),
        "today": today,
        "complaints": may_view[Complaint],
        "columns": [label for _name, label, _params in COMPLAINT_COLUMNS],
        "rows": rows,
        "team": _complaint_cells(figures.team, {}),
        "letters": may_view[LetterToPost]
        and {
            "count": figures.letters_to_post,
            "url": changelist_url(
                LetterToPost, **{LetterStageFilter.parameter_name: LetterStageFilter.TO_POST}
            ),
        },
        "einvoices": may_view[EInvoice]
        and {"count": figures.rejected_einvoices, "url": changelist_url(EInvoice, sdi="scartate")},
        "sweeps": may_view[SweepRun] and {"stopped": figures.sweeps_stopped, "url": changelist_url(SweepRun)},
        "failures": may_view[SweepFailure]
        and {
            "count": figures.sweep_failures_open,
            "url": changelist_url(SweepFailure, resolved_at__isempty=1),
        },
    }
    return TemplateResponse(request, "admin/portal/dashboard.html", context)


def _complaint_cells(counts: dict[str, int], holder: dict[str, str]) -> list[dict]:
    return [
        {"name": name, "count": counts[name], "url": changelist_url(Complaint, **holder, **params)}
        for name, _label, params in COMPLAINT_COLUMNS
    ]
