"""Steps with the distributor after a default notice: power reduction, suspension, their execution,
reactivation; the automatic indemnities when a step comes too early or without any notice (CP-LG 6.5); and
the express-termination grounds a notice or a suspension sets on the contract (CG 12.2).

When each step is allowed is a pure rule (billing.deadlines.step_allowed_on); this module applies it to a
notice's supplies. Functions are keyword-only and transactional; time comes in as `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import deadlines, instalments
from billing.deadlines import supply_rule
from billing.dunning import selectors
from billing.dunning.lifecycle import Operation, allows
from billing.models import ZERO, Credit, DefaultNotice, SuspensionStep
from contracts.deadlines import presumed_receipt
from contracts.models import Contract, Service
from portal.lib import formatting
from portal.lib.dates import add_months, rome_date

# CP-LG 6.5: the automatic indemnities of the suspension procedure, paid "entro otto mesi".
INDEMNITY_WITHOUT_NOTICE = Decimal("30.00")
INDEMNITY_TERMS_NOT_RESPECTED = Decimal("20.00")
INDEMNITY_MONTHS_TO_PAY = 8

# CG 12.2: express termination after 2 notices, or 1 suspension, in the last 12 months.
EXPRESS_TERMINATION_MONTHS = 12
EXPRESS_TERMINATION_NOTICES = 2

# The services a notice may lead to suspend (CG 6.2: "tutti i Servizi attivati"); add-ons are not supplies.
SUSPENDABLE_KINDS = (*Service.ENERGY_KINDS, *Service.COMMUNICATION_KINDS)
INTERVENTION_KINDS = (
    SuspensionStep.Kind.POWER_REDUCTION,
    SuspensionStep.Kind.SUSPENSION_REQUEST,
    SuspensionStep.Kind.SUSPENSION_EXECUTED,
)
SUSPENSION_KINDS = (SuspensionStep.Kind.SUSPENSION_REQUEST, SuspensionStep.Kind.SUSPENSION_EXECUTED)


# ---------------------------------------------------------------------------------------------------------
# When a step is allowed
# ---------------------------------------------------------------------------------------------------------


def supplies_of(notice: DefaultNotice) -> QuerySet[Service]:
    """The supplies of the contracts whose invoices the notice covers."""
    covered = Service.objects.filter(contract__invoices__default_notice_items__notice=notice)
    return (
        Service.objects.filter(pk__in=covered.values("pk"), kind__in=SUSPENDABLE_KINDS)
        .exclude(status__in=[Service.Status.PENDING, Service.Status.CANCELLED])
        .select_related("contract")
        .order_by("contract_id", "id")
    )


def receipt_day(notice: DefaultNotice) -> date:
    """The proven receipt when recorded, else the presumed one: sending + 10 days (CG 9.3)."""
    return presumed_receipt(notice.sent_on, notice.received_on)


def earliest_step_day(notice: DefaultNotice) -> date:
    """The first day any step of the notice is allowed: what the `billing.suspension_allowed` sweep waits
    for. A notice without supplies left gets the longest term."""
    rules = {supply_rule(service) for service in supplies_of(notice)} or {"gas"}
    return min(
        deadlines.earliest_suspension_request(notice.payment_due_on, receipt_day(notice), rule)
        for rule in rules
    )


def step_allowed_on(notice: DefaultNotice, service: Service, kind: str) -> tuple[date | None, str]:
    """(the first day this step is allowed, the rule that sets it); None when it needs an earlier step."""
    reduction = (
        notice.steps.filter(
            service=service, kind=SuspensionStep.Kind.POWER_REDUCTION, executed_on__isnull=False
        )
        .order_by("-executed_on")
        .first()
    )
    return deadlines.step_allowed_on(
        payment_due_on=notice.payment_due_on,
        sent_on=notice.sent_on,
        received_on=notice.received_on,
        supply=supply_rule(service),
        suspension=kind in SUSPENSION_KINDS,
        power_reduced_on=reduction.executed_on if reduction else None,
    )


@dataclass(frozen=True)
class NextStep:
    service: Service
    kind: SuspensionStep.Kind
    allowed_on: date
    rule: str


def next_steps(notice: DefaultNotice) -> list[NextStep]:
    """Per supply, the step to ask for next — a suspension, or for low voltage not yet reduced the power
    reduction — and the first day it is allowed; none before the notice was sent."""
    if notice.payment_due_on is None:
        return []
    steps = []
    for service in supplies_of(notice):
        kind = SuspensionStep.Kind.SUSPENSION_REQUEST
        day, rule = step_allowed_on(notice, service, kind)
        if day is None:  # low voltage, not yet reduced
            kind = SuspensionStep.Kind.POWER_REDUCTION
            day, rule = step_allowed_on(notice, service, kind)
        steps.append(NextStep(service=service, kind=kind, allowed_on=day, rule=rule))
    return steps


# ---------------------------------------------------------------------------------------------------------
# Recording steps
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def record_suspension_step(
    *,
    notice: DefaultNotice | None,
    service: Service,
    kind: str,
    requested_on: date,
    executed_on: date | None = None,
    distributor_reference: str = "",
    override_reason: str = "",
    by=None,
    now: datetime | None = None,
) -> SuspensionStep:
    """Record a step staff took with the distributor. A step before the day the regulation allows it is
    refused, naming that day; forced with a reason it is recorded with the 20 € indemnity and no fees. A step
    without any default notice (notice=None) needs a reason too and carries the 30 € indemnity (CP-LG 6.5).
    Reactivation after a notice goes through `reactivate`."""
    now = now or timezone.now()
    today = rome_date(now)
    override_reason = override_reason.strip()
    _check_step_dates(kind=kind, requested_on=requested_on, executed_on=executed_on, today=today)
    if service.kind not in SUSPENDABLE_KINDS:
        raise ValidationError(
            {"service": _("Si sospendono solo forniture di luce e gas, linee fibra e mobile.")}
        )
    if kind == SuspensionStep.Kind.POWER_REDUCTION and (
        service.kind != Service.Kind.ELECTRICITY or supply_rule(service) != "electricity_lv"
    ):
        raise ValidationError(
            {"kind": _("La riduzione di potenza al 15% riguarda solo la luce in bassa tensione (art. 6.3).")}
        )
    step = SuspensionStep(
        service=service,
        kind=kind,
        requested_on=requested_on,
        executed_on=executed_on,
        distributor_reference=distributor_reference.strip(),
        override_reason=override_reason,
        recorded_by=by,
        recorded_at=now,
    )
    if notice is None:
        return _record_step_without_notice(step)
    if kind == SuspensionStep.Kind.REACTIVATION:
        raise ValidationError(
            {"kind": _("La riattivazione dopo una costituzione in mora si registra con «Riattiva».")}
        )

    notice = DefaultNotice.objects.select_for_update().get(pk=notice.pk)
    if not allows(notice, Operation.RECORD_STEP):
        raise ValidationError(
            _("Nessun intervento è possibile per la costituzione in mora %(reference)s (stato: %(status)s).")
            % {"reference": notice.reference, "status": notice.get_status_display()}
        )
    if not supplies_of(notice).filter(pk=service.pk).exists():
        raise ValidationError({"service": _("La fornitura non è tra quelle della costituzione in mora.")})
    blocked = [
        item.invoice.number
        for item in notice.items.select_related("invoice")
        if item.invoice.dunning_blocked and item.invoice.outstanding > ZERO
    ]
    if blocked:
        # ARERA: an anomalous invoice under complaint cannot lead to suspension before the reasoned reply.
        raise ValidationError(
            _(
                "La bolletta %(numbers)s è contestata con un reclamo per bolletta anomala (%(complaints)s): "
                "nessuna riduzione o sospensione prima della risposta motivata. Attendi la risposta, oppure "
                "annulla questa costituzione in mora: la prossima sarà preparata senza la bolletta contestata."
            )
            % {
                "numbers": ", ".join(blocked),
                "complaints": ", ".join(selectors.blocking_complaints([notice.pk]).get(notice.pk, [])),
            }
        )

    _refuse_during_instalment_plan(notice)
    allowed_on, rule = step_allowed_on(notice, service, kind)
    early = allowed_on is None or requested_on < allowed_on
    if early and not override_reason:
        if allowed_on is None:
            message = _("Intervento non consentito: %(rule)s.") % {"rule": rule}
        else:
            message = _("Intervento non consentito prima del %(day)s (%(rule)s).") % {
                "day": formatting.day(allowed_on),
                "rule": rule,
            }
        raise ValidationError(
            {
                "requested_on": message
                + " "
                + _(
                    "Per procedere comunque indica il motivo: sarà riconosciuto l'indennizzo automatico di 20 €."
                )
            }
        )
    step.notice = notice
    step.allowed_on = allowed_on
    step.fees_waived = early or notice.steps.filter(service=service, fees_waived=True).exists()
    step.save()
    if early:
        step.indemnity = _grant(
            step,
            amount=INDEMNITY_TERMS_NOT_RESPECTED,
            source_key=f"default-indemnity:terms:{notice.pk}:{service.pk}",
        )
        step.save(update_fields=["indemnity"])
    _update_status_from_steps(notice)
    _flag_suspension(step)
    return step


def _refuse_during_instalment_plan(notice: DefaultNotice) -> None:
    """An approved instalment plan suspends the default procedure for the bills it covers
    (billing/instalments.py): no reduction or suspension for them while it runs."""
    items = notice.items.select_related("invoice")
    still_due = [item.invoice for item in items if item.invoice.outstanding > ZERO]
    held = instalments.suspended_invoice_ids(invoice.pk for invoice in still_due)
    if held:
        raise ValidationError(
            _(
                "La bolletta %(numbers)s è in una rateizzazione approvata: finché il cliente ne paga le "
                "rate, nessuna riduzione o sospensione."
            )
            % {"numbers": ", ".join(invoice.number for invoice in still_due if invoice.pk in held)}
        )


def _check_step_dates(*, kind: str, requested_on: date, executed_on: date | None, today: date) -> None:
    errors = {}
    if requested_on > today:
        errors["requested_on"] = _("La data della richiesta non può essere nel futuro.")
    if executed_on is not None:
        if executed_on < requested_on:
            errors["executed_on"] = _("L'esecuzione non può precedere la richiesta.")
        elif executed_on > today:
            errors["executed_on"] = _("La data di esecuzione non può essere nel futuro.")
    elif kind == SuspensionStep.Kind.SUSPENSION_EXECUTED:
        errors["executed_on"] = _("Indica il giorno in cui la sospensione è stata eseguita.")
    if errors:
        raise ValidationError(errors)


def _record_step_without_notice(step: SuspensionStep) -> SuspensionStep:
    if step.kind == SuspensionStep.Kind.REACTIVATION:
        step.fees_waived = True
        step.save()
        return step
    if not step.override_reason:
        raise ValidationError(
            {
                "override_reason": _(
                    "Senza costituzione in mora nessuna riduzione o sospensione è consentita. Se è avvenuta, "
                    "indica il motivo: sarà riconosciuto l'indennizzo automatico di 30 € (art. 6.5)."
                )
            }
        )
    step.fees_waived = True
    step.save()
    # One indemnity per episode: the steps on this supply since its last reactivation.
    episode = SuspensionStep.objects.filter(service=step.service, notice__isnull=True).exclude(
        kind=SuspensionStep.Kind.REACTIVATION
    )
    last_reactivation = (
        SuspensionStep.objects.filter(service=step.service, kind=SuspensionStep.Kind.REACTIVATION)
        .exclude(pk=step.pk)
        .order_by("-id")
        .first()
    )
    if last_reactivation is not None:
        episode = episode.filter(pk__gt=last_reactivation.pk)
    first = episode.order_by("id").first() or step
    step.indemnity = _grant(
        step, amount=INDEMNITY_WITHOUT_NOTICE, source_key=f"default-indemnity:no-notice:{first.pk}"
    )
    step.save(update_fields=["indemnity"])
    _flag_suspension(step)
    return step


def _grant(step: SuspensionStep, *, amount: Decimal, source_key: str) -> Credit:
    from billing import services  # billing.services calls back into the dunning package

    return services.grant_indemnity(
        customer=step.service.contract.customer,
        contract=step.service.contract,
        reason=Credit.Reason.DEFAULT_INDEMNITY,
        amount=amount,
        created_on=step.executed_on or step.requested_on,
        source_key=source_key,
        months_to_pay=INDEMNITY_MONTHS_TO_PAY,
    )


@transaction.atomic
def record_step_execution(
    *, step: SuspensionStep, executed_on: date, by=None, now: datetime | None = None
) -> SuspensionStep:
    """The distributor confirmed it executed a requested step (e.g. the power reduction, from which the
    15 days before suspension run)."""
    now = now or timezone.now()
    step = SuspensionStep.objects.select_for_update().get(pk=step.pk)
    if step.executed_on is not None:
        raise ValidationError(
            _("Esecuzione già registrata il %(day)s.") % {"day": formatting.day(step.executed_on)}
        )
    _check_step_dates(
        kind=step.kind, requested_on=step.requested_on, executed_on=executed_on, today=rome_date(now)
    )
    step.executed_on = executed_on
    step.execution_recorded_by = by
    step.execution_recorded_at = now
    step.save(update_fields=["executed_on", "execution_recorded_by", "execution_recorded_at"])
    if step.notice_id is not None and step.kind != SuspensionStep.Kind.REACTIVATION:
        notice = DefaultNotice.objects.select_for_update().get(pk=step.notice_id)
        if allows(notice, Operation.RECORD_STEP):
            _update_status_from_steps(notice)
    _flag_suspension(step)
    return step


def _update_status_from_steps(notice: DefaultNotice) -> None:
    """The notice shows the furthest step taken on any of its supplies."""
    steps = list(notice.steps.exclude(kind=SuspensionStep.Kind.REACTIVATION))
    Kind = SuspensionStep.Kind
    if any(step.kind in SUSPENSION_KINDS and step.executed_on for step in steps):
        status = DefaultNotice.Status.SUSPENDED
    elif any(step.kind == Kind.SUSPENSION_REQUEST for step in steps):
        status = DefaultNotice.Status.SUSPENSION_REQUESTED
    elif any(step.kind == Kind.POWER_REDUCTION and step.executed_on for step in steps):
        status = DefaultNotice.Status.POWER_REDUCED
    elif steps:  # a power reduction asked for, not yet executed
        status = DefaultNotice.Status.SUSPENSION_REQUESTED
    else:
        return
    if notice.status != status:
        notice.status = status
        notice.save(update_fields=["status"])


@transaction.atomic
def reactivate(
    *,
    notice: DefaultNotice,
    proven_payment_on: date,
    requested_on: date | None = None,
    by=None,
    now: datetime | None = None,
) -> list[SuspensionStep]:
    """The customer proved full payment (CG 6.5): ask the distributor to restore every supply the notice
    reduced or suspended. Fees are waived where the procedure waived them."""
    now = now or timezone.now()
    today = rome_date(now)
    requested_on = requested_on or proven_payment_on
    notice = DefaultNotice.objects.select_for_update().get(pk=notice.pk)
    if not allows(notice, Operation.REACTIVATE):
        raise ValidationError(
            _(
                "Nessuna fornitura da riattivare per la costituzione in mora %(reference)s (stato: %(status)s)."
            )
            % {"reference": notice.reference, "status": notice.get_status_display()}
        )
    errors = {}
    if proven_payment_on > today:
        errors["proven_payment_on"] = _("La data non può essere nel futuro.")
    elif notice.sent_on and proven_payment_on < notice.sent_on:
        errors["proven_payment_on"] = _(
            "La prova di pagamento non può precedere l'invio della costituzione in mora."
        )
    if requested_on > today or requested_on < proven_payment_on:
        errors["requested_on"] = _("La richiesta di riattivazione va tra la prova di pagamento e oggi.")
    if errors:
        raise ValidationError(errors)
    steps = list(notice.steps.exclude(kind=SuspensionStep.Kind.REACTIVATION).select_related("service"))
    reactivations = []
    for service in {step.service_id: step.service for step in steps}.values():
        reactivations.append(
            SuspensionStep.objects.create(
                notice=notice,
                service=service,
                kind=SuspensionStep.Kind.REACTIVATION,
                requested_on=requested_on,
                fees_waived=any(step.fees_waived for step in steps if step.service_id == service.pk),
                recorded_by=by,
                recorded_at=now,
            )
        )
    notice.status = DefaultNotice.Status.REACTIVATED
    notice.payment_proven_on = proven_payment_on
    notice.closed_on = requested_on
    notice.closed_by = by
    notice.save(update_fields=["status", "payment_proven_on", "closed_on", "closed_by"])
    return reactivations


# ---------------------------------------------------------------------------------------------------------
# Express termination grounds (CG 12.2)
# ---------------------------------------------------------------------------------------------------------


def flag_notices_in_12_months(notice: DefaultNotice) -> None:
    """A notice just sent: with another in the last 12 months, its contracts may be terminated."""
    since = add_months(notice.sent_on, -EXPRESS_TERMINATION_MONTHS)
    sent = DefaultNotice.objects.filter(
        customer=notice.customer, sent_on__gt=since, sent_on__lte=notice.sent_on
    ).exclude(status=DefaultNotice.Status.CANCELLED)
    if sent.count() >= EXPRESS_TERMINATION_NOTICES:
        _flag_contracts(
            Contract.objects.filter(invoices__default_notice_items__notice__in=sent), on=notice.sent_on
        )


def _flag_suspension(step: SuspensionStep) -> None:
    if step.kind in SUSPENSION_KINDS and step.executed_on is not None:
        _flag_contracts(Contract.objects.filter(pk=step.service.contract_id), on=step.executed_on)


def _flag_contracts(contracts, *, on: date) -> None:
    # The field belongs to contracts but is "flagged by billing" (contracts.models): only ever set, once.
    Contract.objects.filter(Q(pk__in=contracts.values("pk")), termination_grounds_since__isnull=True).update(
        termination_grounds_since=on
    )
