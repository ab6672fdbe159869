"""`import_payments FILE`: a bank or postal statement, line by line, through record_payment — once."""

from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from billing import payments_import, services
from billing.models import Invoice, InvoiceLine, Payment, PaymentAllocation
from billing.services import LineSpec
from tests.factories import CustomerFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "estratto-conto-esempio.csv"
HEADER = "transaction_id;date;amount;method;customer;invoice\n"


def issue(contract, month, price="44.80"):
    """A bill of 49.28 € (44.80 + 10% VAT) for `month` of 2026, issued on the 2nd of the next month."""
    draft = services.create_draft(
        contract=contract,
        period_start=date(2026, month, 1),
        period_end=date(2026, month, 28),
        lines=[
            LineSpec(
                kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=D(price), vat_rate=D("10")
            )
        ],
    )
    return services.issue_invoice(invoice=draft, issued_on=date(2026, month + 1, 2))


def run(path, *args):
    """The command's (stdout, stderr, error) — error is the CommandError it ended with, if any."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_payments", str(path), *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


@pytest.fixture
def statement(tmp_path):
    def write(*rows, header=HEADER, encoding="utf-8"):
        path = tmp_path / "estratto.csv"
        path.write_text(header + "".join(row + "\n" for row in rows), encoding=encoding)
        return path

    return write


@pytest.fixture
def mario(db):
    return CustomerFactory(
        code="C000100001", codice_fiscale="RSSMRA80A01F839W", user__email="mario@example.it"
    )


@pytest.fixture
def giulia(db):
    return CustomerFactory(
        code="C000100002", codice_fiscale="BNCGLI85C55F205C", user__email="giulia@example.it"
    )


class TestTheSample:
    def test_the_sample_statement_imports_cleanly_and_only_once(self, mario, giulia):
        mario_bill = issue(active_contract(mario), month=10)
        assert mario_bill.number == "2026/000001"  # the one the sample names
        out, err, error = run(SAMPLE)
        assert error is None, err
        assert "Pagamenti importati: 4 (1.400,94 €) · già importati, saltati: 0 · righe con errori: 0" in out
        assert Payment.objects.count() == 4
        assert Payment.objects.get(transaction_id="BPM-2026-000451").invoice == mario_bill
        mario_bill.refresh_from_db()
        assert mario_bill.status == Invoice.Status.PAID

        out, err, error = run(SAMPLE)
        assert error is None
        assert "Pagamenti importati: 0 (0,00 €) · già importati, saltati: 4 · righe con errori: 0" in out
        assert Payment.objects.count() == 4


class TestLines:
    def test_amounts_dates_and_methods_in_either_format(self, statement, mario):
        path = statement(
            "T1;03/11/2026;1.234,56;Bonifico;C000100001;",
            "T2;2026-11-04;1234.56;bollettino;c000100001;",
            "T3;05/11/2026;12,5;carta;RSSMRA80A01F839W;",
            "T4;05/11/2026;7 €;SDD;C000100001;",
        )
        _, err, error = run(path)
        assert error is None, err
        payments = {p.transaction_id: p for p in Payment.objects.all()}
        assert payments["T1"].amount == payments["T2"].amount == D("1234.56")
        assert payments["T1"].method == Payment.Method.BANK_TRANSFER
        assert payments["T2"].received_on == date(2026, 11, 4) and payments["T2"].method == "postal_slip"
        assert payments["T3"].amount == D("12.50") and payments["T3"].method == "card"
        assert payments["T4"].amount == D("7.00") and payments["T4"].method == "sdd"
        assert {p.customer for p in payments.values()} == {mario}

    def test_a_file_with_bad_lines_records_nothing_and_reports_every_bad_line(self, statement, mario, giulia):
        """All or nothing by default: staff never have to work out which half of a statement went in."""
        issue(active_contract(mario), month=10)
        path = statement(
            "OK-1;03/11/2026;10,00;bonifico;C000100001;",  # line 2
            "BAD-DATE;31/11/2026;10,00;bonifico;C000100001;",  # line 3
            "WHO;03/11/2026;10,00;bonifico;C999999999;",  # line 4
            "OK-2;04/11/2026;20.00;carta;C000100001;",  # line 5
        )
        out, err, error = run(path)
        assert error is not None and "2 righe con errori: non è stato registrato nulla" in str(error)
        assert "Pagamenti da importare: 2 (30,00 €)" in out and "righe con errori: 2" in out
        assert "riga 3 (BAD-DATE): data non valida «31/11/2026»" in err
        assert "riga 4 (WHO): cliente sconosciuto «C999999999»" in err
        assert not Payment.objects.exists() and not PaymentAllocation.objects.exists()
        assert Invoice.objects.get().amount_paid == 0

    def test_each_bad_line_is_reported_with_its_number_and_reason_and_partial_imports_the_others(
        self, statement, mario, giulia
    ):
        giulia_bill = issue(active_contract(giulia), month=10)
        path = statement(
            "OK-1;03/11/2026;10,00;bonifico;C000100001;",  # line 2
            "BAD-DATE;31/11/2026;10,00;bonifico;C000100001;",  # line 3
            "BAD-AMOUNT;03/11/2026;12,5O;bonifico;C000100001;",  # line 4
            "WHO;03/11/2026;10,00;bonifico;C999999999;",  # line 5
            f"NOT-YOURS;03/11/2026;10,00;bonifico;C000100001;{giulia_bill.number}",  # line 6
            "HOW;03/11/2026;10,00;assegno;C000100001;",  # line 7
            ";03/11/2026;10,00;bonifico;C000100001;",  # line 8
            "ZERO;03/11/2026;0,00;bonifico;C000100001;",  # line 9
            "LATER;03/11/2099;10,00;bonifico;C000100001;",  # line 10
            "NO-BILL;03/11/2026;10,00;bonifico;C000100001;2026/999999",  # line 11
            "OK-2;04/11/2026;20.00;carta;C000100001;",  # line 12
        )
        out, err, error = run(path, "--partial")
        assert error is not None and "9 righe non importate" in str(error)
        assert "Pagamenti importati: 2 (30,00 €)" in out and "righe con errori: 9" in out
        for expected in (
            "riga 3 (BAD-DATE): data non valida «31/11/2026»",
            "riga 4 (BAD-AMOUNT): importo non valido «12,5O»",
            "riga 5 (WHO): cliente sconosciuto «C999999999»",
            f"riga 6 (NOT-YOURS): la bolletta {giulia_bill.number} è di un altro cliente",
            "riga 7 (HOW): metodo di pagamento sconosciuto «assegno»",
            "riga 8: identificativo dell'operazione mancante",
            "riga 9 (ZERO): importo non valido «0,00»: deve essere maggiore di zero",
            "riga 10 (LATER): data nel futuro: 03/11/2099",
            "riga 11 (NO-BILL): bolletta sconosciuta «2026/999999»",
        ):
            assert expected in err
        assert set(Payment.objects.values_list("transaction_id", flat=True)) == {"OK-1", "OK-2"}
        giulia_bill.refresh_from_db()
        assert giulia_bill.amount_paid == 0

    def test_fixing_the_bad_lines_and_importing_again_records_the_whole_file(self, statement, mario):
        run(statement("OK-1;03/11/2026;10,00;bonifico;C000100001;", "FIX;03/11/2026;1O;carta;C000100001;"))
        assert not Payment.objects.exists()
        out, _, error = run(
            statement("OK-1;03/11/2026;10,00;bonifico;C000100001;", "FIX;03/11/2026;10;carta;C000100001;")
        )
        assert error is None
        assert "Pagamenti importati: 2 (20,00 €) · già importati, saltati: 0" in out
        assert Payment.objects.count() == 2

    def test_after_a_partial_import_the_fixed_file_records_only_the_lines_left_out(self, statement, mario):
        run(
            statement("OK-1;03/11/2026;10,00;bonifico;C000100001;", "FIX;03/11/2026;1O;carta;C000100001;"),
            "--partial",
        )
        out, _, error = run(
            statement("OK-1;03/11/2026;10,00;bonifico;C000100001;", "FIX;03/11/2026;10;carta;C000100001;")
        )
        assert error is None
        assert "Pagamenti importati: 1 (10,00 €) · già importati, saltati: 1" in out
        assert Payment.objects.count() == 2

    def test_the_same_transaction_twice_in_one_file_is_recorded_once(self, statement, mario):
        out, _, _ = run(
            statement("T1;03/11/2026;10,00;bonifico;C000100001;", "T1;03/11/2026;10,00;bonifico;C000100001;")
        )
        assert "Pagamenti importati: 1" in out and "saltati: 1" in out
        assert Payment.objects.count() == 1

    def test_a_blank_line_is_ignored_and_line_numbers_stay_right(self, statement, mario):
        _, err, _ = run(statement("", "T1;03/11/2026;xx;bonifico;C000100001;"))
        assert "riga 3 (T1): importo non valido" in err

    def test_a_line_cut_short_is_a_bad_line_not_a_crash(self, statement, mario):
        _, err, error = run(statement("T1;03/11/2026", "T2;03/11/2026;10,00"))
        assert error is not None
        assert "riga 2 (T1): importo non valido «»" in err
        assert "riga 3 (T2): metodo di pagamento sconosciuto «»" in err

    def test_commas_as_separator_and_a_windows_encoding_are_read_too(self, statement, mario):
        path = statement(
            'T1,03/11/2026,"1.234,56",bonifico,C000100001,',
            header="Transaction_ID , Date,Amount,Method,Customer,Invoice\n",
            encoding="cp1252",
        )
        _, err, error = run(path)
        assert error is None, err
        assert Payment.objects.get().amount == D("1234.56")

    def test_dry_run_checks_everything_and_records_nothing(self, statement, mario):
        out, _, error = run(statement("T1;03/11/2026;10,00;bonifico;C000100001;"), "--dry-run")
        assert error is None
        assert "Pagamenti da importare: 1" in out and "non è stato registrato nulla" in out
        assert not Payment.objects.exists()


class TestAllocation:
    def test_without_an_invoice_the_oldest_debt_is_paid_first(self, statement, mario):
        contract = active_contract(mario)
        august, september, october = (issue(contract, month=m) for m in (8, 9, 10))
        run(statement("T1;05/11/2026;60,00;bonifico;C000100001;"))
        paid = {a.invoice_id: a.amount for a in PaymentAllocation.objects.all()}
        assert paid == {august.pk: D("49.28"), september.pk: D("10.72")}
        august.refresh_from_db(), september.refresh_from_db(), october.refresh_from_db()
        assert august.status == Invoice.Status.PAID
        assert september.outstanding == D("38.56")
        assert october.amount_paid == 0

    def test_a_named_invoice_is_paid_first(self, statement, mario):
        contract = active_contract(mario)
        august, october = issue(contract, month=8), issue(contract, month=10)
        run(statement(f"T1;05/11/2026;49,28;bonifico;C000100001;{october.number}"))
        assert list(PaymentAllocation.objects.values_list("invoice_id", flat=True)) == [october.pk]
        august.refresh_from_db()
        assert august.amount_paid == 0
        payment = Payment.objects.get()
        assert payment.invoice == october and payment.transaction_id == "T1"

    def test_an_overpayment_becomes_a_credit(self, statement, mario):
        issue(active_contract(mario), month=10)
        run(statement("T1;05/11/2026;100,00;bonifico;C000100001;"))
        assert mario.credits.get().remaining == D("50.72")


class TestTheFile:
    def test_a_missing_file_is_a_clear_error(self, tmp_path):
        with pytest.raises(CommandError, match="file non trovato: .*nessuno.csv"):
            call_command("import_payments", str(tmp_path / "nessuno.csv"))

    def test_a_folder_is_a_clear_error(self, tmp_path):
        with pytest.raises(CommandError, match="è una cartella, non un file"):
            call_command("import_payments", str(tmp_path))

    def test_missing_columns_are_named(self, statement):
        with pytest.raises(CommandError, match="colonne amount, method mancanti"):
            call_command("import_payments", str(statement(header="transaction_id;date;customer\n")))

    def test_an_empty_file_is_a_clear_error(self, statement):
        with pytest.raises(CommandError, match="il file è vuoto"):
            call_command("import_payments", str(statement(header="")))


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1234.5", "1234.50"),
        ("1.234", "1234.00"),  # a dot before three digits groups thousands
        ("12.345.678,9", "12345678.90"),
        ("49,28 €", "49.28"),
        ("7", "7.00"),
    ],
)
def test_amounts(text, amount):
    assert payments_import.parse_amount(text) == D(amount)


@pytest.mark.parametrize("text", ["", "abc", "1,234.56", "12,345", "-10,00", "1.23.4", "0"])
def test_bad_amounts(text):
    with pytest.raises(payments_import._LineProblem):
        payments_import.parse_amount(text)
