"""Reads of dunning: what is still due on a notice, and the staff's worklist of the day."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from billing import deadlines, instalments
from billing.dunning.lifecycle import Operation, available_operations, condition, statuses
from billing.models import ZERO, DefaultNotice, DefaultNoticeItem, Invoice, SuspensionStep


def amount_still_due(notice: DefaultNotice) -> Decimal:
    """What the customer still owes on the notice's invoices (paid or cancelled ones count nothing)."""
    return DefaultNoticeItem.objects.filter(notice=notice).aggregate(
        due=Coalesce(Sum(Invoice.outstanding_sql("invoice__")), Value(ZERO))
    )["due"]


def with_amount_still_due(notices: QuerySet[DefaultNotice]) -> QuerySet[DefaultNotice]:
    """The notices, each annotated with `still_due` in the same query (a subquery: FOR UPDATE still works)."""
    per_notice = (
        DefaultNoticeItem.objects.filter(notice=OuterRef("pk"))
        .order_by()
        .values("notice")
        .annotate(due=Sum(Invoice.outstanding_sql("invoice__")))
        .values("due")
    )
    return notices.annotate(still_due=Coalesce(Subquery(per_notice), Value(ZERO)))


def every_bill_held(notice: DefaultNotice) -> bool:
    """Every bill of the notice still to be paid is held — by a complaint (DunningBlock: ARERA allows no
    step before the reasoned replies) or by an approved instalment plan (none while it runs) — so the notice
    does not become "suspension allowed"."""
    still_due = notice.items.filter(invoice__status__in=Invoice.OPEN_STATUSES)
    free = still_due.filter(invoice__dunning_blocked=False).exclude(
        invoice__in=instalments.running_items().values("invoice")
    )
    return still_due.exists() and not free.exists()


def blocking_complaints(notice_ids) -> dict[int, list[str]]:
    """Per notice, the codes of the complaints holding one of its bills still to be paid (one query)."""
    rows = (
        DefaultNoticeItem.objects.filter(
            notice_id__in=list(notice_ids),
            invoice__dunning_blocked=True,
            invoice__status__in=Invoice.OPEN_STATUSES,
            invoice__dunning_blocks__lifted_at__isnull=True,
        )
        .values_list("notice_id", "invoice__dunning_blocks__complaint__code")
        .order_by("notice_id", "invoice__dunning_blocks__complaint__code")
        .distinct()
    )
    codes: dict[int, list[str]] = {}
    for notice_id, code in rows:
        codes.setdefault(notice_id, []).append(code)
    return codes


def instalment_plans(notice_ids) -> dict[int, list[str]]:
    """Per notice, the references of the approved instalment plans covering one of its bills still to be
    paid: the procedure is suspended while they run (one query)."""
    items = (
        instalments.running_items()
        .filter(
            invoice__default_notice_items__notice_id__in=list(notice_ids),
            invoice__status__in=Invoice.OPEN_STATUSES,
        )
        .annotate(notice_id=F("invoice__default_notice_items__notice_id"))
        .select_related("plan")
        .order_by("notice_id", "plan_id")
    )
    references: dict[int, list[str]] = {}
    for item in items:
        held = references.setdefault(item.notice_id, [])
        if item.plan.reference not in held:
            held.append(item.plan.reference)
    return references


def offered_operations(notice: DefaultNotice, *, blocked_by=(), plans=()) -> list[Operation]:
    """What staff can do next with the notice, the most likely first — without the step that
    record_suspension_step refuses while complaints (`blocked_by`, their codes) or approved instalment plans
    (`plans`, their references) hold one of its bills."""
    return [
        operation
        for operation in available_operations(notice)
        if not ((blocked_by or plans) and operation == Operation.RECORD_STEP)
    ]


@dataclass(frozen=True)
class WorklistRow:
    notice: DefaultNotice
    operation: Operation | None  # the one to open from this section, when the notice allows it
    blocked_by: tuple[str, ...] = ()  # complaints holding one of its bills still due: no step until replied
    plans: tuple[str, ...] = ()  # approved instalment plans covering one of them: no step while they run


@dataclass(frozen=True)
class ReducedSupply:
    """Low voltage at 15% power: suspension is allowed 15 days after the reduction was executed."""

    notice: DefaultNotice
    step: SuspensionStep
    allowed_on: date
    blocked_by: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorklistSection:
    key: str
    title: Promise
    hint: Promise | str
    rows: list[WorklistRow] | None = None
    steps: list[ReducedSupply] | None = None


