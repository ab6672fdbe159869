"""Context of the contract letters (renewal notice, withdrawal receipt, change of conditions)."""

from datetime import date

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from contracts.models import Contract


def letter_context(customer: Customer, contract: Contract, *, document_date: date, **extra) -> dict:
    """Addressee and references shared by every contract letter (pdf/base.html reads these names).

    `document_date` is the day the letter is sent (the sweep's day, also when run with --now)."""
    return {
        "document_date": document_date,
        "recipient_name": customer.display_name,
        "recipient_address": [
            customer.billing_street,
            f"{customer.billing_postcode} {customer.billing_city} ({customer.billing_province})",
        ],
        "customer_code": customer.code,
        # Lazy: translated when the letter renders, in the customer's language.
        "reference": format_lazy(_("Contratto n. {number}"), number=contract.number),
        "customer": customer,
        "contract": contract,
        **extra,
    }
