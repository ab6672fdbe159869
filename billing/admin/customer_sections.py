"""The customer page's billing sections (contracts.admin.customer_overview): the latest bills with their
status and due date, payments, credits still to deduct and default notices, with the balance on top."""

from django.utils.translation import gettext as _

from billing import selectors
from billing.admin.common import euro, status_badge
from billing.admin.invoices import INVOICE_COLOURS
from billing.models import Credit, DefaultNotice, Invoice, Payment
from contracts.admin.customer_overview import Section, change_url, latest, list_url, section
from portal.admin_display import day_with_badge
from portal.lib.formatting import day


@section(order=20, permission="billing.view_invoice")
def _invoices(customer, today):
    invoices, count = latest(selectors.invoices_of(customer).only(*selectors.LIST_FIELDS, "customer_id"))
    balance = selectors.balance_of(customer, today=today)
    summary = _("Da pagare: %(outstanding)s, di cui scaduti %(overdue)s.") % {
        "outstanding": euro(balance.outstanding),
        "overdue": euro(balance.overdue),
    }
    return Section(
        title=_("Bollette"),
        columns=[_("Numero"), _("Periodo"), _("Totale"), _("Scadenza"), _("Stato")],
        rows=[
            (
                change_url(invoice),
                [
                    invoice.number,
                    f"{day(invoice.period_start)}–{day(invoice.period_end)}",
                    euro(invoice.total),
                    day_with_badge(invoice.due_on, pending=invoice.awaits_payment, today=today),
                    status_badge(INVOICE_COLOURS[invoice.status], invoice.get_status_display()),
                ],
            )
            for invoice in invoices
        ],
        count=count,
        all_url=list_url(Invoice, customer__id__exact=customer.pk),
        summary=summary,
        empty=_("Nessuna bolletta emessa."),
    )


@section(order=30, permission="billing.view_payment")
def _payments(customer, today):
    payments, count = latest(selectors.payments_of(customer))
    return Section(
        title=_("Pagamenti"),
        columns=[_("Incassato il"), _("Bollette"), _("Importo"), _("Modalità")],
        rows=[
            (
                change_url(payment),
                [
                    day(payment.received_on),
                    ", ".join(a.invoice.number or "—" for a in payment.allocations.all()) or "—",
                    euro(payment.amount),
                    payment.get_method_display(),
                ],
            )
            for payment in payments
        ],
        count=count,
        all_url=list_url(Payment, customer__id__exact=customer.pk),
        empty=_("Nessun pagamento registrato."),
    )


@section(order=40, permission="billing.view_credit")
def _credits(customer, today):
    credits = selectors.available_credits(customer)
    return Section(
        title=_("Crediti da detrarre"),
        columns=[_("Riconosciuto il"), _("Motivo"), _("Da detrarre"), _("Entro il")],
        rows=[
            (change_url(c), [day(c.created_on), c.description, euro(c.remaining), day(c.pay_by)])
            for c in credits
        ],
        count=len(credits),
        all_url=list_url(Credit, customer__id__exact=customer.pk),
        summary=_("Totale da detrarre: %(total)s.") % {"total": euro(selectors.credits_total(credits))}
        if credits
        else "",
        empty=_("Nessun credito da detrarre."),
    )


@section(order=50, permission="billing.view_defaultnotice")
def _default_notices(customer, today):
    notices, count = latest(DefaultNotice.objects.filter(customer=customer).order_by("-prepared_on", "-id"))
    return Section(
        title=_("Costituzioni in mora"),
        columns=[_("Predisposta il"), _("Stato"), _("Inviata il"), _("Termine di pagamento")],
        rows=[
            (
                change_url(notice),
                [
                    day(notice.prepared_on),
                    notice.get_status_display(),
                    day(notice.sent_on),
                    day_with_badge(notice.payment_due_on, pending=notice.is_open, today=today),
                ],
            )
            for notice in notices
        ],
        count=count,
        all_url=list_url(DefaultNotice, customer__id__exact=customer.pk),
        empty=_("Nessuna costituzione in mora."),
    )
