"""The Celery wiring: the same task, run eagerly and by a real worker over Redis."""

import os

import pytest
import redis

from portal.celery import app as celery_app
from portal.models import WorkerHeartbeat
from portal.tasks import record_worker_heartbeat

REDIS_URL = os.environ.get("CELERY_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def _redis_answers():
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.django_db
def test_heartbeat_task_runs_eagerly():
    record_worker_heartbeat.delay()
    assert WorkerHeartbeat.objects.get(pk=1).hostname


def test_celery_configuration_is_json_only_and_acks_late():
    conf = celery_app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert "portal.tasks.record_worker_heartbeat" in celery_app.tasks
    assert conf.beat_schedule["worker-heartbeat"]["task"] in celery_app.tasks


@pytest.fixture(scope="session")
def celery_config():
    """Configuration of the test app that celery.contrib.pytest's `celery_worker` runs: the real broker."""
    return {
        "broker_url": REDIS_URL,
        "result_backend": REDIS_URL,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
    }


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not _redis_answers(), reason=f"no Redis at {REDIS_URL} (make test starts one when installed)"
)
def test_a_real_worker_over_redis_runs_the_task(celery_app, celery_worker):
    # The worker is a thread of this process consuming from Redis: the message really crosses the broker.
    task = celery_app.tasks["portal.tasks.record_worker_heartbeat"]
    result = task.delay()
    result.get(timeout=20)
    assert result.successful()
    assert WorkerHeartbeat.objects.get(pk=1).seen_at is not None


def test_a_killed_worker_s_messages_come_back_within_minutes_and_never_while_a_task_still_runs():
    # The production settings (Redis), read in a process of their own.
    import json
    import subprocess
    import sys

    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps([settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'],"
        " settings.CELERY_TASK_TIME_LIMIT, settings.CELERY_TASK_SOFT_TIME_LIMIT]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "CELERY_BROKER_URL": REDIS_URL}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    visibility, hard, soft = json.loads(out.stdout.strip().splitlines()[-1])
    assert soft < hard < visibility <= 10 * 60
