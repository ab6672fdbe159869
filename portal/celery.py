import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
# All Celery settings live in portal/settings.py under the CELERY_ prefix.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def warm_up_pdf_renderer(**kwargs):
    """Load fonts and print CSS once per worker process, before the first document (DESIGN.md §4)."""
    from portal.lib.pdf import warm_up  # here, not at the top: web processes never load WeasyPrint

    warm_up()
