"""Demo complaints for `seed_demo`: an open case near its deadline, one answered late with its indemnity,
an information request answered in time, one filed without an account by someone not identified, a letter
whose reply waits to be posted, a case waiting for the customer, an overdue one nobody took, a reply that
promises a rectification (billing issues its credit note) and a bill contested after its default notice.

What the services record (the case history, the acknowledgement and the reply in the customer's inbox) is
dated on the story's day, not on the day the demo is seeded: the history then reads as the cases happened."""

from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Max

from accounts.models import Customer, User
from billing.models import DefaultNotice, Invoice
from complaints import services
from complaints.models import Complaint, ComplaintEvent, ReplySnippet
from contracts.models import Service
from portal.lib import formatting
from portal.lib.dates import ROME, add_days
from portal.notifications.models import Communication, Delivery
from portal.notifications.services import record_letter_dispatch

REPLY = {
    "reply_complaint": "Ci ha scritto che il consumo fatturato per agosto le sembra troppo alto rispetto agli anni scorsi.",
    "reply_checks": "Abbiamo verificato le letture del distributore di luglio e settembre e la sua autolettura di agosto: "
    "le letture sono coerenti tra loro e il contatore non ha segnalato anomalie.",
    "reply_conclusions": "Il consumo fatturato corrisponde alle letture effettive: la bolletta è corretta.",
    "reply_rights": "Se la risposta non la soddisfa può rivolgersi al Servizio Conciliazione di ARERA. "
    "Per ogni chiarimento: Numero Verde 800.913838.",
}


POSTAL_REPLY = {
    "reply_complaint": "Ci ha scritto di aver ricevuto una nostra lettera di benvenuto, pur non avendo mai "
    "sottoscritto un contratto con noi.",
    "reply_checks": "Abbiamo verificato le nostre anagrafiche: a Suo nome non risulta alcun contratto né alcuna "
    "fornitura. La lettera era destinata a un omonimo ed è stata spedita al Suo indirizzo per errore.",
    "reply_conclusions": "Non deve fare nulla: non Le verrà addebitato alcun importo e abbiamo corretto "
    "l'indirizzo del destinatario.",
    "reply_rights": "Se la risposta non La soddisfa può rivolgersi al Servizio Conciliazione di ARERA, senza costi. "
    "Per ogni chiarimento: Numero Verde 800.913838.",
}

# The rectification the reply to Giulia promises: billing takes it back with a credit note of this amount.
RECTIFICATION = Decimal("48.20")

RECTIFICATION_REPLY = {
    "reply_complaint": "Ci ha scritto che nella bolletta del gas di ottobre il consumo è stato stimato, "
    "mentre Lei ci aveva comunicato l'autolettura del contatore.",
    "reply_checks": "Abbiamo verificato che la Sua autolettura è arrivata in tempo ma non è stata usata: "
    "il consumo fatturato era stimato e superiore a quello reale.",
    "reply_conclusions": "Le riconosciamo una rettifica di {amount}: la nota di credito sulla bolletta {number} "
    "sarà detratta dalla prossima bolletta.",
    "reply_rights": "Se la risposta non la soddisfa può rivolgersi al Servizio Conciliazione di ARERA. "
    "Per ogni chiarimento: Numero Verde 800.913838.",
}

# A paragraph ready for the officers' replies (supervisors keep them in admin), next to the default templates.
SNIPPET = {
    "title": "Letture del distributore",
    "section": ReplySnippet.Section.CHECKS,
    "text": "Abbiamo confrontato le letture trasmesse dal distributore con le autoletture che ci ha comunicato.",
}


def complaints_exist() -> bool:
    return Complaint.objects.exists()


@contextmanager
def _on(day: date, hour: int):
    """Date on `day` at `hour` (Rome) the cases, their events and communications the block creates."""
    moment = datetime.combine(day, time(hour), tzinfo=ROME)
    before = {
        model: model.objects.aggregate(last=Max("pk"))["last"] or 0
        for model in (Complaint, ComplaintEvent, Communication)
    }
    yield
    Complaint.objects.filter(pk__gt=before[Complaint]).update(created_at=moment)
    Complaint.objects.filter(pk__gt=before[Complaint], acknowledged_at__isnull=False).update(
        acknowledged_at=moment
    )
    ComplaintEvent.objects.filter(pk__gt=before[ComplaintEvent]).update(at=moment)
    Communication.objects.filter(pk__gt=before[Communication]).update(created_at=moment)


def _filed(**fields) -> Complaint:
    """Filed and acknowledged at once (not by the task after the seed commits), so the acknowledgement is
    dated with the filing."""
    complaint = services.file_complaint(**fields)
    services.send_acknowledgement(complaint)
    return complaint


def _write_reply(complaint: Complaint, sections: dict[str, str]) -> None:
    for field, text in sections.items():
        setattr(complaint, field, text)
    complaint.save(update_fields=list(sections))


