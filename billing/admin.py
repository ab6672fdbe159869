"""Back office for billing: invoices, payments, credits and charges, rates and tariffs, default notices.

An issued invoice is a record: it is shown read-only and never deleted; corrections are credit notes. Payments
are registered through `services.record_payment` (allocation oldest first), default notices move only
through `billing.dunning`. Every action calls a service, reports with `message_user` and is written to
admin's history (who and when); a refusal is shown on the form, never as an error page.
"""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.forms import ModelForm
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import dunning, dunning_tasks, services
from billing.admin_forms import (
    CancelNoticeForm,
    CreditNoteForm,
    DispatchForm,
    DunningBlockForm,
    PaymentRegistrationForm,
    ReactivationForm,
    ReceiptForm,
    StandaloneSuspensionStepForm,
    StepExecutionForm,
    SuspensionStepForm,
)
from billing.models import (
    Charge,
    Credit,
    CreditUse,
    DefaultNotice,
    DefaultNoticeItem,
    InterestRate,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    SuspensionStep,
    Tariff,
)
from contracts.models import Service
from portal.admin_display import LISTED_ON_CONFIRMATION, action_form_page
from portal.admin_display import day as _day
from portal.admin_display import day_with_badge as _day_with_badge
from portal.admin_display import today as _today
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib.money import round_money

_BADGE = (
    '<span style="background:{};color:#fff;padding:1px 6px;border-radius:8px;white-space:nowrap">{}</span>'
)
# Colours keep a 4.5:1 contrast with white text (as portal.admin_display).
INVOICE_COLOURS = {
    Invoice.Status.DRAFT: "#5f5f5b",
    Invoice.Status.ISSUED: "#0b4f8a",
    Invoice.Status.PARTIALLY_PAID: "#8a5300",
    Invoice.Status.PAID: "#1e6b34",
    Invoice.Status.OVERDUE: "#b42318",
    Invoice.Status.CANCELLED: "#5f5f5b",
}
NOTICE_COLOURS = {
    DefaultNotice.Status.PREPARED: "#0b4f8a",
    DefaultNotice.Status.DISPATCHED: "#8a5300",
    DefaultNotice.Status.SUSPENSION_ALLOWED: "#b42318",
    DefaultNotice.Status.POWER_REDUCED: "#b42318",
    DefaultNotice.Status.SUSPENSION_REQUESTED: "#b42318",
    DefaultNotice.Status.SUSPENDED: "#7a1010",
    DefaultNotice.Status.CLOSED_PAID: "#1e6b34",
    DefaultNotice.Status.REACTIVATED: "#1e6b34",
    DefaultNotice.Status.CANCELLED: "#5f5f5b",
}


def euro(value) -> str:
    """1234.5 → "1.234,50 €": Italian format whatever the staff member's language."""
    if value is None:
        return "—"
    text = f"{round_money(Decimal(value)):,.2f}".translate(str.maketrans(",.", ".,"))
    return f"{text}\N{NO-BREAK SPACE}€"


