from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portale"

    def ready(self):
        from portal import deadlines

        checks.register(check_time_zone)
        # Every app registers its sweeps in its tasks.py; load them all so run_deadlines and admin see them.
        deadlines.autodiscover()


def check_time_zone(app_configs, **kwargs):
    """Legal deadlines are Italian calendar dates: a server in another zone would shift them by a day."""
    errors = []
    if settings.TIME_ZONE != "Europe/Rome":
        errors.append(checks.Error("TIME_ZONE must be 'Europe/Rome'", id="portal.E001"))
    if not settings.USE_TZ:
        errors.append(checks.Error("USE_TZ must be True: timestamps are stored in UTC", id="portal.E002"))
    return errors
