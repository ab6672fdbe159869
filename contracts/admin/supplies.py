"""A contract's services (supplies, lines, add-ons): the fields of each kind, activation, meter readings.

Status and dates change only through services (activation, withdrawal, the deactivation sweep)."""

from django.contrib import admin
from django.forms import ModelForm
from django.utils.translation import gettext_lazy as _

from contracts import services
from contracts.admin.forms import ServiceActivationForm
from contracts.admin.helpers import apply_each, ask
from contracts.models import MeterReading, Service
from portal.admin_display import ReadOnlyAdminMixin
from portal.admin_display import day_with_badge as _day_with_badge
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib import dates
from portal.lib.formatting import day as _day


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


class MeterReadingInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MeterReading
    fields = ["read_on", "value", "source", "submitted_by", "submitted_at"]
    readonly_fields = fields
    ordering = ["-read_on", "-id"]


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
        # A service ends through a withdrawal or its contract's end; never deleted (nor "delete selected").
        return False

    @admin.display(description=_("cliente"))
    def customer(self, service):
        return service.contract.customer

    @admin.display(description=_("si disattiva il"), ordering="deactivates_on")
    def deactivation(self, service):
        return _day_with_badge(service.deactivates_on, pending=service.status == Service.Status.DEACTIVATING)

    @admin.action(description=_("Attiva i servizi selezionati"), permissions=["change"])
    def activate(self, request, queryset):
        selected = list(queryset.select_related("contract"))
        data, page = ask(
            self,
            request,
            ServiceActivationForm,
            selected,
            initial={"activated_on": dates.today()},
            page=dict(
                action="activate",
                title=_("Attiva i servizi"),
                intro=_("Il primo servizio attivato di un contratto avvia il suo periodo di 12 mesi."),
                submit=_("Attiva"),
            ),
        )
        if page is not None:
            return page
        apply_each(
            self,
            request,
            selected,
            lambda service: services.activate_service(service=service, activated_on=data["activated_on"]),
            lambda service: _("Servizio attivato il %(day)s.") % {"day": _day(service.activated_on)},
            label=lambda service: f"{service.contract.number} · {service}",
        )
        return None
