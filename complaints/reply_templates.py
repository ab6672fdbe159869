"""Drafts of the reasoned reply, in the four sections ARERA asks for, in plain Italian.

"Il Suo reclamo", "Le nostre verifiche" (with the documents checked), "Le nostre conclusioni", "I Suoi
diritti" (contacts and conciliation). The draft is chosen by the case's kind and ARERA topic and filled in
with its data; staff complete it in admin, where every "[da completare: …]" must be replaced before the
reply can be sent. The automatic indemnity is not part of the draft: the reply letter adds its paragraph
from the amount computed when the reply is sent (a draft written on day 28 and sent on day 32 would be
wrong).

The drafts are in Italian whatever the customer's language: the reply is staff's own text, like a letter
typed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.text import Truncator

from complaints import deadlines, selectors
from complaints.models import Complaint
from portal.lib import formatting

PLACEHOLDER = "[da completare"

# What the reply can conclude; the first is the neutral draft shown when staff open a case.
OPEN = ""
UPHELD = "upheld"
REJECTED = "rejected"
PARTLY_UPHELD = "partly_upheld"
OUTCOMES = [
    (OPEN, "Da decidere (bozza neutra)"),
    (UPHELD, "Fondato: accolto"),
    (PARTLY_UPHELD, "In parte fondato"),
    (REJECTED, "Non fondato: respinto"),
]

SECTION_FIELDS = {
    "reply_complaint": "Il Suo reclamo",
    "reply_checks": "Le nostre verifiche",
    "reply_conclusions": "Le nostre conclusioni",
    "reply_rights": "I Suoi diritti",
}

_KIND_NOUN = {
    Complaint.Kind.COMPLAINT: "il Suo reclamo scritto",
    Complaint.Kind.INFORMATION_REQUEST: "la Sua richiesta scritta di informazioni",
    Complaint.Kind.BILLING_RECTIFICATION: "la Sua richiesta di rettifica di fatturazione",
    Complaint.Kind.DOUBLE_BILLING: "la Sua richiesta di rettifica per doppia fatturazione",
    Complaint.Kind.TELECOM_COMPLAINT: "il Suo reclamo sui servizi Internet e Mobile",
}

_TOPIC_ABOUT = {
    Complaint.Topic.CONTRACTS: "il Suo contratto",
    Complaint.Topic.DEFAULT: "la procedura per i pagamenti non effettuati e la sospensione della fornitura",
    Complaint.Topic.MARKET: "l'attivazione della fornitura o il cambio di fornitore",
    Complaint.Topic.BILLING: "gli importi che Le abbiamo fatturato",
    Complaint.Topic.METERING: "le letture del contatore e i consumi",
    Complaint.Topic.CONNECTIONS: "allacciamenti, lavori o la qualità tecnica del servizio",
    Complaint.Topic.SOCIAL_BONUS: "il bonus sociale",
    Complaint.Topic.COMMERCIAL_QUALITY: "i tempi e la qualità del nostro servizio",
    Complaint.Topic.OTHER: "la Sua fornitura",
}

# The documents staff check for each topic; the reply lists them (TIQV: "con i documenti verificati").
_TOPIC_DOCUMENTS = {
    Complaint.Topic.CONTRACTS: [
        "il contratto{contract} con le condizioni generali ed economiche che ha sottoscritto",
        "la proposta di contratto e la registrazione della Sua accettazione",
        "le comunicazioni che Le abbiamo inviato",
    ],
    Complaint.Topic.DEFAULT: [
        "le bollette scadute e i pagamenti registrati a Suo nome",
        "la comunicazione di costituzione in mora e la prova della sua consegna",
        "le richieste di riduzione di potenza o di sospensione inviate al distributore",
    ],
    Complaint.Topic.MARKET: [
        "la richiesta di attivazione o di cambio fornitore e le sue date",
        "le comunicazioni scambiate con il distributore locale",
    ],
    Complaint.Topic.BILLING: [
        "{invoice}",
        "le letture (reali e stimate) e i consumi fatturati",
        "le condizioni economiche della Sua offerta",
        "i pagamenti registrati a Suo nome",
    ],
    Complaint.Topic.METERING: [
        "le letture trasmesse dal distributore locale e le Sue autoletture",
        "lo storico dei consumi degli ultimi 12 mesi",
    ],
    Complaint.Topic.CONNECTIONS: [
        "le pratiche inoltrate al distributore locale e le sue risposte",
    ],
    Complaint.Topic.SOCIAL_BONUS: [
        "le informazioni del Sistema Informativo Integrato sul riconoscimento del bonus",
        "gli importi del bonus accreditati nelle bollette",
    ],
    Complaint.Topic.COMMERCIAL_QUALITY: [
        "lo storico delle Sue richieste e delle nostre risposte, con le loro date",
    ],
    Complaint.Topic.OTHER: [
        "i dati della Sua fornitura e lo storico delle Sue richieste",
    ],
}
_TELECOM_DOCUMENTS = {
    Complaint.Topic.BILLING: [
        "{invoice}",
        "il dettaglio del traffico e i canoni addebitati",
        "le condizioni economiche della Sua offerta",
    ],
    Complaint.Topic.CONNECTIONS: [
        "le verifiche tecniche sulla linea e i guasti segnalati",
        "le pratiche aperte con l'operatore di rete",
    ],
}

_BILLING_TOPICS = (Complaint.Topic.BILLING, Complaint.Topic.METERING, Complaint.Topic.DEFAULT)
_RECTIFICATION_KINDS = (Complaint.Kind.BILLING_RECTIFICATION, Complaint.Kind.DOUBLE_BILLING)


@dataclass(frozen=True)
class ReplyDraft:
    complaint: str
    checks: str
    conclusions: str
    rights: str

    def as_fields(self) -> dict[str, str]:
        return {
            "reply_complaint": self.complaint,
            "reply_checks": self.checks,
            "reply_conclusions": self.conclusions,
            "reply_rights": self.rights,
        }


def _invoice_wording(complaint: Complaint) -> str:
    invoice = complaint.invoice
    if invoice is not None and invoice.number:
        issued = f" del {formatting.day(invoice.issued_on)}" if invoice.issued_on else ""
        return f"la bolletta n. {invoice.number}{issued} che ha contestato"
    return "le bollette del periodo che ha contestato"


def draft_complaint(complaint: Complaint) -> str:
    supply = ""
    if complaint.service is not None and complaint.service.identifier:
        supply = f" per la fornitura {complaint.service}"
        if complaint.service.supply_address:
            supply += f" in {complaint.service.supply_address}"
    elif complaint.supply_reference:
        supply = f" per la fornitura {complaint.supply_reference}"
    received = formatting.day(complaint.received_on)
    sent = formatting.day(complaint.sent_on)
    when = f"il {received}" if received == sent else f"il {received} (data di invio: {sent})"
    excerpt = Truncator(" ".join(complaint.description.split())).words(45)
    return (
        f"Abbiamo ricevuto {when} {_KIND_NOUN[complaint.kind]} (codice {complaint.code}), che riguarda "
        f"{_TOPIC_ABOUT[complaint.topic]}{supply}.\n\n"
        f"Ci ha scritto: «{excerpt}»\n\n"
        f"{PLACEHOLDER}: riassuma in una o due frasi che cosa chiede il cliente]"
    )


def draft_checks(complaint: Complaint) -> str:
    table = _TELECOM_DOCUMENTS if selectors.is_communications_case(complaint) else {}
    documents = table.get(complaint.topic) or _TOPIC_DOCUMENTS[complaint.topic]
    contract = f" n. {complaint.contract.number}" if complaint.contract is not None else ""
    lines = [
        "- " + document.format(contract=contract, invoice=_invoice_wording(complaint))
        for document in documents
    ]
    return (
        "Per rispondere abbiamo esaminato questi documenti:\n"
        + "\n".join(lines)
        + f"\n\n{PLACEHOLDER}: che cosa è emerso dalle verifiche, con date e importi]"
    )


def draft_conclusions(complaint: Complaint, outcome: str = OPEN) -> str:
    rectification = complaint.kind in _RECTIFICATION_KINDS
    billing = rectification or complaint.topic in _BILLING_TOPICS
    if complaint.kind == Complaint.Kind.INFORMATION_REQUEST:
        text = f"Ecco le informazioni che ci ha chiesto: {PLACEHOLDER}: le informazioni, in parole semplici]"
    elif outcome == UPHELD and rectification:
        text = (
            f"Le verifiche confermano quanto ci ha segnalato: {_invoice_wording(complaint)} sarà rettificata "
            f"con una nota di credito di {PLACEHOLDER}: importo] €, che troverà nella prossima bolletta. "
            "Se ha già pagato, l'importo Le sarà accreditato o, se lo preferisce, rimborsato."
        )
    elif outcome == UPHELD:
        text = (
            "Le verifiche confermano quanto ci ha segnalato e ci scusiamo per il disagio. "
            f"Per questo {PLACEHOLDER}: che cosa faremo e entro quando]"
        )
    elif outcome == PARTLY_UPHELD:
        text = (
            "Le verifiche confermano solo in parte quanto ci ha segnalato. "
            f"{PLACEHOLDER}: che cosa accogliamo, che cosa no e perché; che cosa faremo e entro quando]"
        )
    elif outcome == REJECTED:
        text = (
            "Dalle verifiche non sono emersi errori da parte nostra, per i motivi spiegati sopra: per questo "
            f"non possiamo accogliere la Sua richiesta. {PLACEHOLDER}: la spiegazione in parole semplici]"
        )
    else:
        text = (
            f"{PLACEHOLDER}: l'esito (fondato, in parte fondato o non fondato), che cosa faremo e "
            "entro quando]"
        )
    if billing and outcome != UPHELD:
        text += (
            "\n\nLe ricordiamo che il reclamo non sospende l'obbligo di pagare la bolletta contestata "
            "(art. 8.2 delle Condizioni Generali di Contratto)."
        )
    return text


def draft_rights(complaint: Complaint) -> str:
    supplier = settings.SUPPLIER
    if selectors.is_communications_case(complaint):
        conciliation = (
            "Se questa risposta non La soddisfa, può chiedere gratuitamente un tentativo di conciliazione "
            "al Co.re.com della Sua regione sulla piattaforma Conciliaweb dell'AGCOM "
            "(conciliaweb.agcom.it), accedendo con un account o con SPID."
        )
    else:
        conciliation = (
            "Se questa risposta non La soddisfa, può presentare gratuitamente una domanda al Servizio "
            "Conciliazione dell'Autorità di Regolazione per Energia Reti e Ambiente (ARERA), dal sito "
            "www.arera.it, oppure rivolgersi a uno degli organismi ADR iscritti nell'elenco dell'Autorità. "
            f"Può farlo anche se trascorrono {deadlines.CONCILIATION_WAIT_DAYS} giorni dall'invio di un "
            "reclamo senza ricevere risposta. Il tentativo di conciliazione è la condizione per potersi "
            "poi rivolgere al giudice."
        )
    contacts = (
        f"Per qualsiasi chiarimento può chiamare il Numero Verde {supplier['phone_private']} (privati) o "
        f"{supplier['phone_business']} (aziende), gratuitamente dalla SIM {supplier['brand']} il "
        f"{supplier['phone_mobile']}, scrivere a {supplier['email']}, alla PEC {supplier['pec']} o a "
        f"{supplier['name']}, {supplier['address']}, indicando il codice {complaint.code}. "
        "Può seguire la pratica anche dall'Area Clienti."
    )
    return f"{conciliation}\n\n{contacts}"


def draft(complaint: Complaint, outcome: str = OPEN) -> ReplyDraft:
    """The four sections for this case, ready for staff to complete."""
    return ReplyDraft(
        complaint=draft_complaint(complaint),
        checks=draft_checks(complaint),
        conclusions=draft_conclusions(complaint, outcome),
        rights=draft_rights(complaint),
    )


def unfinished_sections_of(complaint: Complaint) -> list[str]:
    """The headings of the case's reply sections still to complete."""
    return unfinished_sections({name: getattr(complaint, name) for name in SECTION_FIELDS})


def unfinished_sections(values: dict[str, str]) -> list[str]:
    """The headings of the sections still empty or with a "[da completare: …]" left in them."""
    return [
        heading
        for field, heading in SECTION_FIELDS.items()
        if not (values.get(field) or "").strip() or PLACEHOLDER in (values.get(field) or "")
    ]
