"""Back office for complaints and written requests: the list with the legal clock, the register, the case.

Staff register the complaints that arrive by letter, e-mail, PEC or phone (the add form calls
`services.file_complaint`), and work each case from its change page: every button calls one service
(assign, note, request for information, reclassification, attachment, indemnity exclusion, reply, close),
which records the ComplaintEvent; the admin adds Django's LogEntry (who and when) and reports with
`message_user`. The four sections of the reasoned reply are the only fields typed on the change form, plus
the cause of any delay for the register; everything else is read-only, set by the services and the sweeps.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from complaints import communications, deadlines, reply_templates, reporting, services
from complaints.admin_forms import (
    AskCustomerForm,
    AssignForm,
    AttachmentForm,
    ComplaintRegistrationForm,
    ExclusionForm,
    NoteForm,
    ReclassifyForm,
    RegisterExportForm,
    ReplyDraftForm,
    SendReplyForm,
    complaint_staff,
)
from complaints.models import Complaint, ComplaintAttachment, ComplaintEvent
from complaints.reporting_views import parse_year
from portal.admin_display import ReadOnlyAdminMixin, days_left_badge
from portal.admin_display import day as _day
from portal.admin_display import today as _today
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib.dates import add_days

DUE_SOON_DAYS = 5
# How many selected cases a bulk action's page lists by code.
LISTED_ON_CONFIRMATION = 50
SECTION_FIELDS = list(reply_templates.SECTION_FIELDS)
# The only fields typed on the change page; the rest changes through the services.
EDITABLE_WHILE_OPEN = [*SECTION_FIELDS, "delay_cause"]
EDITABLE_AFTER_REPLY = ["delay_cause"]


def _euro(value) -> str:
    return f"{number_format(value, 2, force_grouping=True)} €"


def _moment(value) -> str:
    return date_format(timezone.localtime(value), "d/m/Y H:i") if value else "—"


def _person(user) -> str:
    return user.get_full_name() or user.email


KIND_SHORT = {
    Complaint.Kind.COMPLAINT: _("Reclamo"),
    Complaint.Kind.INFORMATION_REQUEST: _("Richiesta di informazioni"),
    Complaint.Kind.BILLING_RECTIFICATION: _("Rettifica di fatturazione"),
    Complaint.Kind.DOUBLE_BILLING: _("Doppia fatturazione"),
    Complaint.Kind.TELECOM_COMPLAINT: _("Reclamo Internet/Mobile"),
}


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def indemnity_if_sent_on(complaint: Complaint, day: date):
    """The indemnity `services.send_reply` would grant if the reply left on `day` (None when none)."""
    if complaint.indemnity_exclusion or complaint.customer_id is None:
        return None
    amount = deadlines.indemnity_amount(
        complaint.kind, complaint.received_on, max(day, complaint.received_on), complaint.four_monthly_billing
    )
    return amount or None


# ---------------------------------------------------------------------------------------------------------
# List filters
# ---------------------------------------------------------------------------------------------------------


class DeadlineFilter(admin.SimpleListFilter):
    title = _("termine di risposta")
    parameter_name = "termine"
    OVERDUE, DUE_SOON, ANSWERED_LATE = "scaduto", "entro-5-giorni", "risposto-in-ritardo"

    def lookups(self, request, model_admin):
        return [
            (self.OVERDUE, _("Scaduto, senza risposta")),
            (self.DUE_SOON, _("Scade entro 5 giorni")),
            (self.ANSWERED_LATE, _("Risposto oltre il termine")),
        ]

    def queryset(self, request, queryset):
        today = _today()
        if self.value() == self.OVERDUE:
            return queryset.filter(answered_on__isnull=True, answer_due_on__lt=today)
        if self.value() == self.DUE_SOON:
            return queryset.filter(
                answered_on__isnull=True,
                answer_due_on__gte=today,
                answer_due_on__lte=add_days(today, DUE_SOON_DAYS),
            )
        if self.value() == self.ANSWERED_LATE:
            return queryset.filter(answered_on__gt=F("answer_due_on"))
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assegnato a")
    parameter_name = "assegnato"
    ME, NOBODY = "me", "nessuno"

    def lookups(self, request, model_admin):
        people = [(str(user.pk), user.get_full_name() or user.email) for user in complaint_staff()]
        return [(self.ME, _("A me")), (self.NOBODY, _("Non assegnati")), *people]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ME:
            return queryset.filter(assignee=request.user)
        if value == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


# ---------------------------------------------------------------------------------------------------------
# Inlines: the history and the attachments, read-only
# ---------------------------------------------------------------------------------------------------------


_ReadOnlyInline = ReadOnlyAdminMixin


class ComplaintEventInline(_ReadOnlyInline, admin.TabularInline):
    model = ComplaintEvent
    verbose_name = _("evento")
    verbose_name_plural = _("cronologia del caso (incluse le note interne)")
    fields = ["when", "what", "who", "visibility", "text_lines"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("quando"))
    def when(self, event):
        return _moment(event.at)

    @admin.display(description=_("evento"))
    def what(self, event):
        return event.get_kind_display()

    @admin.display(description=_("chi"))
    def who(self, event):
        return _person(event.actor) if event.actor else _("sistema o cliente")

    @admin.display(description=_("testo"))
    def text_lines(self, event):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in event.text.splitlines())) or "—"

    @admin.display(description=_("visibilità"))
    def visibility(self, event):
        return _("solo interno") if event.internal else _("visibile al cliente")


class ComplaintAttachmentInline(_ReadOnlyInline, admin.TabularInline):
    model = ComplaintAttachment
    verbose_name = _("allegato")
    verbose_name_plural = _("allegati")
    fields = ["document", "file_type", "size_kb", "visibility", "who", "when"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("tipo"))
    def file_type(self, attachment):
        return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(
            attachment.content_type, attachment.content_type
        )

    @admin.display(description=_("caricato da"))
    def who(self, attachment):
        return _person(attachment.uploaded_by) if attachment.uploaded_by else _("cliente")

    @admin.display(description=_("caricato il"))
    def when(self, attachment):
        return _moment(attachment.uploaded_at)

    @admin.display(description=_("documento"))
    def document(self, attachment):
        url = reverse("admin:complaints_complaint_attachment", args=[attachment.complaint_id, attachment.pk])
        return format_html('<a href="{}">{}</a>', url, attachment.original_name)

    @admin.display(description=_("dimensione"))
    def size_kb(self, attachment):
        return f"{number_format(attachment.size / 1024, 0, force_grouping=True)} KB"

    @admin.display(description=_("visibilità"))
    def visibility(self, attachment):
        return _("solo interno") if attachment.internal else _("visibile al cliente")


# ---------------------------------------------------------------------------------------------------------
# The complaint admin
# ---------------------------------------------------------------------------------------------------------


@admin.register(Complaint)
class ComplaintAdmin(SafeLookupsAdmin):
    # The deadline right after the code: on a narrow screen the last columns scroll, never the clock.
    list_display = [
        "case_code",
        "answer_due",
        "status",
        "sender",
        "kind_short",
        "topic",
        "received",
        "assignee",
    ]
    list_display_links = ["case_code"]
    list_select_related = ["customer", "assignee"]
    list_filter = [
        DeadlineFilter,
        "status",
        "kind",
        "topic",
        "channel",
        AssigneeFilter,
        ("service__kind", admin.ChoicesFieldListFilter),
    ]
    search_fields = [
        "code",
        "sender_name",
        "customer__code",
        "customer__first_name",
        "customer__last_name",
        "customer__company_name",
        "=sender_tax_id",
        "=customer__codice_fiscale",
        "=customer__partita_iva",
        "=service__pod",
        "=service__pdr",
        "=supply_reference",
    ]
    search_help_text = _(
        "Codice del caso, nome o ragione sociale, codice cliente, codice fiscale, partita IVA, POD o PDR."
    )
    autocomplete_fields = ["customer", "contract", "service"]
    raw_id_fields = ["invoice"]
    inlines = [ComplaintEventInline, ComplaintAttachmentInline]
    actions = ["assign_to_me", "assign_to", "export_register"]
    change_list_template = "admin/complaints/complaint/change_list.html"
    change_form_template = "admin/complaints/complaint/change_form.html"

    add_fieldsets = [
        (
            _("Ricezione"),
            {
                "description": _(
                    "Reclami e richieste arrivati per raccomandata, e-mail, PEC o telefono. Il termine di "
                    "risposta decorre dalla data di ricevimento."
                ),
                "fields": ["channel", ("received_on", "sent_on")],
            },
        ),
        (
            _("Cliente e fornitura"),
            {
                "description": _(
                    "Seleziona il cliente e, se possibile, il contratto e la fornitura. Un reclamo senza "
                    "fornitura identificabile è trattato come richiesta di informazioni."
                ),
                "fields": ["customer", "contract", "service", "invoice", "supply_reference"],
            },
        ),
        (
            _("Mittente"),
            {"fields": ["sender_name", "sender_tax_id", "sender_email"]},
        ),
        (_("Contenuto"), {"fields": [("kind", "topic"), "description"]}),
        (
            _("Recapito per la risposta"),
            {"fields": ["reply_address", "reply_address_confirmed"]},
        ),
    ]

    change_fieldsets = [
        (
            None,
            {
                "fields": [
                    ("code", "status"),
                    ("kind", "topic", "channel"),
                    ("sent", "received"),
                    "deadline",
                    "assigned_to",
                    "conciliation",
                ]
            },
        ),
        (
            _("Mittente e fornitura"),
            {
                "fields": [
                    "sender_name",
                    ("customer_link", "contract_link"),
                    ("service_link", "supply_reference"),
                    "supply_address",
                    "invoice_link",
                    ("sender_tax_id", "sender_email"),
                    ("reply_address", "reply_address_confirmed"),
                ]
            },
        ),
        (_("Il reclamo"), {"fields": ["description"]}),
        (
            _("Risposta motivata"),
            {
                "description": _(
                    "Quattro sezioni in linguaggio semplice. La bozza viene dal modello per tipo e argomento: "
                    "sostituisci ogni «[da completare: …]» prima dell'invio."
                ),
                "fields": [*SECTION_FIELDS],
            },
        ),
        (
            _("Indennizzo automatico"),
            {"fields": ["indemnity", "exclusion"]},
        ),
        (
            _("Registro"),
            {
                "description": _("Per il registro dei reclami e la relazione annuale ad ARERA."),
                "fields": ["delay_cause"],
            },
        ),
    ]
    ANSWERED_FIELDS = (_("Risposta inviata"), {"fields": [("answered", "unsatisfactory")]})

    # --- permissions -------------------------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None):
        # The register is kept for 3 years (REGULATION.md): cases are never deleted from the back office.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- forms -------------------------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if obj.answered_on is None:
            return self.change_fieldsets
        # After the reply: when it left and what the customer thought of it, under the reply itself.
        reply = next(
            i for i, fieldset in enumerate(self.change_fieldsets) if fieldset[1]["fields"] == SECTION_FIELDS
        )
        sent_reply = (self.change_fieldsets[reply][0], {"fields": SECTION_FIELDS})  # no drafting hints
        return [
            *self.change_fieldsets[:reply],
            sent_reply,
            self.ANSWERED_FIELDS,
            *self.change_fieldsets[reply + 1 :],
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        editable = EDITABLE_WHILE_OPEN if obj.is_open else EDITABLE_AFTER_REPLY
        names = [
            name
            for fieldset in self.get_fieldsets(request, obj)
            for line in fieldset[1]["fields"]
            for name in (line if isinstance(line, tuple) else (line,))
        ]
        return [name for name in names if name not in editable]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ComplaintRegistrationForm
            return super().get_form(request, obj, change=change, **kwargs)
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj.is_open and not any(getattr(obj, name).strip() for name in SECTION_FIELDS):
            return _with_reply_draft(form, reply_templates.draft(obj).as_fields())
        return form

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in SECTION_FIELDS:
            field.widget.attrs.update(rows=9, cols=100)
        elif db_field.name == "delay_cause":
            field.widget.attrs.update(rows=3, cols=100)
        return field

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "assignee")

    def get_object(self, request, object_id, from_field=None):
        # The case page shows its contract, supply, invoice and credit: one query instead of four.
        queryset = self.get_queryset(request).select_related(
            "contract", "service", "invoice", "indemnity_credit"
        )
        field = self.opts.pk if from_field is None else self.opts.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (Complaint.DoesNotExist, ValidationError, ValueError):
            return None

    def save_model(self, request, obj, form, change):
        if change:
            # Only what staff type here; the reply sections always, since a draft left as offered is wanted.
            fields = [name for name in EDITABLE_WHILE_OPEN if name in form.cleaned_data]
            if fields:
                obj.save(update_fields=fields)
            return
        data = form.cleaned_data
        filed = services.file_complaint(
            kind=data["kind"],
            topic=data["topic"],
            channel=data["channel"],
            description=data["description"],
            sent_on=data["sent_on"],
            received_on=data["received_on"],
            customer=data.get("customer"),
            contract=data.get("contract"),
            service=data.get("service"),
            invoice=data.get("invoice"),
            sender_name=data.get("sender_name", ""),
            sender_tax_id=data.get("sender_tax_id", ""),
            sender_email=data.get("sender_email", ""),
            supply_reference=data.get("supply_reference", ""),
            reply_address=data.get("reply_address", ""),
            reply_address_confirmed=data.get("reply_address_confirmed", False),
            by=request.user,
        )
        # The admin goes on with `obj` (history, redirect): make it the case the service filed.
        for model_field in Complaint._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(filed, model_field.attname))
        obj._state.adding = False
        obj._state.db = filed._state.db

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": _("Registra un reclamo o una richiesta")}
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as error:  # the form checks first; this is the service's last word
            self.message_user(request, _error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            _("Registrato %(code)s (%(kind)s): risposta entro il %(due)s.")
            % {"code": obj.code, "kind": obj.get_kind_display(), "due": _day(obj.answer_due_on)},
            messages.SUCCESS,
        )
        if "_addanother" in request.POST:
            return HttpResponseRedirect(reverse("admin:complaints_complaint_add"))
        return HttpResponseRedirect(reverse("admin:complaints_complaint_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        complaint = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if complaint is not None:
            subtitle = [complaint.sender_name, str(complaint.get_status_display())]
            if complaint.assignee is not None:
                subtitle.append(str(_("assegnato a %(who)s") % {"who": _person(complaint.assignee)}))
            extra_context.update(
                title=f"{complaint.get_kind_display()} {complaint.code}",
                subtitle=" · ".join(subtitle),
                case=complaint,
                can_work=self.has_change_permission(request, complaint),
                case_urls=self._case_urls(complaint),
                show_save_and_add_another=False,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def response_change(self, request, obj):
        if "_preview" in request.POST:
            return HttpResponseRedirect(reverse("admin:complaints_complaint_reply_preview", args=[obj.pk]))
        if "_send" in request.POST:
            return HttpResponseRedirect(reverse("admin:complaints_complaint_send_reply", args=[obj.pk]))
        return super().response_change(request, obj)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "quality_url": reverse("admin:complaints_complaint_quality"),
            "register_url": reverse("admin:complaints_complaint_register"),
        }
        return super().changelist_view(request, extra_context)

    # --- columns and read-only fields --------------------------------------------------------------------

    @admin.display(description=_("codice"), ordering="code")
    def case_code(self, complaint):
        return format_html('<span style="white-space:nowrap">{}</span>', complaint.code)

    @admin.display(description=_("tipo"), ordering="kind")
    def kind_short(self, complaint):
        return KIND_SHORT.get(complaint.kind, complaint.get_kind_display())

    @admin.display(description=_("cliente"), ordering="sender_name")
    def sender(self, complaint):
        if complaint.customer is not None:
            return format_html("{}<br><small>{}</small>", complaint.sender_name, complaint.customer.code)
        return complaint.sender_name

    @admin.display(description=_("inviato il"), ordering="sent_on")
    def sent(self, complaint):
        return _day(complaint.sent_on)

    @admin.display(description=_("ricevuto il"), ordering="received_on")
    def received(self, complaint):
        return _day(complaint.received_on)

    @admin.display(description=_("risposto il"), ordering="answered_on")
    def answered(self, complaint):
        return _day(complaint.answered_on)

    @admin.display(description=_("risposta entro"), ordering="answer_due_on")
    def answer_due(self, complaint):
        return format_html(
            '<span style="white-space:nowrap">{}</span><br>{}',
            _day(complaint.answer_due_on),
            self.days_left(complaint),
        )

    def days_left(self, complaint):
        if complaint.answered_on is None:
            return days_left_badge(complaint.answer_due_on, _today())
        text = format_html(
            '<span style="white-space:nowrap">{}</span>',
            _("risposto il %(day)s") % {"day": _day(complaint.answered_on)},
        )
        if complaint.answered_on > complaint.answer_due_on:
            late = (complaint.answered_on - complaint.answer_due_on).days
            return format_html(
                '{} <span style="color:#b42318;white-space:nowrap">({})</span>',
                text,
                ngettext("%(n)d giorno in ritardo", "%(n)d giorni in ritardo", late) % {"n": late},
            )
        return text

    @admin.display(description=_("termine di risposta"))
    def deadline(self, complaint):
        standard = deadlines.answer_standard_days(
            complaint.kind, complaint.received_on, complaint.four_monthly_billing
        )
        head = format_html(
            "{} ({})",
            _day(complaint.answer_due_on),
            ngettext("%(n)d giorno dal ricevimento", "%(n)d giorni dal ricevimento", standard)
            % {"n": standard},
        )
        return format_html("{} · {}", head, self.days_left(complaint))

    @admin.display(description=_("assegnato a"))
    def assigned_to(self, complaint):
        return _person(complaint.assignee) if complaint.assignee else _("nessuno")

    @admin.display(description=_("conciliazione"))
    def conciliation(self, complaint):
        available_on = deadlines.conciliation_available_on(complaint.sent_on)
        parts = [_("possibile dal %(day)s senza risposta") % {"day": _day(available_on)}]
        if complaint.conciliation_notified_on:
            parts.append(
                _("cliente informato il %(day)s") % {"day": _day(complaint.conciliation_notified_on)}
            )
        if complaint.unsatisfactory:
            parts.append(_("risposta segnalata come non soddisfacente: possibile ora"))
        return " · ".join(str(part) for part in parts)

    def _admin_link(self, obj, viewname):
        if obj is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse(viewname, args=[obj.pk]), obj)

    @admin.display(description=_("cliente"))
    def customer_link(self, complaint):
        return self._admin_link(complaint.customer, "admin:contracts_customer_change")

    @admin.display(description=_("contratto"))
    def contract_link(self, complaint):
        return self._admin_link(complaint.contract, "admin:contracts_contract_change")

    @admin.display(description=_("fornitura o servizio"))
    def service_link(self, complaint):
        return self._admin_link(complaint.service, "admin:contracts_service_change")

    @admin.display(description=_("bolletta contestata"))
    def invoice_link(self, complaint):
        invoice = complaint.invoice
        if invoice is None:
            return "—"
        text = invoice.number or _("bozza n. %(pk)s") % {"pk": invoice.pk}
        if invoice.dunning_blocked:
            return format_html("{} · {}", text, _("sollecito e sospensione bloccati fino alla risposta"))
        return text

    @admin.display(description=_("indennizzo"))
    def indemnity(self, complaint):
        if complaint.answered_on is None:
            return self._indemnity_forecast(complaint)
        if complaint.indemnity_amount:
            return self._indemnity_granted(complaint)
        if complaint.indemnity_exclusion:
            return _("Non dovuto: esclusione registrata (sotto).")
        if complaint.answered_on <= complaint.answer_due_on:
            return _("Non dovuto: risposta entro il termine.")
        if complaint.kind not in deadlines.INDEMNIFIED_KINDS:
            return _("Non previsto per questo tipo di richiesta.")
        return _("Non dovuto: il mittente non è un cliente identificato.")

    def _indemnity_forecast(self, complaint):
        today = _today()
        amount = indemnity_if_sent_on(complaint, today)
        if amount:
            band = deadlines.indemnity_band(
                complaint.kind, complaint.received_on, today, complaint.four_monthly_billing
            )
            return _(
                "Se la risposta parte oggi: %(amount)s (%(band)s × base di %(base)s), accreditato "
                "automaticamente sulla prossima bolletta."
            ) % {
                "amount": _euro(amount),
                "band": band,
                "base": _euro(deadlines.indemnity_base(complaint.received_on)),
            }
        if complaint.kind not in deadlines.INDEMNIFIED_KINDS:
            return _("Non previsto per questo tipo di richiesta.")
        if complaint.indemnity_exclusion:
            return _("Escluso (sotto): nessun indennizzo anche se la risposta parte in ritardo.")
        return _("Nessun indennizzo se la risposta parte entro il %(day)s; poi %(base)s o più.") % {
            "day": _day(complaint.answer_due_on),
            "base": _euro(deadlines.indemnity_base(complaint.received_on)),
        }

    def _indemnity_granted(self, complaint):
        band = deadlines.indemnity_band(
            complaint.kind, complaint.received_on, complaint.answered_on, complaint.four_monthly_billing
        )
        lines = [
            format_html(
                "<strong>{}</strong> · {}",
                _euro(complaint.indemnity_amount),
                _("fascia %(band)s: %(band)s × base di %(base)s (risposta dopo %(days)s giorni)")
                % {
                    "band": band,
                    "base": _euro(deadlines.indemnity_base(complaint.received_on)),
                    "days": (complaint.answered_on - complaint.received_on).days,
                },
            )
        ]
        credit = complaint.indemnity_credit
        if credit is not None:
            lines.append(
                format_html(
                    "{} «{}» · {} {}",
                    _("Credito"),
                    credit.description,
                    _("da corrispondere entro il"),
                    _day(credit.pay_by),
                )
            )
            uses = list(credit.uses.select_related("invoice").order_by("invoice__issued_on", "pk"))
            for use in uses:
                lines.append(
                    _("Detratti %(amount)s dalla bolletta n. %(number)s del %(day)s.")
                    % {
                        "amount": _euro(use.amount),
                        "number": use.invoice.number or use.invoice.pk,
                        "day": _day(use.invoice.issued_on),
                    }
                )
            if credit.remaining:
                lines.append(
                    _("Da detrarre ancora: %(amount)s, sulla prossima bolletta.")
                    % {"amount": _euro(credit.remaining)}
                )
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    @admin.display(description=_("esclusione dell'indennizzo"))
    def exclusion(self, complaint):
        if not complaint.indemnity_exclusion:
            return "—"
        return format_html(
            "<strong>{}</strong><br>{}",
            complaint.get_indemnity_exclusion_display(),
            complaint.indemnity_exclusion_reason,
        )

    # --- changelist actions ------------------------------------------------------------------------------

    @admin.action(description=_("Assegna a me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._assign_many(request, queryset, request.user)

    @admin.action(description=_("Assegna a…"), permissions=["change"])
    def assign_to(self, request, queryset):
        form = AssignForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            selected = list(queryset[: LISTED_ON_CONFIRMATION + 1])
            return self._action_page(
                request,
                form=form,
                title=_("Assegna i casi selezionati"),
                intro=_("Chi riceve i casi riceve anche i promemoria delle scadenze."),
                submit=_("Assegna"),
                bulk={
                    "action": "assign_to",
                    "objects": selected[:LISTED_ON_CONFIRMATION],
                    "count": queryset.count(),
                    "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                    "select_across": request.POST.get("select_across", "0"),
                },
            )
        self._assign_many(request, queryset, form.cleaned_data["assignee"])
        return None

    def _assign_many(self, request, queryset, user):
        assigned = 0
        for complaint in queryset:
            try:
                services.assign(complaint=complaint, to=user, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{complaint.code}: {_error_text(error)}", messages.WARNING)
                continue
            self.log_change(request, complaint, f"Assegnato a {user}.")
            assigned += 1
        if assigned:
            self.message_user(
                request,
                ngettext("%(n)d caso assegnato a %(who)s.", "%(n)d casi assegnati a %(who)s.", assigned)
                % {"n": assigned, "who": user},
                messages.SUCCESS,
            )

    @admin.action(description=_("Esporta nel registro (CSV)"), permissions=["view"])
    def export_register(self, request, queryset):
        complaints = queryset.select_related("customer", "service").order_by("received_on", "code")
        return _register_response(complaints, filename=f"registro-reclami-{_today():%Y%m%d}.csv")

    # --- URLs of the case buttons and the reports ------------------------------------------------------

    def get_urls(self):
        def view(function, name, route):
            return path(route, self.admin_site.admin_view(function), name=f"complaints_complaint_{name}")

        return [
            view(self.quality_view, "quality", "indicatori/"),
            view(self.register_view, "register", "registro/"),
            view(self.assign_view, "assign", "<path:object_id>/assegna/"),
            view(self.assign_to_me_view, "assign_to_me", "<path:object_id>/assegna-a-me/"),
            view(self.note_view, "note", "<path:object_id>/nota/"),
            view(self.ask_customer_view, "ask_customer", "<path:object_id>/chiedi-informazioni/"),
            view(self.reclassify_view, "reclassify", "<path:object_id>/riclassifica/"),
            view(self.attach_view, "attach", "<path:object_id>/allega/"),
            view(self.exclusion_view, "exclusion", "<path:object_id>/esclusione-indennizzo/"),
            view(self.reply_draft_view, "reply_draft", "<path:object_id>/modello-risposta/"),
            view(self.reply_preview_view, "reply_preview", "<path:object_id>/risposta-anteprima.pdf"),
            view(self.send_reply_view, "send_reply", "<path:object_id>/invia-risposta/"),
            view(self.close_view, "close", "<path:object_id>/chiudi/"),
            view(self.attachment_view, "attachment", "<path:object_id>/allegati/<int:attachment_id>/"),
            *super().get_urls(),
        ]

    def _case_urls(self, complaint):
        def url(name):
            return reverse(f"admin:complaints_complaint_{name}", args=[complaint.pk])

        names = ["reply_preview", "attach"]
        if complaint.is_open:
            names += [
                "assign",
                "assign_to_me",
                "note",
                "ask_customer",
                "reclassify",
                "exclusion",
                "reply_draft",
                "send_reply",
            ]
        else:
            names += ["note"]
            if complaint.status == Complaint.Status.ANSWERED:
                names.append("close")
        return {name: url(name) for name in names}

    # --- the case views ----------------------------------------------------------------------------------

    def _case(self, request, object_id, *, change=True):
        complaint = self.get_object(request, unquote(object_id))
        if complaint is None:
            raise Http404(_("Caso non trovato."))
        allowed = (
            self.has_change_permission(request, complaint)
            if change
            else self.has_view_permission(request, complaint)
        )
        if not allowed:
            raise PermissionDenied
        return complaint

    def _change_url(self, complaint):
        return reverse("admin:complaints_complaint_change", args=[complaint.pk])

    def _case_view(
        self,
        request,
        object_id,
        *,
        form_class,
        title,
        intro,
        submit,
        act,
        form_kwargs=None,
        initial=None,
        context=None,
    ):
        """A page with one form for one case: on a valid POST, `act(complaint, data)` calls the service and
        returns the message that goes to the user and to the admin history."""
        complaint = self._case(request, object_id)
        kwargs = {"initial": initial or {}, **(form_kwargs or {})}
        if request.method == "POST":
            form = form_class(request.POST, request.FILES, **kwargs)
        else:
            form = form_class(**kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                message = act(complaint, form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, _error_text(error))
            else:
                self.log_change(request, complaint, str(message))
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(complaint))
        return self._action_page(
            request, form=form, title=title, intro=intro, submit=submit, case=complaint, extra=context
        )

    def _action_page(self, request, *, form, title, intro, submit, case=None, bulk=None, extra=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "intro": intro,
            "form": form,
            "submit_label": submit,
            "case": case,
            "change_url": self._change_url(case) if case else None,
            "bulk": bulk,
            "media": self.media + form.media,
            **(extra or {}),
        }
        return TemplateResponse(request, "admin/complaints/complaint/case_action.html", context)

    def assign_view(self, request, object_id):
        def act(complaint, data):
            complaint = services.assign(complaint=complaint, to=data["assignee"], by=request.user)
            return _("Caso assegnato a %(who)s.") % {"who": data["assignee"]}

        return self._case_view(
            request,
            object_id,
            form_class=AssignForm,
            title=_("Assegna il caso"),
            intro=_("Chi riceve il caso riceve anche i promemoria delle scadenze."),
            submit=_("Assegna"),
            act=act,
        )

    def assign_to_me_view(self, request, object_id):
        return require_POST(self._assign_to_me)(request, object_id)

    def _assign_to_me(self, request, object_id):
        complaint = self._case(request, object_id)
        try:
            services.assign(complaint=complaint, to=request.user, by=request.user)
        except ValidationError as error:
            self.message_user(request, _error_text(error), messages.ERROR)
        else:
            message = _("Caso assegnato a te.")
            self.log_change(request, complaint, f"Assegnato a {request.user}.")
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(complaint))

    def note_view(self, request, object_id):
        def act(complaint, data):
            services.add_note(complaint=complaint, text=data["text"], by=request.user)
            return _("Nota interna aggiunta.")

        return self._case_view(
            request,
            object_id,
            form_class=NoteForm,
            title=_("Aggiungi una nota interna"),
            intro=_("La nota resta nella cronologia del caso ed è visibile solo al personale."),
            submit=_("Aggiungi la nota"),
            act=act,
        )

    def ask_customer_view(self, request, object_id):
        def act(complaint, data):
            services.ask_customer(complaint=complaint, text=data["text"], by=request.user)
            return _("Richiesta di informazioni inviata al cliente; il caso è in attesa del cliente.")

        return self._case_view(
            request,
            object_id,
            form_class=AskCustomerForm,
            title=_("Chiedi informazioni al cliente"),
            intro=_(
                "Il termine di risposta non si sospende: la risposta motivata resta dovuta entro la stessa "
                "data."
            ),
            submit=_("Invia la richiesta"),
            act=act,
        )

    def reclassify_view(self, request, object_id):
        complaint = self._case(request, object_id)

        def act(complaint, data):
            complaint = services.reclassify(
                complaint=complaint, kind=data["kind"], reason=data["reason"], by=request.user
            )
            return _("Riclassificato come «%(kind)s»: risposta entro il %(due)s.") % {
                "kind": complaint.get_kind_display(),
                "due": _day(complaint.answer_due_on),
            }

        return self._case_view(
            request,
            object_id,
            form_class=ReclassifyForm,
            form_kwargs={"complaint": complaint},
            title=_("Riclassifica il caso"),
            intro=_(
                "Il nuovo termine di risposta si calcola dalla data di ricevimento originale (%(day)s). "
                "Nel dubbio, è un reclamo."
            )
            % {"day": _day(complaint.received_on)},
            submit=_("Riclassifica"),
            act=act,
        )

    def attach_view(self, request, object_id):
        def act(complaint, data):
            attachment = services.attach(
                complaint=complaint, upload=data["file"], by=request.user, internal=data["internal"]
            )
            if data["note"]:
                services.add_note(
                    complaint=complaint,
                    text=f"Allegato «{attachment.original_name}»: {data['note']}",
                    by=request.user,
                )
            return _("Documento «%(name)s» allegato (%(visibility)s).") % {
                "name": attachment.original_name,
                "visibility": _("solo interno") if attachment.internal else _("visibile al cliente"),
            }

        return self._case_view(
            request,
            object_id,
            form_class=AttachmentForm,
            title=_("Allega un documento"),
            intro=_("Un documento esaminato o da mostrare al cliente. PDF, JPEG o PNG, fino a 10 MB."),
            submit=_("Allega"),
            act=act,
        )

    def exclusion_view(self, request, object_id):
        def act(complaint, data):
            services.exclude_indemnity(
                complaint=complaint, exclusion=data["exclusion"], reason=data["reason"], by=request.user
            )
            return _("Esclusione dell'indennizzo registrata: %(what)s.") % {
                "what": Complaint.Exclusion(data["exclusion"]).label
            }

        return self._case_view(
            request,
            object_id,
            form_class=ExclusionForm,
            title=_("Escludi l'indennizzo automatico"),
            intro=_(
                "Solo nei casi previsti (TIQV art. 18, 20), documentati: l'indennizzo non sarà riconosciuto "
                "anche se la risposta parte oltre il termine."
            ),
            submit=_("Registra l'esclusione"),
            act=act,
        )

    def reply_draft_view(self, request, object_id):
        def act(complaint, data):
            if not complaint.is_open:
                raise ValidationError(_("La risposta è già stata inviata."))
            for name, value in reply_templates.draft(complaint, data["outcome"]).as_fields().items():
                setattr(complaint, name, value)
            complaint.save(update_fields=SECTION_FIELDS)
            return _("Le quattro sezioni della risposta ripartono dal modello scelto.")

        return self._case_view(
            request,
            object_id,
            form_class=ReplyDraftForm,
            title=_("Riparti dal modello di risposta"),
            intro=_("Attenzione: il testo già scritto nelle quattro sezioni viene sostituito."),
            submit=_("Usa il modello"),
            act=act,
        )

    def reply_preview_view(self, request, object_id):
        """The reply letter as the customer will receive it (rendered here: staff only, one at a time)."""
        complaint = self._case(request, object_id, change=False)
        if complaint.answered_on is None:
            # Shown as it would leave today: with the indemnity the reply would grant (not saved).
            complaint.indemnity_amount = indemnity_if_sent_on(complaint, _today())
        language = complaint.customer.language if complaint.customer else None
        pdf = communications.render_reply_letter(complaint, language)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="risposta-{complaint.code}-anteprima.pdf"'
        response["Cache-Control"] = "no-store"
        return response

    def send_reply_view(self, request, object_id):
        complaint = self._case(request, object_id)
        today = _today()
        unfinished = reply_templates.unfinished_sections(
            {name: getattr(complaint, name) for name in SECTION_FIELDS}
        )
        late = complaint.is_open and today > complaint.answer_due_on

        def act(complaint, data):
            if unfinished:
                raise ValidationError(
                    _("Completa la risposta prima di inviarla: %(sections)s.")
                    % {"sections": ", ".join(unfinished)}
                )
            with transaction.atomic():
                if data["delay_cause"].strip():
                    complaint.delay_cause = data["delay_cause"].strip()
                    complaint.save(update_fields=["delay_cause"])
                complaint = services.send_reply(complaint=complaint, answered_on=today, by=request.user)
            message = _("Risposta motivata inviata il %(day)s.") % {"day": _day(today)}
            if complaint.indemnity_amount:
                message += " " + _(
                    "Indennizzo automatico di %(amount)s: il credito sarà detratto dalla prossima bolletta."
                ) % {"amount": _euro(complaint.indemnity_amount)}
            return message

        return self._case_view(
            request,
            object_id,
            form_class=SendReplyForm,
            initial={"delay_cause": complaint.delay_cause},
            title=_("Invia la risposta motivata"),
            intro=_(
                "La risposta parte oggi con la lettera in PDF, per e-mail e nell'Area Clienti. La data di "
                "invio ferma il termine; dopo l'invio il testo non si può più modificare."
            ),
            submit=_("Invia la risposta"),
            act=act,
            context={
                "send": {
                    "today": today,
                    "late": late,
                    "indemnity": indemnity_if_sent_on(complaint, today) if complaint.is_open else None,
                    "unfinished": unfinished,
                    "sections": [
                        (heading, getattr(complaint, name))
                        for name, heading in reply_templates.SECTION_FIELDS.items()
                    ],
                    "preview_url": reverse("admin:complaints_complaint_reply_preview", args=[complaint.pk]),
                }
            },
        )

    def close_view(self, request, object_id):
        def act(complaint, data):
            services.close(complaint=complaint, by=request.user)
            return _("Caso chiuso.")

        return self._case_view(
            request,
            object_id,
            form_class=ConfirmForm,
            title=_("Chiudi il caso"),
            intro=_("Il caso ha una risposta motivata: chiudendolo non si possono più aggiungere messaggi."),
            submit=_("Chiudi il caso"),
            act=act,
        )

    def attachment_view(self, request, object_id, attachment_id):
        complaint = self._case(request, object_id, change=False)
        attachment = complaint.attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404(_("Allegato non trovato."))
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise Http404("attachment missing from storage") from None
        return FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )

    # --- reports -----------------------------------------------------------------------------------------

    def quality_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = _today()
        years = reporting.available_years(today=today)
        year = parse_year(request.GET.get("anno"), years, default=today.year)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Indicatori di qualità dei reclami e delle richieste"),
            "indicators": reporting.quality_indicators(year),
            "years": years,
            "year": year,
            "public_url": reverse("complaints_quality:public"),
        }
        return TemplateResponse(request, "admin/complaints/complaint/quality.html", context)

    def register_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = _today()
        last_year = today.year - 1
        form = RegisterExportForm(
            request.GET if "date_from" in request.GET else None,
            initial={"date_from": date(last_year, 1, 1), "date_to": date(last_year, 12, 31)},
        )
        if form.is_valid():
            date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
            return _register_response(
                reporting.register_queryset(date_from=date_from, date_to=date_to),
                filename=f"registro-reclami-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv",
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Registro dei reclami: esporta in CSV"),
            "form": form,
            "columns": reporting.REGISTER_COLUMNS,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/complaints/complaint/register.html", context)


class ConfirmForm(forms.Form):
    """No field: the page itself is the confirmation."""


def _with_reply_draft(form_class, draft: dict[str, str]):
    """The change form with the four reply sections pre-filled from the template (nothing is saved until
    staff save the page)."""

    class DraftedForm(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name, value in draft.items():
                if name in self.fields:
                    self.initial[name] = value

    return DraftedForm


def _register_response(complaints, *, filename: str) -> StreamingHttpResponse:
    lines = reporting.register_csv_lines(complaints.iterator(chunk_size=2000), today=_today())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
