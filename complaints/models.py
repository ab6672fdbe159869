"""Written complaints and requests: the case, its history, its attachments, its legal clock."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from billing.models import Credit, Invoice
from contracts.models import Contract, Service
from portal.deadlines import pending_index
from portal.lib import dates
from portal.models import YearCounter


class ComplaintCounter(YearCounter):
    """Case codes are R-2026-000123: consecutive within the year of sending."""


class Complaint(models.Model):
    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Reclamo scritto")
        INFORMATION_REQUEST = "information_request", _("Richiesta di informazioni")
        BILLING_RECTIFICATION = "billing_rectification", _("Richiesta di rettifica di fatturazione")
        DOUBLE_BILLING = "double_billing", _("Rettifica di doppia fatturazione")
        TELECOM_COMPLAINT = "telecom_complaint", _("Reclamo servizi di comunicazione (Internet, Mobile)")

    class Topic(models.TextChoices):
        # ARERA's first-level classification of complaints.
        CONTRACTS = "contratti", _("Contratti")
        DEFAULT = "morosita", _("Morosità e sospensione")
        MARKET = "mercato", _("Mercato")
        BILLING = "fatturazione", _("Fatturazione")
        METERING = "misura", _("Misura")
        CONNECTIONS = "connessioni", _("Connessioni, lavori e qualità tecnica")
        SOCIAL_BONUS = "bonus_sociale", _("Bonus sociale")
        COMMERCIAL_QUALITY = "qualita_commerciale", _("Qualità commerciale")
        OTHER = "altro", _("Altro")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Area Clienti")
        PUBLIC_FORM = "public_form", _("Modulo online senza registrazione")
        EMAIL = "email", _("E-mail")
        PEC = "pec", _("PEC")
        LETTER = "letter", _("Raccomandata")
        PHONE = "phone", _("Telefono")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Ricevuto")
        IN_PROGRESS = "in_progress", _("In lavorazione")
        WAITING_CUSTOMER = "waiting_customer", _("In attesa di tue informazioni")
        # The reply letter is written and waits in the letters to post: the case is no longer worked, but it
        # is not answered until staff record the posting date (services.send_reply).
        REPLY_TO_POST = "reply_to_post", _("Risposta da spedire per posta")
        ANSWERED = "answered", _("Risposto")
        CLOSED = "closed", _("Chiuso")

    class Exclusion(models.TextChoices):
        # TIQV 2026 art. 18, 20: when no automatic indemnity is due.
        FORCE_MAJEURE = "force_majeure", _("Forza maggiore")
        CUSTOMER_OR_THIRD_PARTY = (
            "customer_or_third_party",
            _("Causa imputabile al cliente o a terzi (documentata)"),
        )
        NOT_IDENTIFIABLE = "not_identifiable", _("Cliente non identificabile")
        ALREADY_PAID = "already_paid", _("Già indennizzato nell'anno per lo stesso motivo")

    # Open: still worked (the reply can be written or changed, the customer can add to it).
    OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS, Status.WAITING_CUSTOMER)
    # Unanswered: the answer clock still runs, also while the reply waits to be posted.
    UNANSWERED_STATUSES = (*OPEN_STATUSES, Status.REPLY_TO_POST)

    code = models.CharField(_("codice"), max_length=20, unique=True)
    kind = models.CharField(_("tipo"), max_length=24, choices=Kind.choices)
    topic = models.CharField(_("argomento"), max_length=24, choices=Topic.choices)
    channel = models.CharField(_("canale"), max_length=12, choices=Channel.choices)
    status = models.CharField(_("stato"), max_length=18, choices=Status.choices, default=Status.RECEIVED)

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("cliente"),
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("contratto"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("fornitura"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("bolletta contestata"),
    )
    # As the sender wrote them (public form, letters): kept even when the customer is identified.
    sender_name = models.CharField(_("nome o ragione sociale"), max_length=200)
    sender_tax_id = models.CharField(_("codice fiscale o partita IVA"), max_length=16, blank=True)
    sender_email = models.EmailField(_("e-mail"), blank=True)
    supply_reference = models.CharField(_("POD, PDR o codice cliente"), max_length=20, blank=True)
    supply_address = models.CharField(_("indirizzo di fornitura"), max_length=300, blank=True)
    reply_address = models.CharField(_("indirizzo per la risposta"), max_length=300)
    reply_address_confirmed = models.BooleanField(_("recapito per la risposta confermato"), default=False)
    description = models.TextField(_("descrizione"))

    # The clock: online and e-mail complaints count from the sending date (TIQV; AR).
    sent_on = models.DateField(_("inviato il"))
    received_on = models.DateField(_("ricevuto il"))
    four_monthly_billing = models.BooleanField(_("fatturazione quadrimestrale"), default=False)
    answer_due_on = models.DateField(_("risposta entro"))
    reminder_due_on = models.DateField(
        null=True, blank=True
    )  # next staff reminder: 5 days before, then on the day
    overdue_on = models.DateField(null=True, blank=True)  # the day after the answer-by date
    overdue = models.BooleanField(_("in ritardo"), default=False)
    conciliation_due_on = models.DateField(null=True, blank=True)
    conciliation_notified_on = models.DateField(null=True, blank=True)
    delay_cause = models.TextField(_("causa del ritardo"), blank=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_complaints",
        verbose_name=_("assegnato a"),
    )

    # The reasoned reply, in the four sections ARERA asks for.
    reply_complaint = models.TextField(_("Il Suo reclamo"), blank=True)
    reply_checks = models.TextField(_("Le nostre verifiche"), blank=True)
    reply_conclusions = models.TextField(_("Le nostre conclusioni"), blank=True)
    reply_rights = models.TextField(_("I Suoi diritti"), blank=True)
    answered_on = models.DateField(_("risposto il"), null=True, blank=True)
    unsatisfactory = models.BooleanField(_("risposta non soddisfacente per il cliente"), default=False)

    indemnity_amount = models.DecimalField(
        _("indennizzo"), max_digits=13, decimal_places=2, null=True, blank=True
    )
    indemnity_exclusion = models.CharField(
        _("esclusione dell'indennizzo"), max_length=24, choices=Exclusion.choices, blank=True
    )
    indemnity_exclusion_reason = models.TextField(_("motivo dell'esclusione"), blank=True)
    indemnity_credit = models.ForeignKey(
        Credit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # A double submit (double click, retry) carries the same token and finds this case again.
    submission_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    tracking_secret = models.CharField(max_length=43, default=secrets.token_urlsafe, editable=False)
    # When the acknowledgement was sent (or found to have no address to go to). It is sent by a task after
    # the filing commits; a case still without one is caught up by the complaints.acknowledgements sweep.
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reclamo o richiesta")
        verbose_name_plural = _("reclami e richieste")
        ordering = ["-received_on", "-id"]
        indexes = [
            pending_index(
                due_field="reminder_due_on",
                condition=models.Q(answered_on__isnull=True),
                name="complaint_reminder_due",
            ),
            pending_index(
                due_field="overdue_on",
                condition=models.Q(answered_on__isnull=True, overdue=False),
                name="complaint_overdue_due",
            ),
            pending_index(
                due_field="conciliation_due_on",
                condition=models.Q(answered_on__isnull=True, conciliation_notified_on__isnull=True),
                name="complaint_conciliation_due",
            ),
            pending_index(
                due_field="received_on",
                condition=models.Q(acknowledged_at__isnull=True),
                name="complaint_ack_pending",
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.get_kind_display()}"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class ComplaintEvent(models.Model):
    """The case history: every action, by whom and when; messages both ways; internal notes."""

    class Kind(models.TextChoices):
        FILED = "filed", _("Ricevuto")
        ASSIGNED = "assigned", _("Assegnato")
        NOTE = "note", _("Nota interna")
        MESSAGE_TO_CUSTOMER = "message_to_customer", _("Messaggio al cliente")
        MESSAGE_FROM_CUSTOMER = "message_from_customer", _("Messaggio del cliente")
        INFORMATION_REQUESTED = "information_requested", _("Richiesta di informazioni al cliente")
        RECLASSIFIED = "reclassified", _("Riclassificato")
        INVOICE_LINKED = "invoice_linked", _("Bolletta contestata collegata")
        DUNNING_BLOCKED = "dunning_blocked", _("Solleciti della bolletta bloccati")
        DUNNING_UNBLOCKED = "dunning_unblocked", _("Blocco dei solleciti tolto")
        STATUS_REPORT = "status_report", _("Resoconto sullo stato richiesto")
        REMINDER = "reminder", _("Promemoria")
        OVERDUE = "overdue", _("Scaduto il termine di risposta")
        REPLY_TO_POST = "reply_to_post", _("Risposta nelle lettere da spedire")
        REPLIED = "replied", _("Risposta motivata inviata")
        INDEMNITY = "indemnity", _("Indennizzo automatico")
        UNSATISFACTORY = "unsatisfactory", _("Risposta segnalata come non soddisfacente")
        CONCILIATION = "conciliation", _("Informato sulla conciliazione")
        CLOSED = "closed", _("Chiuso")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    text = models.TextField(blank=True)
    internal = models.BooleanField(default=False)  # staff only: never shown to the customer
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The portal's clock (the demo's after time travel in development), so the history reads as the letters.
    at = models.DateTimeField(default=dates.now, editable=False)

    class Meta:
        verbose_name = _("evento del caso")
        verbose_name_plural = _("eventi del caso")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.complaint.code}: {self.get_kind_display()}"


def attachment_path(instance, filename):
    # Random names: an uploaded file name never reaches the file system.
    return f"complaints/{instance.complaint.code}/{secrets.token_hex(12)}"


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        ComplaintEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    internal = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("allegato del caso")
        verbose_name_plural = _("allegati del caso")

    def __str__(self):
        return self.original_name


class ReplyTemplate(models.Model):
    """A starting text for the reasoned reply, kept by supervisors in admin (complaints.reply_templates
    picks, section by section, the most specific active template that applies to the case).

    A blank kind, sector, topic or outcome means "any"; a blank section leaves it to a more general template.
    The rights section's conciliation and contacts, the payment reminder and the indemnity are not here: the
    portal generates them from the regulation, so no template can drop or alter them."""

    class Sector(models.TextChoices):
        ENERGY = "energy", _("Luce e gas")
        COMMUNICATIONS = "communications", _("Internet e mobile")

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("Fondato: accolto")
        PARTLY_UPHELD = "partly_upheld", _("In parte fondato")
        REJECTED = "rejected", _("Non fondato: respinto")

    name = models.CharField(_("nome"), max_length=120, unique=True)
    kind = models.CharField(
        _("tipo di richiesta"),
        max_length=30,
        choices=Complaint.Kind.choices,
        blank=True,
        help_text=_("Vuoto: tutti."),
    )
    sector = models.CharField(
        _("servizi"), max_length=20, choices=Sector.choices, blank=True, help_text=_("Vuoto: tutti.")
    )
    topic = models.CharField(
        _("argomento"),
        max_length=30,
        choices=Complaint.Topic.choices,
        blank=True,
        help_text=_("Vuoto: tutti."),
    )
    outcome = models.CharField(
        _("esito"),
        max_length=20,
        choices=Outcome.choices,
        blank=True,
        help_text=_("Vuoto: qualsiasi esito, compresa la bozza neutra che si apre con il caso."),
    )
    complaint_text = models.TextField(_("Il Suo reclamo"), blank=True)
    checks_text = models.TextField(_("Le nostre verifiche"), blank=True)
    conclusions_text = models.TextField(_("Le nostre conclusioni"), blank=True)
    rights_intro = models.TextField(
        _("I Suoi diritti: apertura"),
        blank=True,
        help_text=_(
            "Facoltativa, prima del testo sui diritti. Conciliazione e contatti li aggiunge sempre il portale."
        ),
    )
    active = models.BooleanField(_("in uso"), default=True)
    updated_at = models.DateTimeField(_("modificato il"), auto_now=True)

    class Meta:
        verbose_name = _("modello di risposta")
        verbose_name_plural = _("modelli di risposta")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ReplySnippet(models.Model):
    """A short paragraph staff add to a reply section with one click (e.g. how to read a meter)."""

    class Section(models.TextChoices):
        COMPLAINT = "reply_complaint", _("Il Suo reclamo")
        CHECKS = "reply_checks", _("Le nostre verifiche")
        CONCLUSIONS = "reply_conclusions", _("Le nostre conclusioni")
        RIGHTS = "reply_rights", _("I Suoi diritti")

    title = models.CharField(_("titolo"), max_length=120, unique=True)
    section = models.CharField(
        _("sezione"), max_length=20, choices=Section.choices, default=Section.CONCLUSIONS
    )
    text = models.TextField(_("testo"))
    active = models.BooleanField(_("in uso"), default=True)
    updated_at = models.DateTimeField(_("modificato il"), auto_now=True)

    class Meta:
        verbose_name = _("paragrafo pronto")
        verbose_name_plural = _("paragrafi pronti")
        ordering = ["section", "title"]

    def __str__(self):
        return self.title
