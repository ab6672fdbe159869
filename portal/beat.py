"""The beat scheduler of the portal: the deadline sweeps are part of the schedule it builds.

The sweeps are declared in each app's tasks.py (portal.deadlines); beat must schedule every one of them.
Adding them from a signal handler failed silently (Celery 5.7 builds the scheduler from `beat_schedule`
before it sends `beat_init`), so the scheduler itself reads the registry when it sets its schedule up,
whatever the order of signals: `celery -A portal beat` uses it through CELERY_BEAT_SCHEDULER.
"""

from celery.beat import PersistentScheduler


class DeadlineScheduler(PersistentScheduler):
    def setup_schedule(self):
        import django

        django.setup()  # idempotent; beat may not have loaded Django's apps yet
        from portal.deadlines import autodiscover, beat_schedule

        autodiscover()
        self.app.conf.beat_schedule = {**self.app.conf.beat_schedule, **beat_schedule()}
        super().setup_schedule()
