import socket

from celery import shared_task
from django.utils import timezone

from portal.models import WorkerHeartbeat


@shared_task
def record_worker_heartbeat():
    """Scheduled by beat every minute: proves to /healthz that beat and a worker are both alive."""
    WorkerHeartbeat.objects.update_or_create(
        pk=1, defaults={"seen_at": timezone.now(), "hostname": socket.gethostname()}
    )
