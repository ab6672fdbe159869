"""Contracts: the list with its deadlines, the change page with every pending date, and the inlines.

The dates on a contract (period, expiry, renewal notice, termination) are set by `contracts.services` and
swept by `contracts.tasks`: here they are read-only, with the days left while they are pending. Changes of
state go through the actions in `contract_actions.py`.
"""

from django.contrib import admin, messages
from django.db.models import Prefetch
from django.forms import BaseInlineFormSet
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from contracts import mandates, selectors
from contracts.admin.contract_actions import ContractActions
from contracts.admin.filters import ExpiringSoonFilter, RenewalNoticeFilter, ServiceKindFilter
from contracts.admin.mandates import MandateInline
from contracts.admin.supplies import ServiceInline
from contracts.admin.withdrawals import WithdrawalInline
from contracts.models import Contract, Device, Service
from portal.admin_display import day_with_badge as _day_with_badge
from portal.admin_display import days_left_badge
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib import dates
from portal.lib.formatting import day as _day


class DeviceFormSet(BaseInlineFormSet):
    """A device is lent for one of the contract's own services."""

    def _services(self):
        if not hasattr(self, "_contract_services"):
            self._contract_services = (
                list(Service.objects.filter(contract=self.instance)) if self.instance.pk else []
            )
        return self._contract_services

    def _limit(self, form):
        form.fields["service"].queryset = Service.objects.filter(pk__in=[s.pk for s in self._services()])
        return form

    def _construct_form(self, i, **kwargs):
        return self._limit(super()._construct_form(i, **kwargs))

    @property
    def empty_form(self):
        return self._limit(super().empty_form)


class DeviceInline(admin.TabularInline):
    model = Device
    formset = DeviceFormSet
    extra = 0
    can_delete = False
    fields = ["description", "serial_number", "service", "return_by", "returned_on"]
    # Set by the termination and deactivation services (CG 14.8: 10 days).
    readonly_fields = ["return_by"]


