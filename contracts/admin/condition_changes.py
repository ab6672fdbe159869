"""Unilateral changes of conditions (CG 9.3): announced from the contract list, followed here."""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing.models import Tariff
from contracts.models import ConditionChange, ConditionChangeNotice
from portal.admin_display import ReadOnlyAdminMixin
from portal.admin_display import day_with_badge as _day_with_badge
from portal.lib import dates
from portal.lib.formatting import day as _day


class ConditionChangeNoticeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ConditionChangeNotice
    fields = ["contract", "customer", "sent_on", "rises", "withdrawal_window"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contract__customer").order_by("contract__number")

    @admin.display(description=_("cliente"))
    def customer(self, notice):
        return notice.contract.customer

    @admin.display(description=_("aumenti di prezzo"))
    def rises(self, notice):
        return (
            "; ".join(f"{rise['label']}: {rise['old']} → {rise['new']}" for rise in notice.price_rises) or "—"
        )

    @admin.display(description=_("recesso senza costi fino al"))
    def withdrawal_window(self, notice):
        today = dates.today()
        return _day_with_badge(
            notice.withdrawal_until,
            pending=bool(notice.withdrawal_until and notice.withdrawal_until >= today),
        )


@admin.register(ConditionChange)
class ConditionChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Announced from the contract list ("Annuncia variazione delle condizioni"); here staff follow the
    sending and see who received it. What was announced is a record: nobody edits it afterwards."""

    list_display = ["title", "effective", "raises_prices", "sent", "progress", "author", "created"]
    list_filter = ["raises_prices"]
    list_select_related = ["created_by"]
    search_fields = ["title", "notices__contract__number"]
    date_hierarchy = "created_at"
    fields = [
        "title",
        "description",
        "effective",
        "prices",
        "raises_prices",
        "sent",
        "progress",
        "author",
        "created",
    ]
    readonly_fields = fields
    inlines = [ConditionChangeNoticeInline]
    change_form_template = "admin/contracts/conditionchange/change_form.html"

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

    @admin.display(description=_("nuovi prezzi"))
    def prices(self, change):
        return (
            "; ".join(
                f"{Tariff._meta.get_field(name).verbose_name}: {price}"
                for name, price in change.new_prices.items()
            )
            or "—"
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
