from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class YearCounter(models.Model):
    """The last number given out in a year (invoices, complaint codes): gapless and never repeated.

    `take_next` locks the year's row until the caller's transaction commits, so two numbers taken at once
    are consecutive, and a rolled-back transaction gives its number back."""

    year = models.PositiveIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.year}: {self.last_number}"

    @classmethod
    def take_next(cls, year: int) -> int:
        cls.objects.get_or_create(year=year)
        counter = cls.objects.select_for_update().get(year=year)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        return counter.last_number


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the beat-scheduled heartbeat: operators see it in /healthz.

    A single row (pk=1). If it grows old, beat or the workers are down and no deadline is being swept.
    """

    seen_at = models.DateTimeField(_("visto il"))
    hostname = models.CharField(_("host"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("battito del worker")
        verbose_name_plural = _("battiti del worker")

    def __str__(self):
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class SweepRun(models.Model):
    """One run of one deadline sweep: what it acted on, how much of it late, what failed.

    `as_of` is the moment the sweep reasoned about (the injected "now"); started/finished are wall-clock.
    """

    sweep = models.CharField(_("controllo"), max_length=100, db_index=True)
    as_of = models.DateTimeField(_("riferito a"))
    started_at = models.DateTimeField(_("iniziato"))
    finished_at = models.DateTimeField(_("finito"), null=True, blank=True)
    acted = models.PositiveIntegerField(_("righe trattate"), default=0)
    acted_late = models.PositiveIntegerField(_("di cui in ritardo"), default=0)
    failed = models.PositiveIntegerField(_("errori"), default=0)
    error = models.TextField(_("interrotto da"), blank=True)

    class Meta:
        verbose_name = _("esecuzione dei controlli scadenze")
        verbose_name_plural = _("esecuzioni dei controlli scadenze")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.sweep} @ {self.as_of:%Y-%m-%d %H:%M}"


class SweepFailure(models.Model):
    """A row a sweep could not act on. It was left untouched; staff look at it and mark it resolved."""

    run = models.ForeignKey(
        SweepRun, on_delete=models.CASCADE, related_name="failures", verbose_name=_("esecuzione")
    )
    sweep = models.CharField(_("controllo"), max_length=100)
    object_type = models.CharField(_("tipo"), max_length=100)
    object_pk = models.CharField(_("id"), max_length=64)
    object_repr = models.CharField(_("oggetto"), max_length=200)
    error = models.TextField(_("errore"))
    traceback = models.TextField(_("dettaglio tecnico"), blank=True)
    created_at = models.DateTimeField(_("quando"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("risolto il"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("risolto da"),
    )

    class Meta:
        verbose_name = _("errore dei controlli scadenze")
        verbose_name_plural = _("errori dei controlli scadenze")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(resolved_at__isnull=True), name="sweepfailure_open"
            )
        ]

    def __str__(self):
        return f"{self.sweep}: {self.object_repr}"


class DemoClock(models.Model):
    """Development only (settings.DEMO_CLOCK): where `run_deadlines --now` took the demo, so that the pages
    read the same clock as the sweeps that sent the letters. A single row (pk=1); the clock runs on from the
    moment travelled to as real time passes (portal.demo_clock)."""

    travelled_to = models.DateTimeField(_("data della demo"))
    travelled_at = models.DateTimeField(_("registrata il"))

    class Meta:
        verbose_name = _("orologio della demo")
        verbose_name_plural = _("orologio della demo")

    def __str__(self):
        return f"{self.travelled_to:%Y-%m-%d %H:%M}"
