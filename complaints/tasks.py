"""The complaint deadline sweeps: every few minutes, because a case filed today may be due very soon."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from complaints import services
from complaints.models import Complaint
from portal import deadlines

EVERY_FIVE_MINUTES = 300.0

REMINDERS = deadlines.register(
    deadlines.Sweep(
        name="complaints.staff_reminders",
        description="Promemoria agli addetti 5 giorni prima della scadenza e il giorno stesso",
        pending=lambda: Complaint.objects.filter(answered_on__isnull=True),
        due_field="reminder_due_on",
        act=lambda complaint, ctx: services.remind_staff(complaint, today=ctx.today),
        schedule=EVERY_FIVE_MINUTES,
    )
)

OVERDUE = deadlines.register(
    deadlines.Sweep(
        name="complaints.overdue",
        description="Reclami senza risposta oltre il termine (30 giorni, o lo standard del tipo)",
        pending=lambda: Complaint.objects.filter(answered_on__isnull=True, overdue=False),
        due_field="overdue_on",
        act=lambda complaint, ctx: services.mark_overdue(complaint, today=ctx.today),
        schedule=EVERY_FIVE_MINUTES,
    )
)

CONCILIATION = deadlines.register(
    deadlines.Sweep(
        name="complaints.conciliation",
        description="40 giorni dall'invio senza risposta: informare il cliente sulla conciliazione",
        pending=lambda: Complaint.objects.filter(
            answered_on__isnull=True, conciliation_notified_on__isnull=True
        ),
        due_field="conciliation_due_on",
        act=lambda complaint, ctx: services.tell_about_conciliation(complaint, today=ctx.today),
        schedule=EVERY_FIVE_MINUTES,
    )
)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def send_staff_alert(complaint_id, subject, emails):
    """An internal alert e-mail; retried on connection errors, and harmless if sent twice."""
    complaint = Complaint.objects.get(pk=complaint_id)
    send_mail(
        subject,
        f"{complaint.code} · {complaint.get_kind_display()} · {complaint.sender_name}\n"
        f"Risposta entro il {complaint.answer_due_on:%d/%m/%Y}.\n"
        f"{settings.PORTAL_BASE_URL}{reverse('admin:complaints_complaint_change', args=[complaint.pk])}\n",
        None,
        emails,
    )
