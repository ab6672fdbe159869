"""The production-like stack: docker-compose.yml agrees with the settings; production settings are safe.

No Docker engine runs on our machines, so the compose file is checked by reading it.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import environ
import pytest
import yaml
from django.conf import settings
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PORTAL_SERVICES = ["web", "worker", "beat", "migrate"]


def _settings_env_names():
    """Every environment variable portal/settings.py reads."""
    source = (ROOT / "portal" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))


def _resolve_compose_vars(value):
    """Substitute ${VAR:-default} and ${VAR:?message} the way compose does, with a dummy for the required."""
    value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m.group(1), m.group(2)), str(value))
    return re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: f"dummy-{m.group(1).lower()}", value)


def _environment(service):
    return {key: _resolve_compose_vars(value) for key, value in SERVICES[service]["environment"].items()}


def test_the_stack_has_every_service_with_a_health_check():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(SERVICES)
    for name in ["postgres", "redis", "web", "worker", "beat"]:
        assert "healthcheck" in SERVICES[name], f"{name} has no healthcheck"


def test_data_lives_in_named_volumes():
    named = set(COMPOSE["volumes"])
    assert {"pgdata", "redisdata", "media"} <= named
    for name in ["postgres", "redis", *PORTAL_SERVICES]:
        for mount in SERVICES[name]["volumes"]:
            assert mount.split(":")[0] in named, f"{name} mounts {mount}, not a named volume"


def test_every_variable_given_to_the_portal_is_one_the_settings_read():
    known = _settings_env_names()
    for name in PORTAL_SERVICES:
        unknown = set(SERVICES[name]["environment"]) - known
        assert not unknown, f"{name} sets {unknown}, which portal/settings.py never reads"
        assert SERVICES[name]["environment"]["DJANGO_ENV"] == "production"


def test_database_and_broker_urls_point_at_the_compose_services():
    env = _environment("web")
    database = environ.Env.db_url_config(env["DATABASE_URL"])
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "postgres"
    postgres_env = {k: _resolve_compose_vars(v) for k, v in SERVICES["postgres"]["environment"].items()}
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == (
        postgres_env["POSTGRES_DB"],
        postgres_env["POSTGRES_USER"],
        postgres_env["POSTGRES_PASSWORD"],
    )
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")


def test_commands_start_the_right_programs():
    web = SERVICES["web"]["command"]
    assert web[0] == "gunicorn" and web[1] == settings.WSGI_APPLICATION.replace(
        ".application", ":application"
    )
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "portal", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "portal", "beat"]
    assert SERVICES["migrate"]["command"][-1].endswith("migrate --no-input && python manage.py run_deadlines")
    for name in ["web", "worker", "beat"]:
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_web_health_check_calls_the_healthz_view_and_static_files_are_served_by_whitenoise():
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\S*)", probe).group(1)
    assert resolve(path).func.__name__ == "healthz"
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE


def test_production_settings_load_with_the_compose_environment():
    # SECRET_KEY comes from .env, which compose requires: the dummy stands in for a real one.
    env = {**os.environ, **_environment("web"), "SECRET_KEY": secrets.token_urlsafe(50)}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.DEBUG, s.STORAGES['staticfiles']['BACKEND'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    engine, broker, debug, static = out.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert broker == "redis://redis:6379/0"
    assert debug == "False"
    assert static.startswith("whitenoise.")


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="no docker compose client on this machine",
)
def test_docker_compose_config_accepts_the_file():
    env = {**os.environ, "SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "x"}
    subprocess.run(["docker", "compose", "config", "--quiet"], cwd=ROOT, env=env, check=True)


def _manage(*args, **env):
    # A clean production-like environment: nothing the test process itself set (e.g. the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE) may leak into the checked process.
    # PORTAL_BASE_URL is set as a deployment sets it; a test passes None to leave a variable out.
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "PORTAL_BASE_URL"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    merged = {
        **base,
        "PORTAL_BASE_URL": "https://portale.example",
        "PAYMENTS_WEBHOOK_SECRET": "whsec_deployment_test",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={k: v for k, v in merged.items() if v is not None},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_in_production():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portale.optimaitalia.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "PORTAL_BASE_URL"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portale.example",
        missing: None,
    }
    result = _manage("check", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def _env_example(name):
    for line in (ROOT / ".env.example").read_text().splitlines():
        key, _, value = line.partition("=")
        if key == name:
            return value
    raise LookupError(name)


@pytest.mark.parametrize(
    "key, reason",
    [
        (_env_example("SECRET_KEY"), "is the placeholder from .env.example"),
        ("django-insecure-" + secrets.token_urlsafe(50), "starts with 'django-insecure'"),
        (secrets.token_urlsafe(50)[:49], "is shorter than 50 characters"),
    ],
    ids=["env-example", "django-insecure", "49-chars"],
)
def test_production_refuses_a_well_known_or_short_secret_key(key, reason):
    result = _manage("check", DJANGO_ENV="production", SECRET_KEY=key, ALLOWED_HOSTS="portale.example")
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY " in result.stderr
    assert reason in result.stderr


def test_production_accepts_a_random_secret_key_of_50_characters():
    key = secrets.token_urlsafe(50)[:50]
    result = _manage("check", DJANGO_ENV="production", SECRET_KEY=key, ALLOWED_HOSTS="portale.example")
    assert result.returncode == 0, result.stderr


def test_the_worker_consumes_every_queue_tasks_are_routed_to():
    command = SERVICES["worker"]["command"]
    queues = set(command[command.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {"celery"} <= queues
    procfile = (ROOT / "Procfile.dev").read_text()
    assert all(queue in procfile for queue in routed)


def test_production_refuses_the_test_payment_gateway_and_card_payments_are_off_without_a_provider():
    production = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "p.example",
    }
    gateway = '{"card": ["billing.online.providers.SignedDummyProvider", {}]}'
    refused = _manage("check", **production, PAYMENT_VARIANTS=gateway)
    assert refused.returncode != 0 and "test gateway" in refused.stderr
    off = _manage(
        "shell", "-c", "from django.conf import settings; print(repr(settings.PAYMENT_VARIANT))", **production
    )
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip().endswith("''")
