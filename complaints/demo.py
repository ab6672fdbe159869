"""Demo complaints for `seed_demo`: an open case near its deadline, one answered late with its indemnity,
an information request answered in time, and one filed without an account by someone not identified."""

from datetime import date

from accounts.models import Customer, User
from complaints import services
from complaints.models import Complaint
from contracts.models import Service
from portal.lib.dates import add_days

REPLY = {
    "reply_complaint": "Ci ha scritto che il consumo fatturato per agosto le sembra troppo alto rispetto agli anni scorsi.",
    "reply_checks": "Abbiamo verificato le letture del distributore di luglio e settembre e la sua autolettura di agosto: "
    "le letture sono coerenti tra loro e il contatore non ha segnalato anomalie.",
    "reply_conclusions": "Il consumo fatturato corrisponde alle letture effettive: la bolletta è corretta.",
    "reply_rights": "Se la risposta non la soddisfa può rivolgersi al Servizio Conciliazione di ARERA. "
    "Per ogni chiarimento: Numero Verde 800.913838.",
}


def seed_complaints(*, today: date) -> list[str]:
    if Complaint.objects.exists():
        return ["reclami già presenti"]
    mario = Customer.objects.get(code="C000100001")
    giulia = Customer.objects.get(code="C000100002")
    officer = User.objects.get(email="reclami@optima.example")
    electricity = Service.objects.get(contract__number="OPT-2025-0001001", kind=Service.Kind.ELECTRICITY)

    open_case = services.file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL,
        description="Nell'ultima bolletta trovo addebitata una quota fissa doppia rispetto al mese precedente.",
        sent_on=add_days(today, -26),
        customer=mario,
        service=electricity,
        by=mario.user,
    )
    services.assign(complaint=open_case, to=officer, by=officer)

    late = services.file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.METERING,
        channel=Complaint.Channel.EMAIL,
        description="Il consumo di agosto mi sembra troppo alto.",
        sent_on=add_days(today, -60),
        customer=mario,
        service=electricity,
        by=officer,
    )
    for field, text in REPLY.items():
        setattr(late, field, text)
    late.delay_cause = "Attesa delle letture del distributore."
    late.save()
    late = services.send_reply(complaint=late, answered_on=add_days(today, -20), by=officer)

    info = services.file_complaint(
        kind=Complaint.Kind.INFORMATION_REQUEST,
        topic=Complaint.Topic.CONTRACTS,
        channel=Complaint.Channel.PORTAL,
        description="Vorrei sapere fino a quando posso cambiare idea sul contratto appena firmato.",
        sent_on=add_days(today, -3),
        customer=giulia,
        by=giulia.user,
    )

    public = services.file_complaint(
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
        f"{late.code}  Mario Rossi  risposto in ritardo: indennizzo {late.indemnity_amount} € sulla prossima bolletta",
        f"{info.code}  Giulia Bianchi  richiesta di informazioni",
        f"{public.code}  Lucia Ferri (modulo senza account, non identificata) → {public.get_kind_display()}",
    ]