def worklist(today: date) -> list[WorklistSection]:
    """Today's dunning work: what to send, what to post, where a step is now allowed, what to restore. One
    query per section, whatever the number of notices."""
    Status = DefaultNotice.Status
    notices = DefaultNotice.objects.select_related("customer")

    def rows(queryset, operation: Operation):
        """(notice, operation) pairs: the rows are made once the blocks of every section are known."""
        return [(notice, operation) for notice in queryset]

    reduced = (
        SuspensionStep.objects.filter(
            kind=SuspensionStep.Kind.POWER_REDUCTION,
            executed_on__isnull=False,
            notice__status=Status.POWER_REDUCED,
        )
        .select_related("notice__customer", "service")
        .order_by("executed_on")
    )
    paid_after_step = with_amount_still_due(
        notices.filter(status__in=statuses(Operation.REACTIVATE)).order_by("sent_on", "pk")
    ).filter(still_due__lte=ZERO)
    sections = [
        WorklistSection(
            key="to-send",
            title=_("Da inviare"),
            hint=_("Preparate dal controllo giornaliero: inviale via PEC o prepara le raccomandate."),
            rows=rows(
                notices.filter(condition(Operation.SEND)).order_by("prepared_on", "pk"), Operation.SEND
            ),
        ),
        WorklistSection(
            key="to-post",
            title=_("Raccomandate da spedire"),
            hint=_(
                "Stampale da «Lettere da spedire», spediscile e registra la data: da lì decorrono i 40 giorni."
            ),
            rows=rows(
                notices.filter(condition(Operation.RECORD_POSTING)).order_by("prepared_on", "pk"),
                Operation.RECORD_POSTING,
            ),
        ),
        WorklistSection(
            key="allowed-today",
            title=_("Sospensione consentita da oggi"),
            hint=_("Termine di pagamento scaduto e nessun pagamento: da oggi si può chiedere l'intervento."),
            rows=rows(
                notices.filter(status=Status.SUSPENSION_ALLOWED, suspension_allowed_on=today),
                Operation.RECORD_STEP,
            ),
        ),
        WorklistSection(
            key="allowed",
            title=_("Sospensione consentita (giorni precedenti)"),
            hint="",
            rows=rows(
                notices.filter(status=Status.SUSPENSION_ALLOWED, suspension_allowed_on__lt=today).order_by(
                    "suspension_allowed_on"
                ),
                Operation.RECORD_STEP,
            ),
        ),
        WorklistSection(
            key="deadline-passed",
            title=_("Termine di pagamento scaduto, sospensione non ancora consentita"),
            hint=_("Si aspettano i 3 giorni lavorativi e i giorni dalla ricezione (art. 6.2)."),
            rows=rows(
                notices.filter(status=Status.DISPATCHED, payment_due_on__lt=today).order_by(
                    "suspension_allowed_on"
                ),
                Operation.RECORD_RECEIPT,
            ),
        ),
        WorklistSection(
            key="after-reduction",
            title=_("Luce a potenza ridotta"),
            hint=_("La sospensione è consentita 15 giorni dopo la riduzione eseguita (art. 6.3)."),
            steps=[
                ReducedSupply(
                    notice=step.notice,
                    step=step,
                    allowed_on=deadlines.suspension_after_power_reduction(step.executed_on),
                )
                for step in reduced
            ],
        ),
        WorklistSection(
            key="paid-after-step",
            title=_("Pagate dopo un intervento: da riattivare"),
            hint=_("Nessun importo ancora da pagare: chiedi la riattivazione al distributore (art. 6.5)."),
            rows=rows(paid_after_step, Operation.REACTIVATE),
        ),
    ]
    # Two more queries for all sections: the complaints and the instalment plans holding a bill of a listed
    # notice.
    listed = {notice.pk for section in sections for notice, _operation in section.rows or ()} | {
        supply.notice.pk for section in sections for supply in section.steps or ()
    }
    blocked, planned = blocking_complaints(listed), instalment_plans(listed)

    def row(notice: DefaultNotice, operation: Operation) -> WorklistRow:
        blocked_by, plans = tuple(blocked.get(notice.pk, ())), tuple(planned.get(notice.pk, ()))
        offered = operation in offered_operations(notice, blocked_by=blocked_by, plans=plans)
        return WorklistRow(
            notice=notice, operation=operation if offered else None, blocked_by=blocked_by, plans=plans
        )

    def supply(reduced: ReducedSupply) -> ReducedSupply:
        return replace(
            reduced,
            blocked_by=tuple(blocked.get(reduced.notice.pk, ())),
            plans=tuple(planned.get(reduced.notice.pk, ())),
        )

    return [
        replace(
            section,
            rows=None if section.rows is None else [row(*found) for found in section.rows],
            steps=None if section.steps is None else [supply(reduced) for reduced in section.steps],
        )
        for section in sections
    ]
