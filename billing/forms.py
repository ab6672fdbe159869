"""The two small forms of the "Bollette" list: the year filter and the selection of bills for a ZIP."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from billing.selectors import ZIP_MAX_INVOICES


class YearFilterForm(forms.Form):
    anno = forms.TypedChoiceField(label=_("Anno"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["anno"].choices = [(year, str(year)) for year in years]

    def year(self) -> int | None:
        """The year asked for, or None when the query asks for none (or for a year without bills)."""
        return self.cleaned_data.get("anno") if self.is_valid() else None


class InvoiceIdsField(forms.Field):
    """Several `bolletta=<id>` values, as the list's checkboxes send them."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise ValidationError(_("Selezione non valida."), code="invalid") from None


class ZipSelectionForm(forms.Form):
    bolletta = InvoiceIdsField(
        required=True,
        error_messages={"required": _("Seleziona almeno una bolletta da scaricare.")},
    )
    anno = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_bolletta(self):
        ids = self.cleaned_data["bolletta"]
        if len(ids) > ZIP_MAX_INVOICES:
            raise ValidationError(
                ngettext_lazy(
                    "Puoi scaricare al massimo %(max)d bolletta alla volta.",
                    "Puoi scaricare al massimo %(max)d bollette alla volta.",
                    "max",
                ),
                code="too_many",
                params={"max": ZIP_MAX_INVOICES},
            )
        return ids


class PayOnlineForm(forms.Form):
    """What to pay by card: the invoices named, or (`tutto`, the balance button) everything payable online.
    No amount: the portal computes it."""

    bolletta = InvoiceIdsField(required=False)
    tutto = forms.BooleanField(required=False)


class InstalmentRequestForm(forms.Form):
    """How many instalments the customer asks for, among those the limits in force allow for their total."""

    instalment_count = forms.TypedChoiceField(
        label=_("Numero di rate"),
        coerce=int,
        error_messages={
            "required": _("Scegli il numero di rate."),
            "invalid_choice": _("Scegli uno dei numeri di rate proposti."),
        },
    )

    def __init__(self, *args, counts: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instalment_count"].choices = [
            ("", _("Scegli…")),
            *(
                (count, ngettext_lazy("%(count)d rata", "%(count)d rate", count) % {"count": count})
                for count in counts
            ),
        ]
