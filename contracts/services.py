"""Contract lifecycle: activation, renewal notice, tacit renewal, withdrawal, cooling-off, changes.

Every date comes from the pure rules in contracts/deadlines.py; this module stores them on the rows,
where the sweeps in contracts/tasks.py find them. Functions are keyword-only and transactional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer
from contracts import deadlines
from contracts.models import (
    ConditionChange,
    ConditionChangeNotice,
    Contract,
    Device,
    MeterReading,
    Service,
    WithdrawalRequest,
)
from contracts.pdf import letter_context
from portal.lib import formatting
from portal.lib.emails import absolute_url
from portal.lib.pdf import render_pdf
from portal.notifications.services import notify
from portal.tasks import run_sweep

# Past this average daily consumption since the last reading a self-reading is refused as implausible:
# electricity — the contracted power used round the clock; gas — the meter class's maximum flow (m³/h,
# the number after "G") round the clock.
HOURS_A_DAY = 24


def _send_letter(
    customer: Customer,
    template_key: str,
    context: dict,
    *,
    dedupe_key: str,
    document_name: str,
    about,
    link: str,
) -> None:
    """A contract letter: e-mailed with its PDF (pdf/<template_key>.html) in the customer's language, with
    a link to the page it is about."""
    notify(
        customer=customer,
        template_key=template_key,
        context=context,
        channels=["email"],
        dedupe_key=dedupe_key,
        document=render_pdf(f"pdf/{template_key}.html", context, language=customer.language),
        document_name=document_name,
        about=about,
        link=link,
    )


# ---------------------------------------------------------------------------------------------------------
# Activation and the contract period
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def activate_service(*, service: Service, activated_on: date) -> Service:
    """A service goes live. The first one starts the contract's 12-month period (CG 3.1)."""
    service = Service.objects.select_for_update().get(pk=service.pk)
    if service.status != Service.Status.PENDING:
        raise ValidationError(_("Il servizio non è in attivazione."))
    if service.kind == Service.Kind.TELECONSULTO and not service.contract.customer.health_data_consent:
        raise ValidationError(
            _("Teleconsulto Medico richiede il consenso al trattamento dei dati sanitari (GDPR art. 9).")
        )
    service.status = Service.Status.ACTIVE
    service.activated_on = activated_on
    service.save(update_fields=["status", "activated_on"])

    contract = Contract.objects.select_for_update().get(pk=service.contract_id)
    if contract.period_start is None:
        _start_period(contract, deadlines.contract_period_start(activated_on))
        contract.status = Contract.Status.ACTIVE
        contract.save()
    return service


def _start_period(contract: Contract, period_start: date) -> None:
    contract.period_start = period_start
    contract.expires_on = deadlines.contract_expiry(period_start)
    contract.renewal_notice_due_on = deadlines.renewal_notice_send_by(
        contract.expires_on, lead_days=settings.CONTRACT_RENEWAL_NOTICE_LEAD_DAYS
    )
    contract.renewal_notice_sent_on = None
    contract.renewal_notice_late = False


# ---------------------------------------------------------------------------------------------------------
# Renewal notice and tacit renewal (sweeps)
# ---------------------------------------------------------------------------------------------------------


def send_renewal_notice(contract: Contract, *, today: date, late: bool) -> None:
    """The notice 3 months before expiry: termination, new conditions, or the same conditions (CG 3.1).

    What it announces is frozen on the contract, so that the renewal applies what the customer was told.
    """
    contract.announced_termination = contract.ends_at_expiry
    contract.announced_offer_name = contract.renewal_offer_name
    contract.announced_conditions = contract.renewal_conditions
    contract.renewal_notice_sent_on = today
    contract.renewal_notice_late = late
    contract.save()
    customer = contract.customer
    context = letter_context(
        customer,
        contract,
        document_date=today,
        expires_on=contract.expires_on,
        next_expiry=deadlines.contract_expiry(contract.expires_on),
        sent_on=today,
    )
    _send_letter(
        customer,
        "renewal_notice",
        context,
        dedupe_key=f"contracts.renewal_notice:{contract.pk}:{contract.expires_on.isoformat()}",
        document_name=f"comunicazione-rinnovo-{contract.number}.pdf",
        about=contract,
        link=absolute_url("contracts:detail", contract.number),
    )


