"""The forms of the complaint back office: they collect what a service needs, nothing more."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.fields import TaxIdField
from complaints import reply_templates, selectors
from complaints.models import Complaint, ReplyTemplate
from portal.lib import dates

# What staff register by hand: the online channels file themselves.
STAFF_CHANNELS = [
    Complaint.Channel.LETTER,
    Complaint.Channel.EMAIL,
    Complaint.Channel.PEC,
    Complaint.Channel.PHONE,
]
# E-mail and PEC count from the sending date, which is the day they arrive (TIQV; AR).
SENT_IS_RECEIVED = (Complaint.Channel.EMAIL, Complaint.Channel.PEC, Complaint.Channel.PHONE)


def _date_field(label, **kwargs):
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


def _text_field(label, *, rows=5, **kwargs):
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows, "cols": 80}), **kwargs)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = user.get_full_name()
        return f"{name} <{user.email}>" if name else user.email


class ComplaintRegistrationForm(forms.ModelForm):
    """A complaint received by letter, e-mail, PEC or phone, registered by staff.

    Its fields are the arguments of `services.file_complaint`, which files the case (see ComplaintAdmin's
    `save_form`): this form only checks the input."""

    class Meta:
        model = Complaint
        fields = [
            "channel",
            "sent_on",
            "received_on",
            "customer",
            "contract",
            "service",
            "invoice",
            "sender_name",
            "sender_tax_id",
            "sender_email",
            "supply_reference",
            "kind",
            "topic",
            "description",
            "reply_address",
            "reply_address_confirmed",
        ]
        # As on the public form: compact, "IT" dropped, and checked, so the case is found by the customer's id.
        field_classes = {"sender_tax_id": TaxIdField}
        labels = {
            "contract": _("Contratto"),
            "service": _("Fornitura o servizio"),
            "sender_email": _("E-mail del mittente"),
        }
        widgets = {
            "reply_address": forms.TextInput(attrs={"size": 80}),
            "sent_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "received_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 8, "cols": 80}),
        }
        help_texts = {
            "sent_on": _(
                "Raccomandata: la data di spedizione. E-mail, PEC e telefono: si può lasciare vuota, "
                "vale la data di ricevimento."
            ),
            "received_on": _("Il giorno in cui il reclamo è arrivato a Optima: da qui decorre il termine."),
            "sender_name": _("Vuoto: il nome del cliente selezionato."),
            "sender_tax_id": _("Vuoto: il codice fiscale o la partita IVA del cliente selezionato."),
            "supply_reference": _(
                "Se la fornitura non è tra quelle selezionabili: POD, PDR o codice cliente."
            ),
            "reply_address": _(
                "Vuoto: l'indirizzo per le risposte del cliente (o di fatturazione). Obbligatorio se il "
                "mittente non è un cliente identificato."
            ),
            "reply_address_confirmed": _(
                "Reclami telefonici (AGCOM 255/24/CONS): confermare con il cliente dove vuole ricevere la "
                "risposta scritta."
            ),
            "invoice": _("La bolletta contestata, se il reclamo ne riguarda una."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "---------"), *((c.value, c.label) for c in STAFF_CHANNELS)]
        self.fields["sent_on"].required = False
        self.fields["sender_name"].required = False
        self.fields["reply_address"].required = False
        self.fields["kind"].initial = Complaint.Kind.COMPLAINT
        self.fields["received_on"].initial = dates.today()

    def clean(self):
        cleaned = super().clean()
        channel, sent_on, received_on = (cleaned.get(k) for k in ("channel", "sent_on", "received_on"))
        today = dates.today()
        if received_on and received_on > today:
            self.add_error("received_on", _("La data di ricevimento non può essere nel futuro."))
        if channel in SENT_IS_RECEIVED and received_on:
            if sent_on and sent_on != received_on:
                self.add_error(
                    "sent_on",
                    _("Per e-mail, PEC e telefono la data di invio è quella di ricevimento."),
                )
            cleaned["sent_on"] = received_on
        elif channel == Complaint.Channel.LETTER:
            if not sent_on:
                self.add_error("sent_on", _("Indica la data di spedizione della raccomandata."))
            elif received_on and sent_on > received_on:
                self.add_error("sent_on", _("La spedizione non può seguire il ricevimento."))
        if channel == Complaint.Channel.PHONE and not cleaned.get("reply_address_confirmed"):
            self.add_error(
                "reply_address_confirmed",
                _("Per un reclamo telefonico il recapito per la risposta va confermato con il cliente."),
            )
        customer, contract, service = (cleaned.get(k) for k in ("customer", "contract", "service"))
        invoice = cleaned.get("invoice")
        if service is not None and contract is not None and service.contract_id != contract.pk:
            self.add_error("service", _("Il servizio non appartiene al contratto selezionato."))
        holder = contract.customer_id if contract else (service.contract.customer_id if service else None)
        if customer is not None and holder is not None and holder != customer.pk:
            self.add_error("contract", _("Il contratto non è intestato al cliente selezionato."))
        if invoice is not None and customer is not None and invoice.customer_id != customer.pk:
            self.add_error("invoice", _("La bolletta non è intestata al cliente selezionato."))
        identified = customer is not None or contract is not None or service is not None
        if not identified and not cleaned.get("sender_name"):
            self.add_error("sender_name", _("Indica il mittente, o seleziona il cliente."))
        if not identified and not cleaned.get("reply_address"):
            self.add_error("reply_address", _("Indica dove il mittente vuole ricevere la risposta scritta."))
        return cleaned


class ComplaintCaseForm(forms.ModelForm):
    """The case page: the reply sections, the cause of any delay, and the contested invoice, which may be
    linked after filing (services.link_invoice then applies the anomalous-bill block)."""

    def clean_invoice(self):
        invoice = self.cleaned_data.get("invoice")
        customer_id = self.instance.customer_id
        if invoice is not None and customer_id is not None and invoice.customer_id != customer_id:
            raise forms.ValidationError(_("La bolletta non è intestata al cliente del reclamo."))
        if invoice is not None and not invoice.is_issued:
            raise forms.ValidationError(_("Collega una bolletta emessa."))
        return invoice


class DunningBlockForm(forms.Form):
    reason = _text_field(
        _("Motivo del blocco"),
        rows=3,
        max_length=300,
        help_text=_(
            "Es. «Consumi contestati, verifica delle letture in corso». La bolletta resta fuori dalle "
            "costituzioni in mora e non porta a riduzioni o sospensioni fino alla risposta motivata."
        ),
    )


class DunningLiftForm(forms.Form):
    reason = _text_field(
        _("Motivo dello sblocco"),
        rows=3,
        max_length=300,
        help_text=_("Obbligatorio prima della risposta: resta sul blocco e nella cronologia del caso."),
    )


class ConfirmForm(forms.Form):
    """No field: the page itself is the confirmation."""


class AssignForm(forms.Form):
    assignee = StaffChoiceField(label=_("Assegna a"), queryset=get_user_model().objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.complaint_staff()


class NoteForm(forms.Form):
    text = _text_field(_("Nota interna"), help_text=_("Visibile solo al personale."))


class AskCustomerForm(forms.Form):
    text = _text_field(
        _("Che cosa chiedere al cliente"),
        help_text=_(
            "Il cliente riceve il messaggio per e-mail e nell'Area Clienti. Il termine di risposta non si "
            "sospende."
        ),
    )


class ReclassifyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Nuovo tipo"), choices=Complaint.Kind.choices)
    reason = _text_field(_("Motivo"), rows=3)

    def __init__(self, *args, complaint, **kwargs):
        super().__init__(*args, **kwargs)
        self.complaint = complaint
        self.fields["kind"].initial = complaint.kind

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind == self.complaint.kind:
            raise forms.ValidationError(_("Il caso è già di questo tipo."))
        return kind


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Documento"), help_text=_("PDF, JPEG o PNG, fino a 10 MB."))
    internal = forms.BooleanField(
        label=_("Solo interno"),
        required=False,
        initial=True,
        help_text=_("Se non spuntato, il cliente vede il documento nella sua pratica."),
    )
    note = forms.CharField(label=_("Descrizione"), required=False, max_length=500)


class ExclusionForm(forms.Form):
    exclusion = forms.ChoiceField(label=_("Motivo di esclusione"), choices=Complaint.Exclusion.choices)
    reason = _text_field(
        _("Motivazione e documenti"),
        rows=4,
        help_text=_("Obbligatoria (TIQV art. 18, 20): perché l'indennizzo non è dovuto, con i documenti."),
    )


class ReplyDraftForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Esito"),
        choices=reply_templates.OUTCOMES,
        required=False,
        help_text=_("Le quattro sezioni della risposta vengono sostituite dal modello scelto."),
    )
    template = forms.ModelChoiceField(
        label=_("Modello"),
        queryset=ReplyTemplate.objects.filter(active=True),
        required=False,
        empty_label=_("Il più adatto al caso e all'esito"),
        help_text=_(
            "Le sezioni che il modello scelto non contiene vengono dal modello più adatto. I modelli li "
            "gestiscono i supervisori (Modelli di risposta)."
        ),
    )


class SendReplyForm(forms.Form):
    delay_cause = _text_field(
        _("Causa del ritardo"),
        rows=3,
        required=False,
        help_text=_("Per il registro dei reclami: perché la risposta parte oltre il termine."),
    )


class RegisterExportForm(forms.Form):
    date_from = _date_field(_("Ricevuti dal"))
    date_to = _date_field(_("al"))

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("La data finale precede quella iniziale."))
        return cleaned
