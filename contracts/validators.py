"""Validators for Italian identifiers, backed by python-stdnum so the checksums are the official ones."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum import iban
from stdnum.it import codicefiscale, iva


def validate_codice_fiscale(value):
    if not codicefiscale.is_valid(value):
        raise ValidationError(
            _("Il codice fiscale non è valido: controlla i 16 caratteri (o le 11 cifre per le aziende)."),
            code="invalid_codice_fiscale",
        )


def validate_partita_iva(value):
    if not iva.is_valid(value):
        raise ValidationError(
            _("La partita IVA non è valida: sono 11 cifre con una cifra di controllo finale."),
            code="invalid_partita_iva",
        )


def validate_iban(value):
    if not iban.is_valid(value):
        raise ValidationError(
            _("L'IBAN non è valido: controlla di averlo copiato per intero."), code="invalid_iban"
        )


# Italian postcodes are five digits (the same rule django-localflavor's ITZipCodeField form field applies).
validate_cap = RegexValidator(r"^\d{5}$", _("Il CAP è di 5 cifre."), code="invalid_cap")


# POD: "IT", a three-digit distributor code, "E", then the point's digits (8 or 9) — e.g. IT001E12345678.
validate_pod = RegexValidator(
    r"^IT\d{3}E\d{8,9}[A-Z0-9]?$",
    _("Il POD inizia con IT, poi 3 cifre, la lettera E e 8 cifre (es. IT001E12345678)."),
    code="invalid_pod",
)
# PDR: 14 digits.
validate_pdr = RegexValidator(r"^\d{14}$", _("Il PDR è composto da 14 cifre."), code="invalid_pdr")