def renew_or_end_at_expiry(contract: Contract, *, today: date) -> None:
    """At expiry: end the contract if the notice announced it, else renew it tacitly for 12 months."""
    if contract.renewal_notice_sent_on and contract.announced_termination:
        _terminate(contract, on=contract.expires_on)
        return
    if contract.renewal_notice_sent_on and contract.announced_offer_name:
        contract.offer_name = contract.announced_offer_name
    contract.renewal_count += 1
    contract.renewal_offer_name = contract.renewal_conditions = ""
    contract.ends_at_expiry = False
    contract.announced_offer_name = contract.announced_conditions = ""
    contract.announced_termination = False
    _start_period(contract, contract.expires_on)
    contract.save()
    # Assistenza H24 counts its 3 interventions per contract period (CP H24 1.2).
    contract.services.filter(kind=Service.Kind.ASSISTENZA_H24).update(interventions_used=0)


# ---------------------------------------------------------------------------------------------------------
# Withdrawal, cooling-off, termination
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WithdrawalQuote:
    """What the customer is shown before confirming a withdrawal."""

    kind: str
    received_on: date
    effective_on: date
    early_termination_charge: Decimal
    devices: list[tuple[Device, date]]  # devices to return and by when


def quote_withdrawal(
    *, contract: Contract, kind: str, received_on: date, service: Service | None = None
) -> WithdrawalQuote:
    if not contract.is_withdrawable:
        raise ValidationError(_("Questo contratto non è attivo: non si può recedere."))
    if service is not None and service.contract_id != contract.pk:
        raise ValidationError(_("Il servizio non appartiene a questo contratto."))
    if service is not None and service.status != Service.Status.ACTIVE:
        raise ValidationError(_("Questo servizio non è attivo o è già in disattivazione."))
    if kind == WithdrawalRequest.Kind.SWITCH and service is not None and not service.is_energy:
        # A switch date by the 10th of the month is an energy rule; a line moves with its migration code.
        kind_rule = "deactivation"
    else:
        kind_rule = kind
    effective_on = deadlines.withdrawal_effective_date(kind_rule, received_on)
    charge = Decimal("0")
    # Early withdrawal (within the first 12 months) charges back the discounts enjoyed (CG 3.8), except
    # within the 60-day window after a notice raising prices, when withdrawal is free (CG 9.3).
    early = contract.renewal_count == 0 and contract.expires_on and effective_on < contract.expires_on
    if early and service is None and open_price_change_withdrawal(contract, today=received_on) is None:
        charge = contract.discounts_enjoyed
    devices = [] if service is not None else _devices_to_return(contract, effective_on)
    return WithdrawalQuote(
        kind=kind,
        received_on=received_on,
        effective_on=effective_on,
        early_termination_charge=charge,
        devices=devices,
    )


@transaction.atomic
def request_withdrawal(
    *,
    contract: Contract,
    kind: str,
    received_on: date,
    service: Service | None = None,
    by=None,
    channel="portal",
) -> WithdrawalRequest:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if service is not None:
        service = Service.objects.select_for_update().get(pk=service.pk)  # two clicks, one withdrawal
    quote = quote_withdrawal(contract=contract, kind=kind, received_on=received_on, service=service)
    withdrawal = WithdrawalRequest.objects.create(
        contract=contract,
        service=service,
        kind=kind,
        received_on=received_on,
        effective_on=quote.effective_on,
        early_termination_charge=quote.early_termination_charge,
        requested_by=by,
        channel=channel,
    )
    if service is None:
        contract.status = Contract.Status.TERMINATING
        contract.terminates_on = quote.effective_on
        contract.save(update_fields=["status", "terminates_on"])
    else:
        Service.objects.filter(pk=service.pk).update(
            status=Service.Status.DEACTIVATING, deactivates_on=quote.effective_on
        )
    _queue_withdrawal_receipt(withdrawal)
    return withdrawal


def _devices_to_return(contract: Contract, effective_on: date) -> list[tuple[Device, date]]:
    return [
        (device, deadlines.device_return_by(effective_on))
        for device in contract.devices.filter(returned_on__isnull=True)
    ]


def _queue_withdrawal_receipt(withdrawal: WithdrawalRequest) -> None:
    from contracts.tasks import send_withdrawal_receipt  # here: contracts.tasks imports this module

    # The receipt's PDF is rendered by a worker once the withdrawal is committed (DESIGN.md §4). robust: a
    # broker outage must not turn a recorded withdrawal into an error page; the failure is logged.
    transaction.on_commit(lambda: send_withdrawal_receipt.delay(withdrawal.pk), robust=True)


