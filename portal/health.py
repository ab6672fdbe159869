"""Liveness for operators and load balancers: the database, the broker, and every deadline sweep's clock.

A clock that stopped is a legal fault (no complaint marked overdue, no notice sent), so /healthz answers 503
when any sweep has not finished a run within `Sweep.max_silence`, naming it. Anonymous callers (load
balancers, uptime monitors) get only ok/failing per component; the details (times, error texts) are for
staff, because an error text can name hosts and ports.
"""

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from portal import deadlines
from portal.celery import app as celery_app
from portal.models import WorkerHeartbeat


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


def _worker_last_seen():
    beat = WorkerHeartbeat.objects.filter(pk=1).first()
    if beat is None:
        return None
    return {
        "at": beat.seen_at.isoformat(),
        "seconds_ago": int((timezone.now() - beat.seen_at).total_seconds()),
    }


@never_cache
def healthz(request):
    detailed = request.user.is_authenticated and request.user.is_staff
    checks, details = {}, {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            check()
        except Exception as exc:  # any failure of a dependency is a 503, named, never a 500
            checks[name] = "failing"
            details[name] = f"{type(exc).__name__}: {exc}"[:300]
        else:
            checks[name] = "ok"
    body = {}
    if checks["database"] == "ok":
        sweeps = {}
        for clock in deadlines.clock_statuses():
            sweeps[clock.sweep.name] = "failing" if clock.stopped else "ok"
            details[f"sweep:{clock.sweep.name}"] = {
                "last_finished_at": clock.last_finished_at.isoformat() if clock.last_finished_at else None,
                "max_silence_seconds": int(clock.sweep.max_silence.total_seconds()),
            }
        checks["sweeps"] = "failing" if "failing" in sweeps.values() else "ok"
        body["sweeps"] = sweeps
    failing = [name for name, state in checks.items() if state != "ok"]
    failing += [f"sweep:{name}" for name, state in body.get("sweeps", {}).items() if state != "ok"]
    body = {"status": "error" if failing else "ok", "failing": failing, "checks": checks, **body}
    if detailed:
        body["details"] = details
        if checks["database"] == "ok":
            # Informative: a stale heartbeat means beat or the workers are down.
            body["worker_last_seen"] = _worker_last_seen()
    return JsonResponse(body, status=503 if failing else 200)
