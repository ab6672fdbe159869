"""The invoice run: one invoice per active contract and billing period (CG 4.2), idempotent.

`generate_invoices(period="2026-10", issued_on=...)` bills every billing period that ENDS in that month:
a monthly contract every month, a bimonthly one every second month (its periods aligned to the month of
the contract's period start), and a contract whose supply ended during the month gets its closing
invoice in that month's run. Running it again creates nothing: each contract is locked while it is
billed and skipped when an invoice already covers the period (the `one_invoice_per_contract_period`
constraint backs this for periodic invoices).

Nothing is billed before it has happened: a month is billed once it has ended (only the closing bills of
supplies already ended may go out earlier, `closing_only`), and a contract's period is billed only right after
its last billed one, never skipping one. `preview_invoices` shows what a run would issue before it does.

Each contract is billed in its own transaction (a savepoint when the caller holds one), so one broken
contract — an offer without a tariff, inconsistent readings — is rolled back, reported and skipped while
the run goes on (STYLE "one broken item must not stop the sweep").

The lines of an invoice are part of a fiscal document: they are written in Italian whatever the
customer's language (the PDF's own labels follow the customer's language).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import deadlines, services, taxes
from billing.models import ZERO, Charge, Credit, Invoice, InvoiceLine, Tariff
from billing.services import LineSpec
from contracts.models import Contract, MeterReading, Service
from portal.lib import formatting
from portal.lib.dates import add_days, add_months, days_between, first_of_month, first_of_next_month

logger = logging.getLogger(__name__)

# CG 4.2: a periodic invoice is issued within 90 days of the last day it bills; later, the late-invoice
# indemnity of CP-LG 6.6 is due, counted from that term.
PERIODIC_INVOICE_TERM_DAYS = 90
# CP-LG 6.7 (TIF art. 11): the closing invoice is issued within 6 weeks of the end of supply.
CLOSING_INVOICE_TERM_DAYS = 6 * 7

# With no usable reading history, estimates use ARERA's typical domestic customer (3 kW, 2,700 kWh a
# year; 1,400 Smc a year of gas), the reference of its price comparisons.
TYPICAL_YEARLY_CONSUMPTION = {
    Service.Kind.ELECTRICITY: Decimal("2700"),
    Service.Kind.GAS: Decimal("1400"),
}
DAYS_A_YEAR = Decimal("365")

# Only real readings bill real consumption; an estimate is ours to make.
REAL_READING_SOURCES = (MeterReading.Source.CUSTOMER, MeterReading.Source.DISTRIBUTOR)

SERVICE_UNITS = {Service.Kind.ELECTRICITY: "kWh", Service.Kind.GAS: "Smc"}


class InvoiceRunError(Exception):
    """A contract that cannot be billed as it stands; staff must fix its data."""


# ---------------------------------------------------------------------------------------------------------
# The run and its report
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractError:
    contract_number: str
    message: str


@dataclass
class RunReport:
    month: date  # first day of the month whose billing periods end
    issued_on: date
    created: list[str] = field(default_factory=list)  # invoice numbers
    already_billed: list[str] = field(default_factory=list)  # contract numbers
    not_due: int = 0  # nothing to bill this month: the off month of a bimonthly contract, no supply yet
    errors: list[ContractError] = field(default_factory=list)
    invoice_count: int = 0  # created, or that a preview would create
    total: Decimal = ZERO  # what the created invoices ask the customers for, all together
    closing_only: bool = False

    @property
    def period(self) -> str:
        return f"{self.month:%Y-%m}"

    def as_dict(self) -> dict:
        """JSON-friendly, for a task result, a job's report or a log line."""
        return {
            "period": self.period,
            "issued_on": self.issued_on.isoformat(),
            "closing_only": self.closing_only,
            "created": self.invoice_count,
            "invoices": self.created,
            "total": str(self.total),
            "already_billed": len(self.already_billed),
            "not_due": self.not_due,
            "errors": [{"contract": e.contract_number, "message": e.message} for e in self.errors],
        }


Progress = Callable[[int, int, str], None]  # (contracts done, contracts in the run, contract number)


