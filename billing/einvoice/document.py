"""The FatturaPA 1.2.2 document (FormatoTrasmissione FPR12) of an issued invoice or credit note.

Built with a38's data model of the FatturaPA (its checks run on every document) from the invoice's frozen
copies only: what the XML says is what the PDF courtesy copy prints, whatever changed on the customer or the
contract since. Amounts come from the same rules that totalled the invoice (billing.taxes), so the summary
per rate is the printed VAT summary and ImportoTotaleDocumento is the printed total. Every document is then
validated against the official XSD (billing.einvoice.schema) before it is stored or sent.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import a38.fattura as fa
from a38.validation import Validation
from django.conf import settings

from billing import taxes
from billing.einvoice import schema
from billing.models import ZERO, Invoice, InvoiceLine
from contracts.models import Contract

CONSUMER_CODE = (
    "0000000"  # CodiceDestinatario of whoever has no SdI channel: consumers, and businesses by PEC
)

# ModalitaPagamento per payment method of the contract (FatturaPA table MPxx).
PAYMENT_MODES = {
    Contract.PaymentMethod.SDD: "MP19",  # SEPA Direct Debit
    Contract.PaymentMethod.POSTAL_SLIP: "MP18",  # bollettino di c/c postale
    Contract.PaymentMethod.CARD: "MP08",  # carta di pagamento
}
BANK_TRANSFER = "MP05"


# Lines outside VAT (vat_rate None), by kind: their Natura code. Security deposit, indemnities and late
# interest are sums that are not the consideration of a supply: excluded from the VAT base by art. 15 DPR
# 633/72 (N1) — the deposit as a guarantee to be returned, the automatic indemnity as compensation (ARERA
# TIQV), interest as a penalty for late payment (c. 1 n. 1); the stamp duty reimbursed by the customer is a sum
# advanced in their name (c. 1 n. 3). A credit deducted (what the customer overpaid, or an earlier indemnity)
# moves money already accounted for on its own document, no supply at all: not subject, other cases (N2.2).
NATURES = {
    InvoiceLine.Kind.DEPOSIT: "N1",
    InvoiceLine.Kind.INDEMNITY: "N1",
    InvoiceLine.Kind.LATE_INTEREST: "N1",
    InvoiceLine.Kind.CREDIT: "N2.2",
}
OTHER_OUTSIDE_VAT = "N1"
STAMP_DUTY_NATURE = "N1"
# The legal reference of each Natura's summary (RiferimentoNormativo, at most 100 Latin characters).
REFERENCES = {
    "N1": "Escluso art. 15 DPR 633/72 (deposito cauzionale, indennizzi, interessi di mora, bollo)",
    "N2.2": "Non soggetto art. 2 DPR 633/72 (credito gia' riconosciuto al cliente)",
}
STAMP_DUTY_LINE = "Rimborso imposta di bollo (DPR 642/72, assolta in modo virtuale)"


DRAFT_HAS_NONE = "Una bozza non ha fattura elettronica: si genera quando la bolletta è emessa."


class EInvoiceError(Exception):
    """The document cannot be built or is not valid; the message says why, for staff."""


def fattura(invoice: Invoice, *, progressivo: str) -> fa.FatturaPrivati12:
    """The a38 model of the issued `invoice`, for the transmission numbered `progressivo`."""
    if not invoice.is_issued:
        raise EInvoiceError(DRAFT_HAS_NONE)
    sign = Decimal(-1) if invoice.kind == Invoice.Kind.CREDIT_NOTE else Decimal(1)
    document = fa.FatturaPrivati12()
    header = document.fattura_elettronica_header
    _transmission_data(header.dati_trasmissione, invoice, progressivo)
    _supplier(header.cedente_prestatore)
    _customer(header.cessionario_committente, invoice.customer_details)

    general = fa.DatiGeneraliDocumento(
        tipo_documento="TD04" if sign < 0 else "TD01",
        divisa="EUR",
        data=invoice.issued_on,
        numero=invoice.number,
        importo_totale_documento=sign * invoice.total,
    )
    if invoice.stamp_duty > ZERO:
        general.dati_bollo = fa.DatiBollo(bollo_virtuale="SI", importo_bollo=invoice.stamp_duty)
    data = fa.DatiGenerali(dati_generali_documento=general)
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        corrected = invoice.corrects
        # DatiGenerali holds its own copy of `general` (a38 copies a model assigned to a field): write there.
        causale = data.dati_generali_documento.causale
        causale.append(latin(f"Nota di credito a rettifica della bolletta {corrected.number}"))
        if invoice.credit_reason:
            causale.append(latin(f"Motivo: {invoice.credit_reason}", 200))
        data.dati_fatture_collegate.append(
            fa.DatiFattureCollegate(id_documento=corrected.number, data=corrected.issued_on)
        )
    if invoice.contract_number:
        data.dati_contratto.append(fa.DatiContratto(id_documento=invoice.contract_number))
    body = fa.FatturaElettronicaBody(dati_generali=data, dati_beni_servizi=fa.DatiBeniServizi())

    _lines(body.dati_beni_servizi, invoice, sign)
    if invoice.kind == Invoice.Kind.INVOICE and invoice.total > ZERO:
        body.dati_pagamento.append(_payment(invoice))
    if settings.EINVOICE["attach_pdf"] and invoice.pdf:
        with invoice.pdf.open("rb") as pdf:
            body.allegati.append(
                fa.Allegati(
                    nome_attachment=f"copia-di-cortesia-{invoice.number.replace('/', '-')}.pdf",
                    formato_attachment="PDF",
                    descrizione_attachment="Copia di cortesia",
                    attachment=pdf.read(),  # a38 writes it in base64
                )
            )
    document.fattura_elettronica_body = [body]  # replaces the empty body a38 starts with
    return document


def to_xml(document: fa.FatturaPrivati12) -> bytes:
    """The document as UTF-8 XML, after a38's checks and the official XSD; EInvoiceError if either fails."""
    validation = Validation()
    document.validate(validation)
    errors = [error for error in validation.errors if not _consumer_without_pec(document, error)]
    if errors:
        raise EInvoiceError("; ".join(str(error) for error in errors))
    tree = document.build_etree(lxml=True)
    from lxml import etree

    xml = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    try:
        schema.validate(xml)
    except schema.SchemaError as exc:
        raise EInvoiceError(f"La fattura elettronica non rispetta lo schema FatturaPA 1.2.2: {exc}") from None
    return xml


