"""Electronic invoicing: every issued invoice and credit note is a FatturaPA 1.2.2 sent to the SdI; the PDF
is its courtesy copy. `document` builds it, `schema` validates it against the official XSD, `transmission`
sends it and records the SdI's receipts, `channels` is how files leave (a folder, or an intermediary's HTTPS).

The two functions below are the interface other tools rely on.
"""

from billing.einvoice.document import EInvoiceError
from billing.models import Invoice

__all__ = ["EInvoiceError", "fattura_xml", "file_name"]


def fattura_xml(invoice: Invoice) -> bytes:
    """The UTF-8 FatturaPA XML of an issued invoice or credit note, valid against the XSD (EInvoiceError for a
    draft, or for a document that does not validate)."""
    from billing.einvoice.transmission import build_xml

    return build_xml(invoice)


def file_name(invoice: Invoice) -> str:
    """`IT<transmitter's P.IVA>_<progressivo>.xml`: the name of the document's current file at the SdI."""
    from billing.einvoice.transmission import einvoice_of

    return einvoice_of(invoice).file_name
