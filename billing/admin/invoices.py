"""Invoices and credit notes: drafts are edited by line, an issued invoice is a record (corrections are credit
notes); the stored PDF; where its electronic invoice stands at the SdI; blocking the dunning of an invoice
under complaint."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import ModelForm
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from billing import generation, services
from billing.admin.common import RecordViews, add_errors, error_text, euro, fieldset_names, status_badge
from billing.admin.einvoices import EINVOICE_COLOURS, OVERDUE_COLOUR, InvoiceEInvoiceFilter, einvoice_badge
from billing.admin.forms import CreditNoteForm, DunningUnblockForm, InvoiceCreditNoteForm, RebillForm
from billing.dunning import notices as dunning
from billing.models import EInvoice, Invoice, InvoiceLine, PaymentAllocation
from portal.admin_display import LISTED_ON_CONFIRMATION, ReadOnlyAdminMixin, action_form_page, days_left_badge
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
    Invoice.Status.CREDIT_NOTE_ISSUED: "#0b6b72",
}


# The list's SdI state in two words: the full wording is on the invoice's page and the e-invoices' list.
SDI_SHORT = {
    EInvoice.Status.TO_SEND: _("SdI: da inviare"),
    EInvoice.Status.SENT: _("SdI: inviata"),
    EInvoice.Status.DELIVERED: _("SdI: consegnata"),
    EInvoice.Status.NOT_DELIVERED: _("SdI: area riservata"),
    EInvoice.Status.REJECTED: _("SdI: scartata"),
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
    # Two facts a cell, one under the other, so that the list fits 1280 px beside admin's two sidebars.
    list_display = ["number_or_draft", "holder", "period", "amounts", "due", "states"]
    list_display_links = ["number_or_draft"]
    change_list_template = "admin/billing/invoice/change_list.html"
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
    actions = ["issue_credit_notes", "rebill_periods", "unblock_dunning"]
    fieldsets = [
        (None, {"fields": ["kind", "number", "status_badge", "corrects", "contract", "customer"]}),
        (_("Rettifiche"), {"fields": ["credit_note_link", ("credit_reason", "issued_by"), "rebills"]}),
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
                    ("total_eur", "paid_eur", "credited_eur"),
                ]
            },
        ),
        (
            _("Solleciti"),
            {
                "fields": [
                    ("dunning_due_on", "dunning_blocked", "dunning_blocked_reason"),
                    "blocks",
                    "notices",
                ]
            },
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
        return format_html("{}<br><small>{}</small>", invoice.customer.display_name, invoice.customer.code)

    @admin.display(description=_("periodo"), ordering="period_start")
    def period(self, invoice):
        start, end = invoice.period_start, invoice.period_end
        if start.year == end.year:
            period = format_html('<span style="white-space:nowrap">{}–{}</span>', f"{start:%d/%m}", _day(end))
        else:
            period = f"{_day(start)}–{_day(end)}"
        if invoice.issued_on is None:
            return period
        issued = _("emessa il %(day)s") % {"day": _day(invoice.issued_on)}
        return format_html("{}<br><small>{}</small>", period, issued)

    @admin.display(description=_("importo"), ordering="total")
    def amounts(self, invoice):
        if not invoice.amount_paid:
            return euro(invoice.total)
        paid = _("pagato %(amount)s") % {"amount": euro(invoice.amount_paid)}
        return format_html("{}<br><small>{}</small>", euro(invoice.total), paid)

    @admin.display(description=_("stato"), ordering="status")
    def states(self, invoice):
        status, einvoice = self.status_badge(invoice), _einvoice_of(invoice)
        sdi = ""
        if einvoice is not None:
            sdi = status_badge(EINVOICE_COLOURS[einvoice.status], SDI_SHORT[einvoice.status])
        if einvoice is not None and einvoice.overdue_since:
            sdi = format_html("{} {}", sdi, status_badge(OVERDUE_COLOUR, _("fuori termine")))
        if not invoice.pdf:
            return format_html("{}<br>{}", status, sdi)
        url = reverse("admin:billing_invoice_pdf", args=[invoice.pk])
        return format_html('{}<br>{} <a href="{}">{}</a>', status, sdi, url, _("PDF"))

    @admin.display(description=_("scadenza"), ordering="due_on")
    def due(self, invoice):
        if invoice.due_on is None or not invoice.awaits_payment:
            return _day(invoice.due_on)
        return format_html("{}<br>{}", _day(invoice.due_on), days_left_badge(invoice.due_on))

    @admin.display(description=_("totale"), ordering="total")
    def total_eur(self, invoice):
        return euro(invoice.total)

    @admin.display(description=_("pagato"), ordering="amount_paid")
    def paid_eur(self, invoice):
        return euro(invoice.amount_paid)

    @admin.display(description=_("stornato con note di credito"))
    def credited_eur(self, invoice):
        return euro(invoice.amount_credited)

    @admin.display(description=_("note di credito"))
    def credit_note_link(self, invoice):
        notes = [
            (reverse("admin:billing_invoice_change", args=[note.pk]), note.number, euro(-note.total))
            for note in invoice.credit_notes.exclude(number=None).order_by("sequence")
        ]
        links = format_html_join(", ", '<a href="{}">{}</a> ({})', notes) if notes else ""
        if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued:
            return links or "—"
        if invoice.status == Invoice.Status.CANCELLED:
            return links
        url = reverse("admin:billing_invoice_credit_note", args=[invoice.pk])
        return format_html('{} <a class="button" href="{}">{}</a>', links, url, _("Emetti nota di credito"))

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

    @admin.display(description=_("blocchi dei reclami"))
    def blocks(self, invoice):
        """Which complaint holds (or held) the invoice, who decided, and why it was lifted."""
        rows = []
        for block in invoice.dunning_blocks.select_related("complaint", "set_by", "lifted_by"):
            url = reverse("admin:complaints_complaint_change", args=[block.complaint_id])
            if block.is_active:
                state = _("attivo dal %(day)s") % {"day": _day(dates.rome_date(block.set_at))}
            else:
                state = _("tolto il %(day)s") % {"day": _day(dates.rome_date(block.lifted_at))}
                if block.lift_reason:
                    state = f"{state}: {block.lift_reason}"
            rows.append((url, block.complaint.code, block.reason, state))
        if not rows:
            return "—"
        return format_html_join("", '<div><a href="{}">{}</a> · {} ({})</div>', rows)

    # --- the PDF ----------------------------------------------------------------------------------------------

    def get_urls(self):
        return [
            path("<int:pk>/pdf/", self.admin_site.admin_view(self.pdf_view), name="billing_invoice_pdf"),
            path(
                "<int:pk>/nota-di-credito/",
                self.admin_site.admin_view(self.credit_note_view),
                name="billing_invoice_credit_note",
            ),
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

    # --- a credit note for one invoice ---------------------------------------------------------------------

    def credit_note_view(self, request, pk):
        """The whole invoice, chosen lines or an amount, with a reason: "Anteprima" shows the note's lines and
        totals as services.plan_credit_note computes them, "Emetti" issues exactly that."""
        self._require_change(request)
        invoice = get_object_or_404(Invoice, pk=pk, kind=Invoice.Kind.INVOICE, number__isnull=False)
        form = InvoiceCreditNoteForm(
            request.POST or None,
            lines=InvoiceLine.objects.filter(pk__in=[line.pk for line in services.creditable_lines(invoice)]),
            initial={"issued_on": dates.today(), "what": InvoiceCreditNoteForm.LINES},
        )
        plan = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if "issue" in request.POST:
                    note = services.issue_credit_note(
                        invoice=invoice,
                        issued_on=data["issued_on"],
                        reason=data["reason"],
                        by=request.user,
                        **form.credit(),
                    )
                    return self._credit_note_issued(request, invoice, note)
                plan = services.plan_credit_note(
                    invoice=invoice, reason=data["reason"], on=data["issued_on"], **form.credit()
                )
                services.check_credit_note_date(invoice=invoice, issued_on=data["issued_on"])
            except ValidationError as error:
                add_errors(form, error)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Nota di credito per la bolletta %(number)s") % {"number": invoice.number},
            "object": invoice,
            "form": form,
            "plan": plan,
            "outstanding": euro(invoice.outstanding),
            "creditable": euro(services.creditable_amount(invoice)),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/billing/invoice/credit_note.html", context)

    def _credit_note_issued(self, request, invoice, note):
        message = _("Nota di credito %(number)s di %(amount)s: %(reason)s") % {
            "number": note.number,
            "amount": euro(-note.total),
            "reason": note.credit_reason,
        }
        self.log_change(request, invoice, message)
        self.log_addition(request, note, message)
        self.message_user(request, f"{invoice.number}: {message}", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_invoice_change", args=[note.pk]))

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
                    by=request.user,
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

    @admin.action(
        description=_("Rifattura il periodo stornato dalla nota di credito"), permissions=["change"]
    )
    def rebill_periods(self, request, queryset):
        form = RebillForm(
            request.POST if "apply" in request.POST else None, initial={"issued_on": dates.today()}
        )
        if not form.is_valid():
            return self._action_page(
                request,
                queryset,
                form=form,
                action="rebill_periods",
                title=_("Rifattura il periodo stornato"),
                intro=_(
                    "Per ogni nota di credito selezionata si emette una bolletta dello stesso periodo con le sole "
                    "righe che la nota ha stornato, ricalcolate con i dati di oggi (ad es. la lettura corretta). "
                    "Le righe non stornate restano sulla bolletta originale."
                ),
                submit=_("Emetti le bollette"),
            )
        for note in queryset:
            try:
                rebill = generation.rebill_period(credit_note=note, issued_on=form.cleaned_data["issued_on"])
            except ValidationError as error:
                self.message_user(request, f"{note}: {error_text(error)}", messages.ERROR)
                continue
            message = _("Periodo rifatturato con la bolletta %(number)s") % {"number": rebill.number}
            self.log_change(request, note, message)
            self.log_addition(request, rebill, message)
            self.message_user(request, f"{note.number}: {message}", messages.SUCCESS)
        return None

    @admin.action(description=_("Sblocca i solleciti"), permissions=["change"])
    def unblock_dunning(self, request, queryset):
        # The block is set from the complaint's case, which it names (complaints admin).
        form = DunningUnblockForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._action_page(
                request,
                queryset,
                form=form,
                action="unblock_dunning",
                title=_("Sblocca i solleciti"),
                intro=_(
                    "Una bolletta anomala contestata con reclamo non può portare alla sospensione prima della "
                    "risposta motivata (ARERA): il blocco si toglie da solo con la risposta. Prima, serve il "
                    "motivo."
                ),
                submit=_("Sblocca"),
            )
        unblocked = 0
        for invoice in queryset.filter(dunning_blocked=True):
            try:
                dunning.unblock_dunning(invoice=invoice, reason=form.cleaned_data["reason"], by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{invoice}: {error_text(error)}", messages.ERROR)
                continue
            self.log_change(request, invoice, _("Solleciti sbloccati: %(reason)s") % form.cleaned_data)
            unblocked += 1
        if unblocked:
            self.message_user(request, _("Solleciti sbloccati."), messages.SUCCESS)
