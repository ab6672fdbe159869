"""The bills a record covers (a default notice, an instalment plan), as rows of its page: each bill with its
due date and what it still owes now, beside what the record asked of it."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.admin.common import euro
from portal.admin_display import ReadOnlyAdminMixin
from portal.lib.formatting import day as _day


class BillItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Read-only rows of a model with an `invoice` foreign key; subclasses name the fields, among them
    `due_on` and `outstanding_eur`, and add the column of their own amount."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    @admin.display(description=_("scadenza"))
    def due_on(self, item):
        return _day(item.invoice.due_on)

    @admin.display(description=_("ancora da pagare"))
    def outstanding_eur(self, item):
        return euro(item.invoice.outstanding)
