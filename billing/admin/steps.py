"""Suspension steps: every step for default, as a record. Steps after a notice are recorded from the notice
(billing/admin/notice_pages.py); "add" here records a step taken WITHOUT a notice."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing.admin.common import AddedThroughServiceMixin, RecordViews, euro
from billing.admin.forms import StandaloneSuspensionStepForm
from billing.dunning import steps
from billing.models import SuspensionStep
from portal.lib import dates
from portal.lib.formatting import day as _day


def step_report(step: SuspensionStep) -> str:
    """What staff read once a step is recorded: the step, and the automatic indemnity it carries."""
    if step.notice_id is None:
        message = _("%(step)s registrato senza costituzione in mora.") % {"step": step}
        indemnity = _("Indennizzo automatico di %(amount)s, senza corrispettivi.")
    else:
        message = _("%(step)s registrato.") % {"step": step}
        indemnity = _("Forzato: indennizzo automatico di %(amount)s, senza corrispettivi.")
    if step.indemnity_id:
        message += " " + indemnity % {"amount": euro(step.indemnity.amount)}
    return message


@admin.register(SuspensionStep)
class SuspensionStepAdmin(AddedThroughServiceMixin, RecordViews, admin.ModelAdmin):
    """Every step for default. "Add" records a step taken without a notice (a reduction or suspension that
    should not have happened: 30 € indemnity)."""

    list_display = [
        "requested",
        "kind",
        "service",
        "customer",
        "notice",
        "executed",
        "forced",
        "indemnity_eur",
        "fees_waived",
        "recorded_by",
    ]
    list_filter = ["kind", "fees_waived", ("notice", admin.EmptyFieldListFilter)]
    list_select_related = ["service__contract__customer", "notice", "indemnity", "recorded_by"]
    search_fields = [
        "service__pod",
        "service__pdr",
        "service__contract__number",
        "service__contract__customer__code",
    ]
    autocomplete_fields = ["service"]
    fields = [
        "notice",
        "service",
        "kind",
        "requested_on",
        "executed_on",
        "distributor_reference",
        "allowed_on",
        "override_reason",
        "indemnity",
        "fees_waived",
        "recorded_by",
        "recorded_at",
        "execution_recorded_by",
        "execution_recorded_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("richiesto il"), ordering="requested_on")
    def requested(self, step):
        return _day(step.requested_on)

    @admin.display(description=_("eseguito il"), ordering="executed_on")
    def executed(self, step):
        return _day(step.executed_on)

    @admin.display(description=_("cliente"))
    def customer(self, step):
        return step.service.contract.customer

    @admin.display(description=_("forzato"), boolean=True)
    def forced(self, step):
        return bool(step.override_reason)

    @admin.display(description=_("indennizzo"))
    def indemnity_eur(self, step):
        return euro(step.indemnity.amount) if step.indemnity_id else "—"

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StandaloneSuspensionStepForm(
            request.POST or None, initial={"requested_on": dates.today()}, admin_site=self.admin_site
        )
        step = self._submit(
            request, form, lambda data: steps.record_suspension_step(notice=None, by=request.user, **data)
        )
        if step is not None:
            message = step_report(step)
            self.log_addition(request, step, message)
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:billing_suspensionstep_changelist"))
        return self._record_page(
            request,
            form=form,
            title=_("Registra un intervento senza costituzione in mora"),
            intro=_(
                "Per gli interventi dopo una costituzione in mora usa la pagina della costituzione in mora. Una "
                "riduzione di potenza o una sospensione senza costituzione in mora dà diritto all'indennizzo "
                "automatico di 30 € e nessun corrispettivo (art. 6.5): indica il motivo."
            ),
        )
