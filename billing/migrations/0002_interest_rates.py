"""The interest rates in force, from the dated tables in billing/deadlines.py; staff edit them in admin."""

from django.db import migrations


def load_rates(apps, schema_editor):
    from billing.deadlines import ECB_MAIN_REFINANCING_RATES, LEGAL_INTEREST_RATES

    InterestRate = apps.get_model("billing", "InterestRate")
    for kind, table in (("ecb", ECB_MAIN_REFINANCING_RATES), ("legal", LEGAL_INTEREST_RATES)):
        for entry in table:
            InterestRate.objects.get_or_create(
                kind=kind, valid_from=entry.valid_from, defaults={"value": entry.value, "source": entry.source}
            )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load_rates, migrations.RunPython.noop)]
