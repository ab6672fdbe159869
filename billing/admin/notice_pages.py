"""The pages of a default notice's operations — one per operation of billing/dunning/lifecycle.py, named
after it (`admin:billing_defaultnotice_<operation>`) — and the worklist of the day. Each page collects a
form, calls one dunning service and reports; the service refuses what the regulation does not allow yet."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing.admin.common import RecordViews, euro
from billing.admin.forms import (
    CancelNoticeForm,
    DispatchForm,
    ReactivationForm,
    ReceiptForm,
    StepExecutionForm,
    SuspensionStepForm,
)
from billing.admin.steps import step_report
from billing.dunning import notices as dunning
from billing.dunning import selectors, steps
from billing.dunning.lifecycle import Operation
from billing.models import DefaultNotice
from portal.lib import dates
from portal.lib.formatting import day as _day


def operation_link(notice: DefaultNotice, operation: Operation) -> tuple[str, str]:
    """(label, url) of the page where staff carry out `operation` on the notice."""
    return operation.label, reverse(f"admin:billing_defaultnotice_{operation.value}", args=[notice.pk])


def blocked_label(codes) -> str:
    """In place of the step the form would refuse: which complaints hold the notice (ARERA)."""
    return _("bloccata (reclamo %(codes)s)") % {"codes": ", ".join(codes)}


def held_label(blocked_by=(), plans=()) -> str:
    """In place of the step the form would refuse: what holds the notice — complaints (`blocked_by`, their
    codes), approved instalment plans (`plans`, their references); empty when nothing does."""
    labels = [blocked_label(blocked_by)] if blocked_by else []
    if plans:
        labels.append(_("sospesa (rateizzazione %(references)s)") % {"references": ", ".join(plans)})
    return " · ".join(labels)


class NoticePages(RecordViews):
    """The per-notice pages and the worklist of DefaultNoticeAdmin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        pages = {
            Operation.SEND: ("invio/", self.send_view),
            Operation.RECORD_POSTING: ("spedizione/", self.dispatch_view),
            Operation.RECORD_RECEIPT: ("ricevuta/", self.receipt_view),
            Operation.RECORD_STEP: ("intervento/", self.step_view),
            Operation.REACTIVATE: ("riattivazione/", self.reactivate_view),
            Operation.CANCEL: ("annullamento/", self.cancel_view),
        }
        return [
            path("oggi/", view(self.worklist_view), name="billing_defaultnotice_worklist"),
            *(
                path(f"<int:pk>/{suffix}", view(page), name=f"billing_defaultnotice_{operation.value}")
                for operation, (suffix, page) in pages.items()
            ),
            path(
                "<int:pk>/intervento/<int:step_pk>/esecuzione/",
                view(self.execution_view),
                name="billing_defaultnotice_execution",
            ),
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

    def _notice_page(self, request, notice, form, *, title, intro="", details=(), submit=None):
        """An operation's page: the notice's dates and `details` above the form."""
        return self._record_page(
            request,
            form=form,
            obj=notice,
            details=[*self._details(notice), *details],
            title=title,
            intro=intro,
            submit=submit,
        )

    def _report_queued(self, request, queued, done):
        for notice in queued.sent:
            self.log_change(request, notice, str(done % {"count": 1}))
        if queued.sent:
            self.message_user(request, done % {"count": len(queued.sent)}, messages.SUCCESS)

    def send_view(self, request, pk):
        """Choose the channel of a notice still to be sent; the sending itself is queued."""
        notice = self._notice(request, pk)
        channel = request.POST.get("channel")
        if request.method == "POST" and channel in DefaultNotice.Channel.values:
            queued = dunning.queue_sending(
                notices=DefaultNotice.objects.filter(pk=notice.pk), channel=channel, by=request.user
            )
            if queued.without_pec:
                self.message_user(request, _("Il cliente non ha un indirizzo PEC."), messages.ERROR)
            elif queued.sent:
                done = (
                    _("PEC in partenza: la data di invio è oggi.")
                    if channel == DefaultNotice.Channel.PEC
                    else _("Raccomandata in preparazione: la trovi tra poco in «Lettere da spedire».")
                )
                self._report_queued(request, queued, done)
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
        form = DispatchForm(request.POST or None, initial={"sent_on": dates.today()})
        sent = self._submit(
            request,
            form,
            lambda data: dunning.record_dispatch(
                notice=notice,
                channel=DefaultNotice.Channel.RACCOMANDATA,
                sent_on=data["sent_on"],
                tracking_number=data["tracking_number"],
                by=request.user,
            ),
            dispatched_on="sent_on",
        )
        if sent is not None:
            message = _(
                "Spedita il %(sent)s: pagamento entro il %(deadline)s, sospensione non prima del %(allowed)s."
            ) % {
                "sent": _day(sent.sent_on),
                "deadline": _day(sent.payment_due_on),
                "allowed": _day(sent.suspension_allowed_on),
            }
            return self._done(request, sent, message)
        return self._notice_page(
            request,
            notice,
            form,
            title=_("Registra la spedizione della raccomandata"),
            intro=_("Dalla data di spedizione decorrono i 40 giorni per pagare (art. 6.2)."),
        )

    def receipt_view(self, request, pk):
        notice = self._notice(request, pk)
        form = ReceiptForm(request.POST or None)
        received = self._submit(
            request,
            form,
            lambda data: dunning.record_receipt(
                notice=notice, received_on=data["received_on"], by=request.user
            ),
            delivered_on="received_on",
        )
        if received is not None:
            message = _("Ricevuta il %(received)s: sospensione non prima del %(allowed)s.") % {
                "received": _day(received.received_on),
                "allowed": _day(received.suspension_allowed_on),
            }
            return self._done(request, received, message)
        return self._notice_page(
            request,
            notice,
            form,
            title=_("Registra la ricezione"),
            intro=_(
                "Senza data di ricezione vale quella presunta (10 giorni dall'invio, art. 9.3). Per la luce la "
                "sospensione non può essere chiesta prima di 25 giorni dalla ricezione, per il gas di 40."
            ),
        )

    def step_view(self, request, pk):
        notice = self._notice(request, pk)
        supplies = steps.supplies_of(notice)
        form = SuspensionStepForm(
            request.POST or None,
            services=supplies,
            initial={"requested_on": dates.today(), "service": supplies.first()},
        )
        step = self._submit(
            request, form, lambda data: steps.record_suspension_step(notice=notice, by=request.user, **data)
        )
        if step is not None:
            return self._done(request, notice, step_report(step))
        next_steps = [
            (
                _("%(supply)s: %(step)s")
                % {
                    "supply": f"{upcoming.service.contract.number} · {upcoming.service}",
                    "step": upcoming.kind.label.lower(),
                },
                _("dal %(day)s (%(rule)s)") % {"day": _day(upcoming.allowed_on), "rule": upcoming.rule},
            )
            for upcoming in steps.next_steps(notice)
        ]
        return self._notice_page(
            request,
            notice,
            form,
            details=next_steps,
            title=_("Registra un intervento per morosità"),
            intro=_(
                "Luce in bassa tensione: prima la riduzione di potenza al 15%, la sospensione 15 giorni dopo la "
                "riduzione eseguita (art. 6.3). Un intervento prima del giorno consentito è rifiutato, salvo "
                "indicarne il motivo: in tal caso il cliente riceve l'indennizzo automatico di 20 €."
            ),
        )

    def execution_view(self, request, pk, step_pk):
        notice = self._notice(request, pk)
        step = get_object_or_404(notice.steps.select_related("service"), pk=step_pk)
        form = StepExecutionForm(request.POST or None, initial={"executed_on": dates.today()})
        executed = self._submit(
            request,
            form,
            lambda data: steps.record_step_execution(
                step=step, executed_on=data["executed_on"], by=request.user
            ),
        )
        if executed is not None:
            message = _("%(step)s: eseguito il %(day)s.") % {
                "step": executed,
                "day": _day(executed.executed_on),
            }
            return self._done(request, notice, message)
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
            request.POST or None, initial={"proven_payment_on": dates.today(), "requested_on": dates.today()}
        )
        reactivations = self._submit(
            request, form, lambda data: steps.reactivate(notice=notice, by=request.user, **data)
        )
        if reactivations is not None:
            count = len(reactivations)
            message = ngettext(
                "Riattivazione richiesta per %(count)d fornitura.",
                "Riattivazione richiesta per %(count)d forniture.",
                count,
            ) % {"count": count}
            return self._done(request, notice, message)
        still_due = (_("Ancora da pagare"), euro(selectors.amount_still_due(notice)))
        return self._notice_page(
            request,
            notice,
            form,
            details=[still_due],
            title=_("Riattiva le forniture"),
            intro=_(
                "Dopo la prova del pagamento integrale (art. 6.5): la riattivazione va chiesta al distributore."
            ),
        )

    def cancel_view(self, request, pk):
        notice = self._notice(request, pk)
        form = CancelNoticeForm(request.POST or None)
        cancelled = self._submit(
            request,
            form,
            lambda data: dunning.cancel_notice(notice=notice, reason=data["reason"], by=request.user),
        )
        if cancelled is not None:
            return self._done(
                request, cancelled, _("Costituzione in mora annullata: %(reason)s") % form.cleaned_data
            )
        return self._notice_page(
            request,
            notice,
            form,
            title=_("Annulla la costituzione in mora"),
            submit=_("Annulla la costituzione in mora"),
        )

    def worklist_view(self, request):
        """Today's dunning work (selectors.worklist), each row with the page of the operation to do."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = dates.today()
        sections = []
        for section in selectors.worklist(today):
            shown = {"key": section.key, "title": section.title, "hint": section.hint}
            if section.steps is not None:
                shown["steps"] = [
                    {"supply": supply, "blocked": held_label(supply.blocked_by, supply.plans)}
                    for supply in section.steps
                ]
            else:
                shown["rows"] = [
                    {
                        "notice": row.notice,
                        "total": euro(row.notice.total_due),
                        "operation": operation_link(row.notice, row.operation) if row.operation else None,
                        "blocked": held_label(row.blocked_by, row.plans),
                    }
                    for row in section.rows
                ]
            sections.append(shown)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Morosità: il lavoro di oggi"),
            "today": today,
            "sections": sections,
            "can_change": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/billing/defaultnotice/worklist.html", context)
