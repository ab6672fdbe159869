"""Invoices and credit notes: drafts are edited by line, an issued invoice is a record (corrections are credit
notes); the stored PDF; where its electronic invoice stands at the SdI; blocking the dunning of an invoice
under complaint."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import ModelForm
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from billing import services
from billing.admin.common import RecordViews, error_text, euro, fieldset_names, status_badge
from billing.admin.einvoices import InvoiceEInvoiceFilter, einvoice_badge
from billing.admin.forms import CreditNoteForm, DunningBlockForm
from billing.dunning import notices as dunning
from billing.models import EInvoice, Invoice, InvoiceLine, PaymentAllocation
from portal.admin_display import LISTED_ON_CONFIRMATION, ReadOnlyAdminMixin, action_form_page
from portal.admin_display import day_with_badge as _day_with_badge
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib import dates
from portal.lib.formatting import day as _day

# Colours keep a 4.5:1 contrast with white text (as portal.admin_display).
INVOICE_COLOURS = {
    Invoice.Status.DRAFT: "#5f5f5b",
    Invoice.Status.ISSUED: "#0b4f8a",
    Invoice.Status.PARTIALLY_PAID: "#8a5300",
    Invoice.Status.PAID: "#1e6b34",
    Invoice.Status.OVERDUE: "#b42318",
    Invoice.Status.CANCELLED: "#5f5f5b",
}


def _einvoice_of(invoice: Invoice) -> EInvoice | None:
    try:
        return invoice.einvoice
    except EInvoice.DoesNotExist:  # a draft
        return None


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


class InvoiceAllocationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentAllocation
    fields = ["payment", "received_on", "amount_eur"]
    readonly_fields = fields
    verbose_name = _("pagamento ricevuto")
    verbose_name_plural = _("pagamenti ricevuti")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment")

    @admin.display(description=_("incassato il"))
    def received_on(self, allocation):
        return _day(allocation.payment.received_on)

    @admin.display(description=_("importo"))
    def amount_eur(self, allocation):
        return euro(allocation.amount)


@admin.register(Invoice)
class InvoiceAdmin(RecordViews, SafeLookupsAdmin):
    list_display = [
        "number_or_draft",
        "holder",
        "period",
        "issued",
        "due",
        "total_eur",
        "paid_eur",
        "status_badge",
        "sdi_badge",
        "pdf_link",
    ]
    list_display_links = ["number_or_draft"]
    list_filter = ["status", InvoiceEInvoiceFilter, "kind", "dunning_blocked", "is_closing"]
    # The e-invoice is a reverse one-to-one: joined, not one query per row.
    list_select_related = ["customer", "einvoice"]
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
        (_("Documento"), {"fields": ["pdf_link", "pdf_rendered_at", "einvoice_link"]}),
    ]
    # What staff may change on a draft; everything else is set by the services.
    DRAFT_FIELDS = ["period_start", "period_end", "is_closing"]

    def get_readonly_fields(self, request, obj=None):
        fields = set(fieldset_names(self.fieldsets))
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
        return _day_with_badge(invoice.due_on, pending=invoice.awaits_payment)

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
        return status_badge(INVOICE_COLOURS[invoice.status], invoice.get_status_display())

    @admin.display(description=_("SdI"), ordering="einvoice__status")
    def sdi_badge(self, invoice):
        return einvoice_badge(_einvoice_of(invoice))

    @admin.display(description=_("fattura elettronica"))
    def einvoice_link(self, invoice):
        einvoice = _einvoice_of(invoice)
        if einvoice is None:
            return "—" if invoice.is_issued else _("si genera quando la bolletta è emessa")
        url = reverse("admin:billing_einvoice_change", args=[einvoice.pk])
        return format_html('{} <a href="{}">{}</a>', einvoice_badge(einvoice), url, einvoice.file_name)

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
            list(queryset.select_related("customer")[: LISTED_ON_CONFIRMATION + 1]),
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
            request.POST if "apply" in request.POST else None, initial={"issued_on": dates.today()}
        )
        if not form.is_valid():
            return self._action_page(
                request,
                queryset,
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
                self.message_user(request, f"{invoice}: {error_text(error)}", messages.ERROR)
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
                queryset,
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
