"""Default notices (costituzioni in mora): the list by what staff have to do, the record of one notice with
the operations it allows now (billing/dunning/lifecycle.py), and sending in bulk. The pages behind each
operation, and the worklist, are billing/admin/notice_pages.py."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import instalments
from billing.admin.bill_items import BillItemInline
from billing.admin.common import euro, fieldset_names, status_badge
from billing.admin.notice_pages import NoticePages, held_label, operation_link
from billing.dunning import notices as dunning
from billing.dunning import selectors, steps
from billing.dunning.lifecycle import OPEN_STATUSES, Operation, condition, statuses
from billing.models import DefaultNotice, DefaultNoticeItem, Invoice, SuspensionStep
from portal.admin_display import ReadOnlyAdminMixin
from portal.admin_display import day_with_badge as _day_with_badge
from portal.lib.formatting import day as _day

# Colours keep a 4.5:1 contrast with white text (as portal.admin_display).
NOTICE_COLOURS = {
    DefaultNotice.Status.PREPARED: "#0b4f8a",
    DefaultNotice.Status.DISPATCHED: "#8a5300",
    DefaultNotice.Status.SUSPENSION_ALLOWED: "#b42318",
    DefaultNotice.Status.POWER_REDUCED: "#b42318",
    DefaultNotice.Status.SUSPENSION_REQUESTED: "#b42318",
    DefaultNotice.Status.SUSPENDED: "#7a1010",
    DefaultNotice.Status.CLOSED_PAID: "#1e6b34",
    DefaultNotice.Status.REACTIVATED: "#1e6b34",
    DefaultNotice.Status.CANCELLED: "#5f5f5b",
}


class DefaultNoticeItemInline(BillItemInline):
    model = DefaultNoticeItem
    fields = ["invoice", "due_on", "amount_due_eur", "outstanding_eur", "blocked"]
    readonly_fields = fields

    @admin.display(description=_("richiesto"))
    def amount_due_eur(self, item):
        return euro(item.amount_due)

    @admin.display(description=_("solleciti bloccati"), boolean=True)
    def blocked(self, item):
        return item.invoice.dunning_blocked


class SuspensionStepInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SuspensionStep
    fields = [
        "kind",
        "service",
        "requested_on",
        "executed",
        "allowed_on",
        "override_reason",
        "indemnity_eur",
        "fees_waived",
        "recorded_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "indemnity", "recorded_by")

    @admin.display(description=_("eseguito il"))
    def executed(self, step):
        if step.executed_on:
            return _day(step.executed_on)
        url = reverse("admin:billing_defaultnotice_execution", args=[step.notice_id, step.pk])
        return format_html(
            '<a class="button" style="white-space:nowrap" href="{}">{}</a>', url, _("Registra esecuzione")
        )

    @admin.display(description=_("indennizzo"))
    def indemnity_eur(self, step):
        if not step.indemnity_id:
            return "—"
        url = reverse("admin:billing_credit_change", args=[step.indemnity_id])
        return format_html('<a href="{}">{}</a>', url, euro(step.indemnity.amount))


class NoticeStageFilter(admin.SimpleListFilter):
    """Open notices by what staff have to do; then all."""

    title = _("da fare")
    parameter_name = "fase"
    STAGES = {
        "da-inviare": (_("Da inviare"), condition(Operation.SEND)),
        "raccomandate-da-spedire": (_("Raccomandate da spedire"), condition(Operation.RECORD_POSTING)),
        "in-attesa": (_("Termine di pagamento in corso"), Q(status=DefaultNotice.Status.DISPATCHED)),
        "sospensione-consentita": (
            _("Sospensione consentita"),
            Q(status=DefaultNotice.Status.SUSPENSION_ALLOWED),
        ),
        # The notices a reactivation may follow: the distributor was asked to act.
        "interventi": (_("Interventi in corso"), Q(status__in=statuses(Operation.REACTIVATE))),
        "aperte": (_("Tutte le aperte"), Q(status__in=OPEN_STATUSES)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _filter) in self.STAGES.items()]

    def queryset(self, request, queryset):
        if self.value() in self.STAGES:
            return queryset.filter(self.STAGES[self.value()][1])
        return queryset


@admin.register(DefaultNotice)
class DefaultNoticeAdmin(NoticePages, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Costituzioni in mora: sent by staff, then swept to "suspension allowed"; every step through a page
    that calls billing.dunning, which refuses what the regulation does not allow yet."""

    # Two facts a cell, one under the other, so that the list fits 1280 px beside admin's two sidebars.
    list_display = [
        "reference_link",
        "state",
        "total_eur",
        "payment_deadline",
        "suspension_allowed",
        "next_step",
    ]
    list_display_links = None
    list_filter = [NoticeStageFilter, "status", "channel", "repeat_default"]
    list_select_related = ["customer"]
    search_fields = [
        "customer__code",
        "customer__last_name",
        "customer__company_name",
        "tracking_number",
        "items__invoice__number",
    ]
    date_hierarchy = "prepared_on"
    inlines = [DefaultNoticeItemInline, SuspensionStepInline]
    actions = ["send_by_pec", "prepare_letters"]
    change_list_template = "admin/billing/defaultnotice/change_list.html"
    change_form_template = "admin/billing/defaultnotice/change_form.html"
    fieldsets = [
        (
            None,
            {"fields": ["customer", "status_badge", "channel", "prepared_on", "total_eur", "repeat_default"]},
        ),
        (
            _("Invio e termini"),
            {
                "fields": [
                    ("sent_on", "tracking_number", "dispatch_recorded_by"),
                    ("received_on", "presumed_receipt", "receipt_recorded_by"),
                    "payment_deadline",
                    "suspension_allowed",
                    "communication_link",
                ]
            },
        ),
        (
            _("Chiusura"),
            {"fields": [("closed_on", "closed_by"), "payment_proven_on", "cancel_reason"]},
        ),
    ]
    readonly_fields = fieldset_names(fieldsets)

    def has_change_permission(self, request, obj=None):
        # Without an object: may staff use the actions and the pages. With one: is the change form editable
        # — never, a notice changes only through those pages. Add (the sweep prepares notices) and delete:
        # never, as ReadOnlyAdminMixin says.
        if obj is not None:
            return False
        return super(ReadOnlyAdminMixin, self).has_change_permission(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notice = self.get_object(request, object_id)
        operations, blocked = [], ""
        if notice is not None:
            blocked_by = selectors.blocking_complaints([notice.pk]).get(notice.pk, [])
            plans = selectors.instalment_plans([notice.pk]).get(notice.pk, [])
            blocked = held_label(blocked_by, plans)
            if self.has_change_permission(request):
                operations = [
                    operation_link(notice, operation)
                    for operation in selectors.offered_operations(notice, blocked_by=blocked_by, plans=plans)
                ]
        return super().change_view(
            request,
            object_id,
            form_url,
            {**(extra_context or {}), "operations": operations, "blocked": blocked},
        )

    # --- columns ------------------------------------------------------------------------------------------

    @admin.display(description=_("costituzione in mora"), ordering="id")
    def reference_link(self, notice):
        url = reverse("admin:billing_defaultnotice_change", args=[notice.pk])
        return format_html(
            '<a href="{}">{}</a><br><small>{} · {}</small>',
            url,
            notice.reference,
            notice.customer.display_name,
            notice.customer.code,
        )

    @admin.display(description=_("stato e invio"), ordering="status")
    def state(self, notice):
        sent = _("inviata il %(day)s") % {"day": _day(notice.sent_on)} if notice.sent_on else _("non inviata")
        return format_html(
            "{}<br><small>{} · {}</small>", self.status_badge(notice), notice.get_channel_display(), sent
        )

    @admin.display(description=_("stato"), ordering="status")
    def status_badge(self, notice):
        return status_badge(NOTICE_COLOURS[notice.status], notice.get_status_display())

    @admin.display(description=_("importo"), ordering="total_due")
    def total_eur(self, notice):
        return euro(notice.total_due)

    @admin.display(description=_("termine di pagamento"), ordering="payment_due_on")
    def payment_deadline(self, notice):
        # Running while the sweep waits for the first step day.
        pending = notice.status in statuses(Operation.ALLOW_SUSPENSION)
        return _day_with_badge(notice.payment_due_on, pending=pending)

    @admin.display(description=_("sospensione consentita dal"), ordering="suspension_allowed_on")
    def suspension_allowed(self, notice):
        # Pending while no step was taken: as long as a receipt can still move the day.
        pending = notice.status in statuses(Operation.RECORD_RECEIPT)
        if notice.suspension_allowed_on is None and (notice.held or notice.planned):
            # Sent, but every bill still due is held by a complaint or a plan: no day until one is free.
            return held_label(
                selectors.blocking_complaints([notice.pk]).get(notice.pk, []) if notice.held else [],
                selectors.instalment_plans([notice.pk]).get(notice.pk, []) if notice.planned else [],
            )
        return _day_with_badge(notice.suspension_allowed_on, pending=pending)

    @admin.display(description=_("ricezione presunta"))
    def presumed_receipt(self, notice):
        if notice.sent_on is None or notice.received_on:
            return "—"
        return _day(steps.receipt_day(notice))

    @admin.display(description=_("comunicazione"))
    def communication_link(self, notice):
        if notice.communication_id is None:
            return "—"
        url = reverse("admin:notifications_communication_change", args=[notice.communication_id])
        return format_html('<a href="{}">{}</a>', url, _("Lettera e invii"))

    def get_queryset(self, request):
        # Whether a complaint holds one of its bills still due, or an instalment plan covers one, for the
        # list's "next step" (in the same query).
        held = DefaultNoticeItem.objects.filter(
            notice=OuterRef("pk"),
            invoice__dunning_blocked=True,
            invoice__status__in=Invoice.OPEN_STATUSES,
        )
        planned = instalments.running_items().filter(
            invoice__default_notice_items__notice=OuterRef("pk"),
            invoice__status__in=Invoice.OPEN_STATUSES,
        )
        return super().get_queryset(request).annotate(held=Exists(held), planned=Exists(planned))

    @admin.display(description=_("prossimo passo"))
    def next_step(self, notice):
        blocked_by = selectors.blocking_complaints([notice.pk]).get(notice.pk, []) if notice.held else []
        plans = selectors.instalment_plans([notice.pk]).get(notice.pk, []) if notice.planned else []
        operations = selectors.offered_operations(notice, blocked_by=blocked_by, plans=plans)
        why = held_label(blocked_by, plans)
        held = format_html("<strong>{}</strong> ", why) if why else ""
        if not operations:
            return held or "—"
        label, url = operation_link(notice, operations[0])
        return format_html('{}<a class="button" href="{}">{}</a>', held, url, label)

    # --- bulk actions: sending renders PDFs, so it is queued (DESIGN.md §4) -------------------------------

    @admin.action(description=_("Invia via PEC le costituzioni in mora selezionate"), permissions=["change"])
    def send_by_pec(self, request, queryset):
        queued = dunning.queue_sending(notices=queryset, channel=DefaultNotice.Channel.PEC, by=request.user)
        self._report_queued(request, queued, _("PEC in partenza per %(count)d costituzioni in mora."))
        if queued.without_pec:
            self.message_user(
                request,
                ngettext(
                    "%(count)d cliente senza PEC: usa «Prepara le raccomandate».",
                    "%(count)d clienti senza PEC: usa «Prepara le raccomandate».",
                    queued.without_pec,
                )
                % {"count": queued.without_pec},
                messages.WARNING,
            )
        self._report_skipped(request, queued.skipped)

    @admin.action(description=_("Prepara le raccomandate da stampare"), permissions=["change"])
    def prepare_letters(self, request, queryset):
        queued = dunning.queue_sending(
            notices=queryset, channel=DefaultNotice.Channel.RACCOMANDATA, by=request.user
        )
        self._report_queued(
            request,
            queued,
            _("%(count)d raccomandate in preparazione: le trovi tra poco in «Lettere da spedire»."),
        )
        self._report_skipped(request, queued.skipped)

    def _report_skipped(self, request, skipped):
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d costituzione in mora ignorata: non è da inviare.",
                    "%(count)d costituzioni in mora ignorate: non sono da inviare.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
