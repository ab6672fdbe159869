"""Admin lookups that answer a field error or no match, never a 500, whatever staff (or a fuzzer) send."""

from django.contrib import admin
from django.contrib.admin import widgets
from django.core.exceptions import ValidationError


class AutocompleteSelect(widgets.AutocompleteSelect):
    """Django's autocomplete widget, minus its 500 on a value that cannot be a key of the related model.

    When a form comes back with errors, Django's widget filters the related table by the raw submitted
    value to show the current choice, so `customer=abc` raises ValueError while rendering, after the form
    field has already reported "not a valid choice". Such a value is simply not shown as selected."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._is_key(v)], attr)

    def _is_key(self, value):
        try:
            self.field.target_field.to_python(value)
        except ValidationError:
            return False
        return True


class SafeLookupsAdmin(admin.ModelAdmin):
    """Base of every ModelAdmin with autocomplete fields or used as an autocomplete's search."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL refuses NUL in a text parameter (DataError); no stored text contains one anyway.
        return super().get_search_results(request, queryset, search_term.replace("\x00", ""))
