"""Payments from a bank or postal statement (CSV), each recorded through `billing.services.record_payment`;
and the payments that paid no bill, for staff to match by hand.

The statement is a CSV file with a header row; the separator is `;` (as Italian banks export it) or `,`.
Column names are matched without regard to case or surrounding spaces:

| column           | required | content                                                                    |
|------------------|----------|----------------------------------------------------------------------------|
| `transaction_id` | yes      | the bank's or the post office's unique id of the movement                  |
| `date`           | yes      | the day the money was received: `31/01/2027` or `2027-01-31`              |
| `amount`         | yes      | euro, positive: `1.234,56`, `1234,56` or `1234.56` (at most two decimals)  |
| `method`         | yes      | `bonifico`, `bollettino`, `carta`, `sdd` (or the codes `bank_transfer`,    |
|                  |          | `postal_slip`, `card`, `sdd`)                                              |
| `customer`       | yes      | the customer code (`C000100001`), codice fiscale or partita IVA            |
| `invoice`        | no       | the number of the bill the customer paid (`2026/000123`); empty: the       |
|                  |          | payment goes to the oldest debts first (CG 6.1)                            |

Importing is idempotent: a transaction id already recorded is skipped and counted, so a statement can be
imported again after fixing the lines that failed. Every line is checked and every line with an error is
reported with its line number and the reason. By default a statement is all or nothing: with any bad line
nothing is recorded, so staff fix the file and import it whole, and never have to work out which half of it
went in; `partial=True` records the good lines and leaves out the bad ones.
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Customer
from accounts.validators import compact_codice_fiscale
from billing.models import ZERO, Credit, Invoice, Payment
from billing.services import record_payment
from portal.lib import formatting

REQUIRED_COLUMNS = ("transaction_id", "date", "amount", "method", "customer")
OPTIONAL_COLUMNS = ("invoice",)

METHODS = {
    "bank_transfer": Payment.Method.BANK_TRANSFER,
    "bonifico": Payment.Method.BANK_TRANSFER,
    "bonifico bancario": Payment.Method.BANK_TRANSFER,
    "postal_slip": Payment.Method.POSTAL_SLIP,
    "bollettino": Payment.Method.POSTAL_SLIP,
    "bollettino postale": Payment.Method.POSTAL_SLIP,
    "card": Payment.Method.CARD,
    "carta": Payment.Method.CARD,
    "sdd": Payment.Method.SDD,
    "addebito diretto": Payment.Method.SDD,
    "rid": Payment.Method.SDD,
}

# 1.234,56 · 1234,56 · 1234 (Italian) and 1234.56 (dot as the decimal separator, no grouping).
_ITALIAN_AMOUNT = re.compile(r"^(\d{1,3}(\.\d{3})+|\d+)(,\d{1,2})?$")
_DOT_AMOUNT = re.compile(r"^\d+\.\d{1,2}$")


class StatementError(Exception):
    """The file as a whole cannot be read (missing, unreadable, without the required columns)."""


@dataclass(frozen=True)
class LineError:
    line: int
    transaction_id: str
    reason: str

    def __str__(self):
        if self.transaction_id:
            return _("riga %(line)d (%(transaction_id)s): %(reason)s") % {
                "line": self.line,
                "transaction_id": self.transaction_id,
                "reason": self.reason,
            }
        return _("riga %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class LineResult:
    """What became of one line, for the per-line report staff read after an upload."""

    IMPORTED, DUPLICATE, ERROR = "imported", "duplicate", "error"

    line: int
    transaction_id: str
    outcome: str
    detail: str  # the bills paid, or why the line was left out
    amount: Decimal | None = None


@dataclass
class ImportResult:
    imported: list[Payment] = field(default_factory=list)  # recorded, or that would be (see `recorded`)
    duplicates: list[str] = field(default_factory=list)  # transaction ids already recorded
    errors: list[LineError] = field(default_factory=list)
    lines: list[LineResult] = field(default_factory=list)
    recorded: bool = True  # False: a dry run, or a file with bad lines imported all or nothing

    @property
    def refused(self) -> bool:
        """Nothing was recorded because some lines are wrong (all or nothing)."""
        return not self.recorded and bool(self.errors)

    @property
    def imported_total(self) -> Decimal:
        return sum((payment.amount for payment in self.imported), Decimal("0.00"))


class _LineProblem(Exception):
    """This line cannot be imported; the message says why."""


class _Duplicate(Exception):
    """This transaction is already recorded."""


def import_statement(
    path: str | Path, *, today: date, dry_run: bool = False, partial: bool = False, by=None
) -> ImportResult:
    """Record the statement at `path`: every line, or with any bad line none (unless `partial`: the good
    ones); `dry_run` checks every line and records nothing."""
    return _import_rows(
        _read_rows(_read_file(Path(path)), str(path)), today=today, dry_run=dry_run, partial=partial, by=by
    )


def import_upload(raw: bytes, *, name: str, today: date, partial: bool = False, by=None) -> ImportResult:
    """The same for a statement uploaded in admin (its bytes); StatementError when it cannot be read."""
    return _import_rows(_read_rows(raw, name), today=today, partial=partial, by=by)


def _import_rows(
    rows: list[tuple[int, dict]], *, today: date, dry_run: bool = False, partial: bool = False, by=None
) -> ImportResult:
    result = ImportResult()
    # All or nothing (and a dry run): every line in one transaction, rolled back at the end when a line is
    # wrong; it holds the invoices' row locks until then, which for a day's statement is seconds. Partial:
    # each line commits on its own.
    with transaction.atomic() if dry_run or not partial else nullcontext():
        for line_number, row in rows:
            transaction_id = (row.get("transaction_id") or "").strip()
            try:
                with transaction.atomic():  # a savepoint: a failing line leaves nothing behind
                    payment = _import_row(row, transaction_id=transaction_id, today=today, by=by)
            except _Duplicate:
                result.duplicates.append(transaction_id)
                result.lines.append(
                    LineResult(line_number, transaction_id, LineResult.DUPLICATE, _("già importato"))
                )
            except _LineProblem as problem:
                result.errors.append(LineError(line_number, transaction_id, str(problem)))
                result.lines.append(LineResult(line_number, transaction_id, LineResult.ERROR, str(problem)))
            else:
                result.imported.append(payment)
                result.lines.append(
                    LineResult(
                        line_number,
                        transaction_id,
                        LineResult.IMPORTED,
                        _allocations(payment),
                        payment.amount,
                    )
                )
        if dry_run or (result.errors and not partial):
            transaction.set_rollback(True)
            result.recorded = False
    return result


def _allocations(payment: Payment) -> str:
    paid = [
        f"{allocation.invoice.number} {format_euro(allocation.amount)}"
        for allocation in payment.allocations.select_related("invoice").order_by("id")
    ]
    return ", ".join(paid) or _("nessuna bolletta aperta: un credito per le prossime")


def _import_row(row: dict, *, transaction_id: str, today: date, by=None) -> Payment:
    if not transaction_id:
        raise _LineProblem(_("identificativo dell'operazione mancante"))
    if Payment.objects.filter(transaction_id=transaction_id).exists():
        raise _Duplicate
    received_on = parse_date(row.get("date", ""))
    if received_on > today:
        raise _LineProblem(_("data nel futuro: %(date)s") % {"date": formatting.day(received_on)})
    amount = parse_amount(row.get("amount", ""))
    method = parse_method(row.get("method", ""))
    customer = find_customer(row.get("customer", ""))
    invoice = find_invoice(row.get("invoice", ""), customer)
    try:
        return record_payment(
            customer=customer,
            amount=amount,
            received_on=received_on,
            method=method,
            invoice=invoice,
            transaction_id=transaction_id,
            by=by,
        )
    except IntegrityError:
        # The same transaction recorded meanwhile by another import: it is a duplicate, not an error.
        raise _Duplicate from None
    except ValidationError as error:
        raise _LineProblem("; ".join(error.messages)) from None


def format_euro(amount: Decimal) -> str:
    """1234.5 → "1.234,50 €", as the statement writes amounts."""
    return f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") + " €"


# ---------------------------------------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------------------------------------


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise StatementError(_("file non trovato: %(path)s") % {"path": path}) from None
    except IsADirectoryError:
        raise StatementError(_("è una cartella, non un file: %(path)s") % {"path": path}) from None
    except OSError as error:
        raise StatementError(
            _("impossibile leggere %(path)s: %(reason)s") % {"path": path, "reason": error.strerror}
        ) from None


def _read_rows(raw: bytes, path: str) -> list[tuple[int, dict]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # what spreadsheet programs save on Windows
    if not text.strip():
        raise StatementError(_("il file è vuoto: %(path)s") % {"path": path})
    first_line = text.lstrip().splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in reader.fieldnames]
    if missing:
        raise StatementError(
            ngettext(
                "colonna %(missing)s mancante nella prima riga di %(path)s "
                "(obbligatorie: %(required)s; facoltative: %(optional)s)",
                "colonne %(missing)s mancanti nella prima riga di %(path)s "
                "(obbligatorie: %(required)s; facoltative: %(optional)s)",
                len(missing),
            )
            % {
                "missing": ", ".join(missing),
                "path": path,
                "required": ", ".join(REQUIRED_COLUMNS),
                "optional": ", ".join(OPTIONAL_COLUMNS),
            }
        )
    rows = []
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # blank line
        rows.append((reader.line_num, row))
    return rows


# ---------------------------------------------------------------------------------------------------------
# One field at a time
# ---------------------------------------------------------------------------------------------------------


def parse_date(value: str) -> date:
    value = (value or "").strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise _LineProblem(_("data non valida «%(value)s» (gg/mm/aaaa o aaaa-mm-gg)") % {"value": value})


def parse_amount(value: str) -> Decimal:
    """`1.234,56`, `1234,56` or `1234.56` → Decimal("1234.56"). "1.234" is read the Italian way (1234 €):
    a dot followed by three digits is always a thousands separator."""
    value = (value or "").strip()  # None: a line shorter than the header
    text = value.replace("€", "").replace("\N{NO-BREAK SPACE}", "").replace(" ", "")
    if _DOT_AMOUNT.match(text):
        normalised = text
    elif _ITALIAN_AMOUNT.match(text):
        normalised = text.replace(".", "").replace(",", ".")
    else:
        raise _LineProblem(_("importo non valido «%(value)s» (es. 1.234,56 o 1234.56)") % {"value": value})
    try:
        amount = Decimal(normalised)
    except InvalidOperation:
        raise _LineProblem(_("importo non valido «%(value)s»") % {"value": value}) from None
    if amount <= 0:
        raise _LineProblem(
            _("importo non valido «%(value)s»: deve essere maggiore di zero") % {"value": value}
        )
    return amount.quantize(Decimal("0.01"))


def parse_method(value: str) -> str:
    value = (value or "").strip()  # None: a line shorter than the header
    try:
        return METHODS[" ".join(value.lower().split())]
    except KeyError:
        raise _LineProblem(
            _("metodo di pagamento sconosciuto «%(value)s» (bonifico, bollettino, carta o sdd)")
            % {"value": value}
        ) from None


def find_customer(value: str) -> Customer:
    key = (value or "").strip().upper()
    if not key:
        raise _LineProblem(_("cliente mancante (codice cliente, codice fiscale o partita IVA)"))
    tax_id = compact_codice_fiscale(key)
    customer = Customer.objects.filter(Q(code=key) | Q(codice_fiscale=tax_id) | Q(partita_iva=tax_id)).first()
    if customer is None:
        raise _LineProblem(_("cliente sconosciuto «%(value)s»") % {"value": value.strip()})
    return customer


def find_invoice(value: str, customer: Customer) -> Invoice | None:
    number = (value or "").strip()
    if not number:
        return None
    invoice = Invoice.objects.filter(number=number).first()
    if invoice is None:
        raise _LineProblem(_("bolletta sconosciuta «%(number)s»") % {"number": number})
    if invoice.customer_id != customer.pk:
        raise _LineProblem(
            _("la bolletta %(number)s è di un altro cliente, non di %(customer)s")
            % {"number": number, "customer": customer.code}
        )
    if invoice.kind != Invoice.Kind.INVOICE:
        raise _LineProblem(
            _("%(number)s è una nota di credito, non una bolletta da pagare") % {"number": number}
        )
    return invoice


# ---------------------------------------------------------------------------------------------------------
# What paid no bill, for staff to match (services.match_payment)
# ---------------------------------------------------------------------------------------------------------


def unmatched_payments() -> QuerySet[Payment]:
    """Payments with a part that paid no bill (it became an overpayment credit still to use), oldest first,
    each with `unmatched`: that part, for staff to match to a bill (services.match_payment)."""
    left = Credit.objects.filter(
        source_key=Concat(Value("overpayment:"), Cast(OuterRef("pk"), output_field=CharField()))
    ).values("remaining")[:1]
    return (
        Payment.objects.annotate(unmatched=Subquery(left))
        .filter(unmatched__gt=ZERO)
        .select_related("customer")
        .order_by("received_on", "id")
    )


def open_invoices_of(customer: Customer) -> QuerySet[Invoice]:
    """The customer's bills with something still to pay, oldest due first."""
    return Invoice.objects.filter(
        customer=customer, kind=Invoice.Kind.INVOICE, status__in=Invoice.OPEN_STATUSES
    ).order_by("due_on", "sequence")
