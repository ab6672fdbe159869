"""Instalment plans (rateizzazioni): the requests to decide, each plan with its bills and instalments, and the
dated limits staff set. Approving and refusing go through billing.instalments; the record itself is never
edited."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing import instalments
from billing.admin.bill_items import BillItemInline
from billing.admin.common import RecordViews, euro, status_badge
from billing.admin.forms import RefuseInstalmentPlanForm
from billing.models import ZERO, Instalment, InstalmentPlan, InstalmentPlanItem, InstalmentPolicy, Payment
from portal.admin_display import ReadOnlyAdminMixin
from portal.lib import dates
from portal.lib.formatting import day as _day

# Colours keep a 4.5:1 contrast with white text (as portal.admin_display).
PLAN_COLOURS = {
    InstalmentPlan.Status.REQUESTED: "#0b4f8a",
    InstalmentPlan.Status.APPROVED: "#8a5300",
    InstalmentPlan.Status.REFUSED: "#5f5f5b",
    InstalmentPlan.Status.LAPSED: "#b42318",
    InstalmentPlan.Status.COMPLETED: "#1e6b34",
}


class InstalmentPlanItemInline(BillItemInline):
    model = InstalmentPlanItem
    fields = ["invoice", "due_on", "amount_eur", "outstanding_eur"]
    readonly_fields = fields

    @admin.display(description=_("importo rateizzato"))
    def amount_eur(self, item):
        return euro(item.amount)


class InstalmentPaymentForm(forms.Form):
    """What an instalment still needs, received: put on the plan's bills by billing.instalments."""

    received_on = forms.DateField(
        label=_("Incassato il"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    method = forms.ChoiceField(label=_("Modalità"), choices=Payment.Method.choices)
    transaction_id = forms.CharField(
        label=_("Identificativo dell'operazione"),
        # Each bill's payment keeps it as "<id>/<bill>", in the 64 characters of Payment.transaction_id.
        max_length=48,
        required=False,
        help_text=_("CRO/TRN del bonifico o numero del bollettino: un pagamento si registra una volta sola."),
    )

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        if received_on > dates.today():
            raise forms.ValidationError(_("La data dell'incasso non può essere nel futuro."))
        return received_on


class InstalmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Instalment
    fields = ["number", "due", "amount_eur", "check_day", "status", "settled", "left_to_pay"]
    readonly_fields = fields

    def get_formset(self, request, obj=None, **kwargs):
        # What each instalment still needs, from what the plan received: once for the page, not per row
        # (admin makes the inline anew for each request). Payments are recorded only while the plan runs,
        # by those who decide plans.
        self._progress = {row.instalment.pk: row for row in instalments.progress(obj)} if obj else {}
        self._may_pay = (
            obj is not None
            and obj.status == InstalmentPlan.Status.APPROVED
            and self.admin_site.get_model_admin(InstalmentPlan).has_change_permission(request)
        )
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=_("da pagare"))
    def left_to_pay(self, instalment):
        row = self._progress.get(instalment.pk)
        if row is None or row.left <= ZERO:
            return "—"
        if not self._may_pay:
            return euro(row.left)
        url = reverse("admin:billing_instalmentplan_payment", args=[instalment.plan_id, instalment.pk])
        return format_html(
            '{} <a class="button" style="white-space:nowrap" href="{}">{}</a>',
            euro(row.left),
            url,
            _("Registra pagamento"),
        )

    @admin.display(description=_("scadenza"))
    def due(self, instalment):
        return _day(instalment.due_on)

    @admin.display(description=_("importo"))
    def amount_eur(self, instalment):
        return euro(instalment.amount)

    @admin.display(description=_("verifica il"))
    def check_day(self, instalment):
        return _day(instalment.check_on)

    @admin.display(description=_("verificata il"))
    def settled(self, instalment):
        return _day(instalment.settled_on)


@admin.register(InstalmentPlan)
class InstalmentPlanAdmin(RecordViews, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Requests to approve or refuse (with a reason for the customer); then the plan's record."""

    list_display = ["plan_reference", "customer", "status_badge", "total_eur", "instalment_count", "requested"]
    list_filter = ["status"]
    list_select_related = ["customer"]
    search_fields = ["customer__code", "customer__last_name", "customer__company_name"]
    inlines = [InstalmentPlanItemInline, InstalmentInline]
    fields = [
        "customer",
        "status",
        "total_eur",
        "instalment_count",
        "requested_at",
        ("decided_at", "decided_by"),
        "refusal_reason",
        "ended_on",
    ]
    readonly_fields = [
        "customer",
        "status",
        "total_eur",
        "instalment_count",
        "requested_at",
        "decided_at",
        "decided_by",
        "refusal_reason",
        "ended_on",
    ]

    def has_change_permission(self, request, obj=None):
        # Without an object: may staff decide requests (the pages below). With one: the form is never editable.
        if obj is not None:
            return False
        return super(ReadOnlyAdminMixin, self).has_change_permission(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approva/", view(self.approve_view), name="billing_instalmentplan_approve"),
            path("<int:pk>/rifiuta/", view(self.refuse_view), name="billing_instalmentplan_refuse"),
            path(
                "<int:pk>/rata/<int:instalment_pk>/pagamento/",
                view(self.payment_view),
                name="billing_instalmentplan_payment",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = self.get_object(request, object_id)
        operations = []
        if (
            plan is not None
            and plan.status == InstalmentPlan.Status.REQUESTED
            and self.has_change_permission(request)
        ):
            operations = [
                (_("Approva"), reverse("admin:billing_instalmentplan_approve", args=[plan.pk])),
                (_("Rifiuta"), reverse("admin:billing_instalmentplan_refuse", args=[plan.pk])),
            ]
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "operations": operations}
        )

    # --- columns ------------------------------------------------------------------------------------------

    @admin.display(description=_("rateizzazione"), ordering="id")
    def plan_reference(self, plan):
        return plan.reference

    @admin.display(description=_("stato"), ordering="status")
    def status_badge(self, plan):
        return status_badge(PLAN_COLOURS[plan.status], plan.get_status_display())

    @admin.display(description=_("importo rateizzato"), ordering="total")
    def total_eur(self, plan):
        return euro(plan.total)

    @admin.display(description=_("richiesta il"), ordering="requested_at")
    def requested(self, plan):
        return _day(dates.rome_date(plan.requested_at))

    # --- the decision -------------------------------------------------------------------------------------

    def _plan(self, request, pk):
        self._require_change(request)
        return get_object_or_404(InstalmentPlan.objects.select_related("customer"), pk=pk)

    def _details(self, plan):
        return [
            (_("Cliente"), plan.customer),
            (_("Importo rateizzato"), euro(plan.total)),
            (_("Numero di rate"), plan.instalment_count),
            (_("Bollette"), ", ".join(item.invoice.number for item in plan.items.select_related("invoice"))),
            (_("Limiti in vigore"), self._limits(instalments.policy_on(dates.today()))),
        ]

    def _limits(self, policy):
        return _(
            "da %(low)d a %(high)d rate di almeno %(minimum)s; la prima %(first)d giorni dopo l'approvazione; "
            "tolleranza %(grace)d giorni (%(source)s)"
        ) % {
            "low": policy.min_instalments,
            "high": policy.max_instalments,
            "minimum": euro(policy.min_instalment),
            "first": policy.first_due_days,
            "grace": policy.grace_days,
            "source": policy.source,
        }

    def _done(self, request, plan, message):
        self.log_change(request, plan, str(message))
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_instalmentplan_change", args=[plan.pk]))

    def approve_view(self, request, pk):
        plan = self._plan(request, pk)
        form = forms.Form(
            request.POST if request.method == "POST" else None
        )  # nothing to fill in: a POST is valid
        approved = self._submit(
            request,
            form,
            lambda data: instalments.approve(plan=plan, today=dates.today(), by=request.user),
        )
        if approved is not None:
            return self._done(
                request,
                approved,
                _("Rateizzazione approvata: %(count)d rate, la prima entro il %(day)s.")
                % {"count": approved.instalment_count, "day": _day(approved.instalments.first().due_on)},
            )
        return self._record_page(
            request,
            form=form,
            obj=plan,
            details=self._details(plan),
            title=_("Approva la rateizzazione"),
            intro=_(
                "Le rate decorrono da oggi sull'importo ancora dovuto; le bollette escono dalla procedura di "
                "morosità finché il piano è rispettato. Il cliente riceve il piano delle rate."
            ),
            submit=_("Approva"),
        )

    def refuse_view(self, request, pk):
        plan = self._plan(request, pk)
        form = RefuseInstalmentPlanForm(request.POST or None)
        refused = self._submit(
            request,
            form,
            lambda data: instalments.refuse(
                plan=plan, reason=data["reason"], today=dates.today(), by=request.user
            ),
        )
        if refused is not None:
            return self._done(request, refused, _("Rateizzazione rifiutata: %(reason)s") % form.cleaned_data)
        return self._record_page(
            request,
            form=form,
            obj=plan,
            details=self._details(plan),
            title=_("Rifiuta la rateizzazione"),
            submit=_("Rifiuta"),
        )

    # --- the instalments' payments ------------------------------------------------------------------------

    def payment_view(self, request, pk, instalment_pk):
        """What an instalment still needs, received (a transfer, a postal slip): recorded on the plan's bills.
        Another amount is an ordinary payment (Pagamenti › Registra un pagamento)."""
        plan = self._plan(request, pk)
        instalment = get_object_or_404(plan.instalments, pk=instalment_pk)
        left = next(row.left for row in instalments.progress(plan) if row.instalment.pk == instalment.pk)
        form = InstalmentPaymentForm(request.POST or None, initial={"received_on": dates.today()})
        payments = self._submit(
            request,
            form,
            lambda data: instalments.record_instalment_payment(
                instalment=instalment,
                received_on=data["received_on"],
                method=data["method"],
                transaction_id=data["transaction_id"] or None,
                by=request.user,
            ),
        )
        if payments is not None:
            return self._done(
                request,
                plan,
                _("Pagamento della rata %(number)d registrato: %(payments)s.")
                % {
                    "number": instalment.number,
                    "payments": ", ".join(
                        f"{payment.invoice.number} {euro(payment.amount)}" for payment in payments
                    ),
                },
            )
        return self._record_page(
            request,
            form=form,
            obj=plan,
            details=[
                (_("Cliente"), plan.customer),
                (
                    _("Rata"),
                    _("n. %(number)d, scadenza %(day)s")
                    % {"number": instalment.number, "day": _day(instalment.due_on)},
                ),
                (_("Importo della rata"), euro(instalment.amount)),
                (_("Ancora da pagare"), euro(left)),
            ],
            title=_("Registra il pagamento della rata %(number)d") % {"number": instalment.number},
            intro=_(
                "Si registra quanto manca alla rata, sulle bollette della rateizzazione dalla più vecchia. "
                "Per un importo diverso registra un pagamento ordinario."
            ),
            submit=_("Registra il pagamento"),
        )


@admin.register(InstalmentPolicy)
class InstalmentPolicyAdmin(admin.ModelAdmin):
    """The limits of a plan from a day: a new row when they change (the old plans keep theirs)."""

    list_display = [
        "valid_from",
        "min_instalments",
        "max_instalments",
        "min_instalment",
        "first_due_days",
        "grace_days",
        "source",
    ]
    ordering = ["-valid_from"]
