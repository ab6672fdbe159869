"""The complaint deadline sweeps (every few minutes, because a case filed today may be due very soon), the
acknowledgement of a filed case and the staff alerts."""

from celery import shared_task
from django.core.mail import send_mail
from django.urls import reverse

from complaints import selectors, services
from complaints.models import Complaint
from portal import deadlines
from portal.lib.emails import absolute_url
from portal.notifications.services import Recipient, notify

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

ACKNOWLEDGEMENTS = deadlines.register(
    deadlines.catch_up(
        name="complaints.acknowledgements",
        description="Reclami ancora senza conferma di ricezione (coda non raggiunta): la invia",
        unsent=lambda: Complaint.objects.filter(acknowledged_at__isnull=True),
        due_field="received_on",  # served by the partial index complaint_ack_pending
        act=lambda complaint, ctx: services.send_acknowledgement(complaint),
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
        f"{absolute_url('admin:complaints_complaint_change', complaint.pk)}\n",
        None,
        emails,
    )


@shared_task(queue="pdf")
def send_acknowledgement(complaint_id: int) -> None:
    """The acknowledgement with the PDF copy of the filed form, queued when the filing commits: the render
    happens here, never in the request nor under the lock of the year's case-code counter (DESIGN.md §4).
    Run again (acks_late redelivery), it finds the case acknowledged and neither renders nor sends."""
    services.send_acknowledgement(Complaint.objects.get(pk=complaint_id))


@shared_task
def send_tracking_link(code: str, email: str, *, language: str, site_url: str, request_id: str) -> None:
    """The tracking link, if the code and the e-mail match a case. Looked up here, never in the request:
    the tracking page then does the same work, in the same time, whether they match or not.

    `site_url` is the address the visitor used; `request_id` makes a redelivered run find the link already
    written, while every request still gets a link of its own."""
    complaint = selectors.case_for_tracking(code=code, email=email)
    if complaint is None:
        return
    # To the address on file that matched: the customer's own once the sender is identified as a customer,
    # like every other communication of the case (complaints.communications).
    address = complaint.customer.email if complaint.customer is not None else complaint.sender_email
    token = selectors.make_tracking_token(complaint)
    notify(
        recipient=Recipient(name=complaint.sender_name, email=address, language=language),
        template_key="complaint_tracking_link",
        context={
            "complaint": complaint,
            "tracking_url": site_url + reverse("complaints:track", args=[token]),
            "valid_days": selectors.TRACKING_LINK_MAX_AGE.days,
        },
        channels=["email"],
        dedupe_key=f"complaints.tracking:{complaint.pk}:{request_id}",
        about=complaint,
    )
