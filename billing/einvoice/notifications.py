"""The SdI's notifications about a file sent to it, read from the SdI's message format (MessaggiTypes 1.0):
RicevutaConsegna (delivered), NotificaMancataConsegna (not deliverable: left in the recipient's reserved area
at the Agenzia delle Entrate) and NotificaScarto (rejected, with its ListaErrori)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from billing.models import SdiReceipt

NAMESPACE = "http://ivaservizi.agenziaentrate.gov.it/docs/xsd/messaggi/v1.0"
KINDS = {
    "RicevutaConsegna": SdiReceipt.Kind.DELIVERY,
    "NotificaMancataConsegna": SdiReceipt.Kind.NOT_DELIVERED,
    "NotificaScarto": SdiReceipt.Kind.REJECTION,
}
ROME = ZoneInfo("Europe/Rome")


class NotificationError(ValueError):
    """Not an SdI notification the portal can read; the message says why."""


@dataclass(frozen=True)
class Notification:
    kind: str
    sdi_identifier: str
    invoice_file_name: str  # as the portal named it: a signed file's .p7m suffix removed
    received_at: datetime | None
    delivered_at: datetime | None = None
    description: str = ""
    errors: list[dict] = field(default_factory=list)


def parse(content: bytes) -> Notification:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise NotificationError(f"non è un file XML leggibile ({exc})") from None
    name = etree.QName(root)
    if name.namespace != NAMESPACE or name.localname not in KINDS:
        raise NotificationError(
            f"non è una notifica SdI gestita ({name.localname}); attese: {', '.join(KINDS)}"
        )

    def text(tag: str, parent=root) -> str:
        element = parent.find(tag)
        return (element.text or "").strip() if element is not None else ""

    sdi_identifier, file_name = text("IdentificativoSdI"), text("NomeFile")
    if not sdi_identifier or not file_name:
        raise NotificationError("mancano IdentificativoSdI o NomeFile")
    errors = [
        {"code": text("Codice", e), "description": text("Descrizione", e), "hint": text("Suggerimento", e)}
        for e in root.iterfind("ListaErrori/Errore")
    ]
    if KINDS[name.localname] == SdiReceipt.Kind.REJECTION and not errors:
        raise NotificationError("una notifica di scarto senza ListaErrori")
    return Notification(
        kind=KINDS[name.localname],
        sdi_identifier=sdi_identifier,
        invoice_file_name=file_name.removesuffix(".p7m"),
        received_at=_moment(text("DataOraRicezione")),
        delivered_at=_moment(text("DataOraConsegna")),
        description=text("Descrizione"),
        errors=errors,
    )


def _moment(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise NotificationError(f"data e ora non valida: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ROME)
