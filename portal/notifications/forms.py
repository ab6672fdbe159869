from django import forms
from django.utils.translation import gettext_lazy as _


class PostingForm(forms.Form):
    """The posting of a letter in ordinary post: its date is all there is to record."""

    dispatched_on = forms.DateField(
        label=_("Data di spedizione"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Il giorno in cui la lettera è stata consegnata all'ufficio postale."),
    )


class LetterDispatchForm(PostingForm):
    tracking_number = forms.CharField(label=_("Numero di raccomandata"), max_length=40)


class LetterReceiptForm(forms.Form):
    delivered_on = forms.DateField(
        label=_("Data di consegna"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("La data sulla ricevuta di ritorno."),
    )
