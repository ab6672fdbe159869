from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    """Users log in with their e-mail address; it is stored lower-case so that lookups are exact."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("indirizzo e-mail"), unique=True)
    language = models.CharField(
        _("lingua"), max_length=8, default="it", choices=[("it", "Italiano"), ("en", "English")]
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("utente")
        verbose_name_plural = _("utenti")

    def __str__(self):
        return self.email


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the beat-scheduled heartbeat: operators see it in /healthz.

    A single row (pk=1). If it grows old, beat or the workers are down and no deadline is being swept.
    """

    seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("battito del worker")
        verbose_name_plural = _("battiti del worker")

    def __str__(self):
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
