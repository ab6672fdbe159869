"""Drafts of the reasoned reply, in the four sections ARERA asks for, in plain Italian.

"Il Suo reclamo", "Le nostre verifiche" (with the documents checked), "Le nostre conclusioni", "I Suoi
diritti" (contacts and conciliation). The starting texts are the supervisors' (complaints.models.ReplyTemplate,
in admin; the defaults are in complaints.default_reply_templates): each section comes from the most
specific template for the case's kind, services, ARERA topic and the outcome staff choose, filled in with
the case's data; staff complete it in admin, where every "[da completare: …]" must be replaced before the
reply can be sent. What the regulation dictates is generated here, never taken from a template: the
conciliation and contacts of "I Suoi diritti" and the reminder that a billing complaint does not suspend
payment. The automatic indemnity is not part of the draft either: the reply letter adds its paragraph from
the amount computed when the reply is sent (a draft written on day 28 and sent on day 32 would be wrong).

The drafts are in Italian whatever the customer's language: the reply is staff's own text, like a letter
typed by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils.text import Truncator

from complaints import deadlines, selectors
from complaints.models import Complaint, ReplySnippet, ReplyTemplate
from portal.lib import formatting

PLACEHOLDER = "[da completare"

# What the reply can conclude; the first is the neutral draft shown when staff open a case.
OPEN = ""
UPHELD = ReplyTemplate.Outcome.UPHELD
REJECTED = ReplyTemplate.Outcome.REJECTED
PARTLY_UPHELD = ReplyTemplate.Outcome.PARTLY_UPHELD
OUTCOMES = [(OPEN, "Da decidere (bozza neutra)"), *ReplyTemplate.Outcome.choices]

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

_BILLING_TOPICS = (Complaint.Topic.BILLING, Complaint.Topic.METERING, Complaint.Topic.DEFAULT)
_RECTIFICATION_KINDS = (Complaint.Kind.BILLING_RECTIFICATION, Complaint.Kind.DOUBLE_BILLING)

# What a template's text can say about the case, written {name}; the admin refuses any other name.
FIELDS = {
    "codice": "il codice del caso (R-2026-000123)",
    "ricevuto": "«il 02/12/2026», con la data di invio se diversa",
    "richiesta": "«il Suo reclamo scritto», «la Sua richiesta scritta di informazioni»…",
    "argomento": "«gli importi che Le abbiamo fatturato», secondo l'argomento",
    "fornitura": "« per la fornitura … in …» (vuoto se la fornitura non è nota)",
    "estratto": "le prime 45 parole del reclamo",
    "contratto": "«il contratto n. …» (o «il contratto»)",
    "bolletta": "«la bolletta n. … del … che ha contestato» (o «le bollette del periodo che ha contestato»)",
}
_FIELD = re.compile(r"\{(\w*)\}")

_TEXTS = {
    "reply_complaint": "complaint_text",
    "reply_checks": "checks_text",
    "reply_conclusions": "conclusions_text",
    "reply_rights": "rights_intro",
}


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


def unknown_fields(text: str) -> list[str]:
    """The {names} in a template's text that no case can fill."""
    return sorted({name for name in _FIELD.findall(text) if name not in FIELDS})


def _invoice_wording(complaint: Complaint) -> str:
    invoice = complaint.invoice
    if invoice is not None and invoice.number:
        issued = f" del {formatting.day(invoice.issued_on)}" if invoice.issued_on else ""
        return f"la bolletta n. {invoice.number}{issued} che ha contestato"
    return "le bollette del periodo che ha contestato"


def fields_of(complaint: Complaint) -> dict[str, str]:
    supply = ""
    if complaint.service is not None and complaint.service.identifier:
        supply = f" per la fornitura {complaint.service}"
        if complaint.service.supply_address:
            supply += f" in {complaint.service.supply_address}"
    elif complaint.supply_reference:
        supply = f" per la fornitura {complaint.supply_reference}"
    received = formatting.day(complaint.received_on)
    sent = formatting.day(complaint.sent_on)
    contract = "il contratto"
    if complaint.contract is not None:
        contract += f" n. {complaint.contract.number}"
    return {
        "codice": complaint.code,
        "ricevuto": f"il {received}" if received == sent else f"il {received} (data di invio: {sent})",
        "richiesta": _KIND_NOUN[complaint.kind],
        "argomento": _TOPIC_ABOUT[complaint.topic],
        "fornitura": supply,
        "estratto": Truncator(" ".join(complaint.description.split())).words(45),
        "contratto": contract,
        "bolletta": _invoice_wording(complaint),
    }


def _fill(text: str, values: dict[str, str]) -> str:
    return _FIELD.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def templates_for(complaint: Complaint, outcome: str = OPEN) -> list[ReplyTemplate]:
    """The active templates that apply to the case and outcome, the most specific first: more conditions
    set, then kind, outcome, services and topic in that order of weight. A blank outcome is any outcome,
    and the only one the neutral draft uses."""
    sector = (
        ReplyTemplate.Sector.COMMUNICATIONS
        if selectors.is_communications_case(complaint)
        else ReplyTemplate.Sector.ENERGY
    )
    templates = ReplyTemplate.objects.filter(
        Q(kind="") | Q(kind=complaint.kind),
        Q(sector="") | Q(sector=sector),
        Q(topic="") | Q(topic=complaint.topic),
        Q(outcome="") | Q(outcome=outcome),
        active=True,
    )

    def specificity(template):
        conditions = [
            bool(template.kind),
            bool(template.outcome),
            bool(template.sector),
            bool(template.topic),
        ]
        return (sum(conditions), *conditions)

    return sorted(templates, key=lambda template: (specificity(template), template.name), reverse=True)


def draft(complaint: Complaint, outcome: str = OPEN, template: ReplyTemplate | None = None) -> ReplyDraft:
    """The four sections for this case, ready for staff to complete: each section from `template` when
    given and written there, else from the most specific template that has it; then the generated parts."""
    candidates = templates_for(complaint, outcome)
    if template is not None:
        candidates.insert(0, template)
    values = fields_of(complaint)
    texts = {}
    for section, attribute in _TEXTS.items():
        text = next((getattr(t, attribute) for t in candidates if getattr(t, attribute).strip()), "")
        texts[section] = _fill(text, values).strip()
    return ReplyDraft(
        complaint=texts["reply_complaint"],
        checks=texts["reply_checks"],
        conclusions=_with_payment_reminder(texts["reply_conclusions"], complaint, outcome),
        rights="\n\n".join(part for part in (texts["reply_rights"], rights_text(complaint)) if part),
    )


def _with_payment_reminder(text: str, complaint: Complaint, outcome: str) -> str:
    # A billing case not upheld in full: the customer must still pay the bill (CG art. 8.2).
    billing = complaint.kind in _RECTIFICATION_KINDS or complaint.topic in _BILLING_TOPICS
    if not billing or outcome == UPHELD:
        return text
    reminder = (
        "Le ricordiamo che il reclamo non sospende l'obbligo di pagare la bolletta contestata "
        "(art. 8.2 delle Condizioni Generali di Contratto)."
    )
    return f"{text}\n\n{reminder}" if text else reminder


def rights_text(complaint: Complaint) -> str:
    """Conciliation and contacts: from the regulation and the supplier's identity, never from a template."""
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


def snippets_for(complaint: Complaint) -> list[ReplySnippet]:
    """The active snippets, by section, with the case's data filled in (`text`), ready to add to a reply."""
    values = fields_of(complaint)
    snippets = list(ReplySnippet.objects.filter(active=True))
    for snippet in snippets:
        snippet.text = _fill(snippet.text, values)
    return snippets
