"""Reads for the customer's "Contratti e forniture" pages. Every query starts from the customer.

A customer only ever reaches their own rows: views look contracts up in `contracts_of(customer)`, and
everything else (services, readings, withdrawals, documents) through the contract found there, so another
customer's number or id is simply not found (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Customer
from contracts import deadlines
from contracts.models import ConditionChangeNotice, Contract, MeterReading, Service, WithdrawalRequest
from portal.notifications.models import Communication

# How many readings the supply page lists and charts.
READINGS_SHOWN = 24


def customer_of(user) -> Customer | None:
    """The customer record of a portal account; None for staff and accounts not linked to a contract."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.customer
    except Customer.DoesNotExist:
        return None


def contracts_of(customer: Customer | None) -> QuerySet[Contract]:
    if customer is None:
        return Contract.objects.none()
    return Contract.objects.filter(customer=customer).prefetch_related(
        Prefetch("services", queryset=Service.objects.order_by("id"))
    )


def contract_page_data(contract: Contract) -> dict:
    """What the contract page shows besides the contract itself."""
    withdrawals = list(contract.withdrawals.select_related("service").order_by("-received_on", "-created_at"))
    receipts = {
        communication.about_id: communication
        for communication in Communication.objects.filter(
            customer_id=contract.customer_id,
            about_type=ContentType.objects.get_for_model(WithdrawalRequest),
            about_id__in=[withdrawal.pk for withdrawal in withdrawals],
            template_key="withdrawal_receipt",
        )
    }
    for withdrawal in withdrawals:
        withdrawal.receipt = receipts.get(withdrawal.pk)
    devices = list(contract.devices.select_related("service").order_by("id"))
    for device in devices:
        device.expected_return_by = _expected_return_by(contract, device)
    return {
        "devices": devices,
        "withdrawals": withdrawals,
        "documents": list(contract_documents(contract)),
    }


def _expected_return_by(contract: Contract, device) -> date | None:
    """When a device still in use will have to go back, once its service or the contract ends (CG 14.8).

    The sweep that ends the contract stores the date on the device; until then it follows from the
    termination date already known."""
    if device.returned_on or device.return_by:
        return None
    if device.service is not None and device.service.deactivates_on:
        return deadlines.device_return_by(device.service.deactivates_on)
    if contract.status == Contract.Status.TERMINATING and contract.terminates_on:
        return deadlines.device_return_by(contract.terminates_on)
    return None


def contract_documents(contract: Contract) -> QuerySet[Communication]:
    """The communications about a contract: renewal notices, condition changes, withdrawal receipts."""
    about = (
        Q(about_type=ContentType.objects.get_for_model(Contract), about_id=contract.pk)
        | Q(
            about_type=ContentType.objects.get_for_model(WithdrawalRequest),
            about_id__in=contract.withdrawals.values("pk"),
        )
        | Q(
            about_type=ContentType.objects.get_for_model(ConditionChangeNotice),
            about_id__in=contract.condition_notices.values("pk"),
        )
    )
    return (
        Communication.objects.for_customer(contract.customer_id)
        .filter(about)
        .only("pk", "subject", "created_at", "document", "document_name", "template_key")
    )


def withdrawal_receipt(withdrawal: WithdrawalRequest) -> Communication | None:
    """The receipt sent for a withdrawal (its PDF is what the customer keeps)."""
    return (
        Communication.objects.for_customer(withdrawal.contract.customer_id)
        .filter(
            about_type=ContentType.objects.get_for_model(WithdrawalRequest),
            about_id=withdrawal.pk,
            template_key="withdrawal_receipt",
        )
        .first()
    )


def withdrawable_services(contract: Contract) -> QuerySet[Service]:
    """The services a partial withdrawal can name: the active ones."""
    return contract.services.filter(status=Service.Status.ACTIVE).order_by("id")


def readings_of(service: Service, *, limit: int = READINGS_SHOWN) -> list[MeterReading]:
    """The most recent readings, newest first."""
    return list(service.readings.select_related("submitted_by").order_by("-read_on", "-id")[:limit])


@dataclass(frozen=True)
class PendingDeadline:
    what: str
    due_on: date


def pending_deadlines(contract: Contract, *, today: date) -> list[PendingDeadline]:
    """Every date still ahead of (or overdue on) a contract, soonest first: what staff see on its page."""
    if contract.pk is None:
        return []
    rows = []
    if contract.status == Contract.Status.ACTIVE:
        if contract.renewal_notice_sent_on is None and contract.renewal_notice_due_on:
            rows.append(
                PendingDeadline(_("Invio della comunicazione di rinnovo"), contract.renewal_notice_due_on)
            )
        if contract.expires_on:
            rows.append(PendingDeadline(_("Scadenza: rinnovo tacito o cessazione"), contract.expires_on))
    if contract.status == Contract.Status.TERMINATING and contract.terminates_on:
        rows.append(PendingDeadline(_("Cessazione per recesso"), contract.terminates_on))
    cooling_off_until = contract.cooling_off_open_until(today)
    if cooling_off_until:
        rows.append(PendingDeadline(_("Ultimo giorno per il ripensamento"), cooling_off_until))
    for service in contract.services.all():
        if service.status == Service.Status.DEACTIVATING and service.deactivates_on:
            rows.append(PendingDeadline(_("Disattivazione di {}").format(service), service.deactivates_on))
    for device in contract.devices.filter(returned_on__isnull=True, return_by__isnull=False):
        rows.append(PendingDeadline(_("Restituzione di {}").format(device), device.return_by))
    for notice in contract.condition_notices.filter(withdrawal_until__gte=today).select_related("change"):
        what = _("Recesso senza costi per la variazione «{}»").format(notice.change.title)
        rows.append(PendingDeadline(what, notice.withdrawal_until))
    return sorted(rows, key=lambda row: row.due_on)
