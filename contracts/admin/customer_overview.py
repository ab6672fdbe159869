"""The customer page's overview: everything staff need about a customer on one screen, above the record.

Each app adds the sections about its own records (`section`), built from its selectors, so this layer
imports nothing from the apps above it: contracts and communications here, bills, payments, credits and
default notices in billing.admin.customer_sections, complaints in complaints.admin.customer_sections. A
section shows the latest rows, each linking to its admin page, and a link to all of them; it costs a fixed
number of queries whatever the customer has, and is shown only to staff who may view its records.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import Customer
from contracts import selectors as contract_selectors
from contracts.models import Contract
from portal.lib.formatting import day, moment
from portal.notifications.models import Communication

# The latest rows a section lists; "all" links to the filtered list.
SHOWN = 8


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[tuple[str, list]]  # (the row's admin URL, its cells)
    count: int
    all_url: str
    summary: str = ""
    empty: str = ""
    order: int = field(default=0, repr=False)


# (order, permission, builder(customer, today) -> Section)
_SECTIONS: list[tuple[int, str, Callable]] = []


def section(*, order: int, permission: str):
    """Add a section to every customer page, for staff with `permission`; `order` places it."""

    def register(builder):
        _SECTIONS.append((order, permission, builder))
        _SECTIONS.sort(key=lambda entry: entry[0])
        return builder

    return register


def sections_for(customer: Customer, *, user, today) -> list[Section]:
    return [
        builder(customer, today) for _order, permission, builder in _SECTIONS if user.has_perm(permission)
    ]


def change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def list_url(model, **filters) -> str:
    opts = model._meta
    return f"{reverse(f'admin:{opts.app_label}_{opts.model_name}_changelist')}?{urlencode(filters)}"


def latest(queryset, shown: int = SHOWN):
    """The first `shown` rows and how many there are in all: two queries, whatever the count."""
    return list(queryset[:shown]), queryset.count()


@section(order=10, permission="contracts.view_contract")
def _contracts(customer, today):
    contracts, count = latest(contract_selectors.contracts_of(customer))
    return Section(
        title=_("Contratti"),
        columns=[_("Numero"), _("Offerta"), _("Stato"), _("Scade il")],
        rows=[
            (change_url(c), [c.number, c.offer_name, c.get_status_display(), day(c.expires_on)])
            for c in contracts
        ],
        count=count,
        all_url=list_url(Contract, customer__id__exact=customer.pk),
        empty=_("Nessun contratto."),
    )


@section(order=70, permission="notifications.view_communication")
def _communications(customer, today):
    communications, count = latest(
        Communication.objects.filter(customer=customer).order_by("-created_at", "-id")
    )
    return Section(
        title=_("Comunicazioni"),
        columns=[_("Creata il"), _("Oggetto"), _("Letta il")],
        rows=[(change_url(c), [moment(c.created_at), c.subject, moment(c.read_at)]) for c in communications],
        count=count,
        all_url=list_url(Communication, customer__id__exact=customer.pk),
        empty=_("Nessuna comunicazione."),
    )
