"""Prices: the offers' tariffs and the dated late-payment interest rates, edited by staff."""

from django.contrib import admin

from billing.models import InterestRate, Tariff


@admin.register(InterestRate)
class InterestRateAdmin(admin.ModelAdmin):
    """The dated rate tables of late-payment interest (CG 6.1): a new row from the day a rate changes."""

    list_display = ["kind", "valid_from", "value", "source"]
    list_filter = ["kind"]
    ordering = ["kind", "-valid_from"]


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = [
        "offer_name",
        "energy_price_kwh",
        "gas_price_smc",
        "electricity_monthly_fee",
        "gas_monthly_fee",
    ]
    search_fields = ["offer_name"]
