"""Form and model fields for a contract's identifiers (IBAN, POD, PDR): normalised before they are validated,
like the customer's in accounts.fields."""

from accounts.fields import IdentifierFormField, IdentifierModelField
from contracts.validators import (
    compact_iban,
    compact_pdr,
    compact_pod,
    validate_iban,
    validate_pdr,
    validate_pod,
)


class IbanField(IdentifierFormField):
    normalise = staticmethod(compact_iban)
    input_max_length = 50  # 34 characters at most, in groups of four as printed
    default_validators = [validate_iban]


class PodField(IdentifierFormField):
    normalise = staticmethod(compact_pod)
    input_max_length = 25
    default_validators = [validate_pod]


class PdrField(IdentifierFormField):
    normalise = staticmethod(compact_pdr)
    input_max_length = 25
    default_validators = [validate_pdr]


class IbanModelField(IdentifierModelField):
    form_class = IbanField


class PodModelField(IdentifierModelField):
    form_class = PodField


class PdrModelField(IdentifierModelField):
    form_class = PdrField