def send_withdrawal_receipt(withdrawal: WithdrawalRequest) -> None:
    """The receipt of a withdrawal with its PDF letter (contracts.tasks.send_withdrawal_receipt, after the
    commit). It lists the devices to return when the customer withdraws from the whole contract; a
    cooling-off and the supplier's withdrawal list none. Run again, it finds the receipt and renders
    nothing. The row lock makes a redelivered task and the catch-up sweep wait for each other."""
    with transaction.atomic():
        withdrawal = (
            WithdrawalRequest.objects.select_for_update(of=("self",))
            .select_related("contract__customer", "service")
            .get(pk=withdrawal.pk)
        )
        if withdrawal.receipt_sent_at is None:
            _send_withdrawal_receipt(withdrawal)
            WithdrawalRequest.objects.filter(pk=withdrawal.pk).update(receipt_sent_at=timezone.now())


def _send_withdrawal_receipt(withdrawal: WithdrawalRequest) -> None:
    contract = withdrawal.contract
    customer = contract.customer
    lists_devices = withdrawal.service_id is None and withdrawal.kind not in (
        WithdrawalRequest.Kind.COOLING_OFF,
        WithdrawalRequest.Kind.SUPPLIER,
    )
    quote = WithdrawalQuote(
        kind=withdrawal.kind,
        received_on=withdrawal.received_on,
        effective_on=withdrawal.effective_on,
        early_termination_charge=withdrawal.early_termination_charge,
        devices=_devices_to_return(contract, withdrawal.effective_on) if lists_devices else [],
    )
    context = letter_context(
        customer, contract, document_date=withdrawal.received_on, withdrawal=withdrawal, quote=quote
    )
    _send_letter(
        customer,
        "withdrawal_receipt",
        context,
        dedupe_key=f"contracts.withdrawal:{withdrawal.pk}",
        document_name=f"ricevuta-recesso-{contract.number}.pdf",
        about=withdrawal,
        link=absolute_url("contracts:withdrawal_done", contract.number, withdrawal.pk),
    )


