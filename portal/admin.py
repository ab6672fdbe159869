from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import deadlines
from portal.admin_display import days_left_badge
from portal.lib import dates
from portal.lib.dates import add_days
from portal.models import SweepFailure, SweepRun, WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["seen_at", "hostname"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RunOutcomeFilter(admin.SimpleListFilter):
    title = _("esito")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("late", _("con azioni in ritardo")), ("failed", _("con errori"))]

    def queryset(self, request, queryset):
        if self.value() == "late":
            return queryset.filter(acted_late__gt=0)
        if self.value() == "failed":
            return queryset.filter(Q(failed__gt=0) | ~Q(error=""))
        return queryset


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    """Every run of every deadline sweep, with an overview of what is pending on top."""

    list_display = ["sweep", "as_of", "started_at", "duration", "acted", "acted_late", "failed", "error"]
    list_filter = ["sweep", RunOutcomeFilter]
    date_hierarchy = "started_at"
    change_list_template = "admin/portal/sweeprun/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("durata"))
    def duration(self, run):
        if run.finished_at is None:
            return _("in corso")
        return f"{(run.finished_at - run.started_at).total_seconds():.2f} s"

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "deadline_overview": deadline_overview()}
        return super().changelist_view(request, extra_context)


@admin.register(SweepFailure)
class SweepFailureAdmin(admin.ModelAdmin):
    list_display = ["created_at", "sweep", "object_type", "object_pk", "object_repr", "error", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "sweep"]
    search_fields = ["object_repr", "object_pk", "error"]
    readonly_fields = [f.name for f in SweepFailure._meta.fields]
    actions = ["mark_resolved"]

    def has_add_permission(self, request):
        return False

    # Whoever fixed the cause marks it: supervisors see the failures but do not change them.
    @admin.action(description=_("Segna come risolti"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=request.user
        )
        self.message_user(request, _("%(n)d errori segnati come risolti.") % {"n": count})


def deadline_overview():
    """Per sweep: rows pending, already due, due within 7 days, the next due date and the last run."""
    today = dates.today()
    rows = []
    for clock in deadlines.clock_statuses():
        sweep = clock.sweep
        pending = sweep.pending()
        next_due = pending.order_by(sweep.due_field).values_list(sweep.due_field, flat=True).first()
        rows.append(
            {
                "sweep": sweep,
                "clock": clock,  # the same verdict as /healthz
                "pending": pending.count(),
                "due": sweep.due(today).count(),
                "due_within_week": sweep.due(add_days(today, 7)).count(),
                "next_due": next_due,
                "next_due_badge": days_left_badge(next_due, today),
                "last_run": SweepRun.objects.filter(sweep=sweep.name).first(),
                "open_failures": SweepFailure.objects.filter(
                    sweep=sweep.name, resolved_at__isnull=True
                ).count(),
            }
        )
    return rows
