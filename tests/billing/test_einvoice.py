"""Electronic invoices: the FatturaPA document against the official XSD, its sums against the printed invoice,
and the transmission to the SdI through the real channels and the SdI's notification files."""

import re
import threading
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from lxml import etree

from accounts.models import Customer
from billing import services
from billing.einvoice import EInvoiceError, fattura_xml, file_name, samples, schema, transmission
from billing.einvoice.notifications import NotificationError
from billing.models import EInvoice, Invoice, InvoiceLine, SdiReceipt
from billing.services import LineSpec
from portal import deadlines, roles
from portal.lib.dates import ROME
from tests.billing.test_services import energy_lines, issued
from tests.factories import CustomerFactory, UserFactory, active_contract

pytestmark = pytest.mark.django_db

D = Decimal
NS = {"p": "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2"}


def at(day: date, hour=9):
    return datetime(day.year, day.month, day.day, hour, tzinfo=ROME)


def parsed(xml: bytes):
    return etree.fromstring(xml)


def text(root, path):
    return root.findtext(path, namespaces=NS)


def business_customer(**fields):
    return CustomerFactory(
        **{
            "kind": Customer.Kind.BUSINESS,
            "company_name": "Pizzeria Da Gennaro S.r.l.",
            "first_name": "",
            "last_name": "",
            "partita_iva": "07643520567",
            "codice_fiscale": "07643520567",
            **fields,
        }
    )


def deposit_and_indemnity_lines():
    return [
        *energy_lines(),
        LineSpec(kind=InvoiceLine.Kind.DEPOSIT, description="Deposito cauzionale", unit_price=D("80.00")),
        LineSpec(
            kind=InvoiceLine.Kind.INDEMNITY,
            description="Indennizzo automatico — reclamo R-2026-000002",
            unit_price=D("-30.00"),
        ),
    ]


