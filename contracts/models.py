from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from localflavor.it.it_province import PROVINCE_CHOICES
from stdnum.it import codicefiscale, iva

from contracts.validators import validate_cap, validate_codice_fiscale, validate_partita_iva


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
    codice_fiscale = models.CharField(
        _("codice fiscale"), max_length=16, blank=True, db_index=True, validators=[validate_codice_fiscale]
    )
    partita_iva = models.CharField(
        _("partita IVA"), max_length=11, blank=True, db_index=True, validators=[validate_partita_iva]
    )
    email = models.EmailField(_("e-mail"))
    pec = models.EmailField(_("PEC"), blank=True)
    phone = models.CharField(_("telefono"), max_length=20, blank=True)
    billing_street = models.CharField(_("indirizzo di fatturazione"), max_length=200)
    billing_postcode = models.CharField(_("CAP"), max_length=5, validators=[validate_cap])
    billing_city = models.CharField(_("comune"), max_length=100)
    billing_province = models.CharField(_("provincia"), max_length=2, choices=PROVINCE_CHOICES)
    language = models.CharField(
        _("lingua"), max_length=8, default="it", choices=[("it", "Italiano"), ("en", "English")]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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

    def clean(self):
        # Store identifiers in their compact, canonical form so searches by staff find them.
        if self.codice_fiscale:
            self.codice_fiscale = codicefiscale.compact(self.codice_fiscale)
        if self.partita_iva:
            self.partita_iva = iva.compact(self.partita_iva)
