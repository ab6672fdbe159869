"""Back office for complaints and written requests: the list with the legal clock, the register, the case.

Staff register the complaints that arrive by letter, e-mail, PEC or phone (the add form is filed by
`services.file_complaint`), and work each case from its change page: every button calls one service
(assign, note, request for information, reclassification, attachment, indemnity exclusion, reply, close),
which records the ComplaintEvent; the admin adds Django's LogEntry (who and when) and reports with
`message_user`. The four sections of the reasoned reply are the only fields typed on the change form, plus
the cause of any delay for the register; everything else is read-only, set by the services and the sweeps.

ComplaintAdmin is this module's configuration and forms, plus the mixins of its screens: the columns and
read-only fields (columns.py), the buttons' pages (case_pages.py, reply_pages.py), the reports (reports.py).
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from complaints import reply_templates, selectors, services
from complaints.admin.case_pages import CasePages
from complaints.admin.columns import ComplaintColumns
from complaints.admin.common import change_url, error_text, person
from complaints.admin.filters import AssigneeFilter, DeadlineFilter, StatusFilter
from complaints.admin.forms import ComplaintCaseForm, ComplaintRegistrationForm
from complaints.admin.inlines import ComplaintAttachmentInline, ComplaintEventInline
from complaints.admin.reply_pages import ReplyPages
from complaints.admin.reports import Reports
from complaints.models import Complaint
from portal.admin_lookups import SafeLookupsAdmin
from portal.lib.formatting import day as _day

SECTION_FIELDS = list(reply_templates.SECTION_FIELDS)
# The only fields typed on the change page; the rest changes through the services.
EDITABLE_WHILE_OPEN = [*SECTION_FIELDS, "delay_cause", "invoice"]
EDITABLE_AFTER_REPLY = ["delay_cause"]


@admin.register(Complaint)
class ComplaintAdmin(ComplaintColumns, CasePages, ReplyPages, Reports, SafeLookupsAdmin):
    # The deadline right after the code; six columns, so that the queue fits 1280 px beside both sidebars.
    list_display = [
        "case_code",
        "answer_due",
        "received",
        "sender",
        "kind_and_topic",
        "status_and_assignee",
    ]
    list_display_links = ["case_code"]
    # The queue: the nearest answer-by date first (and the default view shows open cases only).
    ordering = ["answer_due_on", "pk"]
    list_select_related = ["customer", "assignee"]
    list_filter = [
        DeadlineFilter,
        StatusFilter,
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
                    ("invoice", "dunning_block"),
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
        # (Without the permission Django offers no "delete selected" action either.)
        return False

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
        kwargs["form"] = ComplaintCaseForm
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

    # --- registering and saving ------------------------------------------------------------------------

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        # Registering a case is filing it: the service saves it (code, clock, acknowledgement), and the admin
        # goes on with the case it returns (history, message, redirect). The form's fields are its arguments.
        return services.file_complaint(**form.cleaned_data, by=request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            return  # filed by `save_form`
        # Only what staff type here; the reply sections always, since a draft left as offered is wanted.
        fields = [name for name in EDITABLE_WHILE_OPEN if name in form.cleaned_data and name != "invoice"]
        if fields:
            obj.save(update_fields=fields)
        if "invoice" in form.changed_data:  # linked later: the anomalous-bill block follows
            services.link_invoice(complaint=obj, invoice=form.cleaned_data["invoice"], by=request.user)

    def save_related(self, request, form, formsets, change):
        if change:  # a new case has nothing related to save: the service filed it whole
            super().save_related(request, form, formsets, change)

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": _("Registra un reclamo o una richiesta")}
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError as error:  # the form checks first; this is the service's last word
            self.message_user(request, error_text(error), messages.ERROR)
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
        return HttpResponseRedirect(change_url(obj))

    # --- pages -------------------------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        complaint = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if complaint is not None:
            subtitle = [complaint.sender_name, str(complaint.get_status_display())]
            if complaint.assignee is not None:
                subtitle.append(str(_("assegnato a %(who)s") % {"who": person(complaint.assignee)}))
            extra_context.update(
                title=f"{complaint.get_kind_display()} {complaint.code}",
                subtitle=" · ".join(subtitle),
                case=complaint,
                can_work=self.has_change_permission(request, complaint),
                case_urls=self._case_urls(complaint),
                show_save_and_add_another=False,
            )
            if complaint.is_open and extra_context["can_work"]:
                extra_context["reply_snippets"] = reply_templates.snippets_for(complaint)
        return super().change_view(request, object_id, form_url, extra_context)

    def response_change(self, request, obj):
        if "_preview" in request.POST:
            return HttpResponseRedirect(reverse("admin:complaints_complaint_reply_preview", args=[obj.pk]))
        if "_send" in request.POST:
            return HttpResponseRedirect(reverse("admin:complaints_complaint_send_reply", args=[obj.pk]))
        return super().response_change(request, obj)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not request.GET:
            # The queue opens on its default view, written in the URL so that the filters show it and it can
            # be cleared ("Tutti"); a link with any filter of its own is shown as it is.
            return HttpResponseRedirect(f"{request.path}?{self.default_queue(request)}")
        extra_context = {
            **(extra_context or {}),
            "quality_url": reverse("admin:complaints_complaint_quality"),
            "register_url": reverse("admin:complaints_complaint_register"),
        }
        return super().changelist_view(request, extra_context)

    def default_queue(self, request) -> str:
        """The query string of the queue's default view: open cases; an officer's own only."""
        params = {StatusFilter.parameter_name: StatusFilter.OPEN}
        if selectors.queue_opens_on_own_cases(request.user):
            params[AssigneeFilter.parameter_name] = AssigneeFilter.ME
        return urlencode(params)

    def get_changelist(self, request, **kwargs):
        return QueueChangeList


class QueueChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        # A list without filters is the default view again: "clear all filters" asks for every status.
        every_status = {StatusFilter.parameter_name: StatusFilter.ALL}
        self.clear_all_filters_qs = self.get_query_string(
            every_status, remove=[name for name in self.get_filters_params() if name not in every_status]
        )
        return queryset


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
