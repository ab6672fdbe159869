"""The contract list's filters."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract, Service
from portal.lib import dates
from portal.lib.dates import add_days


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
            today = dates.today()
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
                return pending.filter(renewal_notice_due_on__gte=dates.today())
            return pending.filter(renewal_notice_due_on__lt=dates.today())
        if value == self.SENT:
            return queryset.filter(renewal_notice_sent_on__isnull=False, renewal_notice_late=False)
        if value == self.SENT_LATE:
            return queryset.filter(renewal_notice_sent_on__isnull=False, renewal_notice_late=True)
        return queryset
