"""Withdrawals (recessi), the customer's and the supplier's, and cooling-offs: records written by the
services, changed by nobody."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from contracts.models import WithdrawalRequest
from portal.admin_display import ReadOnlyAdminMixin

WITHDRAWAL_FIELDS = [
    "kind",
    "service",
    "received_on",
    "effective_on",
    "early_termination_charge",
    "channel",
    "requested_by",
    "created_at",
]


class WithdrawalInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WithdrawalRequest
    fields = WITHDRAWAL_FIELDS
    readonly_fields = fields


@admin.register(WithdrawalRequest)
class WithdrawalRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
    fields = ["contract", *WITHDRAWAL_FIELDS]
    readonly_fields = fields

    @admin.display(description=_("cliente"))
    def customer(self, withdrawal):
        return withdrawal.contract.customer
