"""Instalment plans (rateizzazione): a customer with overdue bills asks to pay them in instalments; an officer
approves or refuses with a reason; an approved plan keeps its bills out of the default procedure, and each
instalment is a due date swept like the others — one still unpaid after the grace ends the plan, the
procedure starts again and the customer is told.

1. `offer` says what the customer may ask for today: the bills (every overdue bill of theirs that is not
   blocked by a complaint), their total, the numbers of instalments the limits in force allow
   (`policy_on`: staff's InstalmentPolicy rows, else DEFAULT_POLICY) and the schedule of each.
2. `request_plan` records the request and alerts the billing officers; `approve` fixes the schedule from the
   day of approval (amounts adding up exactly to what is still due) and takes the bills out of dunning;
   `refuse` needs a reason. The customer is told either way.
3. Money reaches the covered bills as any payment does (services.record_payment, or `record_instalment_payment`
   for exactly what an instalment still needs, which refuses a bank movement already registered). What the plan has received is what its bills no longer owe
   (`amount_received`), spread over the instalments in order (`progress`).
4. The sweep (`check_instalment`, billing.tasks) looks at each instalment the day after its grace: covered by
   what was received, it is paid (the last one completes the plan); otherwise the plan lapses (`_lapse`).

The plan adds no interest of its own: the late-payment interest of CG 6.1 still accrues on the bills as they
are paid, billed on the next invoice by services.record_payment, as for any late payment.

Functions are keyword-only and transactional; time comes in as `today` / `now`. Locking order, as everywhere
in billing: the plan, then the customer's invoices (oldest first), then their notices.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer
from billing import services
from billing.models import (
    ZERO,
    Instalment,
    InstalmentPlan,
    InstalmentPlanItem,
    InstalmentPolicy,
    Invoice,
    Payment,
)
from portal import roles
from portal.lib import formatting
from portal.lib.dates import add_days, add_months, entry_on
from portal.lib.emails import absolute_url
from portal.lib.money import split
from portal.notifications.models import Delivery
from portal.notifications.services import notify

logger = logging.getLogger(__name__)

DECIDED_TEMPLATE = "instalment_plan_decided"
LAPSED_TEMPLATE = "instalment_plan_lapsed"

# Neither the general conditions nor REGULATION.md set the limits of a plan: these are the supplier's own,
# in force until staff add an InstalmentPolicy row (admin: "Limiti della rateizzazione").
DEFAULT_POLICY = InstalmentPolicy(
    valid_from=date(2000, 1, 1),
    min_instalments=2,
    max_instalments=12,
    min_instalment=Decimal("25.00"),
    first_due_days=10,
    grace_days=10,
    source="Limiti predefiniti del portale (le condizioni generali non ne fissano)",
)


def policy_on(day: date) -> InstalmentPolicy:
    """The limits in force on `day`: the latest staff row from that day or before, else DEFAULT_POLICY."""
    return entry_on([DEFAULT_POLICY, *InstalmentPolicy.objects.all()], day).value


# ---------------------------------------------------------------------------------------------------------
# What the customer may ask for
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    number: int
    amount: Decimal
    due_on: date


def schedule(*, total: Decimal, count: int, start: date, policy: InstalmentPolicy) -> list[ScheduleRow]:
    """`count` instalments adding up exactly to `total`: the first `policy.first_due_days` after `start`,
    the others monthly on the same day (or the month's last day, when shorter)."""
    first_due = add_days(start, policy.first_due_days)
    return [
        ScheduleRow(number=n + 1, amount=amount, due_on=add_months(first_due, n))
        for n, amount in enumerate(split(total, count))
    ]


@dataclass(frozen=True)
class Offer:
    invoices: list[Invoice]
    total: Decimal
    counts: list[int]  # the numbers of instalments allowed for this total
    policy: InstalmentPolicy
    today: date
    unavailable: str = ""  # why the customer cannot ask, in words

    def schedule(self, count: int) -> list[ScheduleRow]:
        return schedule(total=self.total, count=count, start=self.today, policy=self.policy)


def eligible_invoices(customer: Customer, *, today: date) -> list[Invoice]:
    """The customer's bills a plan may cover: unpaid after their due date, not under a complaint that
    blocks their dunning already, oldest first."""
    open_invoices = Invoice.objects.filter(
        customer=customer,
        kind=Invoice.Kind.INVOICE,
        status__in=Invoice.OPEN_STATUSES,
        due_on__lt=today,
        dunning_blocked=False,
    ).order_by("due_on", "sequence")
    return [invoice for invoice in open_invoices if invoice.outstanding > ZERO]


def allowed_counts(total: Decimal, policy: InstalmentPolicy) -> list[int]:
    """The numbers of instalments within the limits whose instalments are each at least the minimum."""
    return [
        count
        for count in range(policy.min_instalments, policy.max_instalments + 1)
        if min(split(total, count)) >= policy.min_instalment
    ]


def offer(customer: Customer, *, today: date) -> Offer:
    policy = policy_on(today)
    if open_plan_of(customer) is not None:
        return Offer([], ZERO, [], policy, today, _("Hai già una rateizzazione richiesta o in corso."))
    invoices = eligible_invoices(customer, today=today)
    total = sum((invoice.outstanding for invoice in invoices), ZERO)
    counts = allowed_counts(total, policy) if invoices else []
    if not invoices:
        unavailable = _("Non hai bollette scadute da rateizzare.")
    elif not counts:
        unavailable = _(
            "L'importo scaduto (%(total)s) è troppo basso per una rateizzazione: ogni rata deve essere di "
            "almeno %(minimum)s, in almeno %(count)d rate. Puoi pagarlo in un'unica soluzione."
        ) % {
            "total": formatting.euro(total),
            "minimum": formatting.euro(policy.min_instalment),
            "count": policy.min_instalments,
        }
    else:
        unavailable = ""
    return Offer(invoices, total, counts, policy, today, unavailable)


def can_request(invoice: Invoice, *, today: date) -> bool:
    """Whether the bill's page offers "Richiedi rateizzazione": the bill is one a plan would cover now."""
    current = offer(invoice.customer, today=today)
    return not current.unavailable and invoice.pk in {covered.pk for covered in current.invoices}


# ---------------------------------------------------------------------------------------------------------
# Request, approval, refusal
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def request_plan(
    *, customer: Customer, instalment_count: int, today: date, now: datetime | None = None
) -> InstalmentPlan:
    """The customer asks to pay all their overdue bills in `instalment_count` instalments. The billing
    officers are alerted; nothing changes for the bills until the plan is approved."""
    now = now or timezone.now()
    # The bills, locked in the order record_payment locks them: what is due cannot change under the request.
    list(
        Invoice.objects.select_for_update()
        .filter(customer=customer, status__in=Invoice.OPEN_STATUSES)
        .order_by("due_on", "sequence")
    )
    current = offer(customer, today=today)
    if current.unavailable:
        raise ValidationError(current.unavailable)
    if instalment_count not in current.counts:
        raise ValidationError(
            {
                "instalment_count": _("Scegli tra %(low)d e %(high)d rate.")
                % {"low": current.counts[0], "high": current.counts[-1]}
            }
        )
    try:
        with transaction.atomic():
            plan = InstalmentPlan.objects.create(
                customer=customer, instalment_count=instalment_count, total=current.total, requested_at=now
            )
    except IntegrityError:  # a second request sent at the same moment
        raise ValidationError(_("Hai già una rateizzazione richiesta o in corso.")) from None
    InstalmentPlanItem.objects.bulk_create(
        InstalmentPlanItem(plan=plan, invoice=invoice, amount=invoice.outstanding)
        for invoice in current.invoices
    )
    _alert_officers(plan)
    return plan


def _lock_requested(plan: InstalmentPlan) -> InstalmentPlan:
    plan = InstalmentPlan.objects.select_for_update().select_related("customer").get(pk=plan.pk)
    if plan.status != InstalmentPlan.Status.REQUESTED:
        raise ValidationError(
            _("La rateizzazione %(reference)s è già stata decisa (stato: %(status)s).")
            % {"reference": plan.reference, "status": plan.get_status_display()}
        )
    return plan


@transaction.atomic
def approve(*, plan: InstalmentPlan, today: date, by=None, now: datetime | None = None) -> InstalmentPlan:
    """Approve a request: the instalments run from today, on what the bills still owe now (a bill paid
    since the request leaves the plan). From now on the bills are out of the default procedure: out of the
    notice being prepared, no new notice, no power reduction or suspension (billing.dunning asks
    `suspended_invoice_ids`)."""
    from billing.dunning import notices  # billing.dunning imports this module

    now = now or timezone.now()
    plan = _lock_requested(plan)
    items = list(plan.items.select_related("invoice"))
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update()
        .filter(pk__in=[item.invoice_id for item in items])
        .order_by("due_on", "sequence")
    }
    kept = []
    for item in items:
        outstanding = invoices[item.invoice_id].outstanding
        if outstanding <= ZERO:
            item.delete()
            continue
        if item.amount != outstanding:
            item.amount = outstanding
            item.save(update_fields=["amount"])
        kept.append(item)
    total = sum((item.amount for item in kept), ZERO)
    policy = policy_on(today)
    if not kept:
        raise ValidationError(
            _("Le bollette della richiesta sono già state pagate: non c'è nulla da rateizzare. Rifiutala.")
        )
    if plan.instalment_count not in allowed_counts(total, policy):
        raise ValidationError(
            _(
                "Con l'importo ancora dovuto (%(total)s) %(count)d rate non rispettano i limiti in vigore "
                "(rata minima %(minimum)s): rifiuta la richiesta indicando il motivo."
            )
            % {
                "total": formatting.euro(total, italian=True),
                "count": plan.instalment_count,
                "minimum": formatting.euro(policy.min_instalment, italian=True),
            }
        )
    rows = schedule(total=total, count=plan.instalment_count, start=today, policy=policy)
    Instalment.objects.bulk_create(
        Instalment(
            plan=plan,
            number=row.number,
            amount=row.amount,
            due_on=row.due_on,
            check_on=add_days(row.due_on, policy.grace_days + 1),
        )
        for row in rows
    )
    plan.total = total
    plan.status = InstalmentPlan.Status.APPROVED
    plan.decided_at = now
    plan.decided_by = by
    plan.save(update_fields=["total", "status", "decided_at", "decided_by"])
    for item in kept:
        invoice = invoices[item.invoice_id]
        notices.mark_overdue(invoice=invoice, today=today)  # the overdue sweep has nothing left to do with it
        notices.suspend_for_instalment_plan(invoice=invoice)
    _tell_decision(plan)
    return plan


