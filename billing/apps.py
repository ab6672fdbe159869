from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Bollette e pagamenti"

    def ready(self):
        post_migrate.connect(_load_interest_rates, sender=self)


def _load_interest_rates(using, apps=global_apps, **kwargs):
    """A database whose rate tables are empty gets the rates in force (billing/deadlines.py): the data
    migration loads them once, but a flush (tests, `manage.py flush`) empties them and late-payment interest
    cannot be computed without them. Once staff have rows, they are the staff's to change."""
    from billing.deadlines import ECB_MAIN_REFINANCING_RATES, LEGAL_INTEREST_RATES

    try:
        model = apps.get_model("billing", "InterestRate")
    except LookupError:  # migrated back to before the table existed
        return
    rates = model.objects.db_manager(using)
    if rates.exists():
        return
    rates.bulk_create(
        model(kind=kind, valid_from=entry.valid_from, value=entry.value, source=entry.source)
        for kind, table in (("ecb", ECB_MAIN_REFINANCING_RATES), ("legal", LEGAL_INTEREST_RATES))
        for entry in table
    )