def parse_month(period: str | date) -> date:
    """ "2026-10" or any date in October 2026 → 2026-10-01."""
    if isinstance(period, date):
        return first_of_month(period)
    try:
        year, month = (int(part) for part in period.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValueError(f"period {period!r} is not YYYY-MM, e.g. 2026-10") from None


def check_run(*, month: date, issued_on: date, today: date, closing_only: bool = False) -> None:
    """Refuse a run that would bill what has not happened yet (ValidationError, in Italian for staff).

    Bills are issued on or before today, and a month is billed once it has ended: on 02/12 the December
    consumption is not known yet, so "consumo rilevato" for it would be false. The one exception is the
    closing bill of a supply that has already ended (`closing_only`: only those are issued)."""
    if issued_on > today:
        raise ValidationError(
            {
                "issued_on": _("Le bollette non si emettono con una data futura (%(day)s).")
                % {"day": formatting.day(issued_on)}
            }
        )
    _check_month_ended(month, issued_on=issued_on, closing_only=closing_only)


def _check_month_ended(month: date, *, issued_on: date, closing_only: bool) -> None:
    if closing_only or _last_day_of_month(month) < issued_on:
        return
    raise ValidationError(
        {
            "period": _(
                "Il mese %(month)s non è ancora finito: le sue bollette si emettono dal %(first)s. Prima di "
                "allora si emettono solo le bollette di chiusura delle forniture già cessate."
            )
            % {"month": f"{month:%m/%Y}", "first": formatting.day(first_of_next_month(month))}
        }
    )


def preview_invoices(*, period: str | date, issued_on: date, closing_only: bool = False) -> RunReport:
    """What `generate_invoices` would issue, computed by the very same code in a transaction rolled back at
    the end, so the figures shown before confirming are the ones the run then issues (nothing is kept: no
    number is taken, no PDF or e-invoice queued)."""
    with transaction.atomic():
        report = generate_invoices(period=period, issued_on=issued_on, closing_only=closing_only)
        transaction.set_rollback(True)
    report.created = []  # numbers taken in the rolled-back transaction, not the ones the run will take
    return report


def generate_invoices(
    *, period: str | date, issued_on: date, progress: Progress | None = None, closing_only: bool = False
) -> RunReport:
    """Bill every billing period ending in `period`'s month, issuing the invoices on `issued_on`.

    A month that has not ended by `issued_on` is refused (ValidationError) unless `closing_only`, which
    issues only the closing bills of supplies already ended."""
    month = parse_month(period)
    _check_month_ended(month, issued_on=issued_on, closing_only=closing_only)
    report = RunReport(month=month, issued_on=issued_on, closing_only=closing_only)
    contract_ids = list(_candidates(month).values_list("pk", flat=True))
    tariffs: dict[str, Tariff | None] = {}
    for done, contract_id in enumerate(contract_ids, start=1):
        number = ""
        try:
            with transaction.atomic():
                # Locked until this contract's invoice commits: a second run waits here, then sees it.
                contract = Contract.objects.select_for_update().select_related("customer").get(pk=contract_id)
                number = contract.number
                outcome = invoice_contract(
                    contract=contract,
                    month=month,
                    issued_on=issued_on,
                    tariffs=tariffs,
                    closing_only=closing_only,
                )
        except Exception as exc:  # one broken contract must not stop the run
            if isinstance(exc, InvoiceRunError | ValidationError):
                logger.warning("Invoice run %s: contract %s not billed: %s", report.period, number, exc)
            else:
                logger.exception("Invoice run %s: contract %s failed", report.period, number or contract_id)
            report.errors.append(ContractError(number or f"#{contract_id}", _message(exc)))
        else:
            if isinstance(outcome, Invoice):
                report.created.append(outcome.number)
                report.invoice_count += 1
                report.total += outcome.total
            elif outcome == ALREADY_BILLED:
                report.already_billed.append(number)
            else:
                report.not_due += 1
        if progress is not None:
            progress(done, len(contract_ids), number)
    return report


def _candidates(month: date):
    """Contracts that may have a billing period ending in `month`: started, not cancelled, and still
    supplied at the start of the previous month (the longest period is two months)."""
    window_start = add_months(month, -1)
    return (
        Contract.objects.filter(period_start__isnull=False)
        .exclude(status__in=[Contract.Status.PROPOSED, Contract.Status.CANCELLED])
        .filter(Q(terminated_on__isnull=True) | Q(terminated_on__gt=window_start))
        .order_by("pk")
    )


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) or type(exc).__name__


ALREADY_BILLED = "already_billed"
NOT_DUE = "not_due"


# ---------------------------------------------------------------------------------------------------------
# Billing periods
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillingPeriod:
    start: date
    end: date  # last day billed
    months: tuple[date, ...]  # the calendar months it touches (first days), for whole-month fees
    end_of_supply: date | None  # first day without supply, when the contract ended within the period

    @property
    def is_closing(self) -> bool:
        return self.end_of_supply is not None


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _last_day_of_month(day: date) -> date:
    return first_of_next_month(day) - timedelta(days=1)