def seed_complaints(*, today: date, late_reply_on: date) -> list[str]:
    """The cases as of `today`; the late reply is sent on `late_reply_on`, so that its indemnity is deducted
    by the first bill issued after that day (the seed issues the bills around it)."""
    mario = Customer.objects.get(code="C000100001")
    giulia = Customer.objects.get(code="C000100002")
    officer = User.objects.get(email="reclami@optima.example")
    electricity = Service.objects.get(contract__number="OPT-2025-0001001", kind=Service.Kind.ELECTRICITY)

    # Sent 40 days before the reply: 10 days past the 30-day standard, the first band of the indemnity.
    late_sent_on = add_days(late_reply_on, -40)
    with _on(late_sent_on, 11):
        late = _filed(
            kind=Complaint.Kind.COMPLAINT,
            topic=Complaint.Topic.METERING,
            channel=Complaint.Channel.EMAIL,
            description="Il consumo di agosto mi sembra troppo alto.",
            sent_on=late_sent_on,
            customer=mario,
            service=electricity,
            by=officer,
        )
    with _on(add_days(late_sent_on, 1), 9):
        late = services.assign(complaint=late, to=officer, by=officer)
    with _on(late_reply_on, 16):
        _write_reply(late, REPLY)
        late = services.send_reply(
            complaint=late,
            answered_on=late_reply_on,
            by=officer,
            delay_cause="Attesa delle letture del distributore.",
        )

    open_sent_on = add_days(today, -26)
    with _on(open_sent_on, 18):
        open_case = _filed(
            kind=Complaint.Kind.COMPLAINT,
            topic=Complaint.Topic.BILLING,
            channel=Complaint.Channel.PORTAL,
            description="Nell'ultima bolletta trovo addebitata una quota fissa doppia rispetto al mese precedente.",
            sent_on=open_sent_on,
            customer=mario,
            service=electricity,
            by=mario.user,
        )
    with _on(add_days(open_sent_on, 1), 9):
        services.assign(complaint=open_case, to=officer, by=officer)

    with _on(add_days(today, -3), 20):
        info = _filed(
            kind=Complaint.Kind.INFORMATION_REQUEST,
            topic=Complaint.Topic.CONTRACTS,
            channel=Complaint.Channel.PORTAL,
            description="Vorrei sapere fino a quando posso cambiare idea sul contratto appena firmato.",
            sent_on=add_days(today, -3),
            customer=giulia,
            by=giulia.user,
        )

    with _on(add_days(today, -1), 12):
        public = _filed(
            kind=Complaint.Kind.COMPLAINT,
            topic=Complaint.Topic.MARKET,
            channel=Complaint.Channel.PUBLIC_FORM,
            description="Ho ricevuto una telefonata commerciale a nome vostro che non avevo richiesto.",
            sent_on=add_days(today, -1),
            sender_name="Lucia Ferri",
            sender_email="lucia.ferri@example.it",
            reply_address="Via Garibaldi 12, 10122 Torino (TO)",
        )
    ReplySnippet.objects.get_or_create(title=SNIPPET["title"], defaults=SNIPPET)
    return [
        f"{open_case.code}  Mario Rossi  reclamo aperto, risposta entro il {open_case.answer_due_on:%d/%m/%Y}",
        f"{late.code}  Mario Rossi  risposto in ritardo il {late.answered_on:%d/%m/%Y}: indennizzo "
        f"{late.indemnity_amount} € dedotto dalla bolletta successiva",
        f"{info.code}  Giulia Bianchi  richiesta di informazioni",
        f"{public.code}  Lucia Ferri (modulo senza account, non identificata) → {public.get_kind_display()}",
        _postal_reply(today=today, officer=officer),
        _waiting_for_giulia(today=today, giulia=giulia, officer=officer),
        _overdue_unassigned(today=today),
    ]


def _postal_reply(*, today: date, officer: User) -> str:
    """A letter from someone who is not a customer and gave no e-mail address: the acknowledgement went by
    post the next day; the reply, written and sent yesterday, waits in "Lettere da spedire"."""
    mailroom = User.objects.get(email="bollette@optima.example")
    received_on = add_days(today, -9)
    with _on(received_on, 10):
        letter = _filed(
            kind=Complaint.Kind.INFORMATION_REQUEST,
            topic=Complaint.Topic.CONTRACTS,
            channel=Complaint.Channel.LETTER,
            description="Mi è arrivata una vostra lettera di benvenuto, ma non ho mai firmato un contratto con voi.",
            sent_on=add_days(received_on, -2),
            received_on=received_on,
            sender_name="Carla Moretti",
            reply_address="Via Roma 45, 84121 Salerno (SA)",
            by=officer,
        )
    posted_on = add_days(received_on, 1)
    record_letter_dispatch(
        delivery=Delivery.objects.letters_to_post().get(
            communication__template_key="complaint_ack", communication__about_id=letter.pk
        ),
        dispatched_on=posted_on,
        by=mailroom,
        now=datetime.combine(posted_on, time(15), tzinfo=ROME),
    )
    with _on(add_days(today, -1), 11):
        _write_reply(letter, POSTAL_REPLY)
        letter = services.send_reply(complaint=letter, answered_on=add_days(today, -1), by=officer)
    return f"{letter.code}  Carla Moretti (lettera, senza e-mail)  risposta in «Lettere da spedire»"


