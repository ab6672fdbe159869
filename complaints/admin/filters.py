"""The list's filters: by the answer-by date, by who has the case."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from complaints import selectors
from complaints.admin.common import person
from portal.lib import dates


class DeadlineFilter(admin.SimpleListFilter):
    title = _("termine di risposta")
    parameter_name = "termine"
    OVERDUE, DUE_SOON, ANSWERED_LATE = "scaduto", "entro-5-giorni", "risposto-in-ritardo"

    def lookups(self, request, model_admin):
        return [
            (self.OVERDUE, _("Scaduto, senza risposta")),
            (self.DUE_SOON, _("Scade entro 5 giorni")),
            (self.ANSWERED_LATE, _("Risposto oltre il termine")),
        ]

    def queryset(self, request, queryset):
        if self.value() == self.OVERDUE:
            return selectors.overdue(queryset, today=dates.today())
        if self.value() == self.DUE_SOON:
            return selectors.due_soon(queryset, today=dates.today())
        if self.value() == self.ANSWERED_LATE:
            return selectors.answered_late(queryset)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assegnato a")
    parameter_name = "assegnato"
    ME, NOBODY = "me", "nessuno"

    def lookups(self, request, model_admin):
        people = [(str(user.pk), person(user)) for user in selectors.complaint_staff()]
        return [(self.ME, _("A me")), (self.NOBODY, _("Non assegnati")), *people]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ME:
            return queryset.filter(assignee=request.user)
        if value == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset
