"""Liveness for operators and load balancers: is the database there, is the broker there."""

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

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
    checks = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            check()
        except Exception as exc:  # any failure of a dependency is a 503, named, never a 500
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            checks[name] = {"ok": True}
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if not failing else "error", "failing": failing, "checks": checks}
    if "database" not in failing:
        # Informative only: a stale heartbeat means beat or the workers are down, but the web still serves.
        body["worker_last_seen"] = _worker_last_seen()
    return JsonResponse(body, status=503 if failing else 200)
