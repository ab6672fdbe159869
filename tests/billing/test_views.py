"""The customer's "Bollette" pages: own bills only, stored PDFs only, amounts and dates as an Italian reads them."""

import io
import re
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from billing import deadlines, selectors, services
from billing.models import DefaultNotice, DefaultNoticeItem, Invoice, InvoiceLine, Payment
from billing.services import LineSpec
from portal.lib import dates
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal
PDF = b"%PDF-1.4\n% a stand-in invoice for the portal tests\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def no_rendering(monkeypatch):
    """A web request never renders a PDF: any attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a PDF was rendered inside a web request")

    monkeypatch.setattr("portal.lib.pdf.render_pdf", refuse)
    monkeypatch.setattr("portal.lib.pdf.html_to_pdf", refuse)


@pytest.fixture
def on(monkeypatch):
    """Set the pages' "today" (Europe/Rome) to a given date."""

    def set_today(day: date):
        monkeypatch.setattr(dates, "today", lambda: day)

    set_today(date(2026, 11, 10))
    return set_today


@pytest.fixture
def contract(alice):
    return active_contract(alice, activated_on=date(2026, 2, 1))


@pytest.fixture
def bob_contract(bob):
    return active_contract(bob, activated_on=date(2026, 2, 1))


def lines(price="44.80", vat="10"):
    """One line; 44.80 + 10% VAT = 49.28 €."""
    return [
        LineSpec(kind=InvoiceLine.Kind.ENERGY, description="Energia", unit_price=D(price), vat_rate=D(vat)),
    ]


def issue(contract, month=10, year=2026, issued_on=None, price="44.80", pdf=True):
    """An issued bill for `month`, issued on the 2nd of the next month (due 15 days later)."""
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    draft = services.create_draft(
        contract=contract,
        period_start=start,
        period_end=date.fromordinal(end.toordinal() - 1),
        lines=lines(price),
    )
    invoice = services.issue_invoice(invoice=draft, issued_on=issued_on or end.replace(day=2))
    if pdf:
        store_pdf(invoice)
    return invoice


def store_pdf(invoice, content=PDF):
    invoice.pdf.save(
        f"{invoice.number.replace('/', '-')}.pdf", ContentFile(content + invoice.number.encode())
    )
    return invoice


def notice_for(invoice, *, sent_on, status=DefaultNotice.Status.DISPATCHED):
    """A default notice covering `invoice`, as the dunning work stores it."""
    notice = DefaultNotice.objects.create(
        customer=invoice.customer,
        status=status,
        prepared_on=date(2026, 11, 28),
        channel=DefaultNotice.Channel.PEC,
        total_due=invoice.outstanding,
        sent_on=sent_on,
        payment_due_on=deadlines.default_notice_payment_deadline(sent_on) if sent_on else None,
        suspension_allowed_on=date(2027, 1, 14) if sent_on else None,
    )
    DefaultNoticeItem.objects.create(notice=notice, invoice=invoice, amount_due=invoice.outstanding)
    return notice


def html_of(response):
    return response.content.decode()