def _waiting_for_giulia(*, today: date, giulia: Customer, officer: User) -> str:
    """Giulia's complaint about a charge on the contract not yet active: the officer asked her for the bank
    statement, and the case waits for her answer (the clock runs on)."""
    electricity = Service.objects.get(contract__number="OPT-2026-0007731", kind=Service.Kind.ELECTRICITY)
    with _on(add_days(today, -2), 19):
        case = _filed(
            kind=Complaint.Kind.COMPLAINT,
            topic=Complaint.Topic.BILLING,
            channel=Complaint.Channel.PORTAL,
            description="Mi è stato addebitato sul conto un importo di 15 € anche se la luce non è ancora attiva.",
            sent_on=add_days(today, -2),
            customer=giulia,
            service=electricity,
            by=giulia.user,
        )
    with _on(add_days(today, -1), 10):
        services.assign(complaint=case, to=officer, by=officer)
        case = services.ask_customer(
            complaint=case,
            text="Ci invii l'estratto conto con l'addebito (data e importo): lo verifichiamo con la banca.",
            by=officer,
        )
    return f"{case.code}  Giulia Bianchi  in attesa di informazioni dalla cliente"


def _overdue_unassigned(*, today: date) -> str:
    """An e-mail nobody took: past its answer-by date, flagged by the overdue sweep the day after."""
    sent_on = add_days(today, -35)
    with _on(sent_on, 8):
        case = _filed(
            kind=Complaint.Kind.INFORMATION_REQUEST,
            topic=Complaint.Topic.CONTRACTS,
            channel=Complaint.Channel.EMAIL,
            description="Ho comprato casa in Via Chiaia 30 a Napoli: quali documenti servono per il subentro "
            "nella fornitura di luce?",
            sent_on=sent_on,
            sender_name="Roberto Marino",
            sender_email="roberto.marino@example.it",
            reply_address="Via Chiaia 30, 80121 Napoli (NA)",
        )
    with _on(case.overdue_on, 6):
        services.mark_overdue(case, today=case.overdue_on)
    return f"{case.code}  Roberto Marino (e-mail)  non assegnato, scaduto il {case.answer_due_on:%d/%m/%Y}"


def promise_rectification(*, answered_on: date) -> Complaint:
    """Giulia's complaint about the gas bill issued before `answered_on`, answered in time with the promise of
    a RECTIFICATION, which billing then issues as a credit note."""
    giulia = Customer.objects.get(code="C000100002")
    officer = User.objects.get(email="reclami@optima.example")
    bill = Invoice.objects.filter(
        customer=giulia, kind=Invoice.Kind.INVOICE, issued_on__lt=answered_on
    ).latest("issued_on")
    filed_on = add_days(bill.issued_on, 3)
    with _on(filed_on, 21):
        case = _filed(
            kind=Complaint.Kind.COMPLAINT,
            topic=Complaint.Topic.METERING,
            channel=Complaint.Channel.PORTAL,
            description="Nella bolletta del gas il consumo è stimato, ma avevo comunicato l'autolettura.",
            sent_on=filed_on,
            customer=giulia,
            service=bill.contract.services.get(kind=Service.Kind.GAS),
            invoice=bill,
            by=giulia.user,
        )
    with _on(add_days(filed_on, 1), 9):
        services.assign(complaint=case, to=officer, by=officer)
    with _on(answered_on, 12):
        amount = formatting.euro(RECTIFICATION, italian=True)
        _write_reply(
            case,
            {
                **RECTIFICATION_REPLY,
                "reply_conclusions": RECTIFICATION_REPLY["reply_conclusions"].format(
                    amount=amount, number=bill.number
                ),
            },
        )
        return services.send_reply(complaint=case, answered_on=answered_on, by=officer)


def contest_notice_bill(*, notice: DefaultNotice, contested_on: date) -> str:
    """The customer of a default notice contests its bill by PEC after the suspension became allowed: the
    officer holds the bill out of dunning until the reply, and the notice allows no step."""
    officer = User.objects.get(email="reclami@optima.example")
    item = notice.items.select_related("invoice__contract").get()
    bill = item.invoice
    with _on(contested_on, 10):
        case = _filed(
            kind=Complaint.Kind.COMPLAINT,
            topic=Complaint.Topic.BILLING,
            channel=Complaint.Channel.PEC,
            description=f"Contestiamo la bolletta {bill.number}: i consumi fatturati sono stimati e superano "
            "quelli del nostro contatore. Chiediamo la rettifica prima di pagarla.",
            sent_on=contested_on,
            customer=notice.customer,
            service=bill.contract.services.get(kind=Service.Kind.ELECTRICITY),
            invoice=bill,
            by=officer,
        )
        services.assign(complaint=case, to=officer, by=officer)
        services.block_invoice_dunning(
            complaint=case,
            reason="Consumi contestati: nessuna sospensione prima della risposta motivata.",
            by=officer,
        )
    return (
        f"{case.code}  {notice.customer.display_name}  contesta la bolletta {bill.number}: costituzione in mora "
        f"{notice.reference} bloccata (admin, Morosità: il lavoro di oggi)"
    )
