"""Back office for customers, contracts and their services.

The dates on a contract (period, expiry, renewal notice, termination) are set by `contracts.services` and
swept by `contracts.tasks`: here they are read-only, with the days left while they are pending. Changes of
state go through actions that call a service, report with `message_user` and are recorded in admin's
history (who and when).
"""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contracts import deadlines, services, tasks
from contracts.admin_forms import (
    ConditionChangeForm,
    CustomerWithdrawalForm,
    ServiceActivationForm,
    SupplierWithdrawalForm,
)
from contracts.models import (
    ConditionChange,
    ConditionChangeNotice,
    Contract,
    Customer,
    Device,
    MeterReading,
    Service,
    WithdrawalRequest,
)
from portal.admin_display import LISTED_ON_CONFIRMATION, days_left_badge
from portal.admin_display import action_form_page as _confirmation_page
from portal.admin_display import day as _day
from portal.admin_display import day_with_badge as _day_with_badge
from portal.admin_display import today as _today
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib.dates import add_days
from portal.tasks import run_sweep

# ---------------------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------------------


class CustomerContractInline(admin.TabularInline):
    model = Contract
    extra = 0
    show_change_link = True
    can_delete = False
    fields = ["number", "offer_name", "status", "expires_on", "terminates_on"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(SafeLookupsAdmin):
    list_display = [
        "code",
        "display_name",
        "codice_fiscale",
        "partita_iva",
        "billing_city",
        "email",
        "has_account",
    ]
    list_filter = ["kind", "language", "billing_province", ("user", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = [
        "code",
        "first_name",
        "last_name",
        "company_name",
        "codice_fiscale",
        "partita_iva",
        "email",
    ]
    raw_id_fields = ["user"]
    readonly_fields = ["health_data_consent_at", "created_at"]
    inlines = [CustomerContractInline]
    fieldsets = [
        (None, {"fields": ["code", "kind", "user"]}),
        (
            _("Intestatario"),
            {"fields": [("first_name", "last_name"), "company_name", ("codice_fiscale", "partita_iva")]},
        ),
        (_("Contatti"), {"fields": ["email", "pec", "phone", "language"]}),
        (
            _("Indirizzo di fatturazione"),
            {"fields": ["billing_street", ("billing_postcode", "billing_city", "billing_province")]},
        ),
        (
            _("Indirizzo per le risposte scritte"),
            {
                "description": _(
                    "Facoltativo: se vuoto, risposte ai reclami e lettere vanno all'indirizzo di fatturazione."
                ),
                "fields": ["reply_street", ("reply_postcode", "reply_city", "reply_province")],
            },
        ),
        (
            _("Consensi"),
            {
                "fields": [
                    "marketing_consent",
                    ("health_data_consent", "health_data_consent_at"),
                ],
                "description": _(
                    "Il consenso al trattamento dei dati sanitari (GDPR art. 9) serve per Teleconsulto Medico."
                ),
            },
        ),
        (_("Registrazione"), {"fields": ["created_at"]}),
    ]

    @admin.display(boolean=True, description=_("account"), ordering="user")
    def has_account(self, customer):
        return customer.user_id is not None

    def save_model(self, request, obj, form, change):
        # When the consent was given (or withdrawn) is part of the consent record (GDPR art. 7.1).
        if "health_data_consent" in form.changed_data:
            obj.health_data_consent_at = timezone.now() if obj.health_data_consent else None
        super().save_model(request, obj, form, change)


# ---------------------------------------------------------------------------------------------------------
# Contract list filters
# ---------------------------------------------------------------------------------------------------------


class ServiceKindFilter(admin.SimpleListFilter):
    title = _("servizio")
    parameter_name = "servizio"

    def lookups(self, request, model_admin):
        return Service.Kind.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Exists(Service.objects.filter(contract=OuterRef("pk"), kind=self.value())))
        return queryset


class ExpiringSoonFilter(admin.SimpleListFilter):
    title = _("scadenza")
    parameter_name = "scadenza"
    WITHIN_90_DAYS = "90"

    def lookups(self, request, model_admin):
        return [(self.WITHIN_90_DAYS, _("Scade entro 90 giorni"))]

    def queryset(self, request, queryset):
        if self.value() == self.WITHIN_90_DAYS:
            today = _today()
            return queryset.filter(
                status=Contract.Status.ACTIVE, expires_on__gte=today, expires_on__lte=add_days(today, 90)
            )
        return queryset


class RenewalNoticeFilter(admin.SimpleListFilter):
    """Four states of the renewal notice of active contracts' current period; they do not overlap."""

    title = _("comunicazione di rinnovo")
    parameter_name = "rinnovo"
    TO_SEND, SENT, SENT_LATE, OVERDUE = "da-inviare", "inviata", "inviata-in-ritardo", "scaduta"

    def lookups(self, request, model_admin):
        return [
            (self.TO_SEND, _("Da inviare")),
            (self.SENT, _("Inviata nei termini")),
            (self.SENT_LATE, _("Inviata in ritardo")),
            (self.OVERDUE, _("Scaduta senza invio")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value in (self.TO_SEND, self.OVERDUE):
            pending = queryset.filter(status=Contract.Status.ACTIVE, renewal_notice_sent_on__isnull=True)
            if value == self.TO_SEND:
                return pending.filter(renewal_notice_due_on__gte=_today())
            return pending.filter(renewal_notice_due_on__lt=_today())
        if value == self.SENT:
            return queryset.filter(renewal_notice_sent_on__isnull=False, renewal_notice_late=False)
        if value == self.SENT_LATE:
            return queryset.filter(renewal_notice_sent_on__isnull=False, renewal_notice_late=True)
        return queryset


# ---------------------------------------------------------------------------------------------------------
# Contract inlines
# ---------------------------------------------------------------------------------------------------------


class ServiceInlineForm(ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A supply does not turn into a SIM: a different service is a new row.
            self.fields["kind"].disabled = True


SERVICE_COMMON_FIELDSET = (
    None,
    {"fields": [("kind", "status"), ("activated_on", "deactivates_on", "deactivated_on")]},
)
SUPPLY_ADDRESS_FIELDSET = (
    _("Indirizzo di fornitura"),
    {"fields": ["supply_street", ("supply_postcode", "supply_city", "supply_province")]},
)
KIND_FIELDSETS = {
    Service.Kind.ELECTRICITY: (_("Luce"), {"fields": [("pod", "power_kw", "domestic_resident")]}),
    Service.Kind.GAS: (_("Gas"), {"fields": [("pdr", "meter_class")]}),
    Service.Kind.FIBRE: (_("Internet fibra"), {"fields": [("fibre_technology", "line_number")]}),
    Service.Kind.MOBILE: (_("Mobile"), {"fields": [("sim_number", "iccid")]}),
    Service.Kind.ASSISTENZA_H24: (
        _("Assistenza H24"),
        {
            "fields": ["interventions_used"],
            "description": _("3 interventi per periodo contrattuale, fino a 300 € ciascuno."),
        },
    ),
}
KINDS_AT_AN_ADDRESS = {Service.Kind.ELECTRICITY, Service.Kind.GAS, Service.Kind.FIBRE}
# Status and dates change only through services (activation, withdrawal, the deactivation sweep).
SERVICE_READONLY_FIELDS = ["status", "activated_on", "deactivates_on", "deactivated_on"]


class ServiceInline(admin.StackedInline):
    model = Service
    form = ServiceInlineForm
    extra = 0
    can_delete = False
    show_change_link = True
    fieldsets = [SERVICE_COMMON_FIELDSET, SUPPLY_ADDRESS_FIELDSET, *KIND_FIELDSETS.values()]
    readonly_fields = SERVICE_READONLY_FIELDS


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


class WithdrawalInline(admin.TabularInline):
    model = WithdrawalRequest
    extra = 0
    can_delete = False
    fields = [
        "kind",
        "service",
        "received_on",
        "effective_on",
        "early_termination_charge",
        "channel",
        "requested_by",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# ---------------------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------------------


@admin.register(Contract)
class ContractAdmin(SafeLookupsAdmin):
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
    inlines = [ServiceInline, DeviceInline, WithdrawalInline]
    actions = ["register_customer_withdrawal", "register_supplier_withdrawal", "announce_condition_change"]

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
            if obj.renewal_notice_sent_on or obj.status not in (
                Contract.Status.PROPOSED,
                Contract.Status.ACTIVE,
            ):
                readonly += self.RENEWAL_FIELDS
        return readonly

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Contracts end through withdrawals and terminations, with their letters; they are never deleted.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Only what staff changed: a stale copy of the computed fields must not overwrite what a sweep
        # wrote meanwhile.
        if form.changed_data:
            obj.save(update_fields=form.changed_data)
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
        today = _today()
        rows = sorted(self._pending_deadlines(contract, today), key=lambda row: row[1])
        if not rows:
            return _("Nessuna scadenza in corso.")
        return format_html(
            "<ul style='margin:0;padding-left:1.2em'>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {} {}</li>",
                ((label, _day(due), days_left_badge(due, today)) for label, due in rows),
            ),
        )

    def _pending_deadlines(self, contract, today):
        """Every date still ahead of (or overdue on) this contract, as (what, when)."""
        if contract.pk is None:
            return []
        rows = []
        if contract.status == Contract.Status.ACTIVE:
            if contract.renewal_notice_sent_on is None and contract.renewal_notice_due_on:
                rows.append((_("Invio della comunicazione di rinnovo"), contract.renewal_notice_due_on))
            if contract.expires_on:
                rows.append((_("Scadenza: rinnovo tacito o cessazione"), contract.expires_on))
        if contract.status == Contract.Status.TERMINATING and contract.terminates_on:
            rows.append((_("Cessazione per recesso"), contract.terminates_on))
        if (
            contract.is_distance_or_off_premises
            and contract.accepted_on
            and contract.status in (Contract.Status.PROPOSED, Contract.Status.ACTIVE)
        ):
            last_day = deadlines.cooling_off_last_day(contract.accepted_on)
            if last_day >= today:
                rows.append((_("Ultimo giorno per il ripensamento"), last_day))
        for service in contract.services.all():
            if service.status == Service.Status.DEACTIVATING and service.deactivates_on:
                rows.append((format_html(_("Disattivazione di {}"), service), service.deactivates_on))
        for device in contract.devices.filter(returned_on__isnull=True, return_by__isnull=False):
            rows.append((format_html(_("Restituzione di {}"), device), device.return_by))
        for notice in contract.condition_notices.filter(withdrawal_until__gte=today).select_related("change"):
            rows.append(
                (
                    format_html(_("Recesso senza costi per la variazione «{}»"), notice.change.title),
                    notice.withdrawal_until,
                )
            )
        return rows

    # --- actions ------------------------------------------------------------------------------------------

    @admin.action(description=_("Registra recesso del cliente"), permissions=["change"])
    def register_customer_withdrawal(self, request, queryset):
        contracts = list(queryset.select_related("customer"))
        form = CustomerWithdrawalForm(
            request.POST if "apply" in request.POST else None,
            contracts=contracts,
            initial={"received_on": _today()},
        )
        if not form.is_valid():
            return _confirmation_page(
                self,
                request,
                contracts,
                form=form,
                action="register_customer_withdrawal",
                title=_("Registra il recesso del cliente"),
                intro=_(
                    "Per i recessi ricevuti per lettera, PEC, telefono o in negozio. Il cliente riceve la "
                    "ricevuta con la data di efficacia e gli eventuali costi."
                ),
                submit=_("Registra il recesso"),
            )
        data = form.cleaned_data
        service = data["service"]
        targets = [service.contract] if service is not None else contracts
        for contract in targets:
            try:
                withdrawal = services.request_withdrawal(
                    contract=contract,
                    kind=data["kind"],
                    received_on=data["received_on"],
                    service=service,
                    by=request.user,
                    channel="staff",
                )
            except ValidationError as error:
                self._report_failure(request, contract, error)
                continue
            message = _(
                "Recesso registrato (%(kind)s%(service)s), ricevuto il %(received)s: efficace dal "
                "%(effective)s, costo di recesso anticipato %(charge)s €."
            ) % {
                "kind": withdrawal.get_kind_display(),
                "service": f", {service}" if service else "",
                "received": _day(withdrawal.received_on),
                "effective": _day(withdrawal.effective_on),
                "charge": number_format(withdrawal.early_termination_charge, 2, force_grouping=True),
            }
            self.log_change(request, contract, message)
            self.message_user(request, f"{contract.number}: {message}", messages.SUCCESS)
        return None

    @admin.action(description=_("Recesso del fornitore"), permissions=["change"])
    def register_supplier_withdrawal(self, request, queryset):
        contracts = list(queryset.select_related("customer"))
        form = SupplierWithdrawalForm(
            request.POST if "apply" in request.POST else None, initial={"sent_on": _today()}
        )
        if not form.is_valid():
            return _confirmation_page(
                self,
                request,
                contracts,
                form=form,
                action="register_supplier_withdrawal",
                title=_("Recesso del fornitore (art. 3.6)"),
                intro=_(
                    "Optima recede dai contratti selezionati: ogni cliente riceve la comunicazione con la data "
                    "di cessazione. Solo i contratti attivi."
                ),
                submit=_("Invia il recesso"),
            )
        sent_on = form.cleaned_data["sent_on"]
        for contract in contracts:
            if contract.status != Contract.Status.ACTIVE:
                self.message_user(
                    request,
                    _("%(number)s: non è attivo (%(status)s), nessun recesso registrato.")
                    % {"number": contract.number, "status": contract.get_status_display()},
                    messages.WARNING,
                )
                continue
            try:
                withdrawal = services.withdraw_as_supplier(
                    contract=contract, sent_on=sent_on, by=request.user
                )
            except ValidationError as error:
                self._report_failure(request, contract, error)
                continue
            message = _("Recesso del fornitore inviato il %(sent)s: il contratto cessa il %(effective)s.") % {
                "sent": _day(sent_on),
                "effective": _day(withdrawal.effective_on),
            }
            self.log_change(request, contract, message)
            self.message_user(request, f"{contract.number}: {message}", messages.SUCCESS)
        return None

    @admin.action(description=_("Annuncia variazione delle condizioni"), permissions=["change"])
    def announce_condition_change(self, request, queryset):
        form = ConditionChangeForm(
            request.POST if "apply" in request.POST else None, initial={"sent_on": _today()}
        )
        if not form.is_valid():
            return _confirmation_page(
                self,
                request,
                list(queryset.select_related("customer")[: LISTED_ON_CONFIRMATION + 1]),
                count=queryset.count(),
                form=form,
                action="announce_condition_change",
                title=_("Annuncia una variazione unilaterale delle condizioni (art. 9.3)"),
                intro=_(
                    "Ogni contratto attivo selezionato riceve la comunicazione con la lettera in PDF. La data "
                    "di entrata in vigore deve rispettare il preavviso di 3 mesi."
                ),
                submit=_("Invia le comunicazioni"),
            )
        data = form.cleaned_data
        active = queryset.filter(status=Contract.Status.ACTIVE)
        contract_ids = list(active.order_by("pk").values_list("pk", flat=True))
        skipped = queryset.count() - len(contract_ids)
        if not contract_ids:
            self.message_user(request, _("Nessun contratto attivo tra quelli selezionati."), messages.ERROR)
            return None
        with transaction.atomic():
            change = services.start_condition_change(
                title=data["title"],
                description=data["description"],
                effective_on=data["effective_on"],
                raises_prices=data["raises_prices"],
                sent_on=data["sent_on"],
                contracts=active.order_by("pk"),
                by=request.user,
            )
            message = _(
                "Annunciata la variazione «%(title)s», in vigore dal %(effective)s (invio del %(sent)s)."
            ) % {
                "title": change.title,
                "effective": _day(change.effective_on),
                "sent": _day(change.sent_on),
            }
            self.log_addition(request, change, message)
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=Contract.objects.filter(pk__in=contract_ids).only("pk", "number", "offer_name"),
                action_flag=CHANGE,
                change_message=message,
            )
            # The notices are rows the sweep sends (every few minutes); start it now rather than wait. robust:
            # a broker outage only delays them until the next scheduled run.
            transaction.on_commit(lambda: run_sweep.delay(tasks.CONDITION_CHANGE_NOTICES.name), robust=True)
        self.message_user(
            request,
            ngettext(
                "Invio della comunicazione avviato per %(count)d contratto.",
                "Invio delle comunicazioni avviato per %(count)d contratti.",
                len(contract_ids),
            )
            % {"count": len(contract_ids)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d contratto non attivo escluso.",
                    "%(count)d contratti non attivi esclusi.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:contracts_conditionchange_change", args=[change.pk]))

    def _report_failure(self, request, contract, error):
        self.message_user(request, f"{contract.number}: {' '.join(error.messages)}", messages.ERROR)


# ---------------------------------------------------------------------------------------------------------
# Services, withdrawals, changes of conditions
# ---------------------------------------------------------------------------------------------------------


class MeterReadingInline(admin.TabularInline):
    model = MeterReading
    extra = 0
    can_delete = False
    fields = ["read_on", "value", "source", "submitted_by", "submitted_at"]
    readonly_fields = fields
    ordering = ["-read_on", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Service)
class ServiceAdmin(SafeLookupsAdmin):
    list_display = ["__str__", "contract", "customer", "kind", "status", "activated_on", "deactivation"]
    list_filter = ["kind", "status"]
    list_select_related = ["contract__customer"]
    search_fields = [
        "=pod",
        "=pdr",
        "=sim_number",
        "=line_number",
        "=iccid",
        "contract__number",
        "contract__customer__code",
    ]
    autocomplete_fields = ["contract"]
    inlines = [MeterReadingInline]
    actions = ["activate"]

    def get_fieldsets(self, request, obj=None):
        head = (None, {"fields": ["contract", *SERVICE_COMMON_FIELDSET[1]["fields"]]})
        if obj is None:
            return [head, SUPPLY_ADDRESS_FIELDSET, *KIND_FIELDSETS.values()]
        fieldsets = [head]
        if obj.kind in KINDS_AT_AN_ADDRESS:
            fieldsets.append(SUPPLY_ADDRESS_FIELDSET)
        if obj.kind in KIND_FIELDSETS:
            fieldsets.append(KIND_FIELDSETS[obj.kind])
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return SERVICE_READONLY_FIELDS
        return [*SERVICE_READONLY_FIELDS, "contract", "kind"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("cliente"))
    def customer(self, service):
        return service.contract.customer

    @admin.display(description=_("si disattiva il"), ordering="deactivates_on")
    def deactivation(self, service):
        return _day_with_badge(service.deactivates_on, pending=service.status == Service.Status.DEACTIVATING)

    @admin.action(description=_("Attiva i servizi selezionati"), permissions=["change"])
    def activate(self, request, queryset):
        selected = list(queryset.select_related("contract"))
        form = ServiceActivationForm(
            request.POST if "apply" in request.POST else None, initial={"activated_on": _today()}
        )
        if not form.is_valid():
            return _confirmation_page(
                self,
                request,
                selected,
                form=form,
                action="activate",
                title=_("Attiva i servizi"),
                intro=_("Il primo servizio attivato di un contratto avvia il suo periodo di 12 mesi."),
                submit=_("Attiva"),
            )
        activated_on = form.cleaned_data["activated_on"]
        for service in selected:
            try:
                services.activate_service(service=service, activated_on=activated_on)
            except ValidationError as error:
                self.message_user(request, f"{service}: {' '.join(error.messages)}", messages.ERROR)
                continue
            message = _("Servizio attivato il %(day)s.") % {"day": _day(activated_on)}
            self.log_change(request, service, message)
            self.message_user(request, f"{service.contract.number} · {service}: {message}", messages.SUCCESS)
        return None


@admin.register(WithdrawalRequest)
class WithdrawalRequestAdmin(admin.ModelAdmin):
    """Every withdrawal, the customer's or the supplier's: a record, changed by nobody."""

    list_display = [
        "contract",
        "customer",
        "kind",
        "service",
        "received_on",
        "effective_on",
        "channel",
        "requested_by",
    ]
    list_filter = ["kind", "channel"]
    list_select_related = ["contract__customer", "service", "requested_by"]
    search_fields = ["contract__number", "contract__customer__code", "contract__customer__last_name"]
    date_hierarchy = "created_at"
    fields = [
        "contract",
        "service",
        "kind",
        "received_on",
        "effective_on",
        "early_termination_charge",
        "channel",
        "requested_by",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("cliente"))
    def customer(self, withdrawal):
        return withdrawal.contract.customer


class ConditionChangeNoticeInline(admin.TabularInline):
    model = ConditionChangeNotice
    extra = 0
    can_delete = False
    fields = ["contract", "customer", "sent_on", "withdrawal_window"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contract__customer").order_by("contract__number")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("cliente"))
    def customer(self, notice):
        return notice.contract.customer

    @admin.display(description=_("recesso senza costi fino al"))
    def withdrawal_window(self, notice):
        today = _today()
        return _day_with_badge(
            notice.withdrawal_until,
            pending=bool(notice.withdrawal_until and notice.withdrawal_until >= today),
        )


@admin.register(ConditionChange)
class ConditionChangeAdmin(admin.ModelAdmin):
    """Announced from the contract list ("Annuncia variazione delle condizioni"); here staff follow the
    sending and see who received it. What was announced is a record: nobody edits it afterwards."""

    list_display = ["title", "effective", "raises_prices", "sent", "progress", "author", "created"]
    list_filter = ["raises_prices"]
    list_select_related = ["created_by"]
    search_fields = ["title", "notices__contract__number"]
    date_hierarchy = "created_at"
    fields = ["title", "description", "effective", "raises_prices", "sent", "progress", "author", "created"]
    readonly_fields = fields
    inlines = [ConditionChangeNoticeInline]
    change_form_template = "admin/contracts/conditionchange/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("avanzamento"))
    def progress(self, change):
        text = ngettext(
            "%(sent)d di %(total)d comunicazione inviata",
            "%(sent)d di %(total)d comunicazioni inviate",
            change.notices_total,
        ) % {"sent": change.notices_sent, "total": change.notices_total}
        return format_html(
            '<progress value="{}" max="{}" aria-hidden="true"></progress> {}',
            change.notices_sent,
            max(change.notices_total, 1),
            text,
        )

    @admin.display(description=_("in vigore dal"), ordering="effective_on")
    def effective(self, change):
        return _day(change.effective_on)

    @admin.display(description=_("inviata il"), ordering="sent_on")
    def sent(self, change):
        return _day(change.sent_on)

    @admin.display(description=_("annunciata da"), ordering="created_by")
    def author(self, change):
        return change.created_by or "—"

    @admin.display(description=_("creata il"), ordering="created_at")
    def created(self, change):
        return date_format(timezone.localtime(change.created_at), "d/m/Y H:i")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        change = self.get_object(request, object_id)
        in_progress = change is not None and change.notices_sent < change.notices_total
        extra_context = {**(extra_context or {}), "in_progress": in_progress}
        return super().change_view(request, object_id, form_url, extra_context)
