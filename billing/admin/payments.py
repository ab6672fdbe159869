"""Payments (registered once, through the service that allocates them), and the credits and charges the
services write: records staff read."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from billing import services
from billing.admin.common import AddedThroughServiceMixin, RecordViews, euro
from billing.admin.forms import ManualCreditForm, PaymentRegistrationForm
from billing.models import Charge, Credit, CreditUse, Payment, PaymentAllocation
from contracts.admin.customer_overview import change_url
from portal.admin_display import ReadOnlyAdminMixin
from portal.admin_display import day_with_badge as _day_with_badge
from portal.lib import dates
from portal.lib.formatting import day as _day


class _AddedOnRecordPage(AddedThroughServiceMixin, RecordViews):
    """A record added on a page that calls the service registering it, then shown on its change page."""

    def _add_page(self, request, *, form_class, initial, act, report, **page):
        """On a valid POST, `act(data)` registers the record and `report(record)` says what was done, to the
        user and in the history; otherwise the form again (`page`: the texts of `_record_page`)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = form_class(request.POST or None, initial=initial, admin_site=self.admin_site)
        record = self._submit(request, form, act)
        if record is None:
            return self._record_page(request, form=form, **page)
        message = report(record)
        self.log_addition(request, record, message)
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(change_url(record))


class PaymentAllocationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentAllocation
    fields = ["invoice", "amount_eur"]
    readonly_fields = fields
    verbose_name = _("bolletta pagata")
    verbose_name_plural = _("bollette pagate (dalla più vecchia, art. 6.1)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    @admin.display(description=_("importo"))
    def amount_eur(self, allocation):
        return euro(allocation.amount)


@admin.register(Payment)
class PaymentAdmin(_AddedOnRecordPage, admin.ModelAdmin):
    """A payment is registered once, through the service that allocates it; afterwards it is a record."""

    list_display = [
        "received",
        "customer",
        "amount_eur",
        "method",
        "invoice",
        "allocated",
        "transaction_id",
        "registered_by",
    ]
    list_filter = ["method"]
    list_select_related = ["customer", "invoice", "registered_by"]
    search_fields = ["transaction_id", "customer__code", "customer__last_name", "customer__company_name"]
    date_hierarchy = "received_on"
    autocomplete_fields = ["customer", "invoice"]
    inlines = [PaymentAllocationInline]
    fields = [
        "customer",
        "amount_eur",
        "received_on",
        "method",
        "invoice",
        "transaction_id",
        "note",
        "registered_by",
        "created_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(allocation_count=Count("allocations"))

    @admin.display(description=_("incassato il"), ordering="received_on")
    def received(self, payment):
        return _day(payment.received_on)

    @admin.display(description=_("importo"), ordering="amount")
    def amount_eur(self, payment):
        return euro(payment.amount)

    @admin.display(description=_("bollette pagate"), ordering="allocation_count")
    def allocated(self, payment):
        return payment.allocation_count

    def add_view(self, request, form_url="", extra_context=None):
        return self._add_page(
            request,
            form_class=PaymentRegistrationForm,
            initial={"received_on": dates.today()},
            act=lambda data: services.record_payment(
                customer=data["customer"],
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                invoice=data["invoice"],
                transaction_id=data["transaction_id"] or None,
                by=request.user,
            ),
            report=_payment_report,
            title=_("Registra un pagamento"),
            intro=_(
                "Il pagamento va alla bolletta indicata dal cliente, altrimenti ai debiti più vecchi (art. 6.1); "
                "gli interessi di mora finiscono nella bolletta successiva, l'eccedenza diventa un credito."
            ),
        )


def _payment_report(payment):
    allocations = [
        f"{allocation.invoice.number} {euro(allocation.amount)}"
        for allocation in payment.allocations.select_related("invoice").order_by("id")
    ]
    return _("Pagamento di %(amount)s registrato: %(allocations)s.") % {
        "amount": euro(payment.amount),
        "allocations": ", ".join(allocations) or _("nessuna bolletta aperta, diventa un credito"),
    }


class CreditUseInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditUse
    fields = ["invoice", "amount_eur"]
    readonly_fields = fields
    verbose_name_plural = _("detratto nelle bollette")

    @admin.display(description=_("importo"))
    def amount_eur(self, use):
        return euro(use.amount)


@admin.register(Credit)
class CreditAdmin(_AddedOnRecordPage, admin.ModelAdmin):
    """Credits are written by the services (indemnities, overpayments); an officer adds a manual one, with its
    reason, through services.grant_manual_credit, which records who granted it and when."""

    list_display = [
        "created",
        "customer",
        "reason",
        "short_description",
        "amount_eur",
        "remaining_eur",
        "pay_by_badge",
    ]
    list_filter = ["reason"]
    list_select_related = ["customer"]
    search_fields = ["customer__code", "customer__last_name", "customer__company_name", "source_key"]
    date_hierarchy = "created_on"
    fields = [
        "customer",
        "contract",
        "reason",
        "description",
        "amount_eur",
        "remaining_eur",
        "created_on",
        "pay_by",
        "source_key",
        "granted_by",
        "granted_at",
    ]
    readonly_fields = fields
    inlines = [CreditUseInline]

    def add_view(self, request, form_url="", extra_context=None):
        return self._add_page(
            request,
            form_class=ManualCreditForm,
            initial={"granted_on": dates.today()},
            act=lambda data: services.grant_manual_credit(by=request.user, **data),
            report=lambda credit: (
                _("Credito di %(amount)s concesso: %(reason)s")
                % {"amount": euro(credit.amount), "reason": credit.description}
            ),
            title=_("Concedi un credito al cliente"),
            intro=_(
                "Il credito è detratto dalle prossime bollette del cliente, dalla più vicina, con il motivo "
                "stampato sulla riga; resta registrato chi lo ha concesso e quando."
            ),
            submit=_("Concedi il credito"),
        )

    @admin.display(description=_("riconosciuto il"), ordering="created_on")
    def created(self, credit):
        return _day(credit.created_on)

    @admin.display(description=_("descrizione"))
    def short_description(self, credit):
        return Truncator(credit.description).chars(60)

    @admin.display(description=_("importo"), ordering="amount")
    def amount_eur(self, credit):
        return euro(credit.amount)

    @admin.display(description=_("da utilizzare"), ordering="remaining")
    def remaining_eur(self, credit):
        return euro(credit.remaining)

    @admin.display(description=_("da corrispondere entro"), ordering="pay_by")
    def pay_by_badge(self, credit):
        return _day_with_badge(credit.pay_by, pending=credit.remaining > 0)


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_on", "contract", "kind", "description", "amount_eur", "billed_on"]
    list_filter = ["kind", ("billed_on", admin.EmptyFieldListFilter)]
    list_select_related = ["contract", "billed_on"]
    search_fields = ["contract__number", "contract__customer__code", "description"]
    fields = ["contract", "kind", "description", "amount_eur", "created_on", "billed_on", "source_key"]
    readonly_fields = fields

    @admin.display(description=_("importo"), ordering="amount")
    def amount_eur(self, charge):
        return euro(charge.amount)