@transaction.atomic
def cancel_for_cooling_off(
    *, contract: Contract, requested_on: date, by=None, channel: str = "portal"
) -> WithdrawalRequest:
    """Ripensamento: within 14 days of conclusion of a distance/off-premises contract, no charges."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    last_day = contract.cooling_off_last_day
    if not contract.is_distance_or_off_premises:
        raise ValidationError(
            _("Il ripensamento vale per i contratti conclusi a distanza o fuori dai negozi.")
        )
    if last_day is None:
        raise ValidationError(_("Questo contratto non può essere annullato."))
    if contract.cooling_off_open_until(requested_on) is None:
        raise ValidationError(
            _("Il periodo di ripensamento è terminato il %(day)s.") % {"day": formatting.day(last_day)}
        )
    withdrawal = WithdrawalRequest.objects.create(
        contract=contract,
        kind=WithdrawalRequest.Kind.COOLING_OFF,
        received_on=requested_on,
        effective_on=requested_on,
        requested_by=by,
        channel=channel,
    )
    contract.status = Contract.Status.CANCELLED
    contract.terminated_on = requested_on
    contract.save(update_fields=["status", "terminated_on"])
    contract.services.exclude(status=Service.Status.DEACTIVATED).update(
        status=Service.Status.CANCELLED, deactivated_on=requested_on
    )
    _queue_withdrawal_receipt(withdrawal)
    return withdrawal


def end_contract_on_termination_date(contract: Contract, *, today: date) -> None:
    """Sweep act: a terminating contract reaches its termination date."""
    _terminate(contract, on=contract.terminates_on)


def _terminate(contract: Contract, *, on: date) -> None:
    contract.status = Contract.Status.TERMINATED
    contract.terminated_on = on
    contract.save(update_fields=["status", "terminated_on"])
    contract.services.exclude(status__in=[Service.Status.DEACTIVATED, Service.Status.CANCELLED]).update(
        status=Service.Status.DEACTIVATED, deactivated_on=on
    )
    contract.devices.filter(returned_on__isnull=True, return_by__isnull=True).update(
        return_by=deadlines.device_return_by(on)
    )


def deactivate_service_on_date(service: Service, *, today: date) -> None:
    """Sweep act: a service in deactivation reaches its date. Teleconsulto Medico ends with the last energy
    service (CP Teleconsulto 2.5); a contract with no service left ends."""
    service.status = Service.Status.DEACTIVATED
    service.deactivated_on = service.deactivates_on
    service.save(update_fields=["status", "deactivated_on"])
    contract = service.contract
    if service.is_energy and not contract.has_active_energy:
        contract.services.filter(kind=Service.Kind.TELECONSULTO, status=Service.Status.ACTIVE).update(
            status=Service.Status.DEACTIVATED, deactivated_on=service.deactivates_on
        )
    if not contract.services.filter(status__in=[Service.Status.ACTIVE, Service.Status.DEACTIVATING]).exists():
        _terminate(contract, on=service.deactivates_on)
    contract.devices.filter(service=service, returned_on__isnull=True).update(
        return_by=deadlines.device_return_by(service.deactivates_on)
    )


@transaction.atomic
def withdraw_as_supplier(*, contract: Contract, sent_on: date, by=None) -> WithdrawalRequest:
    """The supplier's own withdrawal (CG 3.6): 6 months for energy from the 1st of the month after
    receipt, 3 months for communications; a contract with both ends on the later date."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != Contract.Status.ACTIVE:
        raise ValidationError(_("Il fornitore può recedere solo da un contratto attivo."))
    live = list(contract.services.filter(status__in=[Service.Status.ACTIVE, Service.Status.PENDING]))
    if not live:
        raise ValidationError(_("Il contratto non ha servizi attivi."))
    received_on = deadlines.presumed_receipt(sent_on)
    dates = []
    if any(service.is_energy for service in live):
        dates.append(deadlines.supplier_withdrawal_effective("energy", received_on))
    if not all(service.is_energy for service in live):
        # Communications notices go by e-mail: received the day they are sent (CG 3.6).
        dates.append(deadlines.supplier_withdrawal_effective("communications", sent_on))
    effective_on = max(dates)
    withdrawal = WithdrawalRequest.objects.create(
        contract=contract,
        kind=WithdrawalRequest.Kind.SUPPLIER,
        received_on=received_on,
        effective_on=effective_on,
        requested_by=by,
        channel="staff",
    )
    contract.status = Contract.Status.TERMINATING
    contract.terminates_on = effective_on
    contract.save(update_fields=["status", "terminates_on"])
    _queue_withdrawal_receipt(withdrawal)
    return withdrawal


# ---------------------------------------------------------------------------------------------------------
# Unilateral change of conditions (CG 9.3)
# ---------------------------------------------------------------------------------------------------------


def check_condition_change_date(*, effective_on: date, sent_on: date) -> None:
    earliest = deadlines.unilateral_change_earliest_effective(sent_on)
    if effective_on < earliest:
        raise ValidationError(
            _(
                "Con invio il %(sent)s la variazione può entrare in vigore al più presto il %(earliest)s "
                "(3 mesi dal primo giorno del mese successivo alla ricezione presunta, art. 9.3)."
            )
            % {"sent": formatting.day(sent_on), "earliest": formatting.day(earliest)}
        )


# The prices a change of conditions may move (billing.Tariff's fields) and the supply each is paid for: a
# rise counts for a contract only when it has that supply.
PRICE_COMPONENTS = {
    "energy_price_kwh": Service.Kind.ELECTRICITY,
    "electricity_monthly_fee": Service.Kind.ELECTRICITY,
    "gas_price_smc": Service.Kind.GAS,
    "gas_monthly_fee": Service.Kind.GAS,
    "fibre_monthly_fee": Service.Kind.FIBRE,
    "mobile_monthly_fee": Service.Kind.MOBILE,
    "teleconsulto_monthly_fee": Service.Kind.TELECONSULTO,
    "assistenza_h24_monthly_fee": Service.Kind.ASSISTENZA_H24,
}