def end_of_supply(contract: Contract) -> date | None:
    """The first day the contract no longer supplies anything, once known."""
    if contract.status == Contract.Status.TERMINATED:
        return contract.terminated_on
    if contract.status == Contract.Status.TERMINATING:
        return contract.terminates_on
    return None


def billing_period(contract: Contract, month: date) -> BillingPeriod | None:
    """The contract's billing period that ends in `month`, or None when none does.

    Calendar months for monthly billing; pairs of months aligned to the month of the contract's period
    start for bimonthly billing (renewals move the period start by 12 months, so the pairs stay put).
    A period is cut at the first activation and at the end of supply; a contract ending in the first
    month of a bimonthly pair is closed in that month's run rather than a month later.
    """
    calendar_start = month
    if contract.billing_frequency == Contract.BillingFrequency.BIMONTHLY:
        if (_month_index(month) - _month_index(contract.period_start)) % 2:
            calendar_start = add_months(month, -1)  # the second month of a pair: the pair ends now
    months = tuple(
        add_months(calendar_start, n)
        for n in range(2 if contract.billing_frequency == Contract.BillingFrequency.BIMONTHLY else 1)
    )
    calendar_end = _last_day_of_month(months[-1])

    ends_on = end_of_supply(contract)
    closing = ends_on is not None and ends_on <= add_days(calendar_end, 1)
    end = add_days(ends_on, -1) if closing else calendar_end
    if end > _last_day_of_month(month):
        return None  # this pair ends next month
    first_activation = min(
        (s.activated_on for s in contract.services.all() if s.activated_on is not None), default=None
    )
    if first_activation is None or first_activation > end:
        return None
    start = max(calendar_start, first_activation)
    if end < start:
        return None
    months = tuple(m for m in months if m <= end)
    return BillingPeriod(start=start, end=end, months=months, end_of_supply=ends_on if closing else None)


def invoice_issue_term(period: BillingPeriod) -> date:
    """The last day the invoice may be issued without the late-invoice indemnity."""
    if period.is_closing:
        return add_days(period.end_of_supply, CLOSING_INVOICE_TERM_DAYS)
    return add_days(period.end, PERIODIC_INVOICE_TERM_DAYS)


def late_indemnity(period: BillingPeriod, issued_on: date) -> Decimal:
    days_late = days_between(invoice_issue_term(period), issued_on)
    if period.is_closing:
        return deadlines.late_closing_invoice_indemnity(days_late)
    return deadlines.late_invoice_indemnity(days_late)


# ---------------------------------------------------------------------------------------------------------
# One contract
# ---------------------------------------------------------------------------------------------------------


def invoice_contract(
    *,
    contract: Contract,
    month: date,
    issued_on: date,
    tariffs: dict[str, Tariff | None] | None = None,
    closing_only: bool = False,
) -> Invoice | str:
    """Bill `contract` for its period ending in `month`: the issued invoice, ALREADY_BILLED or NOT_DUE.

    The caller holds the contract's row lock inside a transaction (see `generate_invoices`).
    """
    period = billing_period(contract, month)
    if period is None or (closing_only and not period.is_closing):
        return NOT_DUE
    if period.end >= issued_on:
        return NOT_DUE  # a supply ending later this month: its closing bill comes once it has ended
    if Invoice.objects.filter(
        contract=contract,
        kind=Invoice.Kind.INVOICE,
        period_start__lte=period.end,
        period_end__gte=period.start,
    ).exists():
        return ALREADY_BILLED
    _check_follows_last_billed(contract, period)
    tariff = _tariff(contract.offer_name, tariffs if tariffs is not None else {})

    builder = _InvoiceBuilder(contract=contract, tariff=tariff, period=period, issued_on=issued_on)
    # The lines are the portal's own text, frozen on the invoice: written in the customer's language.
    with translation.override(contract.customer.language):
        builder.bill_services()
        if not builder.lines:
            return NOT_DUE
        builder.bill_deposit()
        charges = builder.bill_charges()
        builder.grant_late_indemnity()
        uses = builder.deduct_credits()

    draft = services.create_draft(
        contract=contract,
        period_start=period.start,
        period_end=period.end,
        lines=builder.lines,
        is_closing=period.is_closing,
    )
    # The supplies as billed (readings, consumption, estimate or not), frozen with the invoice: the PDF
    # and the next invoices' consumption charts read them from here.
    draft.supplies = builder.supplies
    draft.save(update_fields=["supplies"])
    services.record_credit_uses(draft, uses)
    Charge.objects.filter(pk__in=[charge.pk for charge in charges]).update(billed_on=draft)
    return services.issue_invoice(invoice=draft, issued_on=issued_on)


