"""Reading the complaints for reporting: the quality indicators the supplier publishes, and the register.

Quality indicators (per quarter and kind of request), the way ARERA's commercial-quality reports count:
- received: cases whose receipt date falls in the quarter;
- answered: reasoned replies sent in the quarter (the reply's date is what stops the clock);
- within the standard: of those replies, the share sent on or before the case's answer-by date (each case's
  own standard: 30, 60/90, 20/15 days… by kind and receipt date);
- average answer time: calendar days from receipt to reply, over the replies sent in the quarter;
- indemnities paid: automatic indemnities credited for the replies sent in the quarter (count and euro).

The register (REGULATION.md "Keep a register of every complaint … for 3 years; ARERA receives the yearly
data by 28 February") is exported as CSV for Excel: `;` separator, UTF-8 with BOM, Italian dates and
decimal commas.

The arithmetic is in pure functions over plain values (`CaseFacts`), the queries in the selectors around
them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Min, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from complaints import deadlines
from complaints.models import Complaint
from portal.lib import formatting
from portal.lib.dates import days_between

ZERO = Decimal("0.00")
ONE_DECIMAL = Decimal("0.1")

QUARTERS = {
    1: _("1° trimestre (gennaio–marzo)"),
    2: _("2° trimestre (aprile–giugno)"),
    3: _("3° trimestre (luglio–settembre)"),
    4: _("4° trimestre (ottobre–dicembre)"),
}


# ---------------------------------------------------------------------------------------------------------
# Quality indicators
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    kind: str
    received_on: date
    answer_due_on: date
    answered_on: date | None
    indemnity_amount: Decimal | None


@dataclass
class IndicatorRow:
    kind: str
    standard_days: int | None = None
    received: int = 0
    answered: int = 0
    answered_within: int = 0
    answer_days_total: int = 0
    indemnities: int = 0
    indemnities_total: Decimal = ZERO

    @property
    def kind_label(self):
        return Complaint.Kind(self.kind).label if self.kind else _("Totale")

    @property
    def within_percent(self) -> Decimal | None:
        """Share of the replies sent within the standard, in percent with one decimal; None without replies."""
        if not self.answered:
            return None
        return (Decimal(100 * self.answered_within) / self.answered).quantize(ONE_DECIMAL, ROUND_HALF_UP)

    @property
    def average_days(self) -> Decimal | None:
        if not self.answered:
            return None
        return (Decimal(self.answer_days_total) / self.answered).quantize(ONE_DECIMAL, ROUND_HALF_UP)

    def add(self, other: IndicatorRow) -> None:
        self.received += other.received
        self.answered += other.answered
        self.answered_within += other.answered_within
        self.answer_days_total += other.answer_days_total
        self.indemnities += other.indemnities
        self.indemnities_total += other.indemnities_total


@dataclass
class PeriodIndicators:
    quarter: int | None  # None: the whole year
    rows: list[IndicatorRow]  # one per kind, in Complaint.Kind order
    total: IndicatorRow = field(default_factory=lambda: IndicatorRow(kind=""))

    @property
    def label(self):
        return QUARTERS[self.quarter] if self.quarter else _("Anno intero")


@dataclass
class YearIndicators:
    year: int
    quarters: list[PeriodIndicators]
    year_total: PeriodIndicators

    @property
    def periods(self) -> list[PeriodIndicators]:
        """The whole year, then its four quarters."""
        return [self.year_total, *self.quarters]

    @property
    def has_data(self) -> bool:
        return bool(self.year_total.total.received or self.year_total.total.answered)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _empty_period(year: int, quarter: int | None) -> PeriodIndicators:
    # The standard shown is the one in force at the end of the period (double billing: 20 → 15 from 2026).
    end = date(year, 3 * quarter, 1) if quarter else date(year, 12, 31)
    return PeriodIndicators(
        quarter=quarter,
        rows=[
            IndicatorRow(kind=kind, standard_days=deadlines.answer_standard_days(kind, end))
            for kind in Complaint.Kind.values
        ],
    )


def indicators_from_cases(cases: Iterable[CaseFacts], *, year: int) -> YearIndicators:
    """The indicators of `year` from the facts of its cases (pure: no database)."""
    quarters = {quarter: _empty_period(year, quarter) for quarter in QUARTERS}
    kind_index = {kind: index for index, kind in enumerate(Complaint.Kind.values)}
    for case in cases:
        if case.received_on.year == year:
            quarters[quarter_of(case.received_on)].rows[kind_index[case.kind]].received += 1
        if case.answered_on is not None and case.answered_on.year == year:
            row = quarters[quarter_of(case.answered_on)].rows[kind_index[case.kind]]
            row.answered += 1
            row.answered_within += case.answered_on <= case.answer_due_on
            row.answer_days_total += days_between(case.received_on, case.answered_on)
            if case.indemnity_amount:
                row.indemnities += 1
                row.indemnities_total += case.indemnity_amount
    year_total = _empty_period(year, None)
    for period in quarters.values():
        for index, row in enumerate(period.rows):
            period.total.add(row)
            year_total.rows[index].add(row)
        year_total.total.add(period.total)
    return YearIndicators(year=year, quarters=list(quarters.values()), year_total=year_total)


def quality_indicators(year: int) -> YearIndicators:
    """The indicators of a year: cases received in it and replies sent in it."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    cases = (
        Complaint.objects.filter(Q(received_on__range=(start, end)) | Q(answered_on__range=(start, end)))
        .values_list("kind", "received_on", "answer_due_on", "answered_on", "indemnity_amount")
        .iterator(chunk_size=5000)
    )
    return indicators_from_cases((CaseFacts(*values) for values in cases), year=year)