def text_of(response):
    """The page as a reader gets it: tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_of(response))).replace("\xa0", " ")


def url(name, *args, **query):
    base = reverse(f"billing:{name}", args=args)
    if query:
        from urllib.parse import urlencode

        base += "?" + urlencode(query, doseq=True)
    return base


# ---------------------------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------------------------


class TestList:
    def test_it_needs_a_login(self, client):
        response = client.get(url("invoices"))
        assert response.status_code == 302 and reverse("login") in response["Location"]

    def test_the_home_card_links_here(self, alice_client):
        assert f'href="{url("invoices")}"' in html_of(alice_client.get(reverse("home")))

    def test_it_lists_only_the_customers_own_bills(self, alice_client, on, contract, bob_contract):
        mine = issue(contract)
        bobs = issue(bob_contract)
        page = text_of(alice_client.get(url("invoices")))
        assert mine.number in page
        assert bobs.number not in page

    def test_each_row_has_number_period_dates_amounts_in_italian_and_a_status_badge(
        self, alice_client, on, contract
    ):
        invoice = issue(contract, price="1122.33")  # 1,122.33 + 10% = 1,234.56
        page = text_of(alice_client.get(url("invoices")))
        assert invoice.total == D("1234.56")
        assert "01/10/2026 – 31/10/2026" in page
        assert "02/11/2026" in page and "17/11/2026" in page
        assert "1.234,56 €" in page
        assert re.search(
            r'class="badge text-bg-primary">Da pagare<', html_of(alice_client.get(url("invoices")))
        )

    @pytest.mark.parametrize(
        ("state", "label", "css"),
        [
            ("issued", "Da pagare", "text-bg-primary"),
            ("partially_paid", "Pagata in parte", "text-bg-warning"),
            ("paid", "Pagata", "text-bg-success"),
            ("overdue", "Scaduta", "text-bg-danger"),
            ("cancelled", "Annullata", "text-bg-secondary"),
        ],
    )
    def test_the_badge_says_the_status_in_words(self, alice_client, on, contract, state, label, css):
        invoice = issue(contract)
        if state == "partially_paid":
            services.record_payment(
                customer=contract.customer, amount=D("20"), received_on=date(2026, 11, 5), method="card"
            )
        elif state == "paid":
            services.record_payment(
                customer=contract.customer, amount=invoice.total, received_on=date(2026, 11, 5), method="card"
            )
        elif state == "overdue":
            on(date(2026, 11, 18))  # due 17/11
        elif state == "cancelled":
            services.issue_credit_note(invoice=invoice, issued_on=date(2026, 11, 6), reason="Errore")
        html = html_of(alice_client.get(url("invoices")))
        assert f'<span class="badge {css}">{label}</span>' in html

    def test_a_credit_note_has_its_own_badge_and_amount(self, alice_client, on, contract):
        invoice = issue(contract)
        note = services.issue_credit_note(invoice=invoice, issued_on=date(2026, 11, 6), reason="Errore")
        page = text_of(alice_client.get(url("invoices")))
        assert f"Nota di credito {note.number}" in page
        assert "-49,28 €" in page
        assert '<span class="badge text-bg-info">Nota di credito</span>' in html_of(
            alice_client.get(url("invoices"))
        )

    def test_a_partly_paid_bill_shows_what_is_paid_and_what_is_left(self, alice_client, on, contract):
        issue(contract)
        services.record_payment(
            customer=contract.customer, amount=D("20"), received_on=date(2026, 11, 5), method="card"
        )
        page = text_of(alice_client.get(url("invoices")))
        assert "29,28 €" in page and "pagati 20,00 €" in page

    def test_the_balance_is_on_top_with_the_overdue_part_and_how_to_pay(self, alice_client, on, contract):
        issue(contract, month=9)  # due 17/10: overdue on 10/11
        issue(contract, month=10)  # due 17/11
        page = text_of(alice_client.get(url("invoices")))
        assert "Da pagare 98,56 €" in page
        assert "di cui 49,28 € già scaduti" in page
        assert "Prossima scadenza: 17/11/2026" in page
        assert "Come pagare" in page and "Bonifico bancario" in page and "Bollettino postale" in page

    def test_a_customer_who_owes_nothing_is_told_so(self, alice_client, on, contract):
        invoice = issue(contract)
        services.record_payment(
            customer=contract.customer, amount=invoice.total, received_on=date(2026, 11, 5), method="sdd"
        )
        assert "Sei in regola: non hai bollette da pagare." in text_of(alice_client.get(url("invoices")))

    def test_a_stored_pdf_has_a_link_and_a_labelled_checkbox_else_it_is_in_preparation(
        self, alice_client, on, contract
    ):
        ready = issue(contract, month=9)
        waiting = issue(contract, month=10, pdf=False)
        html = html_of(alice_client.get(url("invoices")))
        assert url("invoice_pdf", ready.pk) in html
        assert url("invoice_pdf", waiting.pk) not in html
        assert "PDF in preparazione" in html
        assert f'value="{ready.pk}" id="select-{ready.pk}"' in html
        assert f'<label class="form-check-label" for="select-{ready.pk}">' in html
        assert f"Seleziona la bolletta {ready.number}" in html
        assert f'value="{waiting.pk}"' not in html
        assert "Scarica ZIP" in html

    def test_the_table_has_headers_with_scope(self, alice_client, on, contract):
        issue(contract)
        html = html_of(alice_client.get(url("invoices")))
        assert '<th scope="col">Numero</th>' in html and '<th scope="row"' in html

    def test_drafts_are_never_listed(self, alice_client, on, contract):
        services.create_draft(
            contract=contract, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), lines=lines()
        )
        assert "Non ci sono bollette per il 2026." in text_of(alice_client.get(url("invoices")))

    def test_a_user_without_a_customer_record_sees_an_empty_list(self, client, on, contract):
        issue(contract)
        client.force_login(UserFactory(email="staff@optima.example", is_staff=True))
        response = client.get(url("invoices"))
        assert response.status_code == 200
        assert "Non ci sono bollette per il 2026." in text_of(response)
        assert response.context["balance"] is None


class TestYearFilter:
    @pytest.fixture
    def two_years(self, contract):
        return issue(contract, month=11, year=2025), issue(contract, month=10, year=2026)

    def test_the_current_year_is_shown_by_default(self, alice_client, on, two_years):
        last_year, this_year = two_years
        page = text_of(alice_client.get(url("invoices")))
        assert "Bollette del 2026" in page
        assert this_year.number in page and last_year.number not in page

    def test_the_filter_offers_the_years_that_have_bills(self, alice_client, on, two_years):
        html = html_of(alice_client.get(url("invoices")))
        assert re.findall(r'<option value="(\d+)"', html) == ["2026", "2025"]
        assert '<option value="2026" selected>' in html
        assert '<label class="form-label small mb-1" for="id_anno">Anno</label>' in html

    def test_another_year_is_one_query_away(self, alice_client, on, two_years):
        last_year, this_year = two_years
        page = text_of(alice_client.get(url("invoices", anno=2025)))
        assert "Bollette del 2025" in page
        assert last_year.number in page and this_year.number not in page

    def test_a_year_without_bills_falls_back_to_the_default(self, alice_client, on, two_years):
        assert "Bollette del 2026" in text_of(alice_client.get(url("invoices", anno=2019)))
        assert "Bollette del 2026" in text_of(alice_client.get(url("invoices", anno="x")))

    def test_before_the_first_bill_of_a_new_year_the_last_year_is_shown(self, alice_client, on, two_years):
        on(date(2027, 1, 1))
        assert "Bollette del 2026" in text_of(alice_client.get(url("invoices")))


# ---------------------------------------------------------------------------------------------------------
# Detail
# ---------------------------------------------------------------------------------------------------------


class TestDetail:
    def test_it_shows_the_cover_data_lines_and_vat_summary(self, alice_client, on, contract):
        invoice = issue(contract)
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert f"Bolletta n. {invoice.number}" in page
        assert "Importo da pagare 49,28 €" in page
        assert "Scadenza 17/11/2026" in page
        assert "dal 01/10/2026 al 31/10/2026" in page
        assert contract.number in page and contract.offer_name in page
        assert invoice.payment_notice_code in page
        assert "Addebito diretto SEPA" in page
        assert "Energia 1 44,80 € 10% 44,80 €" in page
        assert "10% 44,80 € 4,48 €" in page  # VAT summary: rate, taxable, VAT
        assert "Totale 49,28 €" in page

    def test_another_customers_bill_is_not_found(self, alice_client, on, bob_contract):
        assert alice_client.get(url("invoice", issue(bob_contract).pk)).status_code == 404

    def test_a_draft_is_not_found(self, alice_client, on, contract):
        draft = services.create_draft(
            contract=contract, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31), lines=lines()
        )
        assert alice_client.get(url("invoice", draft.pk)).status_code == 404

    def test_it_lists_the_payments_allocated_to_it(self, alice_client, on, contract):
        invoice = issue(contract)
        services.record_payment(
            customer=contract.customer, amount=D("20"), received_on=date(2026, 11, 5), method="bank_transfer"
        )
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "05/11/2026 Bonifico 20,00 €" in page
        assert "Importo da pagare 29,28 €" in page

    def test_a_bill_not_yet_due_shows_how_to_pay_and_no_next_steps(self, alice_client, on, contract):
        invoice = issue(contract)
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "è scaduta" not in page
        assert "Paghi con addebito diretto SEPA" in page
        assert f"Bolletta {invoice.number} · codice cliente {contract.customer.code}" in page

    def test_an_overdue_bill_says_since_when_and_what_happens_next(self, alice_client, on, contract):
        invoice = issue(contract)  # due 17/11/2026
        on(date(2026, 11, 22))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "Questa bolletta è scaduta da 5 giorni" in page
        assert "dal 27/11/2026 possiamo inviarti una costituzione in mora" in page
        assert "avrai 40 giorni per pagare" in page
        assert "la potenza viene ridotta al 15%" in page and "altri 15 giorni" in page
        assert "almeno 3 giorni lavorativi" in page
        assert invoice.payment_notice_code in page
        assert "Bonifico bancario" in page and "Carta di pagamento" in page

    def test_overdue_longer_than_the_notice_threshold_a_notice_is_announced(self, alice_client, on, contract):
        invoice = issue(contract)
        on(date(2026, 12, 1))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "Questa bolletta è scaduta da 14 giorni" in page
        assert "ti invieremo a breve una costituzione in mora" in page

    def test_with_a_default_notice_sent_it_counts_down_to_the_payment_deadline(
        self, alice_client, on, contract
    ):
        invoice = issue(contract)
        notice_for(invoice, sent_on=date(2026, 11, 30))  # deadline 09/01/2027
        on(date(2026, 12, 28))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "Paga entro il 09/01/2027 : mancano 12 giorni" in page
        assert "Il 30/11/2026 ti abbiamo inviato una costituzione in mora" in page
        assert "dal 14/01/2027 potremo chiedere al distributore di intervenire" in page
        on(date(2027, 1, 9))
        assert "oggi è l'ultimo giorno" in text_of(alice_client.get(url("invoice", invoice.pk)))
        on(date(2027, 1, 12))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "è scaduto il 09/01/2027" in page
        assert "Paga subito: dal 14/01/2027 possiamo chiedere al distributore di intervenire" in page

    def test_after_a_power_reduction_it_says_so(self, alice_client, on, contract):
        invoice = issue(contract)
        notice_for(invoice, sent_on=date(2026, 11, 30), status=DefaultNotice.Status.POWER_REDUCED)
        on(date(2027, 1, 20))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "La potenza della tua fornitura di luce è stata ridotta al 15%" in page

    def test_a_cancelled_or_unsent_notice_is_not_shown(self, alice_client, on, contract):
        invoice = issue(contract)
        notice_for(invoice, sent_on=date(2026, 11, 30), status=DefaultNotice.Status.CANCELLED)
        notice_for(invoice, sent_on=None, status=DefaultNotice.Status.PREPARED)
        on(date(2026, 12, 28))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "Paga entro" not in page
        assert "ti invieremo a breve una costituzione in mora" in page

    def test_an_invoice_under_an_anomalous_bill_complaint_says_suspension_waits(
        self, alice_client, on, contract
    ):
        invoice = issue(contract)
        Invoice.objects.filter(pk=invoice.pk).update(dunning_blocked=True, dunning_blocked_reason="reclamo")
        on(date(2026, 11, 22))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "Hai un reclamo in corso su questa bolletta" in page

    def test_a_paid_bill_is_not_overdue_after_its_due_date(self, alice_client, on, contract):
        invoice = issue(contract)
        services.record_payment(
            customer=contract.customer, amount=invoice.total, received_on=date(2026, 11, 5), method="card"
        )
        on(date(2026, 12, 20))
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "è scaduta" not in page and "Totale della bolletta 49,28 €" in page

    def test_a_credit_note_links_the_bill_it_cancels(self, alice_client, on, contract):
        invoice = issue(contract)
        note = services.issue_credit_note(invoice=invoice, issued_on=date(2026, 11, 6), reason="Errore")
        note_page = text_of(alice_client.get(url("invoice", note.pk)))
        assert f"Nota di credito n. {note.number}" in note_page
        assert f"Rettifica la bolletta {invoice.number}" in note_page
        assert f"Annullata dalla nota di credito {note.number}" in text_of(
            alice_client.get(url("invoice", invoice.pk))
        )


# ---------------------------------------------------------------------------------------------------------
# PDF and ZIP
# ---------------------------------------------------------------------------------------------------------


class TestPdf:
    def test_it_downloads_the_stored_file(self, alice_client, on, contract):
        invoice = issue(contract)
        response = alice_client.get(url("invoice_pdf", invoice.pk))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="bolletta-2026-000001.pdf"'
        assert b"".join(response.streaming_content) == PDF + invoice.number.encode()

    def test_another_customers_pdf_is_not_found(self, alice_client, on, bob_contract):
        assert alice_client.get(url("invoice_pdf", issue(bob_contract).pk)).status_code == 404

    def test_it_needs_a_login(self, client, on, contract):
        response = client.get(url("invoice_pdf", issue(contract).pk))
        assert response.status_code == 302

    def test_a_pdf_not_stored_yet_is_not_found_and_never_rendered(self, alice_client, on, contract):
        invoice = issue(contract, pdf=False)
        assert alice_client.get(url("invoice_pdf", invoice.pk)).status_code == 404
        page = text_of(alice_client.get(url("invoice", invoice.pk)))
        assert "PDF in preparazione" in page
        invoice.refresh_from_db()
        assert not invoice.pdf

    def test_a_file_missing_from_storage_is_not_found(self, alice_client, on, contract):
        invoice = issue(contract)
        invoice.pdf.storage.delete(invoice.pdf.name)
        assert alice_client.get(url("invoice_pdf", invoice.pk)).status_code == 404

    def test_a_credit_note_is_named_as_such(self, alice_client, on, contract):
        note = store_pdf(
            services.issue_credit_note(invoice=issue(contract), issued_on=date(2026, 11, 6), reason="Errore")
        )
        response = alice_client.get(url("invoice_pdf", note.pk))
        assert response["Content-Disposition"] == 'attachment; filename="nota-di-credito-2026-000002.pdf"'


class TestZip:
    def test_it_holds_the_selected_pdfs(self, alice_client, on, contract):
        first, second, third = (issue(contract, month=m) for m in (8, 9, 10))
        response = alice_client.get(url("invoices_zip", bolletta=[first.pk, third.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"] == 'attachment; filename="bollette-2026.zip"'
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        assert sorted(archive.namelist()) == ["bolletta-2026-000001.pdf", "bolletta-2026-000003.pdf"]
        assert archive.read("bolletta-2026-000003.pdf") == PDF + third.number.encode()

    def test_one_of_another_customers_ids_makes_it_not_found(self, alice_client, on, contract, bob_contract):
        mine, bobs = issue(contract), issue(bob_contract)
        assert alice_client.get(url("invoices_zip", bolletta=[mine.pk, bobs.pk])).status_code == 404

    def test_an_unknown_or_malformed_id_makes_it_not_found(self, alice_client, on, contract):
        mine = issue(contract)
        assert alice_client.get(url("invoices_zip", bolletta=[mine.pk, 999999])).status_code == 404
        assert alice_client.get(url("invoices_zip", bolletta=[mine.pk, "abc"])).status_code == 404

    def test_nothing_selected_goes_back_with_a_message(self, alice_client, on, contract):
        issue(contract)
        response = alice_client.get(url("invoices_zip", anno=2026), follow=True)
        assert response.redirect_chain == [(url("invoices") + "?anno=2026", 302)]
        assert "Seleziona almeno una bolletta da scaricare." in text_of(response)

    def test_too_many_go_back_with_a_message(self, alice_client, on, contract):
        ids = list(range(1, selectors.ZIP_MAX_INVOICES + 2))
        response = alice_client.get(url("invoices_zip", bolletta=ids), follow=True)
        assert "al massimo 24 bollette alla volta" in text_of(response)

    def test_a_bill_whose_pdf_is_in_preparation_goes_back_with_a_message(self, alice_client, on, contract):
        ready, waiting = issue(contract, month=9), issue(contract, month=10, pdf=False)
        response = alice_client.get(url("invoices_zip", bolletta=[ready.pk, waiting.pk]), follow=True)
        assert f"ancora in preparazione: {waiting.number}" in text_of(response)

    def test_a_file_missing_from_storage_is_not_found(self, alice_client, on, contract):
        ready, lost = issue(contract, month=9), issue(contract, month=10)
        lost.pdf.storage.delete(lost.pdf.name)
        assert alice_client.get(url("invoices_zip", bolletta=[ready.pk, lost.pk])).status_code == 404

    def test_a_malformed_year_does_not_spoil_the_download(self, alice_client, on, contract):
        invoice = issue(contract)
        assert alice_client.get(url("invoices_zip", bolletta=[invoice.pk], anno="x")).status_code == 200

    def test_it_needs_a_login(self, client, on, contract):
        assert client.get(url("invoices_zip", bolletta=[issue(contract).pk])).status_code == 302


# ---------------------------------------------------------------------------------------------------------
# Payments
# ---------------------------------------------------------------------------------------------------------


class TestPayments:
    def test_it_lists_payments_with_the_bills_they_paid_and_the_credit_left(
        self, alice_client, on, contract, bob
    ):
        september, october = issue(contract, month=9), issue(contract, month=10)
        services.record_payment(
            customer=contract.customer, amount=D("120"), received_on=date(2026, 11, 5), method="bank_transfer"
        )
        Payment.objects.create(customer=bob, amount=D("7.77"), received_on=date(2026, 11, 5), method="card")
        response = alice_client.get(url("payments"))
        page = text_of(response)
        assert "05/11/2026 Bonifico 120,00 €" in page
        assert f"{september.number} : 49,28 €" in page and f"{october.number} : 49,28 €" in page
        assert "a credito: 21,44 €" in page
        assert "7,77" not in page
        assert f'href="{url("invoice", september.pk)}"' in html_of(response)

    def test_it_shows_the_credits_still_to_be_deducted(self, alice_client, on, contract):
        services.record_payment(
            customer=contract.customer, amount=D("15"), received_on=date(2026, 11, 5), method="card"
        )
        page = text_of(alice_client.get(url("payments")))
        assert "Crediti a tuo favore" in page
        assert "Hai 15,00 € di crediti" in page
        assert "Pagamento in eccesso" in page

    def test_without_payments_it_says_so(self, alice_client, on, contract):
        page = text_of(alice_client.get(url("payments")))
        assert "Non abbiamo ancora ricevuto pagamenti da te." in page
        assert "Non hai crediti da usare." in page


class TestHome:
    def test_the_home_page_shows_the_outstanding_balance(self, alice_client, contract):
        issue(contract, issued_on=date.today())
        assert "Da pagare: 49,28 €" in text_of(alice_client.get(reverse("home")))

    def test_a_customer_with_nothing_to_pay_is_told_so(self, alice_client, contract):
        assert "Sei in regola con i pagamenti." in text_of(alice_client.get(reverse("home")))

    def test_the_unread_count_is_still_there(self, alice_client):
        assert alice_client.get(reverse("home")).context["unread_communications"] == 0


class TestQueries:
    def test_the_list_costs_the_same_for_twelve_bills_as_for_one(
        self, alice_client, on, contract, django_assert_max_num_queries
    ):
        issue(contract, month=1)
        with django_assert_max_num_queries(20) as one:
            alice_client.get(url("invoices"))
        for month in range(2, 13):
            issue(contract, month=month, year=2025 if month == 12 else 2026)
        with django_assert_max_num_queries(len(one)):
            alice_client.get(url("invoices"))

    def test_the_payments_page_costs_the_same_for_many_payments(
        self, alice_client, on, contract, django_assert_max_num_queries
    ):
        issue(contract, month=9)
        services.record_payment(
            customer=contract.customer, amount=D("10"), received_on=date(2026, 10, 5), method="card"
        )
        with django_assert_max_num_queries(20) as one:
            alice_client.get(url("payments"))
        for day in range(6, 16):
            services.record_payment(
                customer=contract.customer, amount=D("1"), received_on=date(2026, 10, day), method="card"
            )
        with django_assert_max_num_queries(len(one)):
            alice_client.get(url("payments"))
