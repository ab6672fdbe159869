"""The customer page's complaints section (contracts.admin.customer_overview): the latest cases, each with
its status and, while open, the days left to answer."""

from django.utils.translation import gettext as _

from complaints import selectors
from complaints.models import Complaint
from contracts.admin.customer_overview import Section, change_url, latest, list_url, section
from portal.admin_display import day_with_badge
from portal.lib.formatting import day


@section(order=60, permission="complaints.view_complaint")
def _complaints(customer, today):
    cases, count = latest(selectors.complaints_of(customer).order_by("-received_on", "-id"))
    open_count = selectors.open_cases(selectors.complaints_of(customer)).count()
    return Section(
        title=_("Reclami e richieste"),
        columns=[_("Codice"), _("Tipo e argomento"), _("Ricevuto il"), _("Stato"), _("Risposta entro")],
        rows=[
            (
                change_url(case),
                [
                    case.code,
                    f"{case.get_kind_display()} · {case.get_topic_display()}",
                    day(case.received_on),
                    case.get_status_display(),
                    day_with_badge(case.answer_due_on, pending=case.is_open, today=today),
                ],
            )
            for case in cases
        ],
        count=count,
        all_url=list_url(Complaint, customer__id__exact=customer.pk),
        summary=_("Aperti: %(n)d.") % {"n": open_count} if count else "",
        empty=_("Nessun reclamo o richiesta."),
    )
