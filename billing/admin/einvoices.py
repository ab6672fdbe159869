"""Electronic invoices: where each document stands at the SdI, its receipts exactly as received, and sending
again one the SdI rejected. A document moves only through billing.einvoice.transmission (the send sweep, the
receipts, `resend`): this screen is read-only but for that one button, which billing officers see on a
rejected document. The staff alerts of transmission.py link to the change page (admin:billing_einvoice_change).
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from billing.admin.common import error_text, fieldset_names, status_badge
from billing.einvoice import transmission
from billing.models import EInvoice, SdiReceipt
from portal.admin_display import ReadOnlyAdminMixin
from portal.admin_display import day_with_badge as _day_with_badge
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib import dates
from portal.lib.formatting import day as _day
from portal.lib.formatting import moment as _moment

# Colours keep a 4.5:1 contrast with white text (as portal.admin_display). Both accepted outcomes are green:
# a document left in the Agenzia's reserved area is issued all the same.
EINVOICE_COLOURS = {
    EInvoice.Status.TO_SEND: "#5f5f5b",
    EInvoice.Status.SENT: "#0b4f8a",
    EInvoice.Status.DELIVERED: "#1e6b34",
    EInvoice.Status.NOT_DELIVERED: "#1e6b34",
    EInvoice.Status.REJECTED: "#b42318",
}
OVERDUE_COLOUR = "#7a1010"

# Who may resend a rejected document: the billing officers (and supervisors), as for every invoice operation.
RESEND_PERMISSION = "billing.change_invoice"


def einvoice_badge(einvoice: EInvoice | None) -> str:
    """The SdI status of a document, with "fuori termine" when the 12 days passed before the SdI accepted it."""
    if einvoice is None:
        return "—"
    badge = status_badge(EINVOICE_COLOURS[einvoice.status], einvoice.get_status_display())
    if einvoice.overdue_since:
        return format_html("{} {}", badge, status_badge(OVERDUE_COLOUR, _("fuori termine")))
    return badge


class EInvoiceStateFilter(admin.SimpleListFilter):
    """The documents staff have to look at. `prefix` is the path from the listed model to the EInvoice."""

    title = _("fattura elettronica")
    parameter_name = "sdi"
    prefix = ""

    def _choices(self):
        p = self.prefix
        return {
            "non-accettate": (
                _("non ancora accettate"),
                Q(**{f"{p}status__in": EInvoice.NOT_ACCEPTED_STATUSES}),
            ),
            "scartate": (_("scartate"), Q(**{f"{p}status": EInvoice.Status.REJECTED})),
            # Not accepted within the 12 days: the invoice is issued late, even once the SdI accepts it.
            "fuori-termine": (_("fuori termine"), Q(**{f"{p}overdue_since__isnull": False})),
            "accettate": (_("accettate dallo SdI"), Q(**{f"{p}status__in": EInvoice.ACCEPTED_STATUSES})),
        }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _condition) in self._choices().items()]

    def queryset(self, request, queryset):
        choices = self._choices()
        if self.value() in choices:
            return queryset.filter(choices[self.value()][1])
        return queryset


class InvoiceEInvoiceFilter(EInvoiceStateFilter):
    """The same choices on the invoice list."""

    prefix = "einvoice__"


class SdiReceiptInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = SdiReceipt
    fields = [
        ("kind", "file_name", "sdi_identifier"),
        ("received", "delivered"),
        "description",
        "error_list",
        "raw",
    ]
    readonly_fields = fieldset_names([(None, {"fields": fields})])
    verbose_name = _("notifica SdI ricevuta")
    verbose_name_plural = _("notifiche SdI ricevute")

    @admin.display(description=_("ricevuta dallo SdI il"))
    def received(self, receipt):
        return _moment(receipt.received_at)

    @admin.display(description=_("consegnata il"))
    def delivered(self, receipt):
        return _moment(receipt.delivered_at)

    @admin.display(description=_("errori"))
    def error_list(self, receipt):
        if not receipt.errors:
            return "—"
        return format_html(
            '<ul style="margin:0;padding-left:1.2em">{}</ul>',
            format_html_join(
                "",
                "<li><strong>{}</strong> {}{}</li>",
                (
                    (
                        error.get("code", ""),
                        error.get("description", ""),
                        format_html("<br><em>{}</em>", error["hint"]) if error.get("hint") else "",
                    )
                    for error in receipt.errors
                ),
            ),
        )

    @admin.display(description=_("file ricevuto"))
    def raw(self, receipt):
        return format_html(
            '<pre style="max-height:20em;overflow:auto;white-space:pre-wrap;margin:0;font-size:0.75rem">{}</pre>',
            receipt.content,
        )


@admin.register(EInvoice)
class EInvoiceAdmin(ReadOnlyAdminMixin, SafeLookupsAdmin):
    list_display = [
        "file_name",
        "invoice_number",
        "customer",
        "status_badge",
        "sent",
        "accept_deadline",
        "overdue",
    ]
    list_filter = [EInvoiceStateFilter, "status", ("overdue_since", admin.EmptyFieldListFilter)]
    list_select_related = ["invoice__customer"]
    search_fields = [
        "file_name",
        "sdi_identifier",
        "invoice__number",
        "invoice__customer__code",
        "invoice__customer__last_name",
        "invoice__customer__company_name",
    ]
    search_help_text = _("Nome del file, identificativo SdI, numero di bolletta, codice o nome del cliente.")
    date_hierarchy = "queued_on"
    inlines = [SdiReceiptInline]
    change_form_template = "admin/billing/einvoice/change_form.html"
    fieldsets = [
        (None, {"fields": ["invoice_link", "customer", "status_badge", "recipient"]}),
        (
            _("Invio"),
            {
                "fields": [
                    ("file_name", "progressivo", "xml_link"),
                    ("queued", "attempts", "next_attempt"),
                    "error",
                    ("sent", "sdi_identifier", "outcome"),
                ]
            },
        ),
        (
            _("Termini"),
            {
                "description": _(
                    "Lo SdI deve accettare il file entro 12 giorni dalla data della bolletta; dopo uno scarto "
                    "si reinvia entro 5 giorni, con lo stesso numero e la stessa data."
                ),
                "fields": [("accept_deadline", "alert", "alerted"), ("resend_deadline", "overdue")],
            },
        ),
    ]
    readonly_fields = fieldset_names(fieldsets)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice__customer")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(self, request, object_id, form_url="", extra_context=None):
        einvoice = self.get_object(request, unquote(object_id))
        context = {"resend_url": None, "resend_by": None}
        if einvoice is not None and self._may_resend(request, einvoice):
            context = {
                "resend_url": reverse("admin:billing_einvoice_resend", args=[einvoice.pk]),
                "resend_by": einvoice.resend_by,
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **context})

    # --- resending a rejected document ------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/reinvia/",
                self.admin_site.admin_view(require_POST(self.resend_view)),
                name="billing_einvoice_resend",
            ),
            path(
                "<path:object_id>/xml/",
                self.admin_site.admin_view(self.xml_view),
                name="billing_einvoice_xml",
            ),
            *super().get_urls(),
        ]

    def xml_view(self, request, object_id):
        """The file as sent to the SdI (media is private: never served by URL)."""
        einvoice = self.get_object(request, unquote(object_id))
        if einvoice is None or not einvoice.xml or not self.has_view_permission(request, einvoice):
            raise Http404(_("File non trovato."))
        try:
            handle = einvoice.xml.open("rb")
        except FileNotFoundError:
            raise Http404(_("File non trovato.")) from None
        name = einvoice.xml.name.rsplit("/", 1)[-1]
        return FileResponse(handle, as_attachment=True, filename=name, content_type="application/xml")

    def _may_resend(self, request, einvoice):
        return einvoice.status == EInvoice.Status.REJECTED and request.user.has_perm(RESEND_PERMISSION)

    def resend_view(self, request, object_id):
        einvoice = self.get_object(request, unquote(object_id))
        if einvoice is None:
            raise Http404(_("Fattura elettronica non trovata."))
        if not request.user.has_perm(RESEND_PERMISSION):
            raise PermissionDenied
        old_name = einvoice.file_name
        try:
            einvoice = transmission.resend(einvoice, today=dates.today())
        except ValidationError as error:
            self.message_user(request, error_text(error), messages.ERROR)
        else:
            message = _(
                "Reinviata allo SdI come %(new)s (il file scartato era %(old)s): parte con il prossimo invio, "
                "con i dati del cliente come sono ora."
            ) % {"new": einvoice.file_name, "old": old_name}
            self.log_change(request, einvoice, message)
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:billing_einvoice_change", args=[einvoice.pk]))

    # --- columns ------------------------------------------------------------------------------------------

    @admin.display(description=_("bolletta"), ordering="invoice__sequence")
    def invoice_number(self, einvoice):
        return einvoice.invoice.number

    @admin.display(description=_("bolletta"))
    def invoice_link(self, einvoice):
        url = reverse("admin:billing_invoice_change", args=[einvoice.invoice_id])
        return format_html('<a href="{}">{}</a>', url, einvoice.invoice.number)

    @admin.display(description=_("cliente"), ordering="invoice__customer__code")
    def customer(self, einvoice):
        return einvoice.invoice.customer

    @admin.display(description=_("stato SdI"), ordering="status")
    def status_badge(self, einvoice):
        return einvoice_badge(einvoice)

    @admin.display(description=_("destinatario"))
    def recipient(self, einvoice):
        details = einvoice.invoice.customer_details or {}
        if details.get("sdi_code"):
            return format_html("{} <code>{}</code>", _("codice destinatario"), details["sdi_code"])
        if details.get("sdi_pec"):
            return format_html("{} {}", _("PEC"), details["sdi_pec"])
        return _("0000000: area riservata del cliente sul sito dell'Agenzia delle Entrate")

    @admin.display(description=_("file inviato"))
    def xml_link(self, einvoice):
        if not einvoice.xml:
            return "—"
        url = reverse("admin:billing_einvoice_xml", args=[einvoice.pk])
        # Named: after a resend it is still the rejected file, under its old name, until the new one leaves.
        return format_html('<a href="{}">{}</a>', url, einvoice.xml.name.rsplit("/", 1)[-1])

    @admin.display(description=_("da inviare dal"), ordering="queued_on")
    def queued(self, einvoice):
        return _day(einvoice.queued_on)

    @admin.display(description=_("prossimo tentativo"))
    def next_attempt(self, einvoice):
        return _moment(einvoice.next_attempt_at)

    @admin.display(description=_("ultimo errore di invio"))
    def error(self, einvoice):
        if not einvoice.last_error:
            return "—"
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', einvoice.last_error)

    @admin.display(description=_("inviata il"), ordering="sent_at")
    def sent(self, einvoice):
        return _moment(einvoice.sent_at)

    @admin.display(description=_("esito del"))
    def outcome(self, einvoice):
        return _moment(einvoice.outcome_at)

    @admin.display(description=_("da accettare entro"), ordering="accept_by")
    def accept_deadline(self, einvoice):
        return _day_with_badge(einvoice.accept_by, pending=not einvoice.is_accepted)

    @admin.display(description=_("avviso agli addetti il"))
    def alert(self, einvoice):
        return _day(einvoice.alert_on)

    @admin.display(description=_("addetti avvisati il"))
    def alerted(self, einvoice):
        return _moment(einvoice.alerted_at)

    @admin.display(description=_("reinviare entro"))
    def resend_deadline(self, einvoice):
        return _day_with_badge(einvoice.resend_by, pending=einvoice.status == EInvoice.Status.REJECTED)

    @admin.display(description=_("fuori termine dal"), ordering="overdue_since")
    def overdue(self, einvoice):
        return _day(einvoice.overdue_since)
