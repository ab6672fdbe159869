"""Forms of the complaint pages. They check the input, attachments included, before a service is called;
the rules (clock, classification, acknowledgement) live in complaints/services.py."""

from __future__ import annotations

import re
import uuid
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.fields import TaxIdField
from accounts.models import Customer
from complaints import deadlines, selectors
from complaints.models import Complaint
from complaints.services import MAX_ATTACHMENTS, validate_attachment
from contracts.models import Service
from portal.lib import formatting

DESCRIPTION_MAX_LENGTH = 10_000
MESSAGE_MAX_LENGTH = 5_000
ACCEPTED_FILES = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
CODE_PATTERN = re.compile(r"^R-\d{4}-\d{6}$")

# What a customer chooses; a complaint about fibre or mobile becomes the AGCOM kind by itself.
CUSTOMER_KINDS = (
    Complaint.Kind.COMPLAINT,
    Complaint.Kind.INFORMATION_REQUEST,
    Complaint.Kind.BILLING_RECTIFICATION,
    Complaint.Kind.DOUBLE_BILLING,
)
KIND_HELP = {
    Complaint.Kind.COMPLAINT: _("Segnali un problema e chiedi una risposta motivata."),
    Complaint.Kind.INFORMATION_REQUEST: _(
        "Vuoi sapere qualcosa sul contratto, sulle bollette o sul servizio."
    ),
    Complaint.Kind.BILLING_RECTIFICATION: _("Ritieni sbagliato l'importo o i consumi di una bolletta."),
    Complaint.Kind.DOUBLE_BILLING: _("Hai ricevuto o pagato due volte la stessa bolletta."),
    Complaint.Kind.TELECOM_COMPLAINT: _("Un reclamo su Internet fibra o Mobile."),
}


def _kind_choices(kinds, *, today: date):
    """Each kind with the time we have to answer it (the standard in force today) and what it is for."""
    choices = []
    for kind in kinds:
        days = deadlines.answer_standard_days(kind, today)
        label = format_html(
            '<span class="fw-semibold">{}</span> · {}<span class="d-block small text-body-secondary">{}</span>',
            Complaint.Kind(kind).label,
            _("risposta entro %(days)s giorni") % {"days": days},
            KIND_HELP[kind],
        )
        choices.append((kind, label))
    return choices


