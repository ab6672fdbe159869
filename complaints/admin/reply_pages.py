"""The reasoned reply's pages: restart the draft from a template, preview the letter, send it, close the case.

The four sections themselves are typed on the case page (complaints.admin.complaints); these pages are
built like the other buttons' (complaints.admin.case_pages: one form, one service, one message).
"""

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from complaints import communications, reply_templates, selectors, services
from complaints.admin.common import case_route
from complaints.admin.forms import ConfirmForm, ReplyDraftForm, SendReplyForm
from portal.lib import dates
from portal.lib.formatting import day as _day
from portal.lib.formatting import euro


class ReplyPages:
    """Mixed into ComplaintAdmin, after CasePages (whose `_case` and `_case_view` it uses)."""

    def get_urls(self):
        return [
            case_route(self, self.reply_draft_view, "reply_draft", "modello-risposta/"),
            case_route(self, self.reply_preview_view, "reply_preview", "risposta-anteprima.pdf"),
            case_route(self, self.send_reply_view, "send_reply", "invia-risposta/"),
            case_route(self, self.close_view, "close", "chiudi/"),
            *super().get_urls(),
        ]

    def reply_draft_view(self, request, object_id):
        def act(complaint, data):
            services.restart_reply(complaint=complaint, outcome=data["outcome"], template=data["template"])
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
        pdf = communications.render_reply_preview(complaint, today=dates.today())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="risposta-{complaint.code}-anteprima.pdf"'
        response["Cache-Control"] = "no-store"
        return response

    def send_reply_view(self, request, object_id):
        complaint = self._case(request, object_id)
        today = dates.today()
        by_post = selectors.replies_by_post(complaint)

        def act(complaint, data):
            complaint = services.send_reply(
                complaint=complaint, answered_on=today, by=request.user, delay_cause=data["delay_cause"]
            )
            if complaint.status == complaint.Status.REPLY_TO_POST:
                return _(
                    "La lettera di risposta è nelle Lettere da spedire: la risposta risulterà inviata alla "
                    "data di spedizione registrata lì; fino ad allora il termine continua a decorrere."
                )
            message = _("Risposta motivata inviata il %(day)s.") % {"day": _day(today)}
            if complaint.indemnity_amount:
                message += " " + _(
                    "Indennizzo automatico di %(amount)s: il credito sarà detratto dalla prossima bolletta."
                ) % {"amount": euro(complaint.indemnity_amount)}
            return message

        return self._case_view(
            request,
            object_id,
            form_class=SendReplyForm,
            initial={"delay_cause": complaint.delay_cause},
            title=_("Invia la risposta motivata"),
            intro=_(
                "Il mittente non ha un'e-mail né un'Area Clienti: la lettera va per posta ordinaria "
                "all'indirizzo per la risposta e finisce nelle Lettere da spedire. La data di spedizione "
                "registrata lì ferma il termine; dopo l'invio il testo non si può più modificare."
            )
            if by_post
            else _(
                "La risposta parte oggi con la lettera in PDF, per e-mail e nell'Area Clienti. La data di "
                "invio ferma il termine; dopo l'invio il testo non si può più modificare."
            ),
            submit=_("Invia la risposta"),
            act=act,
            context={
                "send": {
                    "today": today,
                    "by_post": by_post,
                    "late": selectors.clock(complaint, today=today).state == "late",
                    "indemnity": selectors.indemnity_due(complaint, answered_on=today)
                    if complaint.is_open
                    else None,
                    "unfinished": reply_templates.unfinished_sections_of(complaint),
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
