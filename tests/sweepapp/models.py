"""A minimal swept model, installed only for the tests and benchmarks of the sweep framework itself.

Real sweeps (renewal notices, complaint answers, default notices) are tested in their own apps; this one
isolates the framework's guarantees: once per row, skip-locked concurrency, late catch-up, failure isolation.
"""

from django.db import models

from portal.deadlines import pending_index


class Reminder(models.Model):
    label = models.CharField(max_length=50)
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_late = models.BooleanField(default=False)
    times_acted = models.PositiveIntegerField(default=0)
    explode = models.BooleanField(default=False)

    class Meta:
        app_label = "sweepapp"
        indexes = [
            pending_index(
                due_field="due_on", condition=models.Q(done_at__isnull=True), name="reminder_due_pending"
            )
        ]

    def __str__(self):
        return self.label
