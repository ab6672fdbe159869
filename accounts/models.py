"""Who is who: the portal account (`User`, login by e-mail) and the contract holder (`Customer`).

The bottom layer of the app graph (accounts → notifications → contracts → billing → complaints): it imports
from no other app of the project. Both tables keep the names they had before the move (portal_user,
contracts_customer), so that existing rows, foreign keys and the groups/permissions tables stay as they are.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from localflavor.it.it_province import PROVINCE_CHOICES

from accounts.fields import CodiceFiscaleModelField, PartitaIvaModelField, PhoneModelField
from accounts.validators import (
    validate_cap,
    validate_codice_fiscale,
    validate_partita_iva,
    validate_phone,
    validate_sdi_code,
)


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
        # The table keeps the name it had when the model lived in portal (migration accounts 0001).
        db_table = "portal_user"
        verbose_name = _("utente")
        verbose_name_plural = _("utenti")

    def __str__(self):
        return self.email


class Customer(models.Model):
    """The contract holder (intestatario). The customer code is printed on every invoice and letter."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Persona fisica")
        BUSINESS = "business", _("Azienda")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
        verbose_name=_("account del portale"),
    )
    code = models.CharField(_("codice cliente"), max_length=12, unique=True)
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    first_name = models.CharField(_("nome"), max_length=100, blank=True)
    last_name = models.CharField(_("cognome"), max_length=100, blank=True)
    company_name = models.CharField(_("ragione sociale"), max_length=200, blank=True)
    # The identifiers are stored compact (RSSMRA80A01H501U, 07643520567, +393331234567), however typed.
    codice_fiscale = CodiceFiscaleModelField(
        _("codice fiscale"), max_length=16, blank=True, db_index=True, validators=[validate_codice_fiscale]
    )
    partita_iva = PartitaIvaModelField(
        _("partita IVA"), max_length=11, blank=True, db_index=True, validators=[validate_partita_iva]
    )
    email = models.EmailField(_("e-mail"))
    pec = models.EmailField(_("PEC"), blank=True)
    phone = PhoneModelField(_("telefono"), max_length=20, blank=True, validators=[validate_phone])
    # Where a business receives its electronic invoices (SdI): its channel's code, or else a PEC. Copied onto
    # each invoice when it is issued (billing.einvoice); consumers get theirs in the Agenzia's reserved area.
    sdi_code = models.CharField(
        _("codice destinatario (SdI)"), max_length=7, blank=True, validators=[validate_sdi_code]
    )
    sdi_pec = models.EmailField(_("PEC per le fatture elettroniche"), blank=True)
    billing_street = models.CharField(_("indirizzo di fatturazione"), max_length=200)
    billing_postcode = models.CharField(_("CAP"), max_length=5, validators=[validate_cap])
    billing_city = models.CharField(_("comune"), max_length=100)
    billing_province = models.CharField(_("provincia"), max_length=2, choices=PROVINCE_CHOICES)
    # Where written replies go (complaints, letters) when not to the billing address (TIQV; AR).
    reply_street = models.CharField(_("indirizzo per le risposte"), max_length=200, blank=True)
    reply_postcode = models.CharField(_("CAP"), max_length=5, blank=True, validators=[validate_cap])
    reply_city = models.CharField(_("comune"), max_length=100, blank=True)
    reply_province = models.CharField(_("provincia"), max_length=2, blank=True, choices=PROVINCE_CHOICES)
    language = models.CharField(
        _("lingua"), max_length=8, default="it", choices=[("it", "Italiano"), ("en", "English")]
    )
    marketing_consent = models.BooleanField(_("consenso al marketing"), default=False)
    # GDPR art. 9 special-category consent: Teleconsulto Medico cannot be active without it (CP Teleconsulto 2.1).
    health_data_consent = models.BooleanField(_("consenso al trattamento dei dati sanitari"), default=False)
    health_data_consent_at = models.DateTimeField(_("consenso ai dati sanitari dato il"), null=True, blank=True)
    created_at = models.DateTimeField(_("registrato il"), auto_now_add=True)

    class Meta:
        # The table keeps the name it had when the model lived in contracts (migration accounts 0002).
        db_table = "contracts_customer"
        verbose_name = _("cliente")
        verbose_name_plural = _("clienti")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(codice_fiscale="", partita_iva=""),
                name="customer_has_tax_id",
                violation_error_message=_("Serve il codice fiscale o la partita IVA."),
            )
        ]

    def __str__(self):
        return f"{self.display_name} ({self.code})"

    @property
    def display_name(self):
        if self.kind == self.Kind.BUSINESS:
            return self.company_name
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def billing_address(self):
        return f"{self.billing_street}, {self.billing_postcode} {self.billing_city} ({self.billing_province})"

    @property
    def reply_address(self):
        """Written replies go here: the reply address when the customer gave one, else the billing address."""
        if self.reply_street:
            return f"{self.reply_street}, {self.reply_postcode} {self.reply_city} ({self.reply_province})"
        return self.billing_address

    def clean(self):
        reply_parts = [self.reply_street, self.reply_postcode, self.reply_city, self.reply_province]
        if any(reply_parts) and not all(reply_parts):
            raise ValidationError(
                {"reply_street": _("Per l'indirizzo delle risposte servono via, CAP, comune e provincia.")}
            )
        # The SdI delivers to one address. With both, the code would silently win (billing.einvoice) and the
        # customer could wait at the PEC for invoices that go elsewhere.
        if self.sdi_code and self.sdi_pec:
            raise ValidationError(
                {
                    "sdi_pec": _(
                        "Indica il codice destinatario oppure la PEC, non entrambi: lo SdI recapita le fatture "
                        "elettroniche a uno solo dei due."
                    )
                }
            )
