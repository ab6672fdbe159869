"""The list's filters: by the answer-by date, by where the case stands, by who has the case.

The queue opens on a default view (ComplaintAdmin.changelist_view: open cases, an officer's own): "Tutti"
is therefore a value of its own here, so that choosing it shows every case instead of the default again.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from complaints import selectors
from complaints.admin.common import person
from complaints.models import Complaint
from portal.lib import dates


class DeadlineFilter(admin.SimpleListFilter):
    title = _("termine di risposta")
    parameter_name = "termine"
    OVERDUE, DUE_TODAY, DUE_SOON, ANSWERED_LATE = "scaduto", "oggi", "entro-5-giorni", "risposto-in-ritardo"

    def lookups(self, request, model_admin):
        return [
            (self.OVERDUE, _("Scaduto, senza risposta")),
            (self.DUE_TODAY, _("Scade oggi")),
            (self.DUE_SOON, _("Scade entro 5 giorni")),
            (self.ANSWERED_LATE, _("Risposto oltre il termine")),
        ]

    def queryset(self, request, queryset):
        if self.value() == self.OVERDUE:
            return selectors.overdue(queryset, today=dates.today())
        if self.value() == self.DUE_TODAY:
            return selectors.due_today(queryset, today=dates.today())
        if self.value() == self.DUE_SOON:
            return selectors.due_soon(queryset, today=dates.today())
        if self.value() == self.ANSWERED_LATE:
            return selectors.answered_late(queryset)
        return queryset


def _with_explicit_all(list_filter, changelist):
    """The filter's choices, with "Tutti" as the value ALL rather than no value (see the module's doc)."""
    yield {
        "selected": list_filter.value() in (None, list_filter.ALL),
        "query_string": changelist.get_query_string({list_filter.parameter_name: list_filter.ALL}),
        "display": _("Tutti"),
    }
    for lookup, title in list_filter.lookup_choices:
        yield {
            "selected": list_filter.value() == lookup,
            "query_string": changelist.get_query_string({list_filter.parameter_name: lookup}),
            "display": title,
        }


class StatusFilter(admin.SimpleListFilter):
    title = _("stato")
    parameter_name = "stato"
    OPEN, ALL = "aperti", "tutti"

    def lookups(self, request, model_admin):
        return [(self.OPEN, _("Aperti")), *Complaint.Status.choices]

    def choices(self, changelist):
        return _with_explicit_all(self, changelist)

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.OPEN:
            return selectors.open_cases(queryset)
        if value == Complaint.Status.WAITING_CUSTOMER:
            return selectors.waiting_for_customer(queryset)
        if value in Complaint.Status.values:
            return queryset.filter(status=value)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assegnato a")
    parameter_name = "assegnato"
    ME, NOBODY, ALL = "me", "nessuno", "tutti"

    def lookups(self, request, model_admin):
        people = [(str(user.pk), person(user)) for user in selectors.complaint_staff()]
        return [(self.ME, _("A me")), (self.NOBODY, _("Non assegnati")), *people]

    def choices(self, changelist):
        return _with_explicit_all(self, changelist)

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ME:
            return queryset.filter(assignee=request.user)
        if value == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset
