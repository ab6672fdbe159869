"""SEPA direct debit mandates: signed and revoked by customers in the portal (contracts.mandates), records
that staff read and nobody changes."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from contracts.models import SddMandate
from portal.admin_display import ReadOnlyAdminMixin

MANDATE_FIELDS = [
    "reference",
    "status",
    "holder_name",
    "holder_tax_code",
    "iban",
    "signed_at",
    "signed_by",
    "signed_from_ip",
    "revoked_at",
    "revoked_by",
]


class MandateInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SddMandate
    fields = MANDATE_FIELDS
    readonly_fields = fields
    verbose_name_plural = _("mandati SDD (addebito diretto)")


@admin.register(SddMandate)
class SddMandateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "contract", "customer", "status", "holder_name", "signed_at", "revoked_at"]
    list_filter = ["status"]
    list_select_related = ["contract__customer"]
    search_fields = ["=reference", "contract__number", "contract__customer__code", "=iban", "holder_name"]
    date_hierarchy = "signed_at"
    fields = ["contract", *MANDATE_FIELDS, "previous_payment_method"]
    readonly_fields = fields

    @admin.display(description=_("cliente"))
    def customer(self, mandate):
        return mandate.contract.customer
