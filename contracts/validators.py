"""Validators for supply identifiers and IBANs, backed by python-stdnum so the checksums are the official ones.

The customer's identifiers (codice fiscale, partita IVA, CAP) are validated in accounts.validators; they are
re-exported here because contracts' forms and historical migrations use them by this path."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum import iban

from accounts.validators import validate_cap, validate_codice_fiscale, validate_partita_iva

__all__ = [
    "validate_cap",
    "validate_codice_fiscale",
    "validate_iban",
    "validate_partita_iva",
    "validate_pdr",
    "validate_pod",
]


def validate_iban(value):
    if not iban.is_valid(value):
        raise ValidationError(
            _("L'IBAN non è valido: controlla di averlo copiato per intero."), code="invalid_iban"
        )


# POD: "IT", a three-digit distributor code, "E", then the point's digits (8 or 9) — e.g. IT001E12345678.
validate_pod = RegexValidator(
    r"^IT\d{3}E\d{8,9}[A-Z0-9]?$",
    _("Il POD inizia con IT, poi 3 cifre, la lettera E e 8 cifre (es. IT001E12345678)."),
    code="invalid_pod",
)
# PDR: 14 digits.
validate_pdr = RegexValidator(r"^\d{14}$", _("Il PDR è composto da 14 cifre."), code="invalid_pdr")
