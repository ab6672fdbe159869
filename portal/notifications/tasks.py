"""Thin Celery entry points: they read the clock and call the delivery service.

Both run with the project's `acks_late`: a task redelivered after a worker crash finds its delivery already
claimed (`sending`) or sent and does nothing; the beat-scheduled sweep releases abandoned claims.
"""

from celery import shared_task
from django.utils import timezone

from portal.notifications import services


@shared_task(acks_late=True)
def deliver_email(delivery_id: int) -> bool:
    """Queued when a communication with an e-mail or PEC delivery commits."""
    return services.send_pending_delivery(delivery_id, now=timezone.now())


@shared_task(acks_late=True)
def deliver_pending_emails() -> int:
    """Scheduled by beat every minute: retries, and anything whose queued task was lost."""
    return services.send_due_emails(now=timezone.now())