@transaction.atomic
def refuse(
    *, plan: InstalmentPlan, reason: str, today: date, by=None, now: datetime | None = None
) -> InstalmentPlan:
    """Refuse a request, saying why to the customer. The bills stay in the default procedure as they were."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Indica il motivo del rifiuto: lo leggerà il cliente.")})
    now = now or timezone.now()
    plan = _lock_requested(plan)
    plan.status = InstalmentPlan.Status.REFUSED
    plan.refusal_reason = reason
    plan.decided_at = now
    plan.decided_by = by
    plan.ended_on = today
    plan.save(update_fields=["status", "refusal_reason", "decided_at", "decided_by", "ended_on"])
    _tell_decision(plan)
    return plan


def _tell_decision(plan: InstalmentPlan) -> None:
    notify(
        customer=plan.customer,
        template_key=DECIDED_TEMPLATE,
        context={
            "plan": plan,
            "approved": plan.status == InstalmentPlan.Status.APPROVED,
            "instalments": list(plan.instalments.all()),
        },
        channels=[Delivery.Channel.EMAIL],
        dedupe_key=f"billing.instalment_plan_decided:{plan.pk}",
        about=plan,
        link=_bill_link(plan),
    )


def _bill_link(plan: InstalmentPlan) -> str:
    first = plan.items.order_by("invoice__due_on", "invoice__sequence").first()
    return absolute_url("billing:invoice", first.invoice_id) if first else absolute_url("billing:invoices")


def _alert_officers(plan: InstalmentPlan) -> None:
    """A new request to decide: an e-mail to the billing officers (to the supervisors when there are none)."""
    emails = roles.billing_officer_emails()
    if not emails:
        return
    subject = f"Nuova richiesta di rateizzazione {plan.reference}: {plan.customer}"
    body = (
        f"{plan.customer} chiede di pagare {formatting.euro(plan.total, italian=True)} di bollette scadute in "
        f"{plan.instalment_count} rate. Approvala o rifiutala indicando il motivo:\n"
        f"{settings.PORTAL_BASE_URL}{reverse('admin:billing_instalmentplan_change', args=[plan.pk])}\n"
    )
    from billing.tasks import send_staff_alert  # billing.tasks imports this module

    transaction.on_commit(lambda: send_staff_alert.delay(subject, body, emails), robust=True)


# ---------------------------------------------------------------------------------------------------------
# Payments and the instalments' progress
# ---------------------------------------------------------------------------------------------------------


def amount_received(plan: InstalmentPlan) -> Decimal:
    """What the plan has received: what its bills no longer owe (payments, and credit notes that cancelled
    a bill), however the money was allocated."""
    still_due = sum(
        (item.invoice.outstanding for item in plan.items.select_related("invoice")),
        ZERO,
    )
    return max(plan.total - still_due, ZERO)


@dataclass(frozen=True)
class InstalmentProgress:
    instalment: Instalment
    paid: Decimal  # the part of it covered by what the plan received, the earliest instalments first

    @property
    def left(self) -> Decimal:
        return self.instalment.amount - self.paid


def progress(plan: InstalmentPlan) -> list[InstalmentProgress]:
    received = amount_received(plan)
    rows = []
    for instalment in plan.instalments.all():
        paid = min(received, instalment.amount)
        received -= paid
        rows.append(InstalmentProgress(instalment=instalment, paid=paid))
    return rows


@transaction.atomic
def record_instalment_payment(
    *, instalment: Instalment, received_on: date, method: str, transaction_id: str | None = None, by=None
) -> list:
    """A payment of what an instalment still needs, put on the plan's bills oldest first (one Payment per
    bill, through services.record_payment), so that none of it goes to a bill outside the plan."""
    plan = InstalmentPlan.objects.select_for_update().get(pk=instalment.plan_id)
    if plan.status != InstalmentPlan.Status.APPROVED:
        raise ValidationError(
            _("La rateizzazione %(reference)s non è in corso (stato: %(status)s).")
            % {"reference": plan.reference, "status": plan.get_status_display()}
        )
    row = next(row for row in progress(plan) if row.instalment.pk == instalment.pk)
    left = row.left
    if left <= ZERO:
        raise ValidationError(_("La rata %(number)d è già pagata.") % {"number": instalment.number})
    if transaction_id:
        _refuse_registered(transaction_id)
    payments = []
    try:
        with transaction.atomic():
            for invoice in (
                Invoice.objects.select_for_update()
                .filter(instalment_items__plan=plan)
                .order_by("due_on", "sequence")
            ):
                share = min(left, invoice.outstanding)
                if share <= ZERO:
                    continue
                payments.append(
                    services.record_payment(
                        customer=plan.customer,
                        amount=share,
                        received_on=received_on,
                        method=method,
                        invoice=invoice,
                        transaction_id=f"{transaction_id}/{invoice.pk}" if transaction_id else None,
                        by=by,
                    )
                )
                left -= share
                if left <= ZERO:
                    break
    except IntegrityError:  # the same movement registered elsewhere at this very moment
        if transaction_id:
            _refuse_registered(transaction_id)
        raise
    return payments


def _refuse_registered(transaction_id: str) -> None:
    """The same movement registered twice would be counted twice: say which payment already has it — one
    registered with this id, or the parts of an instalment's (`<id>/<bill>`, one per bill)."""
    parts = [
        payment
        for payment in Payment.objects.filter(
            Q(transaction_id=transaction_id) | Q(transaction_id__startswith=f"{transaction_id}/")
        )
        .select_related("customer")
        .order_by("pk")
        if payment.transaction_id == transaction_id
        or payment.transaction_id.removeprefix(f"{transaction_id}/").isdigit()
    ]
    if parts:
        raise ValidationError(
            {
                "transaction_id": _(
                    "Questa operazione è già registrata: pagamento di %(amount)s del %(day)s di %(customer)s. "
                    "Un pagamento si registra una volta sola."
                )
                % {
                    "amount": formatting.euro(sum((part.amount for part in parts), ZERO), italian=True),
                    "day": formatting.day(parts[0].received_on),
                    "customer": parts[0].customer,
                }
            }
        )


