"""Customers: the holder's record, consents included, under an overview of everything about them (contracts,
bills, payments, credits, default notices, complaints, communications: contracts.admin.customer_overview)."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from contracts import services
from contracts.admin import customer_overview
from contracts.admin.forms import CustomerAdminForm
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib import dates


@admin.register(Customer)
class CustomerAdmin(SafeLookupsAdmin):
    list_display = [
        "code",
        "name",
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
    change_form_template = "admin/accounts/customer/change_form.html"
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

    @admin.display(description=_("nome o ragione sociale"), ordering="last_name")
    def name(self, customer):
        return customer.display_name

    @admin.display(boolean=True, description=_("account"), ordering="user")
    def has_account(self, customer):
        return customer.user_id is not None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, unquote(object_id))
        if customer is not None:
            extra_context = {
                **(extra_context or {}),
                "overview": customer_overview.sections_for(customer, user=request.user, today=dates.today()),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            services.create_customer(customer=obj, now=timezone.now())
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        saved = services.update_customer(customer=obj, changes=changes, now=timezone.now())
        obj.health_data_consent_at = saved.health_data_consent_at
