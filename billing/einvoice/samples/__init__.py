"""SdI notifications made from the sample templates beside this module (README.md): the demo and the tests
play the SdI's part with them, as an intermediary would drop real ones in the inbox."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from string import Template

from billing.models import EInvoice, SdiReceipt

HERE = Path(__file__).resolve().parent
TEMPLATES = {
    SdiReceipt.Kind.DELIVERY: "RicevutaConsegna.xml",
    SdiReceipt.Kind.NOT_DELIVERED: "NotificaMancataConsegna.xml",
    SdiReceipt.Kind.REJECTION: "NotificaScarto.xml",
}


def notification(
    einvoice: EInvoice, kind: str, *, at: datetime, sdi_identifier: str = ""
) -> tuple[str, bytes]:
    """The SdI's notification of `kind` about the e-invoice's current file: (file name, content)."""
    sent = b""
    if einvoice.xml:
        with einvoice.xml.open("rb") as file:
            sent = file.read()
    identifier = sdi_identifier or f"{1000000 + einvoice.pk}"
    content = Template((HERE / TEMPLATES[kind]).read_text(encoding="utf-8")).substitute(
        identificativo=identifier,
        nome_file=einvoice.file_name,
        hash=hashlib.sha256(sent).hexdigest(),
        ricezione=at.isoformat(timespec="milliseconds"),
        consegna=at.isoformat(timespec="milliseconds"),
        destinatario=einvoice.invoice.customer_details.get("sdi_code") or "0000000",
        message_id=identifier,
    )
    stem = einvoice.file_name.removesuffix(".xml")
    return f"{stem}_{kind}_001.xml", content.encode("utf-8")
