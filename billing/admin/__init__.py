"""Back office for billing: invoices, their electronic invoices at the SdI, payments, credits and charges,
rates and tariffs, default notices and suspension steps — one module per screen; importing this package
registers them all.

An issued invoice is a record: it is shown read-only and never deleted; corrections are credit notes. Payments
are registered through `services.record_payment` (allocation oldest first), default notices move only
through `billing.dunning`. Every page collects a form, calls one service or selector, reports with
`message_user` and is written to admin's history (who and when); a refusal is shown on the form, never as an
error page. The rules live in the services: what may be done with a notice is billing/dunning/lifecycle.py.
"""

from billing.admin import (  # noqa: F401  (registers the admins)
    customer_sections,
    einvoices,
    instalments,
    invoices,
    jobs,
    notices,
    online_payments,
    payments,
    steps,
    tariffs,
)
