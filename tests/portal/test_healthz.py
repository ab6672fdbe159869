import pytest

from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_answer(client, settings):
    # The embedded filesystem transport always answers; the Redis case is covered where Redis runs.
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": {"ok": True}, "broker": {"ok": True}}


def test_healthz_is_503_naming_the_broker_when_it_does_not_answer(client, monkeypatch):
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"] == {"ok": True}


def test_healthz_is_503_naming_the_database_when_it_does_not_answer(client, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_healthz_reports_when_a_worker_last_ran_the_heartbeat(client):
    from portal.tasks import record_worker_heartbeat

    record_worker_heartbeat.delay()
    body = client.get("/healthz").json()
    assert body["worker_last_seen"]["seconds_ago"] < 60
