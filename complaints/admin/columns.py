"""The list's columns and the read-only fields of the case page: what the services and sweeps set, as staff
read it. The figures come from complaints.selectors; here they are only written out."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from complaints import deadlines, selectors
from complaints.admin.common import person
from complaints.models import Complaint
from complaints.selectors import Indemnity
from portal.admin_display import days_left_badge
from portal.lib import dates
from portal.lib.formatting import day as _day
from portal.lib.formatting import euro

KIND_SHORT = {
    Complaint.Kind.COMPLAINT: _("Reclamo"),
    Complaint.Kind.INFORMATION_REQUEST: _("Richiesta di informazioni"),
    Complaint.Kind.BILLING_RECTIFICATION: _("Rettifica di fatturazione"),
    Complaint.Kind.DOUBLE_BILLING: _("Doppia fatturazione"),
    Complaint.Kind.TELECOM_COMPLAINT: _("Reclamo Internet/Mobile"),
}

# Why a case gets no automatic indemnity, as the case page says it: after the reply, and before it.
NO_INDEMNITY = {
    Indemnity.EXCLUDED: _("Non dovuto: esclusione registrata (sotto)."),
    Indemnity.ON_TIME: _("Non dovuto: risposta entro il termine."),
    Indemnity.NOT_PROVIDED: _("Non previsto per questo tipo di richiesta."),
    Indemnity.NOT_A_CUSTOMER: _("Non dovuto: il mittente non è un cliente identificato."),
}
NO_INDEMNITY_YET = {
    Indemnity.EXCLUDED: _("Escluso (sotto): nessun indennizzo anche se la risposta parte in ritardo."),
    Indemnity.NOT_PROVIDED: _("Non previsto per questo tipo di richiesta."),
    Indemnity.NOT_A_CUSTOMER: _("Non dovuto: il mittente non è un cliente identificato."),
}


class ComplaintColumns:
    """Mixed into ComplaintAdmin: every `@admin.display` of the list and of the case page."""

    @admin.display(description=_("codice"), ordering="code")
    def case_code(self, complaint):
        return format_html('<span style="white-space:nowrap">{}</span>', complaint.code)

    # The list's cells hold two facts each, one under the other, so that the queue fits 1280 px.
    @admin.display(description=_("tipo e argomento"), ordering="kind")
    def kind_and_topic(self, complaint):
        return format_html(
            "{}<br><small>{}</small>",
            KIND_SHORT.get(complaint.kind, complaint.get_kind_display()),
            complaint.get_topic_display(),
        )

    @admin.display(description=_("stato e assegnatario"), ordering="status")
    def status_and_assignee(self, complaint):
        return format_html(
            "{}<br><small>{}</small>",
            complaint.get_status_display(),
            person(complaint.assignee) if complaint.assignee else _("non assegnato"),
        )

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
        if complaint.status == Complaint.Status.REPLY_TO_POST:
            # Written but not posted: not answered yet, and the clock still runs.
            return format_html(
                "<strong>{}</strong> · {}",
                _("risposta da spedire per posta"),
                days_left_badge(complaint.answer_due_on, dates.today()),
            )
        if complaint.answered_on is None:
            return days_left_badge(complaint.answer_due_on, dates.today())
        # Free to wrap (a date never breaks): in the list's narrow column the answer fits in two lines.
        text = _("risposto il %(day)s") % {"day": _day(complaint.answered_on)}
        late = selectors.days_answered_late(complaint)
        if late:
            return format_html(
                '{} <span style="color:#b42318">({})</span>',
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
        return person(complaint.assignee) if complaint.assignee else _("nessuno")

    @admin.display(description=_("conciliazione"))
    def conciliation(self, complaint):
        available_on = selectors.conciliation_opens_on(complaint)
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
        return self._admin_link(complaint.customer, "admin:accounts_customer_change")

    @admin.display(description=_("contratto"))
    def contract_link(self, complaint):
        return self._admin_link(complaint.contract, "admin:contracts_contract_change")

    @admin.display(description=_("fornitura o servizio"))
    def service_link(self, complaint):
        return self._admin_link(complaint.service, "admin:contracts_service_change")

    @admin.display(description=_("solleciti della bolletta"))
    def dunning_block(self, complaint):
        """Whether the case holds its invoice out of dunning (services.apply_dunning_block), who decided."""
        if complaint.invoice_id is None:
            return "—"
        lines = []
        for block in complaint.dunning_blocks.filter(invoice_id=complaint.invoice_id).select_related(
            "set_by", "lifted_by"
        ):
            who = person(block.set_by) if block.manual and block.set_by else _("per regola")
            if block.is_active:
                lines.append(
                    _("Bloccati fino alla risposta: %(reason)s (dal %(day)s, %(who)s).")
                    % {"reason": block.reason, "day": _day(dates.rome_date(block.set_at)), "who": who}
                )
            elif block.lifted_by_hand:
                lines.append(
                    _("Blocco tolto il %(day)s da %(who)s: %(reason)s")
                    % {
                        "day": _day(dates.rome_date(block.lifted_at)),
                        "who": person(block.lifted_by) if block.lifted_by else "—",
                        "reason": block.lift_reason,
                    }
                )
        others = (
            complaint.invoice.dunning_blocks.filter(lifted_at__isnull=True)
            .exclude(complaint=complaint)
            .values_list("complaint__code", flat=True)
        )
        if others:
            lines.append(_("Bloccati anche dal reclamo %(codes)s.") % {"codes": ", ".join(others)})
        if not lines:
            return _("Non bloccati: la bolletta non risulta anomala per questo caso.")
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    @admin.display(description=_("indennizzo"))
    def indemnity(self, complaint):
        outlook = selectors.indemnity_outlook(complaint, today=dates.today())
        if outlook.status == Indemnity.GRANTED:
            return self._indemnity_granted(complaint, outlook)
        if outlook.status == Indemnity.IF_SENT_TODAY:
            return _(
                "Se la risposta parte oggi: %(amount)s (%(band)s × base di %(base)s), accreditato "
                "automaticamente sulla prossima bolletta."
            ) % {"amount": euro(outlook.amount), "band": outlook.band, "base": euro(outlook.base)}
        if outlook.status == Indemnity.NONE_IF_ON_TIME:
            return _("Nessun indennizzo se la risposta parte entro il %(day)s; poi %(base)s o più.") % {
                "day": _day(complaint.answer_due_on),
                "base": euro(outlook.base),
            }
        return (NO_INDEMNITY if complaint.answered_on else NO_INDEMNITY_YET)[outlook.status]

    def _indemnity_granted(self, complaint, outlook):
        lines = [
            format_html(
                "<strong>{}</strong> · {}",
                euro(outlook.amount),
                _("fascia %(band)s: %(band)s × base di %(base)s (risposta dopo %(days)s giorni)")
                % {"band": outlook.band, "base": euro(outlook.base), "days": outlook.days_to_answer},
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
            for invoice in selectors.indemnity_invoices(complaint):
                lines.append(
                    _("Detratti %(amount)s dalla bolletta n. %(number)s del %(day)s.")
                    % {
                        "amount": euro(invoice.credited_amount),
                        "number": invoice.number or invoice.pk,
                        "day": _day(invoice.issued_on),
                    }
                )
            if credit.remaining:
                lines.append(
                    _("Da detrarre ancora: %(amount)s, sulla prossima bolletta.")
                    % {"amount": euro(credit.remaining)}
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
