"""The intermediate forms of the contract admin: they collect what a service needs, nothing more."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.validators import normalise_sdi_code
from billing.models import Tariff
from contracts import services
from contracts.models import Service, WithdrawalRequest


def _date_field(label, **kwargs):
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


class CustomerAdminForm(forms.ModelForm):
    """The customer page (admin adds the model and the fields): the consents follow the same rule as on the
    customer's own page."""

    def clean_sdi_code(self):
        return normalise_sdi_code(self.cleaned_data.get("sdi_code", ""))

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and "health_data_consent" in cleaned:
            try:
                services.check_health_data_consent(
                    customer=self.instance, consent=cleaned["health_data_consent"]
                )
            except ValidationError as error:
                self.add_error(None, error)
        return cleaned


class CustomerWithdrawalForm(forms.Form):
    """A customer's withdrawal received by staff (letter, PEC, phone, shop)."""

    kind = forms.ChoiceField(
        label=_("Tipo di recesso"),
        choices=[
            (WithdrawalRequest.Kind.SWITCH, WithdrawalRequest.Kind.SWITCH.label),
            (WithdrawalRequest.Kind.DEACTIVATION, WithdrawalRequest.Kind.DEACTIVATION.label),
        ],
        help_text=_(
            "Cambio fornitore: efficace dal 1° del mese successivo se ricevuto entro il giorno 10 (art. 3.2); "
            "disattivazione: 30 giorni dalla ricezione (art. 3.3)."
        ),
    )
    received_on = _date_field(
        _("Ricevuto il"), help_text=_("Il giorno in cui la richiesta del cliente è arrivata a Optima.")
    )
    service = forms.ModelChoiceField(
        label=_("Solo questo servizio"),
        queryset=Service.objects.none(),
        required=False,
        help_text=_(
            "Vuoto: recesso da tutto il contratto. Per un recesso parziale seleziona un solo contratto."
        ),
    )

    def __init__(self, *args, contracts, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract_count = len(contracts)
        self.fields["service"].queryset = (
            Service.objects.filter(contract__in=contracts)
            .exclude(status__in=[Service.Status.DEACTIVATED, Service.Status.CANCELLED])
            .select_related("contract")
        )
        self.fields["service"].label_from_instance = lambda service: f"{service.contract.number} · {service}"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("service") is not None and self.contract_count > 1:
            self.add_error("service", _("Per un recesso parziale seleziona un solo contratto."))
        return cleaned


class CoolingOffForm(forms.Form):
    """A customer's cooling-off (ripensamento) sent by letter, PEC or e-mail, or declared on the phone."""

    sent_on = _date_field(
        _("Inviato dal cliente il"),
        help_text=_(
            "Conta la data di invio: il ripensamento vale se il cliente lo invia entro 14 giorni dalla "
            "conclusione di un contratto a distanza o fuori dai negozi (Codice del Consumo, artt. 52 e 54)."
        ),
    )


class SupplierWithdrawalForm(forms.Form):
    sent_on = _date_field(
        _("Data di invio della comunicazione"),
        help_text=_(
            "Energia: 6 mesi dal 1° del mese successivo alla ricezione presunta (invio + 10 giorni); "
            "comunicazioni elettroniche: 3 mesi dall'invio (art. 3.6)."
        ),
    )


class ConditionChangeForm(forms.Form):
    title = forms.CharField(label=_("Titolo"), max_length=200)
    description = forms.CharField(
        label=_("Descrizione per il cliente"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Il testo che il cliente legge nella comunicazione: cosa cambia e da quando."),
    )
    effective_on = _date_field(_("In vigore dal"))
    raises_prices = forms.BooleanField(
        label=_("Comporta altri oneri per il cliente"),
        required=False,
        help_text=_(
            "Solo per oneri diversi dai prezzi qui sotto (es. un nuovo corrispettivo): tutti i clienti potranno "
            "recedere senza costi entro 60 giorni (art. 9.3). Un aumento dei prezzi dà questo diritto da sé."
        ),
    )
    sent_on = _date_field(
        _("Data di invio"),
        help_text=_(
            "Il preavviso di 3 mesi decorre dal 1° del mese successivo alla ricezione presunta "
            "(invio + 10 giorni, art. 9.3)."
        ),
    )

    PRICE_PREFIX = "price_"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One field per tariff price: the new price, compared with each contract's offer by the service, which
        # decides from that comparison whether the notice gives the 60-day withdrawal right (art. 9.3).
        for name in services.PRICE_COMPONENTS:
            model_field = Tariff._meta.get_field(name)
            self.fields[self.PRICE_PREFIX + name] = forms.DecimalField(
                label=_("Nuovo %(price)s") % {"price": model_field.verbose_name},
                max_digits=model_field.max_digits,
                decimal_places=model_field.decimal_places,
                min_value=0,
                required=False,
                help_text=_("Vuoto: invariato."),
            )
        prices = [self.PRICE_PREFIX + name for name in services.PRICE_COMPONENTS]
        self.order_fields(["title", "description", "effective_on", "sent_on", *prices, "raises_prices"])

    @classmethod
    def new_prices(cls, cleaned_data: dict) -> dict:
        """The prices entered, by tariff field, as services.start_condition_change takes them."""
        return {
            name.removeprefix(cls.PRICE_PREFIX): value
            for name, value in cleaned_data.items()
            if name.startswith(cls.PRICE_PREFIX) and value is not None
        }

    def clean(self):
        cleaned = super().clean()
        effective_on, sent_on = cleaned.get("effective_on"), cleaned.get("sent_on")
        if effective_on and sent_on:
            try:
                services.check_condition_change_date(effective_on=effective_on, sent_on=sent_on)
            except ValidationError as error:
                self.add_error("effective_on", error)
        return cleaned


class ServiceActivationForm(forms.Form):
    activated_on = _date_field(
        _("Attivato il"),
        help_text=_(
            "Il primo servizio attivato avvia il periodo contrattuale di 12 mesi (dal 1° del mese "
            "successivo, se non è il 1°)."
        ),
    )
