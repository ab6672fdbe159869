"""Credit notes issued before they had a status of their own showed "Da pagare": they are not payable."""

from django.db import migrations


def credit_notes_are_not_payable(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    Invoice.objects.filter(kind="credit_note", status="issued").update(
        status="credit_issued", due_on=None, dunning_due_on=None
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0012_italian_labels")]
    operations = [migrations.RunPython(credit_notes_are_not_payable, migrations.RunPython.noop)]
