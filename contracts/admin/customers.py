"""Customers: the holder's record, consents included, and their contracts at a glance."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from contracts import services
from contracts.admin.forms import CustomerAdminForm
from contracts.models import Contract
from portal.admin_display import ReadOnlyAdminMixin
from portal.admin_lookups import SafeLookupsAdmin


class CustomerContractInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Contract
    show_change_link = True
    fields = ["number", "offer_name", "status", "expires_on", "terminates_on"]
    readonly_fields = fields


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
    form = CustomerAdminForm
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
            _("Fatturazione elettronica"),
            {
                "description": _(
                    "Solo per le aziende: il codice destinatario oppure la PEC a cui lo SdI recapita le fatture "
                    "elettroniche, non entrambi. Vuoti: le fatture vanno nell'area riservata del cliente "
                    "sul sito dell'Agenzia delle Entrate. Copiato sulle prossime bollette emesse; per una "
                    "fattura scartata, correggere qui e poi reinviarla dalla sua fattura elettronica."
                ),
                "fields": [("sdi_code", "sdi_pec")],
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
        if not change:
            services.create_customer(customer=obj, now=timezone.now())
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        saved = services.update_customer(customer=obj, changes=changes, now=timezone.now())
        obj.health_data_consent_at = saved.health_data_consent_at