def _consumer_without_pec(document, error) -> bool:
    # a38 reports CodiceDestinatario 0000000 without PECDestinatario as SdI error 00426, but that pair is exactly
    # what the SdI specifications prescribe for a consumer (or a business with no channel): the invoice is
    # delivered to the recipient's reserved area at the Agenzia delle Entrate. The SdI's own control 00426 is
    # about a PEC given with a code other than 0000000, which a38 checks separately.
    data = document.fattura_elettronica_header.dati_trasmissione
    return (
        error.code == "00426" and data.codice_destinatario == CONSUMER_CODE and data.pec_destinatario is None
    )


def _transmission_data(data, invoice: Invoice, progressivo: str) -> None:
    country, code = transmitter_id()
    data.id_trasmittente = fa.IdTrasmittente(id_paese=country, id_codice=code)
    data.progressivo_invio = progressivo
    data.codice_destinatario, data.pec_destinatario = destination(invoice.customer_details)


def destination(details: dict) -> tuple[str, str | None]:
    """Where the SdI delivers the invoice: (CodiceDestinatario, PECDestinatario). A business's channel code;
    else "0000000" with its PEC; else "0000000" alone, which leaves the original in the recipient's reserved
    area at the Agenzia delle Entrate (every consumer)."""
    if details.get("sdi_code"):
        return details["sdi_code"], None
    return CONSUMER_CODE, details.get("sdi_pec") or None