def _add_errors(form, error: ValidationError) -> None:
    """A service's refusal on the form: on the field it names when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


class _RecordViews:
    """Intermediate pages that collect what a service needs and call it (admin/billing/record.html)."""

    def _record_page(self, request, *, form, title, intro="", obj=None, details=(), submit=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "intro": intro,
            "form": form,
            "object": obj,
            "details": details,
            "submit_label": submit or _("Registra"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/billing/record.html", context)

    def _require_change(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied


# ---------------------------------------------------------------------------------------------------------
# Invoices
# ---------------------------------------------------------------------------------------------------------


class InvoiceLineForm(ModelForm):
    class Meta:
        model = InvoiceLine
        fields = ["position", "kind", "description", "quantity", "unit", "unit_price", "vat_rate"]

    def save(self, commit=True):
        line = super().save(commit=False)
        # The one rounding rule, as the services apply it: quantity × unit price, rounded once per line.
        line.amount = services.LineSpec(
            kind=line.kind, description=line.description, unit_price=line.unit_price, quantity=line.quantity
        ).amount
        if commit:
            line.save()
        return line


class InvoiceLineInline(admin.TabularInline):
    """Editable on a draft; read-only once the invoice is issued."""

    model = InvoiceLine
    form = InvoiceLineForm
    extra = 0
    fields = ["position", "kind", "description", "quantity", "unit", "unit_price", "vat_rate", "amount_eur"]
    readonly_fields = ["amount_eur"]

    @admin.display(description=_("importo"))
    def amount_eur(self, line):
        return euro(line.amount) if line.pk else "—"

    def has_add_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_issued) and super().has_delete_permission(request, obj)


class InvoiceAllocationInline(admin.TabularInline):
    model = PaymentAllocation
    extra = 0
    can_delete = False
    fields = ["payment", "received_on", "amount_eur"]
    readonly_fields = fields
    verbose_name = _("pagamento ricevuto")
    verbose_name_plural = _("pagamenti ricevuti")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("incassato il"))
    def received_on(self, allocation):
        return _day(allocation.payment.received_on)

    @admin.display(description=_("importo"))
    def amount_eur(self, allocation):
        return euro(allocation.amount)


@admin.register(Invoice)
class InvoiceAdmin(_RecordViews, SafeLookupsAdmin):
    list_display = [
        "number_or_draft",
        "holder",
        "period",
        "issued",
        "due",
        "total_eur",
        "paid_eur",
        "status_badge",
        "pdf_link",
    ]
    list_display_links = ["number_or_draft"]
    list_filter = ["status", "kind", "dunning_blocked", "is_closing"]
    list_select_related = ["customer"]
    search_fields = [
        "number",
        "payment_notice_code",
        "customer__code",
        "customer__last_name",
        "customer__company_name",
        "customer_name",
        "contract__number",
    ]
    search_help_text = _(
        "Numero di bolletta, codice avviso, codice cliente, nome o ragione sociale, contratto."
    )
    date_hierarchy = "issued_on"
    ordering = ["-issued_on", "-sequence", "-id"]
    inlines = [InvoiceLineInline, InvoiceAllocationInline]
    actions = ["issue_credit_notes", "block_dunning", "unblock_dunning"]
    fieldsets = [
        (None, {"fields": ["kind", "number", "status_badge", "corrects", "contract", "customer"]}),
        (
            _("Periodo e scadenze"),
            {"fields": [("period_start", "period_end", "is_closing"), ("issued_on", "due_on")]},
        ),
        (
            _("Dati stampati in bolletta"),
            {
                "fields": [
                    ("customer_name", "customer_code", "customer_tax_id"),
                    "billing_address",
                    ("contract_number", "offer_name"),
                    ("payment_method", "payment_notice_code"),
                ]
            },
        ),
        (
            _("Importi"),
            {
                "fields": [
                    ("taxable_eur", "vat_eur", "outside_vat_eur", "stamp_duty_eur"),
                    ("total_eur", "paid_eur"),
                ]
            },
        ),
        (
            _("Solleciti"),
            {"fields": [("dunning_due_on", "dunning_blocked", "dunning_blocked_reason"), "notices"]},
        ),
        (_("Documento"), {"fields": ["pdf_link", "pdf_rendered_at"]}),
    ]
    # What staff may change on a draft; everything else is set by the services.
    DRAFT_FIELDS = ["period_start", "period_end", "is_closing"]

    def get_readonly_fields(self, request, obj=None):
        fields = {
            name for fieldset in self.fieldsets for row in fieldset[1]["fields"] for name in _flatten(row)
        }
        if obj is not None and not obj.is_issued:
            fields -= set(self.DRAFT_FIELDS)
        return sorted(fields)

    # Invoices are built by the invoice run; an issued one is never edited or deleted (corrections: credit
    # notes), in admin either.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_issued:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_issued:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would bypass Invoice.delete()
        return actions

    # --- columns ------------------------------------------------------------------------------------------

    @admin.display(description=_("numero"), ordering="sequence")
    def number_or_draft(self, invoice):
        label = invoice.number or _("bozza #%(pk)s") % {"pk": invoice.pk}
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            return format_html("{} <small>({})</small>", label, _("nota di credito"))
        return label

    @admin.display(description=_("cliente"), ordering="customer__code")
    def holder(self, invoice):
        return invoice.customer

    @admin.display(description=_("periodo"), ordering="period_start")
    def period(self, invoice):
        start, end = invoice.period_start, invoice.period_end
        if start.year == end.year:
            return format_html('<span style="white-space:nowrap">{}–{}</span>', f"{start:%d/%m}", _day(end))
        return f"{_day(start)}–{_day(end)}"

    @admin.display(description=_("emessa il"), ordering="issued_on")
    def issued(self, invoice):
        return _day(invoice.issued_on)

    @admin.display(description=_("scadenza"), ordering="due_on")
    def due(self, invoice):
        pending = invoice.kind == Invoice.Kind.INVOICE and invoice.status in Invoice.OPEN_STATUSES
        return _day_with_badge(invoice.due_on, pending=pending)

    @admin.display(description=_("totale"), ordering="total")
    def total_eur(self, invoice):
        return euro(invoice.total)

    @admin.display(description=_("pagato"), ordering="amount_paid")
    def paid_eur(self, invoice):
        return euro(invoice.amount_paid)

    @admin.display(description=_("imponibile"))
    def taxable_eur(self, invoice):
        return euro(invoice.total_taxable)

    @admin.display(description=_("IVA"))
    def vat_eur(self, invoice):
        return euro(invoice.total_vat)

    @admin.display(description=_("fuori campo IVA"))
    def outside_vat_eur(self, invoice):
        return euro(invoice.total_outside_vat)

    @admin.display(description=_("bollo"))
    def stamp_duty_eur(self, invoice):
        return euro(invoice.stamp_duty)

    @admin.display(description=_("stato"), ordering="status")
    def status_badge(self, invoice):
        return format_html(_BADGE, INVOICE_COLOURS[invoice.status], invoice.get_status_display())

    @admin.display(description=_("PDF"))
    def pdf_link(self, invoice):
        if not invoice.pdf:
            return "—"
        url = reverse("admin:billing_invoice_pdf", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, _("Scarica"))

    @admin.display(description=_("costituzioni in mora"))
    def notices(self, invoice):
        rows = [
            (
                reverse("admin:billing_defaultnotice_change", args=[notice.pk]),
                notice.reference,
                notice.get_status_display(),
            )
            for notice in invoice.default_notices.all()
        ]
        if not rows:
            return "—"
        return format_html_join(", ", '<a href="{}">{}</a> ({})', rows)

    # --- the PDF ----------------------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="billing_invoice_pdf"),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        """The stored PDF, served to staff (media is private: never served by URL)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice.objects.exclude(pdf=""), pk=pk)
        try:
            handle = invoice.pdf.open("rb")
        except FileNotFoundError:
            raise Http404("invoice PDF missing from storage") from None
        name = f"bolletta-{(invoice.number or str(invoice.pk)).replace('/', '-')}.pdf"
        return FileResponse(handle, as_attachment=True, filename=name, content_type="application/pdf")

    # --- actions ------------------------------------------------------------------------------------------

    def _action_page(self, request, queryset, *, form, action, title, intro, submit):
        return action_form_page(
            self,
            request,
            list(queryset[: LISTED_ON_CONFIRMATION + 1]),
            count=queryset.count(),
            form=form,
            action=action,
            title=title,
            intro=intro,
            submit=submit,
        )

    @admin.action(description=_("Emetti nota di credito"), permissions=["change"])
    def issue_credit_notes(self, request, queryset):
        form = CreditNoteForm(
            request.POST if "apply" in request.POST else None, initial={"issued_on": _today()}
        )
        if not form.is_valid():
            return self._action_page(
                request,
                queryset.select_related("customer"),
                form=form,
                action="issue_credit_notes",
                title=_("Emetti nota di credito"),
                intro=_(
                    "Ogni bolletta selezionata viene annullata da una nota di credito che ne storna tutte le righe; "
                    "quanto già pagato diventa un credito per le bollette successive."
                ),
                submit=_("Emetti le note di credito"),
            )
        for invoice in queryset:
            try:
                note = services.issue_credit_note(
                    invoice=invoice,
                    issued_on=form.cleaned_data["issued_on"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                self.message_user(request, f"{invoice}: {_messages(error)}", messages.ERROR)
                continue
            message = _("Annullata con la nota di credito %(number)s: %(reason)s") % {
                "number": note.number,
                "reason": form.cleaned_data["reason"],
            }
            self.log_change(request, invoice, message)
            self.log_addition(request, note, message)
            self.message_user(request, f"{invoice.number}: {message}", messages.SUCCESS)
        return None

    @admin.action(description=_("Blocca i solleciti (reclamo per bolletta anomala)"), permissions=["change"])
    def block_dunning(self, request, queryset):
        form = DunningBlockForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._action_page(
                request,
                queryset.select_related("customer"),
                form=form,
                action="block_dunning",
                title=_("Blocca i solleciti"),
                intro=_(
                    "Una bolletta anomala contestata con reclamo non può portare alla sospensione prima della "
                    "risposta motivata (ARERA): resta fuori dalle costituzioni in mora finché non sblocchi."
                ),
                submit=_("Blocca"),
            )
        for invoice in queryset:
            dunning.block_dunning(invoice=invoice, reason=form.cleaned_data["reason"])
            self.log_change(request, invoice, _("Solleciti bloccati: %(reason)s") % form.cleaned_data)
        self.message_user(request, _("Solleciti bloccati."), messages.SUCCESS)
        return None

    @admin.action(description=_("Sblocca i solleciti"), permissions=["change"])
    def unblock_dunning(self, request, queryset):
        for invoice in queryset.filter(dunning_blocked=True):
            dunning.unblock_dunning(invoice=invoice)
            self.log_change(request, invoice, _("Solleciti sbloccati."))
        self.message_user(request, _("Solleciti sbloccati."), messages.SUCCESS)


def _flatten(row):
    return row if isinstance(row, tuple | list) else (row,)


# ---------------------------------------------------------------------------------------------------------
# Payments, credits, charges
# ---------------------------------------------------------------------------------------------------------


class PaymentAllocationInline(admin.TabularInline):
    model = PaymentAllocation
    extra = 0
    can_delete = False
    fields = ["invoice", "amount_eur"]
    readonly_fields = fields
    verbose_name = _("bolletta pagata")
    verbose_name_plural = _("bollette pagate (dalla più vecchia, art. 6.1)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("importo"))
    def amount_eur(self, allocation):
        return euro(allocation.amount)


@admin.register(Payment)
class PaymentAdmin(_RecordViews, admin.ModelAdmin):
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

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PaymentRegistrationForm(
            request.POST or None, initial={"received_on": _today()}, admin_site=self.admin_site
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                payment = services.record_payment(
                    customer=data["customer"],
                    amount=data["amount"],
                    received_on=data["received_on"],
                    method=data["method"],
                    invoice=data["invoice"],
                    transaction_id=data["transaction_id"] or None,
                    by=request.user,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                allocations = [
                    f"{allocation.invoice.number} {euro(allocation.amount)}"
                    for allocation in payment.allocations.select_related("invoice").order_by("id")
                ]
                message = _("Pagamento di %(amount)s registrato: %(allocations)s.") % {
                    "amount": euro(payment.amount),
                    "allocations": ", ".join(allocations) or _("nessuna bolletta aperta, diventa un credito"),
                }
                self.log_addition(request, payment, message)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:billing_payment_change", args=[payment.pk]))
        return self._record_page(
            request,
            form=form,
            title=_("Registra un pagamento"),
            intro=_(
                "Il pagamento va alla bolletta indicata dal cliente, altrimenti ai debiti più vecchi (art. 6.1); "
                "gli interessi di mora finiscono nella bolletta successiva, l'eccedenza diventa un credito."
            ),
        )


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreditUseInline(admin.TabularInline):
    model = CreditUse
    extra = 0
    can_delete = False
    fields = ["invoice", "amount_eur"]
    readonly_fields = fields
    verbose_name_plural = _("detratto nelle bollette")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("importo"))
    def amount_eur(self, use):
        return euro(use.amount)


@admin.register(Credit)
class CreditAdmin(_ReadOnlyAdmin):
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
    ]
    readonly_fields = fields
    inlines = [CreditUseInline]

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
class ChargeAdmin(_ReadOnlyAdmin):
    list_display = ["created_on", "contract", "kind", "description", "amount_eur", "billed_on"]
    list_filter = ["kind", ("billed_on", admin.EmptyFieldListFilter)]
    list_select_related = ["contract", "billed_on"]
    search_fields = ["contract__number", "contract__customer__code", "description"]
    fields = ["contract", "kind", "description", "amount_eur", "created_on", "billed_on", "source_key"]
    readonly_fields = fields

    @admin.display(description=_("importo"), ordering="amount")
    def amount_eur(self, charge):
        return euro(charge.amount)


@admin.register(InterestRate)
class InterestRateAdmin(admin.ModelAdmin):
    """The dated rate tables of late-payment interest (CG 6.1): a new row from the day a rate changes."""

    list_display = ["kind", "valid_from", "value", "source"]
    list_filter = ["kind"]
    ordering = ["kind", "-valid_from"]


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = [
        "offer_name",
        "energy_price_kwh",
        "gas_price_smc",
        "electricity_monthly_fee",
        "gas_monthly_fee",
    ]
    search_fields = ["offer_name"]


# ---------------------------------------------------------------------------------------------------------
# Default notices (dunning)
# ---------------------------------------------------------------------------------------------------------


class DefaultNoticeItemInline(admin.TabularInline):
    model = DefaultNoticeItem
    extra = 0
    can_delete = False
    fields = ["invoice", "due_on", "amount_due_eur", "outstanding_eur", "blocked"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("scadenza"))
    def due_on(self, item):
        return _day(item.invoice.due_on)

    @admin.display(description=_("richiesto"))
    def amount_due_eur(self, item):
        return euro(item.amount_due)

    @admin.display(description=_("ancora da pagare"))
    def outstanding_eur(self, item):
        return euro(item.invoice.outstanding)

    @admin.display(description=_("solleciti bloccati"), boolean=True)
    def blocked(self, item):
        return item.invoice.dunning_blocked


class SuspensionStepInline(admin.TabularInline):
    model = SuspensionStep
    extra = 0
    can_delete = False
    fields = [
        "kind",
        "service",
        "requested_on",
        "executed",
        "allowed_on",
        "override_reason",
        "indemnity_eur",
        "fees_waived",
        "recorded_by",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "indemnity", "recorded_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("eseguito il"))
    def executed(self, step):
        if step.executed_on:
            return _day(step.executed_on)
        url = reverse("admin:billing_defaultnotice_execution", args=[step.notice_id, step.pk])
        return format_html(
            '<a class="button" style="white-space:nowrap" href="{}">{}</a>', url, _("Registra esecuzione")
        )

    @admin.display(description=_("indennizzo"))
    def indemnity_eur(self, step):
        if not step.indemnity_id:
            return "—"
        url = reverse("admin:billing_credit_change", args=[step.indemnity_id])
        return format_html('<a href="{}">{}</a>', url, euro(step.indemnity.amount))


class NoticeStageFilter(admin.SimpleListFilter):
    """Open notices by what staff have to do; then all."""

    title = _("da fare")
    parameter_name = "fase"
    STAGES = {
        "da-inviare": (
            _("Da inviare"),
            {"status": DefaultNotice.Status.PREPARED, "communication__isnull": True},
        ),
        "raccomandate-da-spedire": (
            _("Raccomandate da spedire"),
            {"status": DefaultNotice.Status.PREPARED, "communication__isnull": False},
        ),
        "in-attesa": (_("Termine di pagamento in corso"), {"status": DefaultNotice.Status.DISPATCHED}),
        "sospensione-consentita": (
            _("Sospensione consentita"),
            {"status": DefaultNotice.Status.SUSPENSION_ALLOWED},
        ),
        "interventi": (
            _("Interventi in corso"),
            {
                "status__in": [
                    DefaultNotice.Status.POWER_REDUCED,
                    DefaultNotice.Status.SUSPENSION_REQUESTED,
                    DefaultNotice.Status.SUSPENDED,
                ]
            },
        ),
        "aperte": (_("Tutte le aperte"), {"status__in": DefaultNotice.OPEN_STATUSES}),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _filter) in self.STAGES.items()]

    def queryset(self, request, queryset):
        if self.value() in self.STAGES:
            return queryset.filter(**self.STAGES[self.value()][1])
        return queryset


@admin.register(DefaultNotice)
class DefaultNoticeAdmin(_RecordViews, admin.ModelAdmin):
    """Costituzioni in mora: sent by staff, then swept to "suspension allowed"; every step through a form
    that calls billing.dunning, which refuses what the regulation does not allow yet."""

    list_display = [
        "reference_link",
        "customer",
        "status_badge",
        "channel",
        "total_eur",
        "sent",
        "payment_deadline",
        "suspension_allowed",
        "next_step",
    ]
    list_display_links = None
    list_filter = [NoticeStageFilter, "status", "channel", "repeat_default"]
    list_select_related = ["customer"]
    search_fields = [
        "customer__code",
        "customer__last_name",
        "customer__company_name",
        "tracking_number",
        "items__invoice__number",
    ]
    date_hierarchy = "prepared_on"
    inlines = [DefaultNoticeItemInline, SuspensionStepInline]
    actions = ["send_by_pec", "prepare_letters"]
    change_list_template = "admin/billing/defaultnotice/change_list.html"
    change_form_template = "admin/billing/defaultnotice/change_form.html"
    fieldsets = [
        (
            None,
            {"fields": ["customer", "status_badge", "channel", "prepared_on", "total_eur", "repeat_default"]},
        ),
        (
            _("Invio e termini"),
            {
                "fields": [
                    ("sent_on", "tracking_number", "dispatch_recorded_by"),
                    ("received_on", "presumed_receipt", "receipt_recorded_by"),
                    "payment_deadline",
                    "suspension_allowed",
                    "communication_link",
                ]
            },
        ),
        (
            _("Chiusura"),
            {"fields": [("closed_on", "closed_by"), "payment_proven_on", "cancel_reason"]},
        ),
    ]
    readonly_fields = [
        name for fieldset in fieldsets for row in fieldset[1]["fields"] for name in _flatten(row)
    ]

    def has_add_permission(self, request):
        return False  # prepared by the sweep

    def has_change_permission(self, request, obj=None):
        # Without an object: may staff use the actions and the pages below. With one: is the change form
        # editable — never, a notice changes only through those pages.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- columns ------------------------------------------------------------------------------------------

    @admin.display(description=_("costituzione in mora"), ordering="id")
    def reference_link(self, notice):
        url = reverse("admin:billing_defaultnotice_change", args=[notice.pk])
        return format_html('<a href="{}">{}</a>', url, notice.reference)

    @admin.display(description=_("stato"), ordering="status")
    def status_badge(self, notice):
        return format_html(_BADGE, NOTICE_COLOURS[notice.status], notice.get_status_display())

    @admin.display(description=_("predisposta il"), ordering="prepared_on")
    def prepared(self, notice):
        return _day(notice.prepared_on)

    @admin.display(description=_("importo"), ordering="total_due")
    def total_eur(self, notice):
        return euro(notice.total_due)

    @admin.display(description=_("inviata il"), ordering="sent_on")
    def sent(self, notice):
        return _day(notice.sent_on)

    @admin.display(description=_("termine di pagamento"), ordering="payment_due_on")
    def payment_deadline(self, notice):
        return _day_with_badge(
            notice.payment_due_on, pending=notice.status == DefaultNotice.Status.DISPATCHED
        )

    @admin.display(description=_("sospensione consentita dal"), ordering="suspension_allowed_on")
    def suspension_allowed(self, notice):
        pending = notice.status in (DefaultNotice.Status.DISPATCHED, DefaultNotice.Status.SUSPENSION_ALLOWED)
        return _day_with_badge(notice.suspension_allowed_on, pending=pending)

    @admin.display(description=_("ricezione presunta"))
    def presumed_receipt(self, notice):
        if notice.sent_on is None or notice.received_on:
            return "—"
        return _day(dunning.receipt_day(notice))

    @admin.display(description=_("comunicazione"))
    def communication_link(self, notice):
        if notice.communication_id is None:
            return "—"
        url = reverse("admin:notifications_communication_change", args=[notice.communication_id])
        return format_html('<a href="{}">{}</a>', url, _("Lettera e invii"))

    @admin.display(description=_("prossimo passo"))
    def next_step(self, notice):
        operations = self._operations(notice)
        if not operations:
            return "—"
        label, url = operations[0]
        return format_html('<a class="button" href="{}">{}</a>', url, label)

    def _operations(self, notice):
        """What staff can do next with the notice: (label, url), the most likely first."""
        Status = DefaultNotice.Status
        url = lambda name, *args: reverse(f"admin:billing_defaultnotice_{name}", args=[notice.pk, *args])  # noqa: E731
        operations = []
        if notice.is_collecting:
            operations.append((_("Invia…"), url("send")))
        elif notice.status == Status.PREPARED:
            operations.append((_("Registra spedizione"), url("dispatch")))
        if notice.status in (Status.DISPATCHED, Status.SUSPENSION_ALLOWED) and not notice.received_on:
            operations.append((_("Registra ricevuta"), url("receipt")))
        if notice.status in dunning.STEP_STATUSES and notice.status != Status.DISPATCHED:
            operations.insert(0, (_("Registra intervento"), url("step")))
        elif notice.status == Status.DISPATCHED:
            operations.append((_("Registra intervento"), url("step")))
        if notice.status in (Status.POWER_REDUCED, Status.SUSPENSION_REQUESTED, Status.SUSPENDED):
            operations.append((_("Riattiva"), url("reactivate")))
        if notice.status in DefaultNotice.CLOSABLE_BY_PAYMENT:
            operations.append((_("Annulla"), url("cancel")))
        return operations

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notice = self.get_object(request, object_id)
        operations = self._operations(notice) if notice and self.has_change_permission(request) else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "operations": operations}
        )

    # --- bulk actions: sending renders PDFs, so it is queued (DESIGN.md §4) -------------------------------

    @admin.action(description=_("Invia via PEC le costituzioni in mora selezionate"), permissions=["change"])
    def send_by_pec(self, request, queryset):
        collecting = queryset.filter(status=DefaultNotice.Status.PREPARED, communication__isnull=True)
        with_pec = collecting.exclude(customer__pec="")
        self._queue(
            request,
            with_pec,
            DefaultNotice.Channel.PEC,
            _("PEC in partenza per %(count)d costituzioni in mora."),
        )
        without = collecting.filter(customer__pec="").count()
        if without:
            self.message_user(
                request,
                ngettext(
                    "%(count)d cliente senza PEC: usa «Prepara le raccomandate».",
                    "%(count)d clienti senza PEC: usa «Prepara le raccomandate».",
                    without,
                )
                % {"count": without},
                messages.WARNING,
            )
        self._report_skipped(request, queryset.count() - collecting.count())

    @admin.action(description=_("Prepara le raccomandate da stampare"), permissions=["change"])
    def prepare_letters(self, request, queryset):
        collecting = queryset.filter(status=DefaultNotice.Status.PREPARED, communication__isnull=True)
        self._queue(
            request,
            collecting,
            DefaultNotice.Channel.RACCOMANDATA,
            _("%(count)d raccomandate in preparazione: le trovi tra poco in «Lettere da spedire»."),
        )
        self._report_skipped(request, queryset.count() - collecting.count())

    def _queue(self, request, queryset, channel, done):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        if not ids:
            return
        for notice in queryset:
            self.log_change(request, notice, str(done % {"count": 1}))
        # robust: a broker outage leaves the notices "da inviare", visibly, instead of an error page.
        transaction.on_commit(
            lambda: dunning_tasks.send_default_notices.delay(ids, channel, request.user.pk), robust=True
        )
        self.message_user(request, done % {"count": len(ids)}, messages.SUCCESS)

    def _report_skipped(self, request, skipped):
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d costituzione in mora ignorata: non è da inviare.",
                    "%(count)d costituzioni in mora ignorate: non sono da inviare.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    # --- per-notice pages ----------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("oggi/", view(self.worklist_view), name="billing_defaultnotice_worklist"),
            path("<int:pk>/invio/", view(self.send_view), name="billing_defaultnotice_send"),
            path("<int:pk>/spedizione/", view(self.dispatch_view), name="billing_defaultnotice_dispatch"),
            path("<int:pk>/ricevuta/", view(self.receipt_view), name="billing_defaultnotice_receipt"),
            path("<int:pk>/intervento/", view(self.step_view), name="billing_defaultnotice_step"),
            path(
                "<int:pk>/intervento/<int:step_pk>/esecuzione/",
                view(self.execution_view),
                name="billing_defaultnotice_execution",
            ),
            path(
                "<int:pk>/riattivazione/", view(self.reactivate_view), name="billing_defaultnotice_reactivate"
            ),
            path("<int:pk>/annullamento/", view(self.cancel_view), name="billing_defaultnotice_cancel"),
            *super().get_urls(),
        ]

    def _notice(self, request, pk):
        self._require_change(request)
        return get_object_or_404(DefaultNotice.objects.select_related("customer"), pk=pk)

    def _done(self, request, notice, message):
        self.log_change(request, notice, str(message))
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_defaultnotice_change", args=[notice.pk]))

    def _details(self, notice):
        return [
            (_("Cliente"), notice.customer),
            (_("Importo"), euro(notice.total_due)),
            (_("Stato"), notice.get_status_display()),
            (_("Inviata il"), _day(notice.sent_on)),
            (_("Termine di pagamento"), _day(notice.payment_due_on)),
            (_("Sospensione consentita dal"), _day(notice.suspension_allowed_on)),
        ]

    def send_view(self, request, pk):
        """Choose the channel of a notice still to be sent; the sending itself is queued."""
        notice = self._notice(request, pk)
        if request.method == "POST" and notice.is_collecting:
            channel = request.POST.get("channel")
            if channel == DefaultNotice.Channel.PEC and not notice.customer.pec:
                self.message_user(request, _("Il cliente non ha un indirizzo PEC."), messages.ERROR)
            elif channel in DefaultNotice.Channel.values:
                done = (
                    _("PEC in partenza: la data di invio è oggi.")
                    if channel == DefaultNotice.Channel.PEC
                    else _("Raccomandata in preparazione: la trovi tra poco in «Lettere da spedire».")
                )
                self._queue(request, DefaultNotice.objects.filter(pk=notice.pk), channel, done)
                return HttpResponseRedirect(reverse("admin:billing_defaultnotice_change", args=[notice.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Invia la costituzione in mora %(reference)s") % {"reference": notice.reference},
            "object": notice,
            "details": self._details(notice),
            "has_pec": bool(notice.customer.pec),
            "collecting": notice.is_collecting,
        }
        return TemplateResponse(request, "admin/billing/defaultnotice/send.html", context)

    def dispatch_view(self, request, pk):
        notice = self._notice(request, pk)
        form = DispatchForm(request.POST or None, initial={"sent_on": _today()})
        if request.method == "POST" and form.is_valid():
            try:
                notice = dunning.record_dispatch(
                    notice=notice,
                    channel=DefaultNotice.Channel.RACCOMANDATA,
                    sent_on=form.cleaned_data["sent_on"],
                    tracking_number=form.cleaned_data["tracking_number"],
                    by=request.user,
                )
            except ValidationError as error:
                _add_errors(form, _rename(error, dispatched_on="sent_on"))
            else:
                return self._done(
                    request,
                    notice,
                    _(
                        "Spedita il %(sent)s: pagamento entro il %(deadline)s, sospensione non prima del %(allowed)s."
                    )
                    % {
                        "sent": _day(notice.sent_on),
                        "deadline": _day(notice.payment_due_on),
                        "allowed": _day(notice.suspension_allowed_on),
                    },
                )
        return self._record_page(
            request,
            form=form,
            obj=notice,
            details=self._details(notice),
            title=_("Registra la spedizione della raccomandata"),
            intro=_("Dalla data di spedizione decorrono i 40 giorni per pagare (art. 6.2)."),
        )

    def receipt_view(self, request, pk):
        notice = self._notice(request, pk)
        form = ReceiptForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                notice = dunning.record_receipt(
                    notice=notice, received_on=form.cleaned_data["received_on"], by=request.user
                )
            except ValidationError as error:
                _add_errors(form, _rename(error, delivered_on="received_on"))
            else:
                return self._done(
                    request,
                    notice,
                    _("Ricevuta il %(received)s: sospensione non prima del %(allowed)s.")
                    % {"received": _day(notice.received_on), "allowed": _day(notice.suspension_allowed_on)},
                )
        return self._record_page(
            request,
            form=form,
            obj=notice,
            details=self._details(notice),
            title=_("Registra la ricezione"),
            intro=_(
                "Senza data di ricezione vale quella presunta (10 giorni dall'invio, art. 9.3). Per la luce la "
                "sospensione non può essere chiesta prima di 25 giorni dalla ricezione, per il gas di 40."
            ),
        )

    def step_view(self, request, pk):
        notice = self._notice(request, pk)
        supplies = Service.objects.filter(pk__in=[service.pk for service in dunning._supplies_of(notice)])
        form = SuspensionStepForm(
            request.POST or None,
            services=supplies.select_related("contract"),
            initial={"requested_on": _today(), "service": supplies.first()},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                step = dunning.record_suspension_step(
                    notice=notice,
                    service=data["service"],
                    kind=data["kind"],
                    requested_on=data["requested_on"],
                    executed_on=data["executed_on"],
                    distributor_reference=data["distributor_reference"],
                    override_reason=data["override_reason"],
                    by=request.user,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                message = _("%(step)s registrato.") % {"step": step}
                if step.indemnity_id:
                    message += " " + _(
                        "Forzato: indennizzo automatico di %(amount)s, senza corrispettivi."
                    ) % {"amount": euro(step.indemnity.amount)}
                return self._done(request, notice, message)
        return self._record_page(
            request,
            form=form,
            obj=notice,
            details=[*self._details(notice), *self._allowed_steps(notice, form.fields["service"].queryset)],
            title=_("Registra un intervento per morosità"),
            intro=_(
                "Luce in bassa tensione: prima la riduzione di potenza al 15%, la sospensione 15 giorni dopo la "
                "riduzione eseguita (art. 6.3). Un intervento prima del giorno consentito è rifiutato, salvo "
                "indicarne il motivo: in tal caso il cliente riceve l'indennizzo automatico di 20 €."
            ),
        )

    def _allowed_steps(self, notice, supplies):
        """Per supply, the next step and the first day it is allowed, with the rule that sets it."""
        if notice.payment_due_on is None:
            return []
        rows = []
        for service in supplies:
            kind = SuspensionStep.Kind.SUSPENSION_REQUEST
            day, rule = dunning.step_allowed_on(notice, service, kind)
            if day is None:  # low voltage, not yet reduced
                kind = SuspensionStep.Kind.POWER_REDUCTION
                day, rule = dunning.step_allowed_on(notice, service, kind)
            label = _("%(supply)s: %(step)s") % {
                "supply": f"{service.contract.number} · {service}",
                "step": SuspensionStep.Kind(kind).label.lower(),
            }
            rows.append((label, _("dal %(day)s (%(rule)s)") % {"day": _day(day), "rule": rule}))
        return rows

    def execution_view(self, request, pk, step_pk):
        notice = self._notice(request, pk)
        step = get_object_or_404(notice.steps.select_related("service"), pk=step_pk)
        form = StepExecutionForm(request.POST or None, initial={"executed_on": _today()})
        if request.method == "POST" and form.is_valid():
            try:
                step = dunning.record_step_execution(
                    step=step, executed_on=form.cleaned_data["executed_on"], by=request.user
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return self._done(
                    request,
                    notice,
                    _("%(step)s: eseguito il %(day)s.") % {"step": step, "day": _day(step.executed_on)},
                )
        return self._record_page(
            request,
            form=form,
            obj=notice,
            details=[(_("Intervento"), step), (_("Richiesto il"), _day(step.requested_on))],
            title=_("Registra l'esecuzione dell'intervento"),
        )

    def reactivate_view(self, request, pk):
        notice = self._notice(request, pk)
        form = ReactivationForm(
            request.POST or None, initial={"proven_payment_on": _today(), "requested_on": _today()}
        )
        if request.method == "POST" and form.is_valid():
            try:
                steps = dunning.reactivate(notice=notice, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return self._done(
                    request,
                    notice,
                    ngettext(
                        "Riattivazione richiesta per %(count)d fornitura.",
                        "Riattivazione richiesta per %(count)d forniture.",
                        len(steps),
                    )
                    % {"count": len(steps)},
                )
        return self._record_page(
            request,
            form=form,
            obj=notice,
            details=[*self._details(notice), (_("Ancora da pagare"), euro(dunning.amount_still_due(notice)))],
            title=_("Riattiva le forniture"),
            intro=_(
                "Dopo la prova del pagamento integrale (art. 6.5): la riattivazione va chiesta al distributore."
            ),
        )

    def cancel_view(self, request, pk):
        notice = self._notice(request, pk)
        form = CancelNoticeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                notice = dunning.cancel_notice(
                    notice=notice, reason=form.cleaned_data["reason"], by=request.user
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return self._done(
                    request, notice, _("Costituzione in mora annullata: %(reason)s") % form.cleaned_data
                )
        return self._record_page(
            request,
            form=form,
            obj=notice,
            details=self._details(notice),
            title=_("Annulla la costituzione in mora"),
            submit=_("Annulla la costituzione in mora"),
        )

    # --- the worklist ------------------------------------------------------------------------------------

    def worklist_view(self, request):
        """Today's dunning work: what to send, what to post, where a step is now allowed, what to restore."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Morosità: il lavoro di oggi"),
            "today": _today(),
            "sections": worklist(today=_today(), admin=self),
            "can_change": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/billing/defaultnotice/worklist.html", context)


def _rename(error: ValidationError, **names) -> ValidationError:
    """The notifications service names its fields after the letter; the forms here after the notice."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(field, field): errors for field, errors in error.error_dict.items()})


def worklist(*, today, admin: DefaultNoticeAdmin) -> list[dict]:
    """The worklist's sections, each a title, a hint and rows (notice, dates, the operation to open)."""
    Status = DefaultNotice.Status
    notices = DefaultNotice.objects.select_related("customer")

    def rows(queryset, *, operation=None):
        result = []
        for notice in queryset:
            operations = admin._operations(notice)
            chosen = next((op for op in operations if operation is None or op[1].endswith(operation)), None)
            result.append({"notice": notice, "total": euro(notice.total_due), "operation": chosen})
        return result

    power_reduced_due = (
        SuspensionStep.objects.filter(
            kind=SuspensionStep.Kind.POWER_REDUCTION,
            executed_on__isnull=False,
            notice__status=Status.POWER_REDUCED,
        )
        .select_related("notice__customer", "service")
        .order_by("executed_on")
    )
    after_reduction = [
        {
            "notice": step.notice,
            "step": step,
            "allowed_on": dunning.deadlines.suspension_after_power_reduction(step.executed_on),
        }
        for step in power_reduced_due
    ]
    paid_after_step = [
        notice
        for notice in notices.filter(
            status__in=[Status.POWER_REDUCED, Status.SUSPENSION_REQUESTED, Status.SUSPENDED]
        ).order_by("sent_on")
        if dunning.amount_still_due(notice) <= 0
    ]
    return [
        {
            "key": "to-send",
            "title": _("Da inviare"),
            "hint": _("Preparate dal controllo giornaliero: inviale via PEC o prepara le raccomandate."),
            "rows": rows(
                notices.filter(status=Status.PREPARED, communication__isnull=True).order_by(
                    "prepared_on", "pk"
                )
            ),
        },
        {
            "key": "to-post",
            "title": _("Raccomandate da spedire"),
            "hint": _(
                "Stampale da «Lettere da spedire», spediscile e registra la data: da lì decorrono i 40 giorni."
            ),
            "rows": rows(
                notices.filter(status=Status.PREPARED, communication__isnull=False).order_by(
                    "prepared_on", "pk"
                )
            ),
        },
        {
            "key": "allowed-today",
            "title": _("Sospensione consentita da oggi"),
            "hint": _(
                "Termine di pagamento scaduto e nessun pagamento: da oggi si può chiedere l'intervento."
            ),
            "rows": rows(
                notices.filter(status=Status.SUSPENSION_ALLOWED, suspension_allowed_on=today),
                operation="intervento/",
            ),
        },
        {
            "key": "allowed",
            "title": _("Sospensione consentita (giorni precedenti)"),
            "hint": "",
            "rows": rows(
                notices.filter(status=Status.SUSPENSION_ALLOWED, suspension_allowed_on__lt=today).order_by(
                    "suspension_allowed_on"
                ),
                operation="intervento/",
            ),
        },
        {
            "key": "deadline-passed",
            "title": _("Termine di pagamento scaduto, sospensione non ancora consentita"),
            "hint": _("Si aspettano i 3 giorni lavorativi e i giorni dalla ricezione (art. 6.2)."),
            "rows": rows(
                notices.filter(status=Status.DISPATCHED, payment_due_on__lt=today).order_by(
                    "suspension_allowed_on"
                ),
                operation="ricevuta/",
            ),
        },
        {
            "key": "after-reduction",
            "title": _("Luce a potenza ridotta"),
            "hint": _("La sospensione è consentita 15 giorni dopo la riduzione eseguita (art. 6.3)."),
            "steps": after_reduction,
        },
        {
            "key": "paid-after-step",
            "title": _("Pagate dopo un intervento: da riattivare"),
            "hint": _("Nessun importo ancora da pagare: chiedi la riattivazione al distributore (art. 6.5)."),
            "rows": [
                {
                    "notice": notice,
                    "total": euro(notice.total_due),
                    "operation": (
                        _("Riattiva"),
                        reverse("admin:billing_defaultnotice_reactivate", args=[notice.pk]),
                    ),
                }
                for notice in paid_after_step
            ],
        },
    ]


# ---------------------------------------------------------------------------------------------------------
# Suspension steps
# ---------------------------------------------------------------------------------------------------------


@admin.register(SuspensionStep)
class SuspensionStepAdmin(_RecordViews, admin.ModelAdmin):
    """Every step for default. Steps after a notice are recorded from the notice; "add" here records a step
    taken WITHOUT a notice (a reduction or suspension that should not have happened: 30 € indemnity)."""

    list_display = [
        "requested",
        "kind",
        "service",
        "customer",
        "notice",
        "executed",
        "forced",
        "indemnity_eur",
        "fees_waived",
        "recorded_by",
    ]
    list_filter = ["kind", "fees_waived", ("notice", admin.EmptyFieldListFilter)]
    list_select_related = ["service__contract__customer", "notice", "indemnity", "recorded_by"]
    search_fields = [
        "service__pod",
        "service__pdr",
        "service__contract__number",
        "service__contract__customer__code",
    ]
    autocomplete_fields = ["service"]
    fields = [
        "notice",
        "service",
        "kind",
        "requested_on",
        "executed_on",
        "distributor_reference",
        "allowed_on",
        "override_reason",
        "indemnity",
        "fees_waived",
        "recorded_by",
        "recorded_at",
        "execution_recorded_by",
        "execution_recorded_at",
    ]
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("richiesto il"), ordering="requested_on")
    def requested(self, step):
        return _day(step.requested_on)

    @admin.display(description=_("eseguito il"), ordering="executed_on")
    def executed(self, step):
        return _day(step.executed_on)

    @admin.display(description=_("cliente"))
    def customer(self, step):
        return step.service.contract.customer

    @admin.display(description=_("forzato"), boolean=True)
    def forced(self, step):
        return bool(step.override_reason)

    @admin.display(description=_("indennizzo"))
    def indemnity_eur(self, step):
        return euro(step.indemnity.amount) if step.indemnity_id else "—"

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StandaloneSuspensionStepForm(
            request.POST or None, initial={"requested_on": _today()}, admin_site=self.admin_site
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                step = dunning.record_suspension_step(notice=None, by=request.user, **data)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                message = _("%(step)s registrato senza costituzione in mora.") % {"step": step}
                if step.indemnity_id:
                    message += " " + _("Indennizzo automatico di %(amount)s, senza corrispettivi.") % {
                        "amount": euro(step.indemnity.amount)
                    }
                self.log_addition(request, step, message)
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:billing_suspensionstep_changelist"))
        return self._record_page(
            request,
            form=form,
            title=_("Registra un intervento senza costituzione in mora"),
            intro=_(
                "Per gli interventi dopo una costituzione in mora usa la pagina della costituzione in mora. Una "
                "riduzione di potenza o una sospensione senza costituzione in mora dà diritto all'indennizzo "
                "automatico di 30 € e nessun corrispettivo (art. 6.5): indica il motivo."
            ),
        )