# ---------------------------------------------------------------------------------------------------------
# The sweep: each instalment the day after its grace
# ---------------------------------------------------------------------------------------------------------


def check_instalment(instalment: Instalment, *, today: date) -> None:
    """Sweep act. Covered by what the plan received: paid, and the plan completes once its bills owe
    nothing. Not covered: missed, the plan lapses. An instalment of a plan that ended is cancelled."""
    plan = InstalmentPlan.objects.select_for_update().select_related("customer").get(pk=instalment.plan_id)
    if plan.status != InstalmentPlan.Status.APPROVED:
        _settle(instalment, Instalment.Status.CANCELLED, today)
        return
    rows = progress(plan)
    row = next(row for row in rows if row.instalment.pk == instalment.pk)
    if row.left > ZERO:
        _lapse(plan, missed=instalment, left=row.left, today=today)
        return
    _settle(instalment, Instalment.Status.PAID, today)
    if all(row.left <= ZERO for row in rows):
        # Everything received (possibly early): the later instalments are paid too, and the plan is done.
        for later in plan.instalments.filter(status=Instalment.Status.PENDING):
            _settle(later, Instalment.Status.PAID, today)
        plan.status = InstalmentPlan.Status.COMPLETED
        plan.ended_on = today
        plan.save(update_fields=["status", "ended_on"])


