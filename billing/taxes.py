"""VAT and stamp duty: pure rules (dated tables, Decimal in and out), used when an invoice is built.

Domestic electricity 10%; domestic gas 10% up to 480 Smc a year and 22% above; communications and
add-ons 22%; non-domestic energy 22%. Security deposit, indemnities and late interest are outside the
scope of VAT. Stamp duty of 2 € when the amounts outside VAT exceed 77.47 €.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.lib.dates import Dated, value_on
from portal.lib.money import round_money

_SOURCE = "DPR 633/72, Tabella A parte III (nn. 103, 127-bis), art. 2 e 15"

VAT_RATES: dict[str, tuple[Dated[Decimal], ...]] = {
    "electricity_domestic": (Dated(date.min, Decimal("10"), _SOURCE),),
    "gas_domestic_first_480": (Dated(date.min, Decimal("10"), _SOURCE),),
    "gas_domestic_above_480": (Dated(date.min, Decimal("22"), _SOURCE),),
    "energy_business": (Dated(date.min, Decimal("22"), _SOURCE),),
    "communications": (Dated(date.min, Decimal("22"), _SOURCE),),
    "addon": (Dated(date.min, Decimal("22"), _SOURCE),),
}
# The yearly gas volume billed at the reduced rate for domestic use.
GAS_REDUCED_VAT_SMC_A_YEAR = (Dated(date.min, Decimal("480"), _SOURCE),)

STAMP_DUTY = (Dated(date.min, Decimal("2.00"), "DPR 642/72, Tariffa art. 13"),)
STAMP_DUTY_THRESHOLD = (Dated(date.min, Decimal("77.47"), "DPR 642/72, Tariffa art. 13"),)


def vat_rate(category: str, on: date) -> Decimal:
    return value_on(VAT_RATES[category], on)


def split_gas_by_vat(smc: Decimal, *, already_billed_this_year: Decimal, on: date) -> tuple[Decimal, Decimal]:
    """Domestic gas: the Smc still within the yearly 480 at 10%, the rest at 22%."""
    allowance = max(value_on(GAS_REDUCED_VAT_SMC_A_YEAR, on) - already_billed_this_year, Decimal("0"))
    reduced = min(smc, allowance)
    return reduced, smc - reduced


@dataclass(frozen=True)
class VatLine:
    rate: Decimal | None  # None: outside the scope of VAT
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    by_rate: list[tuple[Decimal, Decimal, Decimal]]  # (rate, taxable, VAT) per rate
    taxable: Decimal
    vat: Decimal
    outside_vat: Decimal
    stamp_duty: Decimal
    total: Decimal


def totals(lines: Iterable[VatLine], *, on: date) -> Totals:
    """VAT summarised per rate, rounded once per rate on the rate's taxable total; stamp duty when due."""
    taxable_by_rate: dict[Decimal, Decimal] = {}
    outside = Decimal("0.00")
    outside_charged = Decimal("0.00")  # the stamp duty looks at amounts charged, not at credits deducted
    for line in lines:
        if line.rate is None:
            outside += line.amount
            outside_charged += max(line.amount, Decimal("0.00"))
        else:
            taxable_by_rate[line.rate] = taxable_by_rate.get(line.rate, Decimal("0.00")) + line.amount
    by_rate = [
        (rate, taxable, round_money(taxable * rate / Decimal(100)))
        for rate, taxable in sorted(taxable_by_rate.items())
    ]
    taxable = sum((t for _r, t, _v in by_rate), Decimal("0.00"))
    vat = sum((v for _r, _t, v in by_rate), Decimal("0.00"))
    stamp = (
        value_on(STAMP_DUTY, on) if outside_charged > value_on(STAMP_DUTY_THRESHOLD, on) else Decimal("0.00")
    )
    return Totals(by_rate, taxable, vat, outside, stamp, taxable + vat + outside + stamp)