# ---------------------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------------------


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to `max_files` PDF, JPEG or PNG files of at most 10 MB each, checked by content: every refused file
    is named in the error, next to the field."""

    def __init__(self, *args, max_files: int = MAX_ATTACHMENTS, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Allegati"))
        kwargs.setdefault(
            "help_text",
            _("Fino a %(count)s file PDF, JPEG o PNG, di 10 MB al massimo ciascuno.") % {"count": max_files},
        )
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILES}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        files = [super(AttachmentsField, self).clean(upload, initial) for upload in uploads if upload]
        if len(files) > self.max_files:
            if self.max_files == 0:
                raise ValidationError(
                    _("Hai già allegato 5 file a questa pratica: non puoi aggiungerne altri."),
                    code="too_many_attachments",
                )
            raise ValidationError(
                _("Puoi allegare al massimo %(count)s file: ne hai scelti %(chosen)s.")
                % {"count": self.max_files, "chosen": len(files)},
                code="too_many_attachments",
            )
        errors = []
        for upload in files:
            try:
                validate_attachment(upload)
            except ValidationError as error:
                errors.extend(error.error_list)
        if errors:
            raise ValidationError(errors)
        return files


class SubmissionTokenField(forms.CharField):
    """The hidden token that makes a double submit (double click, retry) file one case: a new uuid4 each time
    the empty form is shown, posted back with it."""

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=64, widget=forms.HiddenInput, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return str(uuid.UUID(value))
        except (TypeError, ValueError, AttributeError):
            # Missing or altered: no protection against a double submit, but no reason to refuse the case.
            return str(uuid.uuid4())


def honeypot_field():
    # People never see it (hidden by the template, out of the tab order); bots fill it.
    return forms.CharField(
        label=_("Non compilare questo campo"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )


class InvoiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, invoice):
        return _("Bolletta n. %(number)s del %(day)s · %(total)s €") % {
            "number": invoice.number,
            "day": formatting.day(invoice.issued_on),
            "total": number_format(invoice.total, 2, force_grouping=True),
        }


TOPIC_FIELD_HELP = _("La classificazione di primo livello dell'Autorità (ARERA). Nel dubbio scegli «Altro».")


# ---------------------------------------------------------------------------------------------------------
# Filing from the Area Clienti
# ---------------------------------------------------------------------------------------------------------


class ComplaintForm(forms.Form):
    supply = forms.ChoiceField(
        label=_("Contratto o fornitura"),
        help_text=_("Scegli la fornitura o il servizio di cui parli, o tutto il contratto."),
        error_messages={"invalid_choice": _("Scegli un contratto o una fornitura dall'elenco.")},
    )
    kind = forms.ChoiceField(label=_("Che cosa vuoi inviarci?"), widget=forms.RadioSelect)
    topic = forms.ChoiceField(
        label=_("Argomento"),
        choices=Complaint.Topic.choices,
        widget=forms.RadioSelect,
        help_text=TOPIC_FIELD_HELP,
    )
    invoice = InvoiceChoiceField(
        label=_("Bolletta contestata (facoltativa)"),
        queryset=None,
        required=False,
        empty_label=_("Nessuna bolletta in particolare"),
        help_text=_("Per una rettifica di fatturazione, indica la bolletta che ritieni sbagliata."),
    )
    description = forms.CharField(
        label=_("Descrizione"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("Racconta che cosa è successo, da quando, e che cosa ci chiedi."),
    )
    reply_address = forms.CharField(
        label=_("Indirizzo per la risposta, se diverso (facoltativo)"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    attachments = AttachmentsField()
    submission_token = SubmissionTokenField()

    def __init__(self, *args, customer: Customer, today: date, initial_supply: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.contracts = {}
        self.services = {}
        groups = []
        for contract in selectors.supplies_of(customer):
            self.contracts[contract.pk] = contract
            options = [(f"contract:{contract.pk}", _("Tutto il contratto"))]
            for service in contract.services.all():
                self.services[service.pk] = service
                options.append((f"service:{service.pk}", _service_label(service)))
            groups.append(
                (
                    _("Contratto n. %(number)s · %(offer)s")
                    % {"number": contract.number, "offer": contract.offer_name},
                    options,
                )
            )
        self.fields["supply"].choices = groups
        valid_values = {value for _label, options in groups for value, _name in options}
        if initial_supply in valid_values:
            self.fields["supply"].initial = initial_supply
        else:
            self.fields["supply"].initial = _default_supply(self.services.values())
        kinds = list(CUSTOMER_KINDS)
        if any(service.is_communications for service in self.services.values()):
            kinds.insert(1, Complaint.Kind.TELECOM_COMPLAINT)
        self.fields["kind"].choices = _kind_choices(kinds, today=today)
        self.fields["kind"].initial = Complaint.Kind.COMPLAINT
        self.fields["invoice"].queryset = selectors.invoices_for_complaint(customer)
        self.fields["reply_address"].help_text = _(
            "Se lo lasci vuoto ti rispondiamo per e-mail e, per lettera, a: %(address)s."
        ) % {"address": customer.reply_address}
        if not self.is_bound:
            self.initial["submission_token"] = str(uuid.uuid4())

    @property
    def has_supplies(self) -> bool:
        return bool(self.contracts)

    def clean_supply(self):
        value = self.cleaned_data["supply"]
        kind, _sep, pk = value.partition(":")
        try:
            pk = int(pk)
        except ValueError:
            raise ValidationError(_("Scegli un contratto o una fornitura dall'elenco.")) from None
        if kind == "service" and pk in self.services:
            service = self.services[pk]
            return self.contracts[service.contract_id], service
        if kind == "contract" and pk in self.contracts:
            return self.contracts[pk], None
        raise ValidationError(_("Scegli un contratto o una fornitura dall'elenco."))

    def clean(self):
        cleaned = super().clean()
        contract, _service = cleaned.get("supply") or (None, None)
        invoice = cleaned.get("invoice")
        if invoice is not None and contract is not None and invoice.contract_id != contract.pk:
            self.add_error(
                "invoice",
                _("La bolletta n. %(number)s non è del contratto scelto.") % {"number": invoice.number},
            )
        return cleaned


def _service_label(service: Service) -> str:
    parts = [service.get_kind_display()]
    if service.identifier:
        parts.append(service.identifier)
    if service.supply_address:
        parts.append(service.supply_address)
    if service.status != Service.Status.ACTIVE:
        parts.append(service.get_status_display().lower())
    return " · ".join(str(part) for part in parts)


def _default_supply(services) -> str:
    services = list(services)
    active = [service for service in services if service.status == Service.Status.ACTIVE]
    chosen = (active or services or [None])[0]
    return f"service:{chosen.pk}" if chosen else ""


# ---------------------------------------------------------------------------------------------------------
# Filing without an account
# ---------------------------------------------------------------------------------------------------------


class PublicComplaintForm(forms.Form):
    """The form for anyone, with or without an account (ARERA: usable without registration)."""

    sender_name = forms.CharField(
        label=_("Nome e cognome o ragione sociale"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    # Compact, "IT" prefix dropped, and checked: the sender is identified by it (selectors.identify_sender).
    tax_id = TaxIdField(
        label=_("Codice fiscale o partita IVA"),
        help_text=_("Quello dell'intestatario del contratto."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    supply_reference = forms.CharField(
        label=_("POD, PDR o codice cliente"),
        max_length=20,
        help_text=_(
            "Li trovi nella prima pagina della bolletta: il codice cliente nel riquadro «Cliente e contratto», "
            "il POD (luce, inizia con IT) o il PDR (gas, 14 cifre) in «Le Sue forniture e i Suoi servizi». "
            "Per Internet e Mobile puoi indicare il numero di linea o della SIM."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    email = forms.EmailField(
        label=_("Indirizzo e-mail"),
        help_text=_(
            "Per la conferma con il codice della pratica e per la risposta. Se sei già nostro cliente, ti "
            "scriviamo all'indirizzo e-mail che ci hai dato per il contratto."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    reply_address = forms.CharField(
        label=_("Indirizzo per la risposta scritta"),
        max_length=300,
        help_text=_("Via e numero civico, CAP, comune e provincia."),
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    kind = forms.ChoiceField(label=_("Che cosa vuoi inviarci?"), widget=forms.RadioSelect)
    topic = forms.ChoiceField(
        label=_("Argomento"),
        choices=Complaint.Topic.choices,
        widget=forms.RadioSelect,
        help_text=TOPIC_FIELD_HELP,
    )
    description = forms.CharField(
        label=_("Descrizione"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("Racconta che cosa è successo, da quando, e che cosa ci chiedi."),
    )
    attachments = AttachmentsField()
    website = honeypot_field()
    submission_token = SubmissionTokenField()

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = list(CUSTOMER_KINDS)
        kinds.insert(1, Complaint.Kind.TELECOM_COMPLAINT)
        self.fields["kind"].choices = _kind_choices(kinds, today=today)
        self.fields["kind"].initial = Complaint.Kind.COMPLAINT
        if not self.is_bound:
            self.initial["submission_token"] = str(uuid.uuid4())

    def clean_supply_reference(self):
        return selectors.compact_reference(self.cleaned_data["supply_reference"])

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


# ---------------------------------------------------------------------------------------------------------
# Tracking and messages
# ---------------------------------------------------------------------------------------------------------


class TrackRequestForm(forms.Form):
    code = forms.CharField(
        label=_("Codice della pratica"),
        max_length=20,
        help_text=_("Per esempio R-2026-000123: è nella conferma che ti abbiamo inviato."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    email = forms.EmailField(
        label=_("Indirizzo e-mail"),
        help_text=_("Quello a cui ti abbiamo inviato la conferma della pratica."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    website = honeypot_field()

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).upper()
        if not CODE_PATTERN.match(code):
            raise ValidationError(_("Il codice è fatto così: R-2026-000123."), code="invalid")
        return code

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class MessageForm(forms.Form):
    """A message to the operator on an open case, with attachments up to the case's limit of 5."""

    text = forms.CharField(
        label=_("Il tuo messaggio"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, attachments_left: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.attachments_left = max(attachments_left, 0)
        field = AttachmentsField(max_files=self.attachments_left)
        if self.attachments_left < MAX_ATTACHMENTS:
            field.help_text = ngettext(
                "Puoi allegare ancora %(count)s file PDF, JPEG o PNG, di 10 MB al massimo.",
                "Puoi allegare ancora %(count)s file PDF, JPEG o PNG, di 10 MB al massimo ciascuno.",
                self.attachments_left,
            ) % {"count": self.attachments_left}
        self.fields["attachments"] = field
