from datetime import timedelta

import pytest
from django.utils import timezone

from portal import deadlines
from portal.celery import app as celery_app
from portal.models import SweepRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def clocks_running():
    """Every registered sweep finished a run a minute ago."""
    deadlines.autodiscover()
    finished = timezone.now() - timedelta(minutes=1)
    SweepRun.objects.bulk_create(
        SweepRun(sweep=sweep.name, as_of=finished, started_at=finished, finished_at=finished)
        for sweep in deadlines.sweeps()
    )


def test_healthz_is_200_when_database_broker_and_every_clock_answer(client, clocks_running):
    # The embedded filesystem transport always answers; the Redis case is covered where Redis runs.
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok", "sweeps": "ok"}
    assert set(body["sweeps"]) == {sweep.name for sweep in deadlines.sweeps()}


def test_healthz_is_503_naming_a_daily_sweep_silent_for_more_than_26_hours(client, clocks_running):
    SweepRun.objects.filter(sweep="complaints.overdue").update(
        finished_at=timezone.now() - timedelta(hours=27)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["sweeps", "sweep:complaints.overdue"]
    assert body["sweeps"]["complaints.overdue"] == "failing"
    assert body["sweeps"]["contracts.expiries"] == "ok"


def test_a_daily_sweep_silent_for_25_hours_is_still_running(client, clocks_running):
    SweepRun.objects.filter(sweep="contracts.expiries").update(
        finished_at=timezone.now() - timedelta(hours=25)
    )
    assert client.get("/healthz").status_code == 200


def test_a_sweep_that_only_failed_or_never_ran_is_a_stopped_clock(client, clocks_running):
    SweepRun.objects.filter(sweep="contracts.expiries").update(error="OperationalError: gone")
    SweepRun.objects.filter(sweep="billing.overdue_invoices").delete()
    body = client.get("/healthz").json()
    assert {"sweep:contracts.expiries", "sweep:billing.overdue_invoices"} <= set(body["failing"])


def test_anonymous_callers_never_see_hosts_or_error_texts(client, clocks_running, monkeypatch):
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"] == "failing"
    assert "127.0.0.1" not in response.content.decode() and "details" not in body


def test_staff_see_the_error_text_and_each_clock_s_last_run(client, clocks_running, staff_user, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    client.force_login(staff_user)
    body = client.get("/healthz").json()
    assert "127.0.0.1:9" in body["details"]["broker"] or "Connection" in body["details"]["broker"]
    assert body["details"]["sweep:complaints.overdue"]["max_silence_seconds"] == 2 * 300


def test_healthz_is_503_naming_the_database_when_it_does_not_answer(client, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_staff_see_when_a_worker_last_ran_the_heartbeat(client, staff_user):
    from portal.tasks import record_worker_heartbeat

    record_worker_heartbeat.delay()
    client.force_login(staff_user)
    body = client.get("/healthz").json()
    assert body["worker_last_seen"]["seconds_ago"] < 60


def test_staff_see_a_stopped_clock_in_the_sweep_runs_admin(client, staff_user, clocks_running):
    SweepRun.objects.filter(sweep="complaints.overdue").update(
        finished_at=timezone.now() - timedelta(hours=2)
    )
    client.force_login(staff_user)
    page = client.get("/admin/portal/sweeprun/").content.decode()
    assert page.count("FERMO: nessuna esecuzione completata di recente") == 1
