"""Every invoice and credit note issued before electronic invoicing gets its transmission to the SdI.

Legally none of them was issued until the SdI accepts it, so each is queued to send (the 12-day limit has
passed for most: billing.einvoice_overdue flags them to billing officers). They froze no customer details or
payment-method code at issue, so these are copied from the customer and contract as they are now.
"""

from django.db import migrations

from billing import deadlines

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _progressivo(number: int) -> str:
    text = ""
    while number:
        number, digit = divmod(number, 36)
        text = _BASE36[digit] + text
    return text.rjust(5, "0")


def queue_issued_invoices(apps, schema_editor):
    from django.conf import settings

    Invoice = apps.get_model("billing", "Invoice")
    EInvoice = apps.get_model("billing", "EInvoice")
    Counter = apps.get_model("billing", "EInvoiceFileCounter")
    config = settings.EINVOICE
    vat = settings.SUPPLIER["vat_number"].replace(" ", "").upper().removeprefix("IT")
    country, code = (
        (config["transmitter_country"], config["transmitter_code"])
        if config["transmitter_code"]
        else ("IT", vat)
    )
    counter, _ = Counter.objects.get_or_create(year=0)
    issued = Invoice.objects.filter(number__isnull=False, einvoice__isnull=True).select_related(
        "customer", "contract"
    )
    for invoice in issued.order_by("issued_on", "pk").iterator():
        customer = invoice.customer
        invoice.payment_method_code = invoice.contract.payment_method
        invoice.customer_details = {
            "kind": customer.kind,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "company_name": customer.company_name,
            "codice_fiscale": customer.codice_fiscale,
            "partita_iva": customer.partita_iva,
            "street": customer.billing_street,
            "postcode": customer.billing_postcode,
            "city": customer.billing_city,
            "province": customer.billing_province,
            "sdi_code": customer.sdi_code,
            "sdi_pec": customer.sdi_pec,
        }
        invoice.save(update_fields=["payment_method_code", "customer_details"])
        counter.last_number += 1
        progressivo = _progressivo(counter.last_number)
        EInvoice.objects.create(
            invoice=invoice,
            progressivo=progressivo,
            file_name=f"{country}{code}_{progressivo}.xml",
            queued_on=invoice.issued_on,
            accept_by=deadlines.einvoice_accept_by(invoice.issued_on),
            alert_on=deadlines.einvoice_alert_on(invoice.issued_on),
        )
    counter.save()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_einvoice"),
        ("billing", "0007_einvoice"),
    ]

    operations = [migrations.RunPython(queue_issued_invoices, migrations.RunPython.noop)]