def _check_follows_last_billed(contract: Contract, period: BillingPeriod) -> None:
    """A contract's next billable period starts the day after its last billed one: billing March while
    January and February were never billed would leave them out, and the estimates of a skipped month
    would never be settled against the readings. A contract with no bill yet has no period to follow."""
    last_end = (
        Invoice.objects.filter(contract=contract, kind=Invoice.Kind.INVOICE, issued_on__isnull=False)
        .order_by("-period_end")
        .values_list("period_end", flat=True)
        .first()
    )
    if last_end is None or last_end >= period.start or add_days(last_end, 1) == period.start:
        return
    raise InvoiceRunError(
        _(
            "Il periodo dal %(start)s al %(end)s non è ancora fatturato: emettere prima quella bolletta "
            "(ultima bolletta fino al %(last)s)."
        )
        % {
            "start": formatting.day(add_days(last_end, 1)),
            "end": formatting.day(add_days(period.start, -1)),
            "last": formatting.day(last_end),
        }
    )


def _tariff(offer_name: str, cache: dict[str, Tariff | None]) -> Tariff:
    if offer_name not in cache:
        cache[offer_name] = Tariff.objects.filter(offer_name=offer_name).first()
    tariff = cache[offer_name]
    if tariff is None:
        raise InvoiceRunError(f"Nessuna tariffa per l'offerta «{offer_name}»: aggiungerla in Tariffe.")
    return tariff


def _months_unit(count: int) -> str:
    return ngettext("mese", "mesi", count)


def _qty(value: Decimal) -> str:
    """1234.5 → "1.234,5" in Italian, "1,234.5" in English: the language the line is written in."""
    return number_format(value.quantize(Decimal("0.001")).normalize(), force_grouping=True)


@dataclass(frozen=True)
class MeterUse:
    """What a metered supply is billed for in a period."""

    quantity: Decimal  # kWh or Smc, net of what earlier estimates already billed
    estimated: bool
    reading_start: MeterReading | None = None
    reading_end: MeterReading | None = None
    measured: Decimal = ZERO  # end − start reading
    estimates_deducted: Decimal = ZERO  # billed as estimates since the start reading
    daily_average: Decimal | None = None


