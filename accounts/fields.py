"""Form and model fields for the identifiers people type: each turns the value as typed or pasted (spaces,
dots, dashes, lower case, an IT prefix) into its stored form *before* it is validated.

A model declares the model field; every ModelForm on it, the admin's included, then gets the form field. The
normalisers and validators themselves are in accounts.validators (and contracts.validators for supplies and
IBANs); contracts.fields has the fields for those.
"""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.validators import (
    compact_codice_fiscale,
    compact_partita_iva,
    normalise_phone,
    validate_codice_fiscale,
    validate_partita_iva,
    validate_phone,
)


class IdentifierFormField(forms.CharField):
    """A text box for one identifier: `normalise` runs in to_python, so the validators (max_length included)
    check the stored form, and the box is at least `input_max_length` long so that the separators fit while
    typing: "IT 076 435 205 67" is 17 characters for an 11-digit partita IVA."""

    normalise = staticmethod(str)
    input_max_length = 40

    def __init__(self, *, max_length=None, **kwargs):
        # A ModelForm passes the column's length; the input may be longer until it is compacted.
        super().__init__(max_length=max(max_length or 0, self.input_max_length), **kwargs)
        self.widget.attrs.setdefault("spellcheck", "false")

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalise(value) if value else value


class IdentifierModelField(models.CharField):
    """A CharField stored in the form `form_class` normalises to, whoever sets it (a form, a service, an
    import) and whatever looks it up: CharField's get_prep_value goes through to_python."""

    form_class = IdentifierFormField

    def to_python(self, value):
        value = super().to_python(value)
        return self.form_class.normalise(value) if value else value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": self.form_class, **kwargs})


class CodiceFiscaleField(IdentifierFormField):
    normalise = staticmethod(compact_codice_fiscale)
    input_max_length = 30
    default_validators = [validate_codice_fiscale]


class TaxIdField(CodiceFiscaleField):
    """A codice fiscale or a partita IVA, as the public forms ask for the contract holder's: a company's codice
    fiscale is its partita IVA, so both are codici fiscali with another message."""

    input_max_length = 32
    default_error_messages = {
        "invalid_codice_fiscale": _(
            "Scrivi un codice fiscale (16 caratteri) o una partita IVA (11 cifre) validi."
        )
    }


class PartitaIvaField(IdentifierFormField):
    normalise = staticmethod(compact_partita_iva)
    input_max_length = 20
    default_validators = [validate_partita_iva]


class PhoneField(IdentifierFormField):
    normalise = staticmethod(normalise_phone)
    input_max_length = 30
    default_validators = [validate_phone]


class CodiceFiscaleModelField(IdentifierModelField):
    form_class = CodiceFiscaleField


class PartitaIvaModelField(IdentifierModelField):
    form_class = PartitaIvaField


class PhoneModelField(IdentifierModelField):
    form_class = PhoneField
