"""Validators for the identifiers on a customer's record (tax ids, postcodes), backed by python-stdnum so the
checksums are the official ones. Supply identifiers (POD, PDR) and IBANs are in contracts.validators."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
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


# Italian postcodes are five digits (the same rule django-localflavor's ITZipCodeField form field applies).
validate_cap = RegexValidator(r"^\d{5}$", _("Il CAP è di 5 cifre."), code="invalid_cap")

# The SdI's Codice Destinatario of a business (FatturaPA 1.2.2, DatiTrasmissione): seven upper-case letters and
# digits, given by the customer's accredited channel. Consumers have none ("0000000" is written for them).
validate_sdi_code = RegexValidator(
    r"^[A-Z0-9]{7}$",
    _("Il codice destinatario è di 7 caratteri, lettere maiuscole e cifre (es. M5UXCR1)."),
    code="invalid_sdi_code",
)


def normalise_sdi_code(value: str) -> str:
    """A Codice Destinatario as typed or pasted ("m5u xcr1 ") in the form the SdI knows it (M5UXCR1)."""
    return "".join((value or "").split()).upper()
