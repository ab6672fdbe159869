"""The demo clock (settings.DEMO_CLOCK, development only): time travel for the whole portal, not only the sweeps.

`run_deadlines --now X` runs the sweeps as of X, so the letters they send are dated X; the pages, though,
read the real day, and a case the letters call overdue still showed days left. With the setting on, the
command records X here, and `portal.lib.dates.now()` (what pages, admin screens, forms and the sweeps beat
schedules read) is X plus the real time elapsed since, so the demo goes on from there. Off (the default
outside `make run`'s embedded setup, and always in production) nothing here is ever read.
"""

from datetime import datetime

from django.utils import timezone

from portal.models import DemoClock


def travel_to(moment: datetime) -> None:
    """From now on the demo's clock reads `moment`, and runs on from it."""
    DemoClock.objects.update_or_create(pk=1, defaults={"travelled_to": moment, "travelled_at": timezone.now()})


def now() -> datetime:
    """The demo's current moment: the real one until `travel_to` was first called."""
    real = timezone.now()
    clock = DemoClock.objects.filter(pk=1).first()
    return real if clock is None else clock.travelled_to + (real - clock.travelled_at)
