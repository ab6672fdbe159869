"""The forms of the billing screens: they collect what a service needs, nothing more (the services validate)."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing import services
from billing.models import Credit, Payment, SuspensionStep
from contracts.models import Service
from portal.admin_lookups import AutocompleteSelect
from portal.lib import formatting


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


class DunningUnblockForm(forms.Form):
    # Required by the service only while a complaint holding the invoice waits for its reply.
    reason = forms.CharField(
        label=_("Motivo dello sblocco"),
        max_length=300,
        required=False,
        help_text=_(
            "Obbligatorio se il reclamo che blocca la bolletta non ha ancora una risposta: resta sul blocco."
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

    def clean_transaction_id(self):
        """The same movement registered twice would be counted twice: say which payment already has it."""
        transaction_id = self.cleaned_data["transaction_id"].strip()
        existing = Payment.objects.filter(transaction_id=transaction_id).select_related("customer").first()
        if transaction_id and existing is not None:
            raise forms.ValidationError(
                _(
                    "Questa operazione è già registrata: pagamento di %(amount)s del %(day)s di %(customer)s. "
                    "Un pagamento si registra una volta sola."
                ),
                params={
                    "amount": formatting.euro(existing.amount, italian=True),
                    "day": formatting.day(existing.received_on),
                    "customer": existing.customer,
                },
            )
        return transaction_id


class StatementUploadForm(forms.Form):
    """A bank or postal statement, in the CSV format `import_payments` reads (billing/payments_import.py)."""

    MAX_BYTES = 5 * 1024 * 1024  # a month of a bank's movements is far smaller

    statement = forms.FileField(
        label=_("Estratto conto (CSV)"),
        help_text=_(
            "Colonne: transaction_id, date, amount, method, customer, invoice (facoltativa), separate da «;» o "
            "«,», come nell'esempio docs/samples/estratto-conto-esempio.csv."
        ),
    )
    partial = forms.BooleanField(
        label=_("Importa le righe corrette anche se altre hanno errori"),
        required=False,
        help_text=_(
            "Senza spunta, un file con anche una sola riga errata non registra nulla ed elenca ogni riga da "
            "correggere: si corregge il file e lo si importa di nuovo (le righe già importate si saltano)."
        ),
    )

    def clean_statement(self):
        statement = self.cleaned_data["statement"]
        if statement.size > self.MAX_BYTES:
            raise forms.ValidationError(_("Il file supera i 5 MB: non è un estratto conto."))
        return statement


class InvoiceRunForm(forms.Form):
    """The month to bill and the issue date; the rules on both are billing.generation.check_run's."""

    period = forms.DateField(
        label=_("Mese da fatturare"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=_("Si fatturano i periodi che finiscono in questo mese, una volta finito."),
    )
    issued_on = _date_field(_("Data di emissione"))
    closing_only = forms.BooleanField(
        label=_("Solo bollette di chiusura"),
        required=False,
        help_text=_("Per le forniture già cessate, anche prima che il mese sia finito."),
    )


class PaymentMatchForm(forms.Form):
    invoice = forms.ModelChoiceField(label=_("Bolletta da pagare"), queryset=None, empty_label=None)

    def __init__(self, *args, invoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = invoices
        self.fields["invoice"].label_from_instance = lambda invoice: (
            _("%(number)s · scadenza %(due)s · da pagare %(outstanding)s")
            % {
                "number": invoice.number,
                "due": formatting.day(invoice.due_on),
                "outstanding": formatting.euro(invoice.outstanding, italian=True),
            }
        )


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


class RefuseInstalmentPlanForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo del rifiuto"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Lo leggerà il cliente, nel messaggio che gli inviamo."),
    )


class InvoiceCreditNoteForm(forms.Form):
    """A credit note for one invoice: all of it, the chosen lines, or an amount (services.plan_credit_note)."""

    WHOLE, LINES, AMOUNT = "whole", "lines", "amount"

    what = forms.ChoiceField(
        label=_("Cosa stornare"),
        choices=[
            (WHOLE, _("Tutta la bolletta: viene annullata")),
            (LINES, _("Le righe scelte")),
            (AMOUNT, _("Un importo, IVA inclusa, ripartito sulle aliquote della bolletta")),
        ],
        widget=forms.RadioSelect,
    )
    lines = forms.ModelMultipleChoiceField(
        label=_("Righe da stornare"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    amount = EuroField(
        label=_("Importo da stornare (€, IVA inclusa)"),
        max_digits=13,
        decimal_places=2,
        required=False,
        help_text=_("Es. la rettifica di 48,20 € promessa nella risposta a un reclamo."),
    )
    reason = forms.CharField(
        label=_("Motivo della rettifica"),
        max_length=200,
        help_text=_(
            "Stampato sulla nota di credito e scritto nella fattura elettronica, es. «Lettura errata»."
        ),
    )
    issued_on = _date_field(_("Data di emissione"))

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = lines
        self.fields["lines"].label_from_instance = lambda line: (
            f"{line.description} — {formatting.euro(line.amount, italian=True)} "
            f"({services.rate_label(line.vat_rate)})"
        )

    def clean(self):
        cleaned = super().clean()
        what = cleaned.get("what")
        if what == self.LINES and not cleaned.get("lines"):
            self.add_error("lines", _("Scegliere almeno una riga da stornare."))
        if what == self.AMOUNT and cleaned.get("amount") is None:
            self.add_error("amount", _("Indicare l'importo da stornare."))
        return cleaned

    def credit(self) -> dict:
        """What to take back, as services.plan_credit_note / issue_credit_note take it."""
        what = self.cleaned_data["what"]
        return {
            "lines": list(self.cleaned_data["lines"]) if what == self.LINES else None,
            "amount": self.cleaned_data["amount"] if what == self.AMOUNT else None,
        }


class RebillForm(forms.Form):
    issued_on = _date_field(
        _("Data di emissione"),
        help_text=_("Le righe stornate si ricalcolano con i dati di oggi: letture, tariffe, forniture."),
    )


class ManualCreditForm(forms.Form):
    """A credit an officer grants: services.grant_manual_credit, never saved directly."""

    customer = forms.ModelChoiceField(label=_("Cliente"), queryset=None)
    contract = forms.ModelChoiceField(
        label=_("Contratto"),
        queryset=None,
        required=False,
        help_text=_("Facoltativo: il contratto interessato."),
    )
    amount = EuroField(label=_("Importo (€)"), max_digits=13, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(
        label=_("Motivo"),
        max_length=300,
        help_text=_(
            "Stampato sulla riga della bolletta che detrae il credito, es. «Rimborso spese di spedizione»."
        ),
    )
    granted_on = _date_field(_("Riconosciuto il"))

    def __init__(self, *args, admin_site=admin.site, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("customer", "contract"):
            field = Credit._meta.get_field(name)
            self.fields[name].queryset = field.remote_field.model._default_manager.all()
            _autocomplete(self.fields[name], field, admin_site)