def transmitter_id() -> tuple[str, str]:
    """IdTrasmittente: the intermediary when one is configured, else the supplier itself (its P.IVA)."""
    config = settings.EINVOICE
    if config["transmitter_code"]:
        return config["transmitter_country"], config["transmitter_code"]
    return "IT", supplier_vat_number()


def supplier_vat_number() -> str:
    return re.sub(r"^IT", "", settings.SUPPLIER["vat_number"].replace(" ", "").upper())


def _supplier(supplier) -> None:
    config = settings.EINVOICE
    vat_number = supplier_vat_number()
    personal = supplier.dati_anagrafici
    personal.id_fiscale_iva = fa.IdFiscaleIVA(id_paese="IT", id_codice=vat_number)
    personal.codice_fiscale = vat_number  # a company's codice fiscale is its P.IVA
    personal.anagrafica = fa.Anagrafica(denominazione=latin(settings.SUPPLIER["name"]))
    personal.regime_fiscale = config["tax_regime"]
    supplier.sede = fa.Sede(
        indirizzo=latin(config["supplier_street"]),
        numero_civico=config["supplier_street_number"] or None,
        cap=config["supplier_postcode"],
        comune=latin(config["supplier_city"]),
        provincia=config["supplier_province"],
        nazione="IT",
    )
    if config["rea_office"] and config["rea_number"]:
        supplier.iscrizione_rea = fa.IscrizioneREA(
            ufficio=config["rea_office"], numero_rea=config["rea_number"], stato_liquidazione="LN"
        )
    if settings.SUPPLIER["email"]:
        supplier.contatti = fa.Contatti(email=settings.SUPPLIER["email"])


def _customer(customer, details: dict) -> None:
    personal = customer.dati_anagrafici
    if details.get("partita_iva"):
        personal.id_fiscale_iva = fa.IdFiscaleIVA(id_paese="IT", id_codice=details["partita_iva"])
    if details.get("codice_fiscale"):
        personal.codice_fiscale = details["codice_fiscale"]
    if details.get("kind") == "business":
        personal.anagrafica = fa.Anagrafica(denominazione=latin(details["company_name"], 80))
    else:
        personal.anagrafica = fa.Anagrafica(
            nome=latin(details["first_name"], 60), cognome=latin(details["last_name"], 60)
        )
    customer.sede = fa.Sede(
        indirizzo=latin(details["street"], 60),
        cap=details["postcode"],
        comune=latin(details["city"], 60),
        provincia=details["province"],
        nazione="IT",
    )