def _settle(instalment: Instalment, status: str, today: date) -> None:
    instalment.status = status
    instalment.settled_on = today
    instalment.save(update_fields=["status", "settled_on"])


def _lapse(plan: InstalmentPlan, *, missed: Instalment, left: Decimal, today: date) -> None:
    """A missed instalment ends the plan: its bills still unpaid are back in the default procedure, due for
    a notice at once, and the customer is told (CG 12.2: a plan not kept is a ground for termination,
    which stays a staff decision)."""
    from billing.dunning import notices  # billing.dunning imports this module

    _settle(missed, Instalment.Status.MISSED, today)
    for later in plan.instalments.filter(status=Instalment.Status.PENDING).exclude(pk=missed.pk):
        _settle(later, Instalment.Status.CANCELLED, today)
    plan.status = InstalmentPlan.Status.LAPSED
    plan.ended_on = today
    plan.save(update_fields=["status", "ended_on"])
    invoices = list(
        Invoice.objects.select_for_update().filter(instalment_items__plan=plan).order_by("due_on", "sequence")
    )
    for invoice in invoices:
        notices.resume_after_instalment_plan(invoice=invoice, today=today)
    notify(
        customer=plan.customer,
        template_key=LAPSED_TEMPLATE,
        context={
            "plan": plan,
            "missed": missed,
            "left": left,
            "still_due": sum((invoice.outstanding for invoice in invoices), ZERO),
        },
        channels=[Delivery.Channel.EMAIL],
        dedupe_key=f"billing.instalment_plan_lapsed:{plan.pk}",
        about=plan,
        link=_bill_link(plan),
    )


