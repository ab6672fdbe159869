import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
# All Celery settings live in portal/settings.py under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if app.conf.broker_url.startswith("filesystem://"):
    # The embedded transport is a pair of folders; create them so that a fresh checkout just works.
    from pathlib import Path

    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        Path(app.conf.broker_transport_options[key]).mkdir(parents=True, exist_ok=True)
