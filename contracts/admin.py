from django.contrib import admin

from contracts.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "display_name", "codice_fiscale", "partita_iva", "billing_city", "email"]
    list_filter = ["kind", "language", "billing_province"]
    search_fields = [
        "code",
        "first_name",
        "last_name",
        "company_name",
        "codice_fiscale",
        "partita_iva",
        "email",
    ]
    raw_id_fields = ["user"]
