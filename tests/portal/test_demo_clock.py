"""Time travel in a demo: with DEMO_CLOCK (development only), `run_deadlines --now` moves the pages' clock too,
so a case the sweeps' letters call overdue is shown overdue. Off (the default, and production) it moves nothing."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from complaints import services
from complaints.models import Complaint
from portal.lib import dates
from portal.lib.dates import add_days, rome_date
from portal.models import DemoClock
from tests.factories import active_contract

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def file_today(customer):
    contract = active_contract(customer)
    return services.file_complaint(
        kind=Complaint.Kind.COMPLAINT,
        topic=Complaint.Topic.BILLING,
        channel=Complaint.Channel.PORTAL,
        description="La bolletta di ottobre addebita due volte la quota fissa.",
        sent_on=rome_date(timezone.now()),
        customer=customer,
        contract=contract,
        service=contract.services.get(),
    )


def travel(days):
    moment = add_days(rome_date(timezone.now()), days)
    call_command("run_deadlines", "--now", f"{moment.isoformat()}T09:00", stdout=open(os.devnull, "w"))


def test_after_time_travel_the_customer_s_pages_read_the_travelled_day(
    settings, alice, alice_client, django_capture_on_commit_callbacks
):
    settings.DEMO_CLOCK = True
    complaint = file_today(alice)
    assert "mancano 30 giorni" in alice_client.get(f"/reclami/{complaint.code}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        travel(45)

    page = alice_client.get(f"/reclami/{complaint.code}/").content.decode()
    assert "in ritardo di 15 giorni" in page
    # The letter the sweep sent on the travelled day says the same: no reply within 40 days.
    letter = alice.communications.get(template_key="complaint_conciliation")
    assert "conciliazione" in letter.body_text.lower()
    travelled = add_days(rome_date(timezone.now()), 45)
    assert rome_date(letter.created_at) == travelled
    # The case history dates that step on the travelled day too, not on the real one.
    assert "Ti abbiamo informato sulla conciliazione" in page and f"{travelled:%d/%m/%Y} 09:00" in page
    assert dates.today() == travelled
    # The demo goes on from there as real time passes.
    clock = DemoClock.objects.get()
    DemoClock.objects.update(travelled_at=clock.travelled_at - timedelta(days=2))
    assert "in ritardo di 17 giorni" in alice_client.get(f"/reclami/{complaint.code}/").content.decode()


def test_without_the_setting_time_travel_moves_only_the_sweeps(settings, alice, alice_client):
    settings.DEMO_CLOCK = False
    complaint = file_today(alice)
    travel(45)
    complaint.refresh_from_db()
    assert complaint.overdue  # the sweeps did act as of the travelled day
    assert "mancano 30 giorni" in alice_client.get(f"/reclami/{complaint.code}/").content.decode()
    assert not DemoClock.objects.exists()
    assert dates.today() == rome_date(timezone.now())


def _settings_process(**env):
    base = {k: v for k, v in os.environ.items() if k not in {"DEMO_CLOCK", "DJANGO_ENV", "DATABASE_URL"}}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEMO_CLOCK)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_the_demo_clock_is_on_only_with_make_run_s_embedded_defaults(tmp_path):
    embedded = _settings_process(PORTAL_DATA_DIR=str(tmp_path))
    assert embedded.stdout.strip() == "True", embedded.stderr
    with_postgres = _settings_process(PORTAL_DATA_DIR=str(tmp_path), DATABASE_URL="postgres://db/portal")
    assert with_postgres.stdout.strip() == "False", with_postgres.stderr


def test_production_refuses_the_demo_clock(tmp_path):
    production = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portale.example",
        "PORTAL_BASE_URL": "https://portale.example",
        "PAYMENTS_WEBHOOK_SECRET": "whsec_deployment_test",
        "DATABASE_URL": "postgres://db/portal",
    }
    assert _settings_process(**production).stdout.strip() == "False"
    refused = _settings_process(**production, DEMO_CLOCK="1")
    assert refused.returncode != 0
    assert "DEMO_CLOCK" in refused.stderr and "production" in refused.stderr
