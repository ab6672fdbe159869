"""Card payments in the Area Clienti through a payment provider (django-payments, PAYMENT_VARIANTS).

The customer starts a payment for invoices whose amounts the portal computes; the provider's hosted page takes
the card; only the provider's signed notification (signatures.py, the webhook view) records the payment,
through billing.services.record_payment, one Payment per invoice. The embedded provider is providers.py's test
gateway, which sends the same signed notification as a real one.
"""