# ---------------------------------------------------------------------------------------------------------
# What billing.dunning and the pages ask
# ---------------------------------------------------------------------------------------------------------


def running_items() -> QuerySet[InstalmentPlanItem]:
    """The bills of the plans in course (approved): out of the default procedure while they run."""
    return InstalmentPlanItem.objects.filter(plan__status=InstalmentPlan.Status.APPROVED)


def suspended_invoice_ids(invoice_ids: Iterable[int]) -> set[int]:
    """Those of the invoices an approved plan covers."""
    return set(running_items().filter(invoice_id__in=list(invoice_ids)).values_list("invoice_id", flat=True))


def open_plan_of(customer: Customer) -> InstalmentPlan | None:
    return InstalmentPlan.objects.filter(customer=customer, status__in=InstalmentPlan.OPEN_STATUSES).first()


def latest_plan_for(invoice: Invoice) -> InstalmentPlan | None:
    """The last plan asked for the bill, whatever became of it: its page says where it stands."""
    return invoice.instalment_plans.order_by("-requested_at", "-id").first()


@dataclass(frozen=True)
class BillPageData:
    plan: InstalmentPlan | None
    progress: list[InstalmentProgress]
    can_request: bool

    @property
    def suspends_dunning(self) -> bool:
        """The bill is in an approved plan: what the default procedure would do next does not apply."""
        return self.plan is not None and self.plan.status == InstalmentPlan.Status.APPROVED


def bill_page_data(invoice: Invoice, *, today: date) -> BillPageData:
    """What a bill's page shows of instalments: the plan asked for it and its instalments, or the offer."""
    plan = latest_plan_for(invoice)
    rows = progress(plan) if plan is not None and plan.status != InstalmentPlan.Status.REQUESTED else []
    asking = plan is None or not plan.is_open
    return BillPageData(plan=plan, progress=rows, can_request=asking and can_request(invoice, today=today))