def price_rises(contract: Contract, new_prices: dict[str, Decimal], tariffs: dict) -> list[dict]:
    """The prices of the contract's own supplies that `new_prices` raise above its offer's current ones (CG
    9.3: a rise of the price, however small, gives the customer 60 days to withdraw without charges)."""
    kinds = {service.kind for service in contract.services.all()}
    concerned = {name: price for name, price in new_prices.items() if PRICE_COMPONENTS[name] in kinds}
    if not concerned:
        return []
    from billing.models import Tariff  # billing builds on contracts: imported where it is needed

    if contract.offer_name not in tariffs:
        tariffs[contract.offer_name] = Tariff.objects.filter(offer_name=contract.offer_name).first()
    tariff = tariffs[contract.offer_name]
    if tariff is None:
        raise ValidationError(
            _(
                "L'offerta «%(offer)s» del contratto %(number)s non ha una tariffa: i prezzi non si possono "
                "confrontare."
            )
            % {"offer": contract.offer_name, "number": contract.number}
        )
    return [
        {
            "label": str(Tariff._meta.get_field(name).verbose_name),
            "old": str(getattr(tariff, name)),
            "new": str(price),
        }
        for name, price in concerned.items()
        if price > getattr(tariff, name)
    ]


def gives_withdrawal_right(notice: ConditionChangeNotice) -> bool:
    return notice.change.raises_prices or bool(notice.price_rises)


@transaction.atomic
def start_condition_change(
    *,
    title: str,
    description: str,
    effective_on: date,
    sent_on: date,
    contracts,
    new_prices: dict[str, Decimal] | None = None,
    raises_prices: bool = False,
    by=None,
) -> ConditionChange:
    """Announce a change to many contracts: one pending notice each, sent by the sweep from `sent_on` on.

    Whether a notice gives the 60-day withdrawal right follows from comparing `new_prices` with the contract's
    offer (a rise of any price of its supplies), or from `raises_prices`: other charges staff declare."""
    check_condition_change_date(effective_on=effective_on, sent_on=sent_on)
    new_prices = {name: price for name, price in (new_prices or {}).items() if price is not None}
    unknown = set(new_prices) - set(PRICE_COMPONENTS)
    if unknown:
        raise ValueError(f"not a tariff price: {sorted(unknown)}")
    contracts = list(contracts)
    tariffs: dict = {}
    rises = {contract.pk: price_rises(contract, new_prices, tariffs) for contract in contracts}
    change = ConditionChange.objects.create(
        title=title,
        description=description,
        effective_on=effective_on,
        raises_prices=raises_prices,
        new_prices={name: str(price) for name, price in new_prices.items()},
        sent_on=sent_on,
        notices_total=len(contracts),
        created_by=by,
    )
    ConditionChangeNotice.objects.bulk_create(
        ConditionChangeNotice(
            change=change, contract=contract, due_on=sent_on, price_rises=rises[contract.pk]
        )
        for contract in contracts
    )
    _start_condition_change_notices()
    return change


def _start_condition_change_notices() -> None:
    from contracts.tasks import CONDITION_CHANGE_NOTICES  # here: contracts.tasks imports this module

    # The notices are rows the sweep sends (every few minutes); start it now rather than wait, once the
    # change is committed. robust: a broker outage only delays them until the next scheduled run.
    transaction.on_commit(lambda: run_sweep.delay(CONDITION_CHANGE_NOTICES.name), robust=True)


def send_condition_change_notice(notice: ConditionChangeNotice, *, today: date) -> None:
    """Sweep act. Sent later than planned (the sweep was down), the notice must still give the 3 months'
    notice: otherwise it is refused, and the failure shows up for staff instead of an unlawful letter."""
    change = notice.change
    check_condition_change_date(effective_on=change.effective_on, sent_on=today)
    notice.sent_on = today
    notice.withdrawal_until = (
        deadlines.price_change_withdrawal_last_day(today) if gives_withdrawal_right(notice) else None
    )
    notice.save(update_fields=["sent_on", "withdrawal_until"])
    contract, customer = notice.contract, notice.contract.customer
    context = letter_context(
        customer, contract, document_date=today, change=change, notice=notice, sent_on=today
    )
    _send_letter(
        customer,
        "condition_change",
        context,
        dedupe_key=f"contracts.condition_change:{change.pk}:{contract.pk}",
        document_name=f"variazione-condizioni-{contract.number}.pdf",
        about=notice,
        link=absolute_url("contracts:detail", contract.number),
    )
    ConditionChange.objects.filter(pk=change.pk).update(notices_sent=F("notices_sent") + 1)


def open_price_change_withdrawal(contract: Contract, *, today: date) -> ConditionChangeNotice | None:
    """The price-increase notice whose 60-day withdrawal window is open today, if any."""
    return (
        contract.condition_notices.filter(withdrawal_until__gte=today, change__effective_on__gt=today)
        .select_related("change")
        .order_by("-sent_on")
        .first()
    )