class _InvoiceBuilder:
    def __init__(self, *, contract: Contract, tariff: Tariff, period: BillingPeriod, issued_on: date):
        self.contract = contract
        self.tariff = tariff
        self.period = period
        self.issued_on = issued_on
        self.lines: list[LineSpec] = []
        self.supplies: list[dict] = []

    # -- services -----------------------------------------------------------------------------------------

    def bill_services(self) -> None:
        for service in self.contract.services.all():
            active = self._active_range(service)
            if active is None:
                continue
            bill = {
                Service.Kind.ELECTRICITY: self._bill_electricity,
                Service.Kind.GAS: self._bill_gas,
                Service.Kind.FIBRE: self._bill_line,
                Service.Kind.MOBILE: self._bill_line,
                Service.Kind.TELECONSULTO: self._bill_addon,
                Service.Kind.ASSISTENZA_H24: self._bill_addon,
            }[service.kind]
            supply = {
                "kind": service.kind,
                "label": str(service.get_kind_display()),
                "identifier": service.identifier,
                "address": service.supply_address,
                "power_kw": str(service.power_kw) if service.power_kw else "",
                "meter_class": service.meter_class,
                "domestic_resident": service.domestic_resident,
                "active_from": active[0].isoformat(),
                "active_to": active[1].isoformat(),
            }
            billed_before = len(self.lines)
            bill(service, active, supply)
            # Each line names its supply (an add-on, with no identifier, by its kind): a re-bill after a
            # credit note finds the lines the note took back by supply and kind (rebill_period).
            self.lines[billed_before:] = [
                replace(spec, supply=service.identifier or service.kind)
                for spec in self.lines[billed_before:]
            ]
            self.supplies.append(supply)

    def _active_range(self, service: Service) -> tuple[date, date] | None:
        """The days of the period the service was active (activation inclusive, deactivation exclusive)."""
        if service.activated_on is None:
            return None
        start = max(self.period.start, service.activated_on)
        end = self.period.end
        if service.deactivated_on is not None:
            end = min(end, add_days(service.deactivated_on, -1))
        return (start, end) if start <= end else None

    def _energy_vat(self, service: Service) -> Decimal:
        category = "electricity_domestic" if service.domestic_resident else "energy_business"
        return taxes.vat_rate(category, self.issued_on)

    def _bill_electricity(self, service: Service, active: tuple[date, date], supply: dict) -> None:
        use = self._meter_use(service, active)
        self._record_use(supply, use, unit="kWh")
        self.lines.append(
            LineSpec(
                kind=InvoiceLine.Kind.ENERGY,
                description=_("Energia elettrica POD %(pod)s — %(use)s")
                % {"pod": service.pod, "use": self._use_wording(use, "kWh")},
                quantity=use.quantity,
                unit="kWh",
                unit_price=self.tariff.energy_price_kwh,
                vat_rate=self._energy_vat(service),
            )
        )
        self._monthly_fee(
            _("Quota fissa luce POD %(pod)s") % {"pod": service.pod},
            self.tariff.electricity_monthly_fee,
            active,
            vat_rate=self._energy_vat(service),
        )

    def _bill_gas(self, service: Service, active: tuple[date, date], supply: dict) -> None:
        use = self._meter_use(service, active)
        self._record_use(supply, use, unit="Smc")
        wording = self._use_wording(use, "Smc")
        if not service.domestic_resident:
            parts = [(use.quantity, taxes.vat_rate("energy_business", self.issued_on), "")]
        else:
            # Domestic gas: 10% VAT on the first 480 Smc of the calendar year, 22% above (tax law).
            reduced, full = taxes.split_gas_by_vat(
                use.quantity, already_billed_this_year=self._gas_billed_this_year(), on=self.issued_on
            )
            reduced_rate = taxes.vat_rate("gas_domestic_first_480", self.issued_on)
            full_rate = taxes.vat_rate("gas_domestic_above_480", self.issued_on)
            if not full:
                parts = [(reduced, reduced_rate, "")]
            elif not reduced:
                parts = [(full, full_rate, _(" (oltre 480 Smc/anno)"))]
            else:
                parts = [
                    (reduced, reduced_rate, _(" (entro 480 Smc/anno)")),
                    (full, full_rate, _(" (oltre 480 Smc/anno)")),
                ]
        for quantity, rate, note in parts:
            self.lines.append(
                LineSpec(
                    kind=InvoiceLine.Kind.GAS,
                    description=_("Gas naturale PDR %(pdr)s — %(use)s") % {"pdr": service.pdr, "use": wording}
                    + note,
                    quantity=quantity,
                    unit="Smc",
                    unit_price=self.tariff.gas_price_smc,
                    vat_rate=rate,
                )
            )
        fee_category = "gas_domestic_first_480" if service.domestic_resident else "energy_business"
        self._monthly_fee(
            _("Quota fissa gas PDR %(pdr)s") % {"pdr": service.pdr},
            self.tariff.gas_monthly_fee,
            active,
            vat_rate=taxes.vat_rate(fee_category, self.issued_on),
        )

    def _gas_billed_this_year(self) -> Decimal:
        """Smc already billed on this contract's invoices for periods ending in the same calendar year."""
        billed = (
            InvoiceLine.objects.filter(
                invoice__contract=self.contract,
                invoice__kind=Invoice.Kind.INVOICE,
                invoice__period_end__year=self.period.end.year,
                kind=InvoiceLine.Kind.GAS,
            )
            .exclude(invoice__status=Invoice.Status.CANCELLED)
            .aggregate(total=Sum("quantity"))["total"]
        )
        return billed or Decimal("0")

    def _bill_line(self, service: Service, active: tuple[date, date], supply: dict) -> None:
        if service.kind == Service.Kind.FIBRE:
            label = (
                _("Canone Internet fibra %(technology)s linea %(line)s")
                % {"technology": service.fibre_technology, "line": service.line_number}
            ).strip()
            fee = self.tariff.fibre_monthly_fee
        else:
            label = _("Canone mobile SIM %(sim)s") % {"sim": service.sim_number}
            fee = self.tariff.mobile_monthly_fee
        self._monthly_fee(
            label,
            fee,
            active,
            vat_rate=taxes.vat_rate("communications", self.issued_on),
            kind=InvoiceLine.Kind.COMMUNICATIONS,
        )

    def _bill_addon(self, service: Service, active: tuple[date, date], supply: dict) -> None:
        """Teleconsulto Medico and Assistenza H24: every calendar month the service touched is billed
        whole, even when active only part of it (CP Teleconsulto 3.2, CP H24 3.2)."""
        fee = (
            self.tariff.teleconsulto_monthly_fee
            if service.kind == Service.Kind.TELECONSULTO
            else self.tariff.assistenza_h24_monthly_fee
        )
        months = [m for m in self.period.months if m <= active[1] and _last_day_of_month(m) >= active[0]]
        names = ", ".join(m.strftime("%m/%Y") for m in months)
        self.lines.append(
            LineSpec(
                kind=InvoiceLine.Kind.ADDON,
                description=_("%(service)s — canone mensile (%(months)s)")
                % {"service": service.get_kind_display(), "months": names},
                quantity=Decimal(len(months)),
                unit=_months_unit(len(months)),
                unit_price=fee,
                vat_rate=taxes.vat_rate("addon", self.issued_on),
            )
        )

    def _monthly_fee(
        self,
        label: str,
        fee: Decimal,
        active: tuple[date, date],
        *,
        vat_rate: Decimal,
        kind: str = InvoiceLine.Kind.FIXED_FEE,
    ) -> None:
        """A monthly fee: whole months when the service covered them, else by the day (fee × 12 / 365)."""
        start, end = active
        whole = [m for m in self.period.months if m >= start and _last_day_of_month(m) <= end]
        if len(whole) == len(self.period.months):
            quantity, unit, price = Decimal(len(whole)), _months_unit(len(whole)), fee
            wording = f"{label} ({', '.join(m.strftime('%m/%Y') for m in whole)})"
        else:
            days = days_between(start, end) + 1
            quantity, unit = Decimal(days), ngettext("giorno", "giorni", days)
            price = (fee * 12 / DAYS_A_YEAR).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
            wording = _("%(label)s dal %(start)s al %(end)s") % {
                "label": label,
                "start": formatting.day(start),
                "end": formatting.day(end),
            }
        self.lines.append(
            LineSpec(
                kind=kind,
                description=wording,
                quantity=quantity,
                unit=unit,
                unit_price=price,
                vat_rate=vat_rate,
            )
        )

    # -- metered consumption ------------------------------------------------------------------------------

    def _meter_use(self, service: Service, active: tuple[date, date]) -> MeterUse:
        """Consumption from readings when the period has one (last reading in the period − last reading
        before it), net of what earlier invoices billed as estimates since that reading; otherwise an
        estimate: the average daily consumption of the last 12 months × the days supplied."""
        start, end = active
        readings = list(
            service.readings.filter(source__in=REAL_READING_SOURCES, read_on__lte=end).order_by(
                "read_on", "id"
            )
        )
        in_period = [r for r in readings if r.read_on >= start]
        before = [r for r in readings if r.read_on < start]
        base = before[-1] if before else (in_period[0] if len(in_period) > 1 else None)
        if in_period and base is not None and in_period[-1].read_on > base.read_on:
            last = in_period[-1]
            measured = Decimal(last.value - base.value)
            if measured < 0:
                raise InvoiceRunError(
                    f"Lettura del {formatting.day(last.read_on)} ({last.value}) inferiore a quella del "
                    f"{formatting.day(base.read_on)} ({base.value}) per {service.identifier}: verificare le letture."
                )
            deducted = self._estimates_since(service, base.read_on)
            return MeterUse(
                quantity=measured - deducted,
                estimated=False,
                reading_start=base,
                reading_end=last,
                measured=measured,
                estimates_deducted=deducted,
            )
        daily = self._daily_average(service, readings, end)
        days = Decimal(days_between(start, end) + 1)
        quantity = (daily * days).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        return MeterUse(
            quantity=quantity,
            estimated=True,
            reading_start=readings[-1] if readings else None,
            daily_average=daily,
        )

    def _daily_average(self, service: Service, readings: list[MeterReading], end: date) -> Decimal:
        year_ago = add_months(end, -12)
        window = [r for r in readings if r.read_on >= year_ago] or readings
        if len(window) < 2 and len(readings) >= 2:
            window = readings[-2:]
        if len(window) >= 2 and window[-1].read_on > window[0].read_on:
            return Decimal(window[-1].value - window[0].value) / days_between(
                window[0].read_on, window[-1].read_on
            )
        return TYPICAL_YEARLY_CONSUMPTION[service.kind] / DAYS_A_YEAR

    def _estimates_since(self, service: Service, reading_on: date) -> Decimal:
        """What earlier invoices of this contract billed as estimates for `service` after `reading_on`
        (the share of each estimated period that falls after it, by the day)."""
        total = Decimal("0")
        earlier = (
            Invoice.objects.filter(
                contract=self.contract,
                kind=Invoice.Kind.INVOICE,
                period_end__gt=reading_on,
                period_start__lt=self.period.start,
            )
            .exclude(status=Invoice.Status.CANCELLED)
            .only("period_start", "period_end", "supplies")
        )
        for invoice in earlier:
            for supply in invoice.supplies:
                if supply.get("identifier") == service.identifier and supply.get("estimated"):
                    estimated = Decimal(supply.get("consumption") or "0")
                    days = days_between(invoice.period_start, invoice.period_end) + 1
                    after = (
                        days_between(max(invoice.period_start, add_days(reading_on, 1)), invoice.period_end)
                        + 1
                    )
                    total += (estimated * after / days).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        return total

    def _use_wording(self, use: MeterUse, unit: str) -> str:
        if use.estimated:
            return _("consumo stimato dal %(start)s al %(end)s") % {
                "start": formatting.day(self.period.start),
                "end": formatting.day(self.period.end),
            }
        wording = _("consumo rilevato dal %(start)s al %(end)s") % {
            "start": formatting.day(use.reading_start.read_on),
            "end": formatting.day(use.reading_end.read_on),
        }
        if use.estimates_deducted:
            wording += _(", al netto di %(quantity)s %(unit)s già fatturati in stima") % {
                "quantity": _qty(use.estimates_deducted),
                "unit": unit,
            }
        return wording

    def _record_use(self, supply: dict, use: MeterUse, *, unit: str) -> None:
        def reading(r: MeterReading | None) -> dict | None:
            if r is None:
                return None
            return {"date": r.read_on.isoformat(), "value": r.value, "source": r.source}

        supply.update(
            unit=unit,
            estimated=use.estimated,
            consumption=str(use.quantity),
            measured=str(use.measured),
            estimates_deducted=str(use.estimates_deducted),
            reading_start=reading(use.reading_start),
            reading_end=None if use.estimated else reading(use.reading_end),
            daily_average=str(round(use.daily_average, 3)) if use.daily_average is not None else "",
        )

    # -- deposit, charges, indemnities, credits ----------------------------------------------------------

    def bill_deposit(self) -> None:
        """The security deposit, outside VAT, on the contract's first invoice (CG 5.3)."""
        if self.contract.security_deposit <= ZERO:
            return
        charged = (
            InvoiceLine.objects.filter(
                invoice__contract=self.contract,
                invoice__kind=Invoice.Kind.INVOICE,
                kind=InvoiceLine.Kind.DEPOSIT,
            )
            .exclude(invoice__status=Invoice.Status.CANCELLED)
            .exists()
        )
        if not charged:
            self.lines.append(
                LineSpec(
                    kind=InvoiceLine.Kind.DEPOSIT,
                    description=_("Deposito cauzionale (art. 5.3 Condizioni generali)"),
                    unit_price=self.contract.security_deposit,
                )
            )

    def bill_charges(self) -> list[Charge]:
        """Pending charges of the contract (late-payment interest, early termination), billed once."""
        charges = list(
            Charge.objects.select_for_update()
            .filter(contract=self.contract, billed_on__isnull=True, created_on__lte=self.issued_on)
            .order_by("created_on", "id")
        )
        for charge in charges:
            if charge.kind == Charge.Kind.LATE_INTEREST:
                # Late-payment interest is outside the scope of VAT (art. 15 DPR 633/72).
                kind, rate = InvoiceLine.Kind.LATE_INTEREST, None
            else:
                # Discounts charged back on early withdrawal: a price adjustment, taxed like the services.
                kind, rate = InvoiceLine.Kind.CHARGE, self._charge_vat()
            self.lines.append(
                LineSpec(kind=kind, description=charge.description, unit_price=charge.amount, vat_rate=rate)
            )
        return charges

    def _charge_vat(self) -> Decimal:
        rates = [spec.vat_rate for spec in self.lines if spec.vat_rate is not None]
        return max(rates) if rates else taxes.vat_rate("communications", self.issued_on)

    def grant_late_indemnity(self) -> Credit | None:
        """An invoice issued after its term carries the automatic indemnity (CP-LG 6.6, closing: 6.7)."""
        amount = late_indemnity(self.period, self.issued_on)
        if amount <= ZERO:
            return None
        return services.grant_indemnity(
            customer=self.contract.customer,
            contract=self.contract,
            reason=Credit.Reason.LATE_INVOICE_INDEMNITY,
            amount=amount,
            created_on=self.issued_on,
            source_key=f"late_invoice:{self.contract.pk}:{self.period.start.isoformat()}",
        )

    def deduct_credits(self) -> list[tuple[Credit, Decimal]]:
        """Pending credits (indemnities with the regulation's wording, overpayments), oldest first, up to
        the invoice's total; a larger credit's remainder is carried forward."""
        total = taxes.totals(_vat_lines(self.lines), on=self.issued_on).total
        if total <= ZERO:
            return []
        lines, uses = services.credit_lines_for(total, customer=self.contract.customer)
        self.lines.extend(lines)
        return uses


