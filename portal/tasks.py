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


@shared_task
def run_sweep(name):
    """Beat runs one of these per registered sweep (portal.deadlines.beat_schedule)."""
    from portal import deadlines
    from portal.lib import dates

    # The portal's clock: the demo's too, after time travel in development (the sweeps and the pages agree).
    deadlines.run_sweep(name, now=dates.now())