# ---------------------------------------------------------------------------------------------------------
# Contact details and consents
# ---------------------------------------------------------------------------------------------------------


def check_health_data_consent(*, customer: Customer, consent: bool) -> None:
    """The health-data consent (GDPR art. 9) cannot be revoked while Teleconsulto Medico is on one of the
    customer's contracts, active or being activated: the service cannot work without it (CP Teleconsulto
    2.1). The customer's contact-details page and the staff's customer page both refuse it here."""
    if not customer.health_data_consent or consent:
        return
    teleconsulto_on = Service.objects.filter(
        contract__customer=customer,
        kind=Service.Kind.TELECONSULTO,
        status__in=[Service.Status.ACTIVE, Service.Status.PENDING],
    ).exists()
    if teleconsulto_on:
        raise ValidationError(
            {
                "health_data_consent": _(
                    "Teleconsulto Medico è attivo sul tuo contratto e non funziona senza questo consenso: "
                    "per revocarlo disattiva prima il servizio."
                )
            }
        )


def _record_health_data_consent(customer: Customer, *, had_consent: bool, now: datetime) -> None:
    """When the consent was given is part of the consent record (GDPR art. 7.1); revoked, it has none."""
    if customer.health_data_consent and not had_consent:
        customer.health_data_consent_at = now
    elif not customer.health_data_consent:
        customer.health_data_consent_at = None


@transaction.atomic
def create_customer(*, customer: Customer, now: datetime) -> Customer:
    """A new customer record, as staff enter it in admin."""
    _record_health_data_consent(customer, had_consent=False, now=now)
    customer.full_clean()
    customer.save()
    return customer


@transaction.atomic
def update_customer(*, customer: Customer, changes: dict, now: datetime) -> Customer:
    """Change a customer's record: the contact details and consents the customer edits in the portal, or
    whatever staff change in admin. `changes` maps field names to their new values."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    had_consent = customer.health_data_consent
    check_health_data_consent(
        customer=customer, consent=changes.get("health_data_consent", customer.health_data_consent)
    )
    for name, value in changes.items():
        setattr(customer, name, value)
    _record_health_data_consent(customer, had_consent=had_consent, now=now)
    customer.full_clean()
    # Only the fields changed: someone else (staff, the customer) may be changing the rest at the same time.
    customer.save(update_fields=[*changes, "health_data_consent_at"])
    return customer


# ---------------------------------------------------------------------------------------------------------
# Self meter readings
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def submit_self_reading(*, service: Service, value: int, read_on: date, by) -> MeterReading:
    service = Service.objects.select_for_update().get(pk=service.pk)
    if not service.is_metered or service.status != Service.Status.ACTIVE:
        raise ValidationError(_("Le autoletture si inviano solo per forniture di luce o gas attive."))
    last = service.readings.order_by("-read_on", "-id").first()
    if last is not None:
        if read_on < last.read_on:
            raise ValidationError(
                {
                    "read_on": _("C'è già una lettura del %(day)s: la data non può essere precedente.")
                    % {"day": formatting.day(last.read_on)}
                }
            )
        if value < last.value:
            raise ValidationError(
                {
                    "value": _(
                        "La lettura è più bassa dell'ultima registrata (%(last)s del %(day)s): controlla il contatore."
                    )
                    % {"last": last.value, "day": formatting.day(last.read_on)}
                }
            )
        days = max((read_on - last.read_on).days, 1)
        if (value - last.value) / days > _max_daily_consumption(service):
            raise ValidationError(
                {
                    "value": _(
                        "La lettura non sembra plausibile: corrisponde a un consumo di oltre %(max)s al giorno "
                        "dall'ultima lettura. Controlla le cifre (senza decimali)."
                    )
                    % {"max": f"{_max_daily_consumption(service):.0f} {service.meter_unit}"}
                }
            )
    return MeterReading.objects.create(
        service=service, read_on=read_on, value=value, source=MeterReading.Source.CUSTOMER, submitted_by=by
    )


def _max_daily_consumption(service: Service) -> float:
    if service.kind == Service.Kind.ELECTRICITY:
        return float(service.power_kw or 3) * HOURS_A_DAY
    flow = "".join(ch for ch in service.meter_class if ch.isdigit()) or "4"
    return float(flow) * HOURS_A_DAY
