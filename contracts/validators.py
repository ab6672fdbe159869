"""Validators for supply identifiers and IBANs, backed by python-stdnum so the checksums are the official ones.

Next to each validator, the one function that turns the identifier as people type or paste it into the form we
store and look up; the form and model fields that apply both are in contracts.fields.

The customer's identifiers (codice fiscale, partita IVA, CAP) are validated in accounts.validators; they are
re-exported here because contracts' forms and historical migrations use them by this path."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum import iban

from accounts.validators import strip_separators, validate_cap, validate_codice_fiscale, validate_partita_iva

__all__ = [
    "compact_iban",
    "compact_pdr",
    "compact_pod",
    "validate_cap",
    "validate_codice_fiscale",
    "validate_iban",
    "validate_partita_iva",
    "validate_pdr",
    "validate_pod",
]


def compact_iban(value: str) -> str:
    """An IBAN as stored, in one piece: "it60 x054 2811 1010 0000 0123 456" is IT60X0542811101000000123456."""
    return iban.compact(strip_separators(value))


def validate_iban(value):
    if not iban.is_valid(value):
        raise ValidationError(
            _("L'IBAN non è valido: controlla di averlo copiato per intero."), code="invalid_iban"
        )


def compact_pod(value: str) -> str:
    """A POD as stored: "it001e 1234 5678" is IT001E12345678."""
    return strip_separators(value).upper()


# POD: "IT", a three-digit distributor code, "E", the point's 8 digits and, on some bills, a final check digit
# (so 14 or 15 characters, all digits after the E) — e.g. IT001E12345678. Nothing else follows: a letter at
# the end is a typo, not a POD.
validate_pod = RegexValidator(
    r"^IT\d{3}E\d{8,9}$",
    _("Il POD inizia con IT, poi 3 cifre, la lettera E e 8 cifre (es. IT001E12345678)."),
    code="invalid_pod",
)


def compact_pdr(value: str) -> str:
    """A PDR as stored: "0088 1234 5678 90" is 00881234567890."""
    return strip_separators(value)


# PDR: 14 digits.
validate_pdr = RegexValidator(r"^\d{14}$", _("Il PDR è composto da 14 cifre."), code="invalid_pdr")
