"""Demo complaints for `seed_demo`: an open case near its deadline, one answered late with its indemnity,
an information request answered in time, and one filed without an account by someone not identified.

What the services record (the case history, the acknowledgement and the reply in the customer's inbox) is
dated on the story's day, not on the day the demo is seeded: the history then reads as the cases happened."""

from contextlib import contextmanager
from datetime import date, datetime, time

from django.db.models import Max

from accounts.models import Customer, User
from complaints import services
from complaints.models import Complaint, ComplaintEvent
from contracts.models import Service
from portal.lib.dates import ROME, add_days
from portal.notifications.models import Communication

REPLY = {
    "reply_complaint": "Ci ha scritto che il consumo fatturato per agosto le sembra troppo alto rispetto agli anni scorsi.",
    "reply_checks": "Abbiamo verificato le letture del distributore di luglio e settembre e la sua autolettura di agosto: "
    "le letture sono coerenti tra loro e il contatore non ha segnalato anomalie.",
    "reply_conclusions": "Il consumo fatturato corrisponde alle letture effettive: la bolletta è corretta.",
    "reply_rights": "Se la risposta non la soddisfa può rivolgersi al Servizio Conciliazione di ARERA. "
    "Per ogni chiarimento: Numero Verde 800.913838.",
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
        for field, text in REPLY.items():
            setattr(late, field, text)
        late.delay_cause = "Attesa delle letture del distributore."
        late.save()
        late = services.send_reply(complaint=late, answered_on=late_reply_on, by=officer)

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
    return [
        f"{open_case.code}  Mario Rossi  reclamo aperto, risposta entro il {open_case.answer_due_on:%d/%m/%Y}",
        f"{late.code}  Mario Rossi  risposto in ritardo il {late.answered_on:%d/%m/%Y}: indennizzo "
        f"{late.indemnity_amount} € dedotto dalla bolletta successiva",
        f"{info.code}  Giulia Bianchi  richiesta di informazioni",
        f"{public.code}  Lucia Ferri (modulo senza account, non identificata) → {public.get_kind_display()}",
    ]
