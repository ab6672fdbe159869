"""The forms of the billing screens: they collect what a service needs, nothing more (the services validate)."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.models import Payment, SuspensionStep
from contracts.models import Service
from portal.admin_lookups import AutocompleteSelect


def _autocomplete(form_field, model_field, admin_site):
    """Admin's autocomplete widget on a plain form's choice field (as ModelAdmin.autocomplete_fields does)."""
    form_field.widget = AutocompleteSelect(model_field, admin_site)
    form_field.widget.is_required = form_field.required
    form_field.queryset = form_field.queryset  # hands the choices to the new widget


def _date_field(label, **kwargs):
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


class CreditNoteForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo della rettifica"),
        max_length=200,
        help_text=_("Stampato su ogni riga della nota di credito, es. «Doppia fatturazione»."),
    )
    issued_on = _date_field(_("Data di emissione"))


class DunningBlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo del blocco"),
        max_length=300,
        help_text=_(
            "Es. «Reclamo per bolletta anomala del 12/11/2026»: la bolletta resta fuori dalle costituzioni in "
            "mora e non può portare a sospensioni finché il blocco non è tolto."
        ),
    )


class EuroField(forms.DecimalField):
    """An amount as staff type it: "1.234,56", "1234,56", "1234.56" or "150 €"."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace("€", "").replace(" ", "").replace("\N{NO-BREAK SPACE}", "")
            if "," in value:
                value = value.replace(".", "").replace(",", ".")
        return super().to_python(value)


class PaymentRegistrationForm(forms.Form):
    """A payment received: allocated by services.record_payment, never saved directly."""

    customer = forms.ModelChoiceField(label=_("Cliente"), queryset=None)
    amount = EuroField(label=_("Importo (€)"), max_digits=13, decimal_places=2, min_value=Decimal("0.01"))
    received_on = _date_field(_("Incassato il"))
    method = forms.ChoiceField(label=_("Modalità"), choices=Payment.Method.choices)
    invoice = forms.ModelChoiceField(
        label=_("Bolletta indicata dal cliente"),
        queryset=None,
        required=False,
        help_text=_("Vuoto: il pagamento va alle bollette più vecchie (art. 6.1)."),
    )
    transaction_id = forms.CharField(
        label=_("Identificativo dell'operazione"),
        max_length=64,
        required=False,
        help_text=_("CRO/TRN del bonifico o numero del bollettino: un pagamento si registra una volta sola."),
    )

    def __init__(self, *args, admin_site=admin.site, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("customer", "invoice"):
            field = Payment._meta.get_field(name)
            self.fields[name].queryset = field.remote_field.model._default_manager.all()
            _autocomplete(self.fields[name], field, admin_site)


class DispatchForm(forms.Form):
    sent_on = _date_field(
        _("Data di spedizione"),
        help_text=_(
            "Il giorno in cui la raccomandata è stata consegnata all'ufficio postale: da qui i 40 giorni."
        ),
    )
    tracking_number = forms.CharField(label=_("Numero di raccomandata"), max_length=40)


class ReceiptForm(forms.Form):
    received_on = _date_field(
        _("Ricevuta il"), help_text=_("La data della ricevuta di ritorno o della ricevuta di consegna PEC.")
    )


class SuspensionStepForm(forms.Form):
    """A step with the distributor. With a notice, its supplies; without one, any supply (30 € indemnity)."""

    service = forms.ModelChoiceField(label=_("Fornitura"), queryset=Service.objects.none())
    kind = forms.ChoiceField(
        label=_("Intervento"),
        choices=[
            (kind.value, kind.label)
            for kind in SuspensionStep.Kind
            if kind != SuspensionStep.Kind.REACTIVATION
        ],
    )
    requested_on = _date_field(_("Richiesto al distributore il"))
    executed_on = _date_field(
        _("Eseguito il"), required=False, help_text=_("Vuoto se il distributore non l'ha ancora eseguito.")
    )
    distributor_reference = forms.CharField(
        label=_("Riferimento del distributore"), max_length=100, required=False
    )
    override_reason = forms.CharField(
        label=_("Motivo per procedere comunque"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Solo per un intervento non consentito (prima del giorno consentito o senza costituzione in mora): "
            "viene registrato con l'indennizzo automatico (20 € o 30 €) e senza corrispettivi."
        ),
    )

    def __init__(self, *args, services, allow_reactivation=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["service"].label_from_instance = lambda service: f"{service.contract.number} · {service}"
        if allow_reactivation:
            self.fields["kind"].choices = SuspensionStep.Kind.choices


class StandaloneSuspensionStepForm(SuspensionStepForm):
    """Admin "add" of a step without a default notice: any supply, found by autocomplete."""

    def __init__(self, *args, admin_site=admin.site, **kwargs):
        super().__init__(
            *args,
            services=Service.objects.select_related("contract"),
            allow_reactivation=True,
            **kwargs,
        )
        _autocomplete(self.fields["service"], SuspensionStep._meta.get_field("service"), admin_site)


class StepExecutionForm(forms.Form):
    executed_on = _date_field(_("Eseguito il"))


class ReactivationForm(forms.Form):
    proven_payment_on = _date_field(
        _("Pagamento dimostrato il"),
        help_text=_("Il giorno in cui il cliente ha inviato la prova del pagamento integrale (art. 6.5)."),
    )
    requested_on = _date_field(_("Riattivazione richiesta al distributore il"))


class CancelNoticeForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo dell'annullamento"),
        max_length=300,
        help_text=_(
            "Le bollette ancora da pagare torneranno in una nuova costituzione in mora al prossimo controllo, "
            "salvo che siano bloccate."
        ),
    )


class OnlinePaymentRefundForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo del rimborso"),
        max_length=300,
        help_text=_(
            "Resta sul pagamento insieme a chi lo ha rimborsato e quando, es. «Addebito contestato»."
        ),
    )
