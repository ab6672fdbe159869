"""The reply templates a new installation starts with: the texts the portal drafted before supervisors
could manage them in admin (complaints.models.ReplyTemplate). Seeded once, when the table is empty, after
`migrate` (complaints.apps); from then on they are the supervisors' to change or switch off.

Placeholders between braces are filled from the case (complaints.reply_templates.FIELDS); a section left
empty is taken from a more general template.
"""

from complaints.models import Complaint, ReplyTemplate

_ASK = "[da completare"

_DOCUMENTS = {
    Complaint.Topic.CONTRACTS: [
        "{contratto} con le condizioni generali ed economiche che ha sottoscritto",
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
        "{bolletta}",
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
}
_COMMUNICATIONS_DOCUMENTS = {
    Complaint.Topic.BILLING: [
        "{bolletta}",
        "il dettaglio del traffico e i canoni addebitati",
        "le condizioni economiche della Sua offerta",
    ],
    Complaint.Topic.CONNECTIONS: [
        "le verifiche tecniche sulla linea e i guasti segnalati",
        "le pratiche aperte con l'operatore di rete",
    ],
}


def _checks(documents):
    return (
        "Per rispondere abbiamo esaminato questi documenti:\n"
        + "\n".join(f"- {document}" for document in documents)
        + f"\n\n{_ASK}: che cosa è emerso dalle verifiche, con date e importi]"
    )


DEFAULT_TEMPLATES = [
    {
        "name": "Bozza generale",
        "complaint_text": (
            "Abbiamo ricevuto {ricevuto} {richiesta} (codice {codice}), che riguarda {argomento}{fornitura}.\n\n"
            "Ci ha scritto: «{estratto}»\n\n"
            f"{_ASK}: riassuma in una o due frasi che cosa chiede il cliente]"
        ),
        "checks_text": _checks(["i dati della Sua fornitura e lo storico delle Sue richieste"]),
        "conclusions_text": (
            f"{_ASK}: l'esito (fondato, in parte fondato o non fondato), che cosa faremo e entro quando]"
        ),
    },
    *(
        {"name": f"Verifiche: {topic.label}", "topic": topic.value, "checks_text": _checks(documents)}
        for topic, documents in _DOCUMENTS.items()
    ),
    *(
        {
            "name": f"Verifiche Internet e mobile: {topic.label}",
            "sector": ReplyTemplate.Sector.COMMUNICATIONS.value,
            "topic": topic.value,
            "checks_text": _checks(documents),
        }
        for topic, documents in _COMMUNICATIONS_DOCUMENTS.items()
    ),
    {
        "name": "Esito: fondato",
        "outcome": ReplyTemplate.Outcome.UPHELD.value,
        "conclusions_text": (
            "Le verifiche confermano quanto ci ha segnalato e ci scusiamo per il disagio. "
            f"Per questo {_ASK}: che cosa faremo e entro quando]"
        ),
    },
    *(
        {
            "name": f"Esito: fondato ({kind.label.lower()})",
            "kind": kind.value,
            "outcome": ReplyTemplate.Outcome.UPHELD.value,
            "conclusions_text": (
                "Le verifiche confermano quanto ci ha segnalato: {bolletta} sarà rettificata con una nota di "
                f"credito di {_ASK}: importo] €, che troverà nella prossima bolletta. Se ha già pagato, "
                "l'importo Le sarà accreditato o, se lo preferisce, rimborsato."
            ),
        }
        for kind in (Complaint.Kind.BILLING_RECTIFICATION, Complaint.Kind.DOUBLE_BILLING)
    ),
    {
        "name": "Esito: in parte fondato",
        "outcome": ReplyTemplate.Outcome.PARTLY_UPHELD.value,
        "conclusions_text": (
            "Le verifiche confermano solo in parte quanto ci ha segnalato. "
            f"{_ASK}: che cosa accogliamo, che cosa no e perché; che cosa faremo e entro quando]"
        ),
    },
    {
        "name": "Esito: non fondato",
        "outcome": ReplyTemplate.Outcome.REJECTED.value,
        "conclusions_text": (
            "Dalle verifiche non sono emersi errori da parte nostra, per i motivi spiegati sopra: per questo "
            f"non possiamo accogliere la Sua richiesta. {_ASK}: la spiegazione in parole semplici]"
        ),
    },
    {
        "name": "Richiesta di informazioni",
        "kind": Complaint.Kind.INFORMATION_REQUEST.value,
        "conclusions_text": f"Ecco le informazioni che ci ha chiesto: {_ASK}: le informazioni, in parole semplici]",
    },
]


def seed(templates=None) -> int:
    """Create the default templates when there are none at all (a supervisor switches one off rather than
    deleting it, so an emptied table is only a new one). `templates` is the manager to write with
    (migrate passes its own). Returns how many were created."""
    templates = ReplyTemplate.objects if templates is None else templates
    if templates.exists():
        return 0
    templates.bulk_create(templates.model(**fields) for fields in DEFAULT_TEMPLATES)
    return len(DEFAULT_TEMPLATES)