def _lines(goods, invoice: Invoice, sign: Decimal) -> None:
    natures: dict[str, Decimal] = {}
    for line, nature in lines_with_nature(invoice):
        quantity, unit_price = line.quantity, sign * line.unit_price
        if quantity < 0:  # Quantita is unsigned in the schema: the sign goes on the price
            quantity, unit_price = -quantity, -unit_price
        detail = fa.DettaglioLinee(
            numero_linea=len(goods.dettaglio_linee) + 1,
            descrizione=latin(line.description, 1000),
            prezzo_unitario=unit_price,
            prezzo_totale=sign * line.amount,
            aliquota_iva=line.vat_rate if nature is None else ZERO,
            natura=nature,
        )
        if line.unit or quantity != 1:
            detail.quantita = quantity
            detail.unita_misura = latin(line.unit or "n.", 10)
        goods.dettaglio_linee.append(detail)
        if nature is not None:
            natures[nature] = natures.get(nature, ZERO) + sign * line.amount
    if invoice.stamp_duty > ZERO:
        goods.dettaglio_linee.append(
            fa.DettaglioLinee(
                numero_linea=len(goods.dettaglio_linee) + 1,
                descrizione=STAMP_DUTY_LINE,
                prezzo_unitario=sign * invoice.stamp_duty,
                prezzo_totale=sign * invoice.stamp_duty,
                aliquota_iva=ZERO,
                natura=STAMP_DUTY_NATURE,
            )
        )
        natures[STAMP_DUTY_NATURE] = natures.get(STAMP_DUTY_NATURE, ZERO) + sign * invoice.stamp_duty

    # The summary per rate is the one printed on the invoice: VAT rounded once per rate (billing.taxes).
    for rate, taxable, vat in taxes.totals(
        (taxes.VatLine(line.vat_rate, line.amount) for line in invoice.lines.all()), on=invoice.issued_on
    ).by_rate:
        goods.dati_riepilogo.append(
            fa.DatiRiepilogo(
                aliquota_iva=rate, imponibile_importo=sign * taxable, imposta=sign * vat, esigibilita_iva="I"
            )
        )
    for nature, amount in natures.items():
        goods.dati_riepilogo.append(
            fa.DatiRiepilogo(
                aliquota_iva=ZERO,
                natura=nature,
                imponibile_importo=amount,
                imposta=ZERO,
                riferimento_normativo=latin(REFERENCES[nature], 100),
            )
        )
    summed = sum((r.imponibile_importo + r.imposta for r in goods.dati_riepilogo), ZERO)
    if summed != sign * invoice.total:  # never expected: the two come from the same rules
        raise EInvoiceError(
            f"Il riepilogo ({summed}) non torna con il totale della bolletta ({invoice.total})."
        )


def lines_with_nature(invoice: Invoice) -> list[tuple[InvoiceLine, str | None]]:
    """Each line with the Natura of its VAT exemption (None: the line has a VAT rate). A credit note's line
    is outside VAT for the reason the line it takes back was (notes issued before lines were linked: the
    corrected invoice's line at the same place); an amount taken back outside VAT is N1, as the deposit,
    indemnities and interest it can only come from."""
    lines = list(invoice.lines.select_related("corrects_line"))
    kinds = [line.corrects_line.kind if line.corrects_line else line.kind for line in lines]
    if invoice.kind == Invoice.Kind.CREDIT_NOTE and invoice.corrects_id and not any(
        line.corrects_line_id for line in lines
    ):
        corrected = [line.kind for line in invoice.corrects.lines.all()]
        if len(corrected) == len(lines):
            kinds = corrected
    return [
        (line, None if line.vat_rate is not None else NATURES.get(kind, OTHER_OUTSIDE_VAT))
        for line, kind in zip(lines, kinds, strict=True)
    ]


def _payment(invoice: Invoice) -> fa.DatiPagamento:
    mode = PAYMENT_MODES.get(invoice.payment_method_code, BANK_TRANSFER)
    detail = fa.DettaglioPagamento(
        beneficiario=latin(settings.SUPPLIER["name"], 200),
        modalita_pagamento=mode,
        data_scadenza_pagamento=invoice.due_on,
        importo_pagamento=invoice.total,
    )
    if mode in (BANK_TRANSFER, "MP19") and settings.SUPPLIER["iban"]:
        detail.iban = settings.SUPPLIER["iban"].replace(" ", "")
    if invoice.payment_notice_code:
        detail.codice_pagamento = invoice.payment_notice_code
    return fa.DatiPagamento(condizioni_pagamento="TP02", dettaglio_pagamento=[detail])


# The schema's text types admit Basic Latin and Latin-1 only: typographic dashes, quotes and the euro sign of
# the portal's wording are written the way the SdI accepts them.
_LATIN_REPLACEMENTS = str.maketrans(
    {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "€": "EUR", "×": "x"}
)


def latin(text: str, max_length: int | None = None) -> str:
    text = unicodedata.normalize("NFC", str(text).translate(_LATIN_REPLACEMENTS))
    text = "".join(char if ord(char) < 256 else _ascii(char) for char in text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:max_length] if max_length else text


def _ascii(char: str) -> str:
    return unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?"
