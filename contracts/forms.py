"""Forms of the customer's contract pages. They check the input; the rules live in contracts/services.py."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _
from localflavor.it.forms import ITProvinceSelect, ITZipCodeField

from accounts.fields import CodiceFiscaleField
from accounts.models import Customer
from accounts.validators import normalise_sdi_code
from contracts import selectors
from contracts.fields import IbanField
from contracts.models import Contract, WithdrawalRequest

NUMBER_ERRORS = {
    "required": _("Scrivi la lettura del contatore."),
    "invalid": _("Scrivi solo le cifre della lettura, senza decimali né punti."),
    "min_value": _("La lettura non può essere negativa."),
    "max_value": _("La lettura è troppo lunga: controlla le cifre."),
}
DATE_ERRORS = {
    "required": _("Indica la data della lettura."),
    "invalid": _("Scrivi la data come gg/mm/aaaa."),
}


# Dates are typed as the customer reads them everywhere in the portal, 31/01/2027, whatever the language
# (a browser date picker would show the browser's own format); ISO dates are accepted too.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]


class DateInput(forms.DateInput):
    def __init__(self, attrs=None):
        super().__init__(
            {"placeholder": _("gg/mm/aaaa"), "autocomplete": "off", "size": 10, **(attrs or {})},
            format="%d/%m/%Y",
        )


class SelfReadingForm(forms.Form):
    value = forms.IntegerField(
        label=_("Lettura del contatore"),
        min_value=0,
        max_value=2_000_000_000,
        error_messages=NUMBER_ERRORS,
        help_text=_("Solo le cifre prima della virgola, senza decimali."),
        # A text box with the numeric keypad: a number input would drop what it cannot parse and change
        # the reading when the page is scrolled over it.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"}),
    )
    read_on = forms.DateField(
        label=_("Data della lettura"),
        input_formats=DATE_INPUT_FORMATS,
        error_messages=DATE_ERRORS,
        help_text=_("Per esempio 31/01/2027: oggi o un giorno passato."),
        widget=DateInput(),
    )

    def __init__(self, *args, today: date, unit: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["read_on"].initial = today
        if unit:
            self.fields["value"].label = _("Lettura del contatore (%(unit)s)") % {"unit": unit}

    def clean_read_on(self):
        read_on = self.cleaned_data["read_on"]
        if read_on > self.today:
            raise forms.ValidationError(_("La data non può essere nel futuro."), code="future")
        return read_on


class WithdrawalForm(forms.Form):
    """Step 1 of a withdrawal, and the hidden copy of the choices posted with the confirmation."""

    KIND_CHOICES = [
        (
            WithdrawalRequest.Kind.SWITCH,
            _("Cambio fornitore: passi a un altro fornitore"),
        ),
        (
            WithdrawalRequest.Kind.DEACTIVATION,
            _("Disattivazione: chiudi il servizio, con 30 giorni di preavviso"),
        ),
    ]

    kind = forms.ChoiceField(
        label=_("Che cosa vuoi fare?"),
        choices=KIND_CHOICES,
        help_text=_(
            "Per luce e gas il cambio fornitore ha effetto dal primo giorno di un mese: se la richiesta "
            "arriva entro il 10, dal mese successivo."
        ),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Scegli se cambi fornitore o disattivi."),
            "invalid_choice": _("Scegli una delle opzioni proposte."),
        },
    )
    service = forms.ModelChoiceField(
        label=_("Per quale servizio?"),
        queryset=None,
        required=False,
        empty_label=_("Tutto il contratto"),
        help_text=_("Scegli un solo servizio per un recesso parziale: gli altri restano attivi."),
        error_messages={"invalid_choice": _("Scegli uno dei servizi attivi di questo contratto.")},
    )

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = selectors.withdrawable_services(contract)
        self.fields["service"].label_from_instance = self._service_label

    @staticmethod
    def _service_label(service):
        return f"{service.get_kind_display()} {service.identifier}".strip()


class ContactDetailsForm(forms.ModelForm):
    """Phone, PEC, the address for written replies, language and consents of the logged-in customer; for a
    business, also where the SdI delivers its electronic invoices (a consumer's go to the Agenzia's reserved
    area: there is nothing to choose)."""

    EINVOICE_FIELDS = ("sdi_code", "sdi_pec")

    reply_postcode = ITZipCodeField(
        label=_("CAP"),
        required=False,
        error_messages={"invalid": _("Il CAP è di 5 cifre.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5}),
    )
    # Longer than the 7 characters of a code: spaces typed or pasted inside it are dropped (clean_sdi_code)
    # before the model's validator checks the code itself.
    sdi_code = forms.CharField(
        label=_("Codice destinatario"),
        required=False,
        max_length=20,
        help_text=_("I 7 caratteri che ti ha dato il tuo intermediario o il tuo software di fatturazione."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "size": 10}
        ),
    )

    class Meta:
        model = Customer
        fields = [
            "phone",
            "pec",
            "reply_street",
            "reply_postcode",
            "reply_city",
            "reply_province",
            "language",
            "marketing_consent",
            "health_data_consent",
            "sdi_code",
            "sdi_pec",
        ]
        labels = {
            "phone": _("Telefono"),
            "pec": _("PEC (posta elettronica certificata)"),
            "reply_street": _("Via e numero civico"),
            "reply_city": _("Comune"),
            "reply_province": _("Provincia"),
            "language": _("Lingua delle comunicazioni"),
            "marketing_consent": _("Acconsento a ricevere offerte e novità commerciali"),
            "health_data_consent": _("Acconsento al trattamento dei miei dati sanitari"),
            "sdi_pec": _("PEC per le fatture elettroniche"),
        }
        help_texts = {
            "pec": _("Facoltativa. Le comunicazioni inviate via PEC hanno il valore di una raccomandata."),
            "language": _("La lingua delle lettere e delle e-mail che ti inviamo."),
            "marketing_consent": _("Puoi revocarlo quando vuoi: non cambia nulla nei tuoi contratti."),
            "health_data_consent": _(
                "Serve per Teleconsulto Medico: senza questo consenso (GDPR art. 9) i medici non possono "
                "trattare le informazioni sulla tua salute e il servizio non può essere attivato."
            ),
            "sdi_pec": _("Solo se non hai un codice destinatario."),
        }
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "pec": forms.EmailInput(attrs={"autocomplete": "off"}),
            "reply_street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "reply_city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "reply_province": ITProvinceSelect(),
            "sdi_pec": forms.EmailInput(attrs={"autocomplete": "off"}),
        }
        error_messages = {
            "pec": {"invalid": _("Scrivi un indirizzo PEC completo, per esempio nome@pec.it.")},
            "sdi_pec": {"invalid": _("Scrivi un indirizzo PEC completo, per esempio fatture@pec.it.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The field's own choices (with the empty one: the reply address is optional) replace the widget's.
        self.fields["reply_province"].choices = [("", _("Scegli la provincia"))] + [
            choice for choice in self.fields["reply_province"].choices if choice[0]
        ]
        if not self.is_business:
            for name in self.EINVOICE_FIELDS:
                del self.fields[name]

    @property
    def is_business(self) -> bool:
        return self.instance.kind == Customer.Kind.BUSINESS

    def clean_sdi_code(self):
        # "m5uxcr1 " as typed or pasted is the code M5UXCR1; the model's validator checks what is left.
        return normalise_sdi_code(self.cleaned_data["sdi_code"])


class MandateForm(forms.Form):
    """The SEPA direct debit mandate the customer signs: the account, its holder, and the authorisation."""

    HOLDER_CHOICES = [("customer", _("Sono io")), ("other", _("Un'altra persona"))]

    holder = forms.ChoiceField(
        label=_("Chi è l'intestatario del conto?"),
        choices=HOLDER_CHOICES,
        initial="customer",
        widget=forms.RadioSelect,
        error_messages={"required": _("Indica chi è l'intestatario del conto.")},
    )
    holder_name = forms.CharField(
        label=_("Nome e cognome dell'intestatario"),
        required=False,
        max_length=70,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    holder_tax_code = CodiceFiscaleField(
        label=_("Codice fiscale dell'intestatario"),
        required=False,
        error_messages={
            "invalid_codice_fiscale": _("Il codice fiscale non è valido: controlla i 16 caratteri.")
        },
    )
    iban = IbanField(
        label=_("IBAN"),
        help_text=_("Un conto in un paese dell'area SEPA, per esempio IT60 X054 2811 1010 0000 0123 456."),
        error_messages={"required": _("Scrivi l'IBAN del conto.")},
    )
    authorise = forms.BooleanField(
        label=_(
            "Autorizzo l'addebito delle bollette di questo contratto sul conto indicato e la mia banca a "
            "eseguirlo (mandato SEPA Core). Posso revocarlo quando voglio dal portale."
        ),
        error_messages={"required": _("Per attivare l'addebito diretto conferma l'autorizzazione.")},
    )

    @property
    def holder_is_customer(self) -> bool:
        return self.cleaned_data["holder"] == "customer"


class BillDeliveryForm(forms.Form):
    CHOICES = [
        ("web", _("Bolletta web: la ricevo solo per e-mail e nell'Area Clienti")),
        ("paper", _("Bolletta cartacea: la ricevo anche per posta")),
    ]

    delivery = forms.ChoiceField(
        label=_("Come vuoi ricevere le bollette?"),
        choices=CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Scegli come ricevere le bollette."),
            "invalid_choice": _("Scegli una delle opzioni proposte."),
        },
    )

    @property
    def paper_bills(self) -> bool:
        return self.cleaned_data["delivery"] == "paper"
