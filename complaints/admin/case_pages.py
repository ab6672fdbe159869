"""The pages behind the case's buttons: one form, one service, one message.

Each page collects what the service needs (complaints.admin.forms), calls it, and on success records the
message in Django's history (LogEntry: who and when) and shows it with `message_user`; a refusal of the
service is shown on the form. The list's bulk "assign" actions go through the same service, case by case.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from complaints import selectors, services
from complaints.admin.common import case_route, change_url, error_text
from complaints.admin.forms import (
    AskCustomerForm,
    AssignForm,
    AttachmentForm,
    DunningBlockForm,
    DunningLiftForm,
    ExclusionForm,
    NoteForm,
    ReclassifyForm,
)
from complaints.models import Complaint
from portal.admin_display import LISTED_ON_CONFIRMATION
from portal.lib.formatting import day as _day


class CasePages:
    """Mixed into ComplaintAdmin: the case's buttons, their URLs and pages, and the bulk assignment."""

    def get_urls(self):
        return [
            case_route(self, self.assign_view, "assign", "assegna/"),
            case_route(self, self.assign_to_me_view, "assign_to_me", "assegna-a-me/"),
            case_route(self, self.note_view, "note", "nota/"),
            case_route(self, self.ask_customer_view, "ask_customer", "chiedi-informazioni/"),
            case_route(self, self.reclassify_view, "reclassify", "riclassifica/"),
            case_route(self, self.attach_view, "attach", "allega/"),
            case_route(self, self.exclusion_view, "exclusion", "esclusione-indennizzo/"),
            case_route(self, self.block_dunning_view, "block_dunning", "blocca-solleciti/"),
            case_route(self, self.lift_dunning_view, "lift_dunning", "sblocca-solleciti/"),
            case_route(self, self.attachment_view, "attachment", "allegati/<int:attachment_id>/"),
            *super().get_urls(),
        ]

    def _case_urls(self, complaint):
        def url(name):
            return reverse(f"admin:complaints_complaint_{name}", args=[complaint.pk])

        return {name: url(name) for name in selectors.staff_operations(complaint)}

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
                form.add_error(None, error_text(error))
            else:
                self.log_change(request, complaint, str(message))
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(change_url(complaint))
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
            "change_url": change_url(case) if case else None,
            "bulk": bulk,
            "media": self.media + form.media,
            **(extra or {}),
        }
        return TemplateResponse(request, "admin/complaints/complaint/case_action.html", context)

    def assign_view(self, request, object_id):
        def act(complaint, data):
            services.assign(complaint=complaint, to=data["assignee"], by=request.user)
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
            self.message_user(request, error_text(error), messages.ERROR)
        else:
            message = _("Caso assegnato a te.")
            self.log_change(request, complaint, f"Assegnato a {request.user}.")
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(change_url(complaint))

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
                complaint=complaint,
                upload=data["file"],
                by=request.user,
                internal=data["internal"],
                note=data["note"],
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

    def block_dunning_view(self, request, object_id):
        return self._dunning_view(
            request,
            object_id,
            service=services.block_invoice_dunning,
            done=lambda complaint, reason: (
                _("Solleciti della bolletta %(number)s bloccati fino alla risposta: %(reason)s")
                % {"number": complaint.invoice.number, "reason": reason}
            ),
            form_class=DunningBlockForm,
            title=_("Blocca i solleciti della bolletta contestata"),
            intro=_(
                "La bolletta non entra in costituzioni in mora e non porta a riduzioni o sospensioni finché "
                "il caso non ha la risposta motivata; il blocco nomina questo reclamo e si toglie con la "
                "risposta."
            ),
            submit=_("Blocca i solleciti"),
        )

    def lift_dunning_view(self, request, object_id):
        return self._dunning_view(
            request,
            object_id,
            service=services.lift_invoice_dunning,
            done=lambda complaint, reason: _("Blocco dei solleciti tolto: %(reason)s") % {"reason": reason},
            form_class=DunningLiftForm,
            title=_("Togli il blocco dei solleciti"),
            intro=_(
                "Il reclamo non ha ancora una risposta: senza blocco la bolletta può entrare in una "
                "costituzione in mora e portare alla sospensione. Il blocco si toglie comunque da solo con la "
                "risposta."
            ),
            submit=_("Togli il blocco"),
        )

    def _dunning_view(self, request, object_id, *, service, done, **page):
        """Blocking the disputed bill's dunning and lifting the block: a reason, handed to `service`, and
        `done(complaint, reason)`, the message."""

        def act(complaint, data):
            service(complaint=complaint, reason=data["reason"], by=request.user)
            return done(complaint, data["reason"])

        return self._case_view(request, object_id, act=act, **page)

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

    @admin.action(description=_("Assegna a me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._assign_many(request, queryset, request.user)

    @admin.action(description=_("Assegna o riassegna a…"), permissions=["change"])
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
                self.message_user(request, f"{complaint.code}: {error_text(error)}", messages.WARNING)
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