def available_years(*, today: date) -> list[int]:
    """From the first year with a case to this year, newest first."""
    first = Complaint.objects.aggregate(first=Min("received_on"))["first"]
    first_year = min(first.year, today.year) if first else today.year
    return list(range(today.year, first_year - 1, -1))


# ---------------------------------------------------------------------------------------------------------
# The register (CSV)
# ---------------------------------------------------------------------------------------------------------

REGISTER_COLUMNS = [
    "Codice",
    "Tipo",
    "Argomento (classificazione ARERA)",
    "Canale",
    "Stato",
    "Codice cliente",
    "Codice fiscale / Partita IVA",
    "Servizio",
    "POD / PDR",
    "Data di invio",
    "Data di ricevimento",
    "Risposta entro",
    "Data di risposta",
    "Giorni impiegati",
    "Entro lo standard",
    "Causa del ritardo",
    "Indennizzo automatico (€)",
    "Esclusione dell'indennizzo",
    "Motivo dell'esclusione",
]
YES, NO = "SI", "NO"


def default_register_period(*, today: date) -> tuple[date, date]:
    """The register's export offers the last calendar year, the period of the annual report to ARERA."""
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)


def register_queryset(*, date_from: date, date_to: date) -> QuerySet[Complaint]:
    """Every case received between the two dates (both included), in order of receipt."""
    return (
        Complaint.objects.filter(received_on__range=(date_from, date_to))
        .select_related("customer", "service")
        .order_by("received_on", "code")
    )


def _euro(value: Decimal | None) -> str:
    return f"{value:.2f}".replace(".", ",") if value else ""


def register_row(complaint: Complaint, *, today: date) -> list[str]:
    """One line of the register. A case still unanswered after its answer-by date is already "NO"."""
    customer, service = complaint.customer, complaint.service
    tax_id = (customer.partita_iva or customer.codice_fiscale) if customer else ""
    supply_point = (service.pod or service.pdr) if service else ""
    if complaint.answered_on is not None:
        days = str(days_between(complaint.received_on, complaint.answered_on))
        within = YES if complaint.answered_on <= complaint.answer_due_on else NO
    else:
        days = ""
        within = NO if today > complaint.answer_due_on else ""
    return [
        complaint.code,
        str(complaint.get_kind_display()),
        str(complaint.get_topic_display()),
        str(complaint.get_channel_display()),
        str(complaint.get_status_display()),
        customer.code if customer else "",
        tax_id or complaint.sender_tax_id,
        str(service.get_kind_display()) if service else "",
        supply_point or complaint.supply_reference,
        formatting.day(complaint.sent_on, blank=""),
        formatting.day(complaint.received_on, blank=""),
        formatting.day(complaint.answer_due_on, blank=""),
        formatting.day(complaint.answered_on, blank=""),
        days,
        within,
        " ".join(complaint.delay_cause.split()),
        _euro(complaint.indemnity_amount),
        str(complaint.get_indemnity_exclusion_display()) if complaint.indemnity_exclusion else "",
        " ".join(complaint.indemnity_exclusion_reason.split()),
    ]


class _Line:
    """A file-like object that hands back what the csv writer writes, one line at a time."""

    def write(self, value: str) -> str:
        return value


def register_csv_lines(complaints: Iterable[Complaint], *, today: date) -> Iterator[str]:
    """The register as CSV text for Excel, line by line (streamed: a year may hold many thousand cases)."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(REGISTER_COLUMNS)
    for complaint in complaints:
        yield writer.writerow(register_row(complaint, today=today))