@admin.register(Contract)
class ContractAdmin(ContractActions, SafeLookupsAdmin):
    list_display = [
        "number",
        "customer",
        "offer_name",
        "status",
        "service_kinds",
        "expiry",
        "renewal_notice_due",
        "renewal_notice_sent",
        "renewal_notice_late_flag",
        "termination",
    ]
    list_display_links = ["number"]
    list_select_related = ["customer"]
    list_filter = ["status", ServiceKindFilter, ExpiringSoonFilter, RenewalNoticeFilter, "sales_channel"]
    search_fields = [
        "number",
        "offer_name",
        "customer__code",
        "customer__first_name",
        "customer__last_name",
        "customer__company_name",
        "=customer__codice_fiscale",
        "=customer__partita_iva",
        "=services__pod",
        "=services__pdr",
        "=services__sim_number",
        "=services__line_number",
    ]
    search_help_text = _(
        "Numero di contratto, codice cliente, nome o ragione sociale, codice fiscale, partita IVA, "
        "POD, PDR, numero SIM o di linea."
    )
    autocomplete_fields = ["customer"]
    inlines = [ServiceInline, DeviceInline, MandateInline, WithdrawalInline]
    actions = [
        "register_customer_withdrawal",
        "register_cooling_off",
        "register_supplier_withdrawal",
        "announce_condition_change",
    ]

    # What the renewal notice will announce: staff set it until the notice goes (CG 3.1).
    RENEWAL_FIELDS = ["renewal_offer_name", "renewal_conditions", "ends_at_expiry"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "customer",
                    "offer_name",
                    "status",
                    "sales_channel",
                    ("proposed_on", "accepted_on"),
                ]
            },
        ),
        (
            _("Pagamento"),
            {
                "fields": [
                    "payment_method",
                    "iban",
                    "billing_frequency",
                    "security_deposit",
                    "discounts_enjoyed",
                    ("paper_bills", "bill_delivery_chosen_at"),
                ]
            },
        ),
        (_("Scadenze in corso"), {"fields": ["pending_deadlines"]}),
        (
            _("Periodo contrattuale (art. 3.1)"),
            {
                "fields": [
                    ("period_start", "expiry", "renewal_count"),
                    ("termination", "terminated_on"),
                    "termination_grounds_since",
                ]
            },
        ),
        (
            _("Comunicazione di rinnovo (art. 3.1)"),
            {
                "description": _(
                    "Nuova offerta, nuove condizioni o disdetta alla scadenza: modificabili finché la "
                    "comunicazione non è inviata. Se vuote, la comunicazione conferma le stesse condizioni."
                ),
                "fields": [
                    ("renewal_notice_due", "renewal_notice_sent", "renewal_notice_late_flag"),
                    *RENEWAL_FIELDS,
                    "announced",
                ],
            },
        ),
    ]
    # Dates are set by the services, never typed by hand.
    COMPUTED_FIELDS = [
        "status",
        "pending_deadlines",
        "period_start",
        "expiry",
        "renewal_count",
        "termination",
        "terminated_on",
        "renewal_notice_due",
        "renewal_notice_sent",
        "renewal_notice_late_flag",
        "announced",
        "bill_delivery_chosen_at",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("customer")
            .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("id")))
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.COMPUTED_FIELDS)
        if obj is not None:
            # The number is on every letter; changing the holder is a voltura, not an edit.
            readonly += ["number", "customer"]
            if not obj.renewal_terms_editable:
                readonly += self.RENEWAL_FIELDS
        return readonly

    def has_delete_permission(self, request, obj=None):
        # Contracts end through withdrawals and terminations, with their letters; they are never deleted
        # (this also takes "delete selected" off the actions).
        return False

    def save_model(self, request, obj, form, change):
        # The bill delivery choice is recorded with its date by the service, as when the customer makes it.
        chose_delivery = "paper_bills" in form.changed_data
        if not change:
            super().save_model(request, obj, form, change)
        else:
            # Only what staff changed: a stale copy of the computed fields must not overwrite what a sweep
            # wrote meanwhile.
            changed = [name for name in form.changed_data if name != "paper_bills"]
            if changed:
                obj.save(update_fields=changed)
        if chose_delivery:
            mandates.choose_bill_delivery(contract=obj, paper_bills=obj.paper_bills, now=timezone.now())
        if not change:
            return
        # The notice went out while the page was open: the renewal fields were no longer in the form.
        typed = {name for name in self.RENEWAL_FIELDS if name in request.POST and name not in form.fields}
        if typed and any(
            request.POST[name] != str(getattr(obj, name) or "") for name in typed - {"ends_at_expiry"}
        ):
            self.message_user(
                request,
                _(
                    "La comunicazione di rinnovo è già stata inviata il %(day)s: le condizioni di rinnovo "
                    "non sono state modificate."
                )
                % {"day": _day(obj.renewal_notice_sent_on)},
                messages.WARNING,
            )

    # --- columns ------------------------------------------------------------------------------------------

    @admin.display(description=_("servizi"))
    def service_kinds(self, contract):
        kinds = dict.fromkeys(service.get_kind_display() for service in contract.services.all())
        return ", ".join(kinds) or "—"

    @admin.display(description=_("scadenza"), ordering="expires_on")
    def expiry(self, contract):
        return _day_with_badge(contract.expires_on, pending=contract.status == Contract.Status.ACTIVE)

    @admin.display(description=_("comunicazione di rinnovo entro"), ordering="renewal_notice_due_on")
    def renewal_notice_due(self, contract):
        pending = contract.status == Contract.Status.ACTIVE and contract.renewal_notice_sent_on is None
        return _day_with_badge(contract.renewal_notice_due_on, pending=pending)

    @admin.display(description=_("inviata il"), ordering="renewal_notice_sent_on")
    def renewal_notice_sent(self, contract):
        return _day(contract.renewal_notice_sent_on)

    @admin.display(description=_("in ritardo"), boolean=True, ordering="renewal_notice_late")
    def renewal_notice_late_flag(self, contract):
        return contract.renewal_notice_late if contract.renewal_notice_sent_on else None

    @admin.display(description=_("cessa il"), ordering="terminates_on")
    def termination(self, contract):
        return _day_with_badge(contract.terminates_on, pending=contract.status == Contract.Status.TERMINATING)

    @admin.display(description=_("annunciato ai clienti"))
    def announced(self, contract):
        if not contract.renewal_notice_sent_on:
            return "—"
        if contract.announced_termination:
            return _("Cessazione alla scadenza")
        if contract.announced_offer_name or contract.announced_conditions:
            return format_html(
                "{}<br>{}",
                contract.announced_offer_name or contract.offer_name,
                contract.announced_conditions,
            )
        return _("Stesse condizioni")

    @admin.display(description=_("scadenze in corso"))
    def pending_deadlines(self, contract):
        today = dates.today()
        rows = selectors.pending_deadlines(contract, today=today)
        if not rows:
            return _("Nessuna scadenza in corso.")
        return format_html(
            "<ul style='margin:0;padding-left:1.2em'>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {} {}</li>",
                ((row.what, _day(row.due_on), days_left_badge(row.due_on, today)) for row in rows),
            ),
        )
