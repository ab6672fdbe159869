"""Card payments made in the Area Clienti, and the attempts that failed: records the provider's notifications
wrote (billing.online.services). The one thing staff do is refund a confirmed one, through the provider."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.admin.common import error_text, euro
from billing.admin.forms import OnlinePaymentRefundForm
from billing.models import OnlinePayment, OnlinePaymentItem
from billing.online import services as online_services
from portal.admin_display import ReadOnlyAdminMixin, action_form_page


class OnlinePaymentItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OnlinePaymentItem
    fields = ["invoice", "amount", "payment"]
    readonly_fields = fields
    verbose_name_plural = _("bollette")


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created",
        "customer",
        "total_eur",
        "status",
        "transaction_id",
        "refunded_eur",
        "refunded_by",
    ]
    list_filter = ["status", "variant"]
    list_select_related = ["customer", "refunded_by"]
    search_fields = [
        "transaction_id",
        "token",
        "customer__code",
        "customer__last_name",
        "customer__company_name",
    ]
    date_hierarchy = "created"
    inlines = [OnlinePaymentItemInline]
    fields = [
        "customer",
        "variant",
        "status",
        "total",
        "captured_amount",
        "transaction_id",
        "token",
        "created",
        "confirmed_at",
        "receipt_sent_at",
        "refunded_amount",
        "refund_reason",
        "refunded_by",
        "refunded_at",
    ]
    readonly_fields = fields
    actions = ["refund"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_refund_permission(self, request):
        return request.user.has_perm("billing.change_onlinepayment")

    @admin.display(description=_("importo"), ordering="total")
    def total_eur(self, online_payment):
        return euro(online_payment.total)

    @admin.display(description=_("rimborsato"), ordering="refunded_amount")
    def refunded_eur(self, online_payment):
        return euro(online_payment.refunded_amount) if online_payment.refunded_amount else "—"

    @admin.action(description=_("Rimborsa sulla carta"), permissions=["refund"])
    def refund(self, request, queryset):
        form = OnlinePaymentRefundForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return action_form_page(
                self,
                request,
                list(queryset.select_related("customer")),
                form=form,
                action="refund",
                title=_("Rimborsa sulla carta"),
                intro=_(
                    "Il gestore dei pagamenti restituisce l'importo sulla carta; i pagamenti registrati vengono "
                    "stornati e le bollette tornano da pagare."
                ),
                submit=_("Rimborsa"),
            )
        for online_payment in queryset:
            try:
                online_services.refund_online_payment(
                    online_payment=online_payment,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            except ValidationError as error:
                self.message_user(request, f"{online_payment}: {error_text(error)}", messages.ERROR)
                continue
            message = _("Rimborsato sulla carta: %(reason)s") % {"reason": form.cleaned_data["reason"]}
            self.log_change(request, online_payment, message)
            self.message_user(request, f"{online_payment.transaction_id}: {message}", messages.SUCCESS)
        return None