def assert_cross_checks(invoice: Invoice, xml: bytes):
    """What the SdI and an accountant check: lines per rate = summary, tax = taxable × rate rounded half-up,
    the summary adds up to the printed total, stamp duty exactly when the PDF shows it, TD04 names its invoice."""
    schema.validate(xml)
    root = parsed(xml)
    body = "FatturaElettronicaBody"
    sign = D(-1) if invoice.kind == Invoice.Kind.CREDIT_NOTE else D(1)
    lines_by_group = {}
    for line in root.iterfind(f"{body}/DatiBeniServizi/DettaglioLinee"):
        key = (D(line.findtext("AliquotaIVA")), line.findtext("Natura"))
        lines_by_group[key] = lines_by_group.get(key, D(0)) + D(line.findtext("PrezzoTotale"))
    summary_total = D(0)
    for summary in root.iterfind(f"{body}/DatiBeniServizi/DatiRiepilogo"):
        rate, taxable, tax = (
            D(summary.findtext(tag)) for tag in ("AliquotaIVA", "ImponibileImporto", "Imposta")
        )
        assert lines_by_group.pop((rate, summary.findtext("Natura"))) == taxable
        assert tax == (taxable * rate / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        summary_total += taxable + tax
    assert not lines_by_group, f"lines with no summary: {lines_by_group}"
    document_total = D(root.findtext(f"{body}/DatiGenerali/DatiGeneraliDocumento/ImportoTotaleDocumento"))
    assert summary_total == document_total == sign * invoice.total
    stamp = root.findtext(f"{body}/DatiGenerali/DatiGeneraliDocumento/DatiBollo/ImportoBollo")
    assert (stamp is not None) == (invoice.stamp_duty > 0)
    if stamp is not None:
        assert D(stamp) == invoice.stamp_duty
    general = f"{body}/DatiGenerali/DatiGeneraliDocumento"
    assert root.findtext(f"{general}/Numero") == invoice.number
    assert root.findtext(f"{general}/Data") == invoice.issued_on.isoformat()
    assert root.findtext(f"{general}/TipoDocumento") == ("TD04" if sign < 0 else "TD01")
    if sign < 0:
        assert (
            root.findtext(f"{body}/DatiGenerali/DatiFattureCollegate/IdDocumento") == invoice.corrects.number
        )
        assert (
            root.findtext(f"{body}/DatiGenerali/DatiFattureCollegate/Data")
            == invoice.corrects.issued_on.isoformat()
        )


# ---------------------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------------------


def test_every_demo_invoice_and_a_credit_note_validate_against_the_xsd_and_add_up(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0)
    invoice = Invoice.objects.filter(kind=Invoice.Kind.INVOICE).order_by("pk").first()
    services.issue_credit_note(invoice=invoice, issued_on=date(2026, 12, 3), reason="Lettura errata")
    documents = Invoice.objects.filter(number__isnull=False)
    assert documents.filter(kind=Invoice.Kind.CREDIT_NOTE, corrects=invoice).count() == 1
    assert documents.count() >= 10
    for document in documents:
        assert_cross_checks(document, fattura_xml(document))


def test_an_invoice_with_a_deposit_and_an_indemnity_names_the_natura_and_pays_the_stamp_duty():
    invoice = issued(active_contract(), lines=deposit_and_indemnity_lines())
    assert invoice.stamp_duty == D("2.00")  # 80 € outside VAT > 77.47
    xml = fattura_xml(invoice)
    assert_cross_checks(invoice, xml)
    root = parsed(xml)
    natures = {
        line.findtext("Descrizione"): line.findtext("Natura")
        for line in root.iterfind("FatturaElettronicaBody/DatiBeniServizi/DettaglioLinee")
    }
    assert natures["Deposito cauzionale"] == "N1"
    # The typographic dash is written as the Latin characters the schema admits.
    assert natures["Indennizzo automatico - reclamo R-2026-000002"] == "N1"
    assert natures["Rimborso imposta di bollo (DPR 642/72, assolta in modo virtuale)"] == "N1"
    assert natures["Energia"] is None
    references = [
        summary.findtext("RiferimentoNormativo")
        for summary in root.iterfind("FatturaElettronicaBody/DatiBeniServizi/DatiRiepilogo")
        if summary.findtext("Natura")
    ]
    assert references and all("art. 15" in reference for reference in references)
    assert text(root, ".//DatiBollo/BolloVirtuale") == "SI"


def test_a_credit_note_is_a_td04_with_positive_amounts_naming_the_invoice_it_corrects():
    invoice = issued(active_contract(), lines=deposit_and_indemnity_lines())
    note = services.issue_credit_note(invoice=invoice, issued_on=date(2026, 11, 20), reason="Fattura errata")
    xml = fattura_xml(note)
    assert_cross_checks(note, xml)
    root = parsed(xml)
    assert D(root.findtext(".//ImportoTotaleDocumento")) == invoice.total - invoice.stamp_duty
    # The deposit line corrected keeps the natura of the line it corrects.
    assert "N1" in [line.findtext("Natura") for line in root.iterfind(".//DettaglioLinee")]


def test_a_consumer_is_named_by_tax_code_and_gets_the_code_for_the_reserved_area():
    invoice = issued(active_contract())
    root = parsed(fattura_xml(invoice))
    header = "FatturaElettronicaHeader"
    assert text(root, f"{header}/DatiTrasmissione/CodiceDestinatario") == "0000000"
    assert text(root, f"{header}/DatiTrasmissione/PECDestinatario") is None
    assert (
        text(root, f"{header}/CessionarioCommittente/DatiAnagrafici/CodiceFiscale")
        == invoice.customer.codice_fiscale
    )
    assert root.find(f"{header}/CessionarioCommittente/DatiAnagrafici/IdFiscaleIVA") is None
    assert text(root, f"{header}/CessionarioCommittente/Sede/CAP") == invoice.customer.billing_postcode
    assert text(root, f"{header}/CedentePrestatore/DatiAnagrafici/RegimeFiscale") == "RF01"
    assert text(root, f"{header}/CedentePrestatore/DatiAnagrafici/IdFiscaleIVA/IdCodice") == "07469040633"
    assert (
        text(root, "FatturaElettronicaBody/DatiGenerali/DatiContratto/IdDocumento") == invoice.contract_number
    )
    assert text(root, ".//DatiPagamento/DettaglioPagamento/ModalitaPagamento") == "MP19"  # SDD contract
    assert (
        text(root, ".//DatiPagamento/DettaglioPagamento/DataScadenzaPagamento") == invoice.due_on.isoformat()
    )


def test_a_business_gets_its_recipient_code_or_its_pec_as_they_were_when_the_invoice_was_issued():
    by_code = issued(active_contract(business_customer(sdi_code="M5UXCR1")))
    by_pec = issued(
        active_contract(
            business_customer(
                partita_iva="01114601006", codice_fiscale="01114601006", sdi_pec="fatture@pec.example"
            )
        )
    )
    root = parsed(fattura_xml(by_code))
    assert text(root, ".//DatiTrasmissione/CodiceDestinatario") == "M5UXCR1"
    assert text(root, ".//CessionarioCommittente/DatiAnagrafici/IdFiscaleIVA/IdCodice") == "07643520567"
    assert (
        text(root, ".//CessionarioCommittente/DatiAnagrafici/Anagrafica/Denominazione")
        == "Pizzeria Da Gennaro S.r.l."
    )
    root = parsed(fattura_xml(by_pec))
    assert text(root, ".//DatiTrasmissione/CodiceDestinatario") == "0000000"
    assert text(root, ".//DatiTrasmissione/PECDestinatario") == "fatture@pec.example"
    # Changed afterwards on the customer: the issued invoice keeps what it was issued with.
    Customer.objects.filter(pk=by_code.customer_id).update(sdi_code="ABCDEF1")
    assert text(parsed(fattura_xml(Invoice.objects.get(pk=by_code.pk))), ".//CodiceDestinatario") == "M5UXCR1"


def test_a_draft_has_no_electronic_invoice():
    draft = services.create_draft(
        contract=active_contract(),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        lines=energy_lines(),
    )
    with pytest.raises(EInvoiceError, match="bozza"):
        fattura_xml(draft)
    with pytest.raises(EInvoiceError, match="bozza"):
        file_name(draft)
    assert not EInvoice.objects.exists()


def test_each_document_has_its_own_sdi_file_name_and_progressivo():
    contract = active_contract()
    first = issued(contract)
    second = issued(contract, period=(date(2026, 11, 1), date(2026, 11, 30)), issued_on=date(2026, 12, 2))
    names = {file_name(first), file_name(second)}
    assert len(names) == 2
    for invoice in (first, second):
        assert re.fullmatch(r"IT07469040633_[0-9A-Z]{5}\.xml", file_name(invoice))
        progressivo = file_name(invoice).split("_")[1].removesuffix(".xml")
        assert text(parsed(fattura_xml(invoice)), ".//ProgressivoInvio") == progressivo


def test_the_schema_check_refuses_a_document_the_sdi_would_refuse():
    root = parsed(fattura_xml(issued(active_contract())))
    numero = root.find(".//DatiGeneraliDocumento/Numero")
    numero.getparent().remove(numero)
    with pytest.raises(schema.SchemaError, match="Numero"):
        schema.validate(etree.tostring(root))


# ---------------------------------------------------------------------------------------------------------
# Transmission: the send sweep and the channels
# ---------------------------------------------------------------------------------------------------------


def send_sweep(now=None):
    return deadlines.run_sweep("billing.einvoice_send", now=now)


def test_the_send_sweep_run_twice_sends_each_document_once_to_the_folder(sdi_folders):
    contract = active_contract()
    invoices = [issued(contract), issued(contract, period=(date(2026, 11, 1), date(2026, 11, 30)))]
    assert send_sweep().acted == 2
    assert send_sweep().acted == 0
    outbox = sorted(path.name for path in (sdi_folders / "outbox").iterdir())
    assert outbox == sorted(file_name(invoice) for invoice in invoices)
    for invoice in invoices:
        einvoice = EInvoice.objects.get(invoice=invoice)
        assert einvoice.status == EInvoice.Status.SENT and einvoice.sent_at and einvoice.attempts == 1
        # The file stored with the document is the one that left, and it is valid.
        sent = (sdi_folders / "outbox" / einvoice.file_name).read_bytes()
        with einvoice.xml.open("rb") as stored:
            assert stored.read() == sent
        schema.validate(sent)


class _Intermediary(BaseHTTPRequestHandler):
    """An accredited intermediary's HTTPS upload endpoint, as a real HTTP server on loopback."""

    answers: list[int] = []
    received: list[tuple[str, bytes, str]] = []

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.answers.pop(0) if self.answers else 201
        if status < 300:
            type(self).received.append((self.path, body, self.headers.get("Authorization", "")))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def intermediary(settings):
    _Intermediary.answers, _Intermediary.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Intermediary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EINVOICE = {
        **settings.EINVOICE,
        "channel": "https",
        "https_url": f"http://127.0.0.1:{server.server_port}/upload",
        "https_user": "optima",
        "https_password": "segreto",
        "https_timeout": 5.0,
    }
    yield _Intermediary
    server.shutdown()


def test_a_channel_failure_leaves_the_document_to_send_and_retries_it_later(intermediary):
    invoice = issued(active_contract())
    intermediary.answers = [503]
    run = send_sweep()
    einvoice = EInvoice.objects.get(invoice=invoice)
    assert einvoice.status == EInvoice.Status.TO_SEND
    assert einvoice.attempts == 1 and "503" in einvoice.last_error
    assert timedelta(minutes=4) < einvoice.next_attempt_at - timezone.now() <= timedelta(minutes=5)
    assert run.failed == 0 and intermediary.received == []
    assert send_sweep().acted == 0  # not before its next attempt
    # Five minutes on, the intermediary answers: the document leaves once, with basic authentication.
    EInvoice.objects.filter(pk=einvoice.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert send_sweep().acted == 1
    einvoice.refresh_from_db()
    assert einvoice.status == EInvoice.Status.SENT and einvoice.attempts == 2 and einvoice.last_error == ""
    [(path, body, authorization)] = intermediary.received
    assert path == f"/upload/{einvoice.file_name}"
    assert authorization.startswith("Basic ")
    assert text(parsed(body), ".//DatiGeneraliDocumento/Numero") == invoice.number


def test_retries_back_off_up_to_six_hours(intermediary):
    invoice = issued(active_contract())
    waits = []
    for _attempt in range(9):
        intermediary.answers = [500]
        EInvoice.objects.filter(invoice=invoice).update(next_attempt_at=None)
        send_sweep()
        einvoice = EInvoice.objects.get(invoice=invoice)
        waits.append(round((einvoice.next_attempt_at - timezone.now()).total_seconds() / 60))
    assert waits == [5, 10, 20, 40, 80, 160, 320, 360, 360]


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_send_each_document_once(intermediary):
    contract = active_contract()
    for month in range(1, 7):
        issued(
            contract, period=(date(2026, month, 1), date(2026, month, 28)), issued_on=date(2026, month + 1, 2)
        )
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        from django.db import connection

        try:
            barrier.wait()
            send_sweep()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    paths = [path for path, _body, _auth in intermediary.received]
    assert len(paths) == len(set(paths)) == 6
    assert EInvoice.objects.filter(status=EInvoice.Status.SENT).count() == 6


# ---------------------------------------------------------------------------------------------------------
# Receipts: the SdI's notification files
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def billing_officer():
    user = UserFactory(email="bollette@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[roles.BILLING_OFFICER])
    return user


def sent_einvoice(invoice=None):
    invoice = invoice or issued(active_contract())
    send_sweep()
    return EInvoice.objects.get(invoice=invoice)


def drop(folder, einvoice, kind, **kwargs):
    """The SdI's notification, dropped in the inbox as the intermediary does."""
    name, content = samples.notification(einvoice, kind, at=timezone.now(), **kwargs)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return name


def test_a_delivery_receipt_marks_the_document_delivered_and_is_stored_as_received(sdi_folders):
    einvoice = sent_einvoice(issued(active_contract(business_customer(sdi_code="M5UXCR1"))))
    name = drop(sdi_folders / "inbox", einvoice, SdiReceipt.Kind.DELIVERY, sdi_identifier="4711")
    content = (sdi_folders / "inbox" / name).read_bytes()
    call_command("import_sdi_receipts", verbosity=0)
    einvoice.refresh_from_db()
    assert einvoice.status == EInvoice.Status.DELIVERED and einvoice.sdi_identifier == "4711"
    [receipt] = einvoice.receipts.all()
    assert receipt.kind == SdiReceipt.Kind.DELIVERY and receipt.content.encode() == content
    assert receipt.delivered_at is not None
    assert (sdi_folders / "inbox" / "processed" / name).exists()
    assert not (sdi_folders / "inbox" / name).exists()


def test_a_consumers_invoice_not_deliverable_is_left_in_the_reserved_area(sdi_folders):
    einvoice = sent_einvoice()
    drop(sdi_folders / "inbox", einvoice, SdiReceipt.Kind.NOT_DELIVERED)
    transmission.import_folder(sdi_folders / "inbox")
    einvoice.refresh_from_db()
    assert einvoice.status == EInvoice.Status.NOT_DELIVERED and einvoice.is_accepted
    assert "area riservata" in einvoice.receipts.get().description


def test_a_rejected_document_is_resent_with_the_same_number_and_date_under_a_new_file_name(
    sdi_folders, billing_officer, django_capture_on_commit_callbacks
):
    customer = business_customer(sdi_code="XXXXXXX")
    invoice = issued(active_contract(customer))
    einvoice = sent_einvoice(invoice)
    old_name = einvoice.file_name
    drop(sdi_folders / "inbox", einvoice, SdiReceipt.Kind.REJECTION)
    with django_capture_on_commit_callbacks(execute=True):
        transmission.import_folder(sdi_folders / "inbox")
    einvoice.refresh_from_db()
    assert einvoice.status == EInvoice.Status.REJECTED
    assert einvoice.resend_by == timezone.localdate() + timedelta(days=5)
    assert [error["code"] for error in einvoice.receipts.get().errors] == ["00311", "00305"]
    [alert] = [message for message in mail.outbox if "scartata" in message.subject]
    assert alert.to == [billing_officer.email] and "00311" in alert.body and invoice.number in alert.subject

    # Staff correct the customer's recipient code, then resend.
    Customer.objects.filter(pk=customer.pk).update(sdi_code="M5UXCR1")
    transmission.resend(einvoice, today=date(2026, 11, 5))
    assert send_sweep().acted == 1
    einvoice.refresh_from_db()
    assert einvoice.status == EInvoice.Status.SENT and einvoice.file_name != old_name
    root = parsed((sdi_folders / "outbox" / einvoice.file_name).read_bytes())
    assert text(root, ".//DatiGeneraliDocumento/Numero") == invoice.number
    assert text(root, ".//DatiGeneraliDocumento/Data") == invoice.issued_on.isoformat()
    assert text(root, ".//CodiceDestinatario") == "M5UXCR1"
    assert Invoice.objects.get(pk=invoice.pk).number == invoice.number
    with pytest.raises(Exception, match="scartata"):
        transmission.resend(einvoice, today=date(2026, 11, 5))  # only a rejected one


def test_a_notification_that_is_malformed_or_names_an_unknown_file_is_reported_and_changes_nothing(
    sdi_folders,
):
    einvoice = sent_einvoice()
    inbox = sdi_folders / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "IT07469040633_ZZZZZ_RC_001.xml").write_bytes(b"<RicevutaConsegna><IdentificativoSdI>1")
    _, unknown = samples.notification(einvoice, SdiReceipt.Kind.DELIVERY, at=timezone.now())
    (inbox / "IT07469040633_99999_RC_001.xml").write_bytes(
        unknown.replace(einvoice.file_name.encode(), b"IT07469040633_99999.xml")
    )
    (inbox / "fattura-non-notifica.xml").write_bytes(fattura_xml(einvoice.invoice))
    with pytest.raises(CommandError):
        call_command("import_sdi_receipts", str(inbox), verbosity=0)
    einvoice.refresh_from_db()
    assert einvoice.status == EInvoice.Status.SENT
    assert not SdiReceipt.objects.exists()
    assert sorted(path.name for path in (inbox / "errors").iterdir()) == [
        "IT07469040633_99999_RC_001.xml",
        "IT07469040633_ZZZZZ_RC_001.xml",
        "fattura-non-notifica.xml",
    ]
    with pytest.raises(NotificationError, match="IT07469040633_99999.xml"):
        transmission.record_notification(
            "again.xml", unknown.replace(einvoice.file_name.encode(), b"IT07469040633_99999.xml")
        )


def test_the_same_notification_twice_is_recorded_once_and_a_second_outcome_is_refused(sdi_folders):
    einvoice = sent_einvoice()
    name, content = samples.notification(einvoice, SdiReceipt.Kind.NOT_DELIVERED, at=timezone.now())
    assert not transmission.record_notification(name, content).already_recorded
    assert transmission.record_notification(name, content).already_recorded
    _, delivered = samples.notification(einvoice, SdiReceipt.Kind.DELIVERY, at=timezone.now())
    with pytest.raises(NotificationError, match="esito"):
        transmission.record_notification("other_RC_001.xml", delivered)
    assert einvoice.receipts.count() == 1
    assert EInvoice.objects.get(pk=einvoice.pk).status == EInvoice.Status.NOT_DELIVERED


# ---------------------------------------------------------------------------------------------------------
# The 12-day limit
# ---------------------------------------------------------------------------------------------------------


def test_officers_are_warned_3_days_before_the_12_day_limit_and_the_document_is_then_overdue(
    billing_officer, django_capture_on_commit_callbacks
):
    contract = active_contract()
    waiting = issued(contract, issued_on=date(2026, 11, 2))
    accepted = issued(contract, issued_on=date(2026, 11, 2), period=(date(2026, 11, 1), date(2026, 11, 30)))
    accepted_einvoice = sent_einvoice(accepted)
    transmission.record_notification(
        *samples.notification(accepted_einvoice, SdiReceipt.Kind.NOT_DELIVERED, at=at(date(2026, 11, 2)))
    )
    einvoice = EInvoice.objects.get(invoice=waiting)
    assert (einvoice.alert_on, einvoice.accept_by) == (date(2026, 11, 11), date(2026, 11, 14))

    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.run_sweep("billing.einvoice_alerts", now=at(date(2026, 11, 10))).acted == 0
        assert deadlines.run_sweep("billing.einvoice_alerts", now=at(date(2026, 11, 11))).acted == 1
        assert deadlines.run_sweep("billing.einvoice_alerts", now=at(date(2026, 11, 12))).acted == 0
    [alert] = mail.outbox
    assert (
        alert.to == [billing_officer.email] and waiting.number in alert.subject and "14/11/2026" in alert.body
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert deadlines.run_sweep("billing.einvoice_overdue", now=at(date(2026, 11, 14))).acted == 0
        assert deadlines.run_sweep("billing.einvoice_overdue", now=at(date(2026, 11, 15))).acted == 1
    einvoice.refresh_from_db()
    assert einvoice.overdue_since == date(2026, 11, 15)
    assert EInvoice.objects.get(pk=accepted_einvoice.pk).overdue_since is None
    assert [message.subject for message in mail.outbox][-1].startswith("Fattura elettronica fuori termine")


def test_the_pdf_courtesy_copy_goes_inside_the_xml_only_when_configured(settings, tmp_path):
    import base64

    from billing.pdf import store_invoice_pdf

    settings.MEDIA_ROOT = tmp_path / "media"
    invoice = store_invoice_pdf(issued(active_contract()))
    assert parsed(fattura_xml(invoice)).find(".//Allegati") is None
    settings.EINVOICE = {**settings.EINVOICE, "attach_pdf": True}
    xml = fattura_xml(invoice)
    schema.validate(xml)
    attachment = parsed(xml).find(".//Allegati")
    assert attachment.findtext("FormatoAttachment") == "PDF"
    with invoice.pdf.open("rb") as pdf:
        assert base64.b64decode(attachment.findtext("Attachment")) == pdf.read()


def test_a_delivery_receipt_after_a_duplicate_file_rejection_still_counts(sdi_folders):
    """A send whose commit failed after the file left goes again under the same name: the SdI rejects the copy
    as a duplicate (00002) and delivers the first; the delivery is what stands."""
    einvoice = sent_einvoice()
    name, rejection = samples.notification(einvoice, SdiReceipt.Kind.REJECTION, at=timezone.now())
    transmission.record_notification(name, rejection)
    assert EInvoice.objects.get(pk=einvoice.pk).status == EInvoice.Status.REJECTED
    transmission.record_notification(
        *samples.notification(einvoice, SdiReceipt.Kind.DELIVERY, at=timezone.now())
    )
    einvoice.refresh_from_db()
    assert einvoice.status == EInvoice.Status.DELIVERED and einvoice.resend_by is None
    _, again = samples.notification(einvoice, SdiReceipt.Kind.REJECTION, at=timezone.now())
    with pytest.raises(NotificationError, match="esito"):
        transmission.record_notification("late_NS_002.xml", again)
