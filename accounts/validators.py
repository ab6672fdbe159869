"""Validators for the identifiers on a customer's record (tax ids, phone, postcodes), backed by python-stdnum and
libphonenumber so the checksums and numbering plans are the official ones, and next to each validator the one
function that turns the identifier as people type it into the form we store and look up. Supply identifiers
(POD, PDR) and IBANs are in contracts.validators; the form and model fields that apply both are in
accounts.fields."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum.it import codicefiscale, iva

# Numbers typed without an international prefix are Italian.
PHONE_REGION = "IT"

_SEPARATORS = re.compile(r"[\s.\-]+")


def strip_separators(value: str) -> str:
    """An identifier without the spaces, dots and dashes people put in to read it ("076.435.205-67")."""
    return _SEPARATORS.sub("", value or "")


def compact_codice_fiscale(value: str) -> str:
    """A codice fiscale as stored: "rss mra 80a01-h501u" is RSSMRA80A01H501U. A company's codice fiscale is its
    partita IVA, so "IT 076 435 205 67" is 07643520567: this is also the key to look a customer up by either."""
    number = codicefiscale.compact(strip_separators(value))
    if number.startswith("IT") and number[2:].isdigit():
        return compact_partita_iva(number)
    return number


def validate_codice_fiscale(value):
    if not codicefiscale.is_valid(value):
        raise ValidationError(
            _("Il codice fiscale non è valido: controlla i 16 caratteri (o le 11 cifre per le aziende)."),
            code="invalid_codice_fiscale",
        )


def compact_partita_iva(value: str) -> str:
    """A partita IVA as stored: 11 digits, without the IT of its VAT-number form ("IT 076.435.205.67")."""
    return iva.compact(strip_separators(value))


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


def normalise_phone(value: str) -> str:
    """A phone number as typed ("333-1234567", "(+39) 081 555 1234") in E.164, +393331234567. What is no valid
    number comes back as typed, for validate_phone to refuse."""
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value):
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(value, PHONE_REGION))
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise ValidationError(
            _(
                "Il numero di telefono non è valido: scrivilo con il prefisso, per esempio 333 1234567 o "
                "081 5551234; per un numero estero aggiungi il prefisso internazionale (+41…)."
            ),
            code="invalid_phone",
        )