def _vat_lines(lines: Iterable[LineSpec]):
    return (taxes.VatLine(spec.vat_rate, spec.amount) for spec in lines)


# ---------------------------------------------------------------------------------------------------------
# Re-billing a period after a credit note
# ---------------------------------------------------------------------------------------------------------


def rebill_period(*, credit_note: Invoice, issued_on: date) -> Invoice:
    """Bill again, with the data as they are now (a corrected reading, a fixed tariff), what `credit_note`
    took back line by line from its invoice's period: the same supplies and kinds of line, computed afresh.

    The lines the note left alone stay billed on the original invoice and are not billed again; an amount
    credit took back no line, so it has nothing to re-bill. One re-bill per credit note (`Invoice.rebills`),
    outside the one-invoice-per-period rule and the periodic run, which keeps skipping the period. No late
    indemnity: the period was billed in time; pending charges and credits go on it as on any invoice."""
    with transaction.atomic():
        note = Invoice.objects.select_for_update(of=("self",)).select_related("corrects").get(pk=credit_note.pk)
        original = note.corrects
        if note.kind != Invoice.Kind.CREDIT_NOTE or not note.is_issued or original is None:
            raise ValidationError(_("Si rifattura il periodo di una nota di credito emessa."))
        if Invoice.objects.filter(rebills=note).exists():
            raise ValidationError(
                _("Il periodo stornato dalla nota di credito %(number)s è già stato rifatturato.")
                % {"number": note.number}
            )
        taken_back = {
            (line.corrects_line.kind, line.corrects_line.supply_identifier)
            for line in note.lines.select_related("corrects_line")
            if line.corrects_line is not None
        }
        if not taken_back:
            raise ValidationError(
                _("La nota di credito %(number)s storna un importo, non righe: non c'è nulla da rifatturare.")
                % {"number": note.number}
            )
        if issued_on < note.issued_on:
            raise ValidationError(
                {
                    "issued_on": _("La rifattura non può precedere la nota di credito (%(day)s).")
                    % {"day": formatting.day(note.issued_on)}
                }
            )
        contract = (
            Contract.objects.select_for_update().select_related("customer").get(pk=original.contract_id)
        )
        period = _period_of(original)
        builder = _InvoiceBuilder(
            contract=contract, tariff=_tariff(contract.offer_name, {}), period=period, issued_on=issued_on
        )
        with translation.override(contract.customer.language):
            builder.bill_services()
            builder.lines = [spec for spec in builder.lines if (spec.kind, spec.supply) in taken_back]
            if not builder.lines:
                raise ValidationError(
                    _("Nessuna delle forniture stornate è più da fatturare in quel periodo.")
                )
            if original.status == Invoice.Status.CANCELLED:
                builder.bill_deposit()  # a deposit billed only on the cancelled invoice is billed again
            charges = builder.bill_charges()
            uses = builder.deduct_credits()
        draft = services.create_draft(
            contract=contract,
            period_start=period.start,
            period_end=period.end,
            lines=builder.lines,
            is_closing=period.is_closing,
            rebills=note,
        )
        billed = {spec.supply for spec in builder.lines}
        draft.supplies = [supply for supply in builder.supplies if _supply_key(supply) in billed]
        draft.save(update_fields=["supplies"])
        services.record_credit_uses(draft, uses)
        Charge.objects.filter(pk__in=[charge.pk for charge in charges]).update(billed_on=draft)
        return services.issue_invoice(invoice=draft, issued_on=issued_on)


def _supply_key(supply: dict) -> str:
    return supply.get("identifier") or supply.get("kind", "")


def _period_of(invoice: Invoice) -> BillingPeriod:
    """The billing period an issued invoice billed, as the run had computed it."""
    months, month = [], first_of_month(invoice.period_start)
    while month <= invoice.period_end:
        months.append(month)
        month = add_months(month, 1)
    return BillingPeriod(
        start=invoice.period_start,
        end=invoice.period_end,
        months=tuple(months),
        end_of_supply=add_days(invoice.period_end, 1) if invoice.is_closing else None,
    )
