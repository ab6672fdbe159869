"""Bills (invoices and credit notes), payments, credits and charges, default notices.

An issued invoice is a frozen copy: customer, contract and supply data are copied onto it, its number is
gapless per year, and it is never edited or deleted — corrections go through a credit note.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Greatest
from django.utils.translation import gettext_lazy as _
from payments import PurchasedItem
from payments.models import BasePayment

from accounts.models import Customer
from billing.dunning import lifecycle
from contracts.models import Contract
from portal.deadlines import pending_index
from portal.lib.emails import absolute_url
from portal.models import YearCounter

ZERO = Decimal("0.00")


def money_field(verbose_name, **kwargs):
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=13, decimal_places=2, **kwargs)


class Tariff(models.Model):
    """The prices of an offer: a simple model, enough to bill every service the portal knows."""

    offer_name = models.CharField(_("offerta"), max_length=200, unique=True)
    energy_price_kwh = models.DecimalField(_("prezzo energia €/kWh"), max_digits=9, decimal_places=6)
    gas_price_smc = models.DecimalField(_("prezzo gas €/Smc"), max_digits=9, decimal_places=6)
    electricity_monthly_fee = money_field(_("quota fissa luce €/mese"))
    gas_monthly_fee = money_field(_("quota fissa gas €/mese"))
    fibre_monthly_fee = money_field(_("canone fibra €/mese"))
    mobile_monthly_fee = money_field(_("canone mobile €/mese"))
    teleconsulto_monthly_fee = money_field(_("Teleconsulto Medico €/mese"))
    assistenza_h24_monthly_fee = money_field(_("Assistenza H24 €/mese"))

    class Meta:
        verbose_name = _("tariffa")
        verbose_name_plural = _("tariffe")

    def __str__(self):
        return self.offer_name


class InterestRate(models.Model):
    """Yearly interest rates in force from a date, editable by staff (CG 6.1): ECB MRO and legal rate."""

    class Kind(models.TextChoices):
        ECB = "ecb", _("BCE — operazioni di rifinanziamento principali")
        LEGAL = "legal", _("Tasso di interesse legale")

    kind = models.CharField(_("tasso"), max_length=5, choices=Kind.choices)
    valid_from = models.DateField(_("in vigore dal"))
    value = models.DecimalField(_("percentuale annua"), max_digits=5, decimal_places=2)
    source = models.CharField(_("fonte"), max_length=200)

    class Meta:
        verbose_name = _("tasso di interesse")
        verbose_name_plural = _("tassi di interesse")
        ordering = ["kind", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["kind", "valid_from"], name="one_rate_per_day")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value}% dal {self.valid_from:%d/%m/%Y}"


class InvoiceCounter(YearCounter):
    """Invoice numbers are gapless and sequential per year, assigned only at issue (DESIGN.md §3)."""


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Bolletta")
        CREDIT_NOTE = "credit_note", _("Nota di credito")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Bozza")
        ISSUED = "issued", _("Da pagare")
        PARTIALLY_PAID = "partially_paid", _("Pagata in parte")
        PAID = "paid", _("Pagata")
        OVERDUE = "overdue", _("Scaduta")
        CANCELLED = "cancelled", _("Annullata con nota di credito")
        # A credit note is owed to the customer, never by them: it has no due date and is never "Da pagare".
        CREDIT_NOTE_ISSUED = "credit_issued", _("Nota di credito emessa")

    OPEN_STATUSES = (Status.ISSUED, Status.PARTIALLY_PAID, Status.OVERDUE)

    kind = models.CharField(_("tipo"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("contratto")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("cliente")
    )
    status = models.CharField(_("stato"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(_("numero"), max_length=20, unique=True, null=True, blank=True)
    year = models.PositiveIntegerField(_("anno"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("progressivo"), null=True, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("rettifica la bolletta"),
    )
    # A credit note: why it was issued and who issued it (the invoice run issues invoices: nobody).
    credit_reason = models.CharField(_("motivo della rettifica"), max_length=300, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("emessa da"),
    )
    # An invoice billing again, with the data as corrected, what a credit note took back from its period
    # (billing.generation.rebill_period): one per credit note, outside the one-invoice-per-period rule.
    rebills = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rebill",
        verbose_name=_("rifattura dopo la nota di credito"),
    )
    period_start = models.DateField(_("periodo dal"))
    period_end = models.DateField(_("periodo al"))
    is_closing = models.BooleanField(_("bolletta di chiusura"), default=False)
    issued_on = models.DateField(_("emessa il"), null=True, blank=True)
    due_on = models.DateField(_("scadenza"), null=True, blank=True)

    # Frozen copies, taken when the invoice is issued.
    customer_name = models.CharField(_("intestatario"), max_length=200, blank=True)
    customer_code = models.CharField(_("codice cliente"), max_length=12, blank=True)
    customer_tax_id = models.CharField(_("codice fiscale o partita IVA"), max_length=16, blank=True)
    billing_address = models.CharField(_("indirizzo di fatturazione"), max_length=300, blank=True)
    contract_number = models.CharField(_("numero del contratto"), max_length=20, blank=True)
    offer_name = models.CharField(_("offerta"), max_length=200, blank=True)
    payment_method = models.CharField(_("modalità di pagamento"), max_length=100, blank=True)
    payment_method_code = models.CharField(
        _("codice della modalità di pagamento"), max_length=12, blank=True
    )  # Contract.PaymentMethod
    # The customer as the electronic invoice names them (billing.einvoice): kind, names, tax ids, the billing
    # address in parts and where a business receives e-invoices (SdI code or PEC).
    customer_details = models.JSONField(
        _("dati del cliente per la fattura elettronica"), default=dict, blank=True
    )
    # Per supply: kind, identifier, address, readings…
    supplies = models.JSONField(_("forniture"), default=list, blank=True)
    payment_notice_code = models.CharField(_("codice avviso di pagamento"), max_length=18, blank=True)

    # Dunning (billing/dunning/). The day the invoice becomes due for a default notice: set at issue (due
    # date + DEFAULT_NOTICE_AFTER_DAYS_OVERDUE), cleared when a notice takes the invoice in, set again if that
    # notice is cancelled while the invoice is still unpaid.
    dunning_due_on = models.DateField(_("sollecitabile dal"), null=True, blank=True)
    # An anomalous invoice under complaint cannot lead to suspension before the reasoned reply (ARERA): while
    # a DunningBlock of a complaint holds it (dunning.block_dunning). Both fields follow the blocks, so that
    # the sweeps and their partial index read one column.
    dunning_blocked = models.BooleanField(_("solleciti bloccati"), default=False)
    dunning_blocked_reason = models.CharField(_("motivo del blocco"), max_length=300, blank=True)

    total_taxable = money_field(_("imponibile"))
    total_vat = money_field(_("IVA"))
    total_outside_vat = money_field(_("importi fuori campo IVA"))
    stamp_duty = money_field(_("bollo"))
    total = money_field(_("totale"))
    amount_paid = money_field(_("pagato"))
    # What credit notes took back from this invoice (gross): no longer owed.
    amount_credited = money_field(_("stornato con note di credito"))

    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF generato il"), null=True, blank=True)
    created_at = models.DateTimeField(_("creata il"), auto_now_add=True)

    class Meta:
        verbose_name = _("bolletta")
        verbose_name_plural = _("bollette")
        ordering = ["-issued_on", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period_start", "kind"],
                condition=models.Q(kind="invoice", is_closing=False, rebills__isnull=True),
                name="one_invoice_per_contract_period",
            ),
            models.UniqueConstraint(fields=["year", "sequence"], name="gapless_sequence_per_year"),
        ]
        indexes = [
            # The overdue sweep: open invoices by due date.
            pending_index(
                due_field="due_on",
                condition=models.Q(status__in=["issued", "partially_paid"]),
                name="invoice_open_due",
            ),
            # The default-notice sweep: unpaid invoices not yet in a notice, by the day they become due for one.
            pending_index(
                due_field="dunning_due_on",
                condition=models.Q(
                    status__in=["issued", "partially_paid", "overdue"],
                    dunning_blocked=False,
                    dunning_due_on__isnull=False,
                ),
                name="invoice_dunning_due",
            ),
            # The catch-up sweep of issued invoices still without their PDF (billing.missing_pdfs).
            pending_index(
                due_field="issued_on",
                condition=models.Q(issued_on__isnull=False, pdf=""),
                name="invoice_pdf_missing",
            ),
            models.Index(fields=["customer", "-issued_on"], name="invoice_customer_issued"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number or _('(bozza)')}"

    @property
    def is_issued(self):
        return self.number is not None

    @property
    def awaits_payment(self) -> bool:
        """An invoice (not a credit note) neither paid in full nor cancelled: its due date still matters."""
        return self.kind == self.Kind.INVOICE and self.status in self.OPEN_STATUSES

    @property
    def outstanding(self) -> Decimal:
        if self.kind == self.Kind.CREDIT_NOTE or self.status == self.Status.CANCELLED:
            return ZERO
        return max(self.total - self.amount_paid - self.amount_credited, ZERO)

    @classmethod
    def outstanding_sql(cls, path: str = "") -> models.Expression:
        """`outstanding` in SQL, of the invoice at `path` (e.g. "invoice__" from a default-notice item)."""
        return models.Case(
            models.When(
                models.Q(**{f"{path}kind": cls.Kind.CREDIT_NOTE})
                | models.Q(**{f"{path}status": cls.Status.CANCELLED}),
                then=models.Value(ZERO),
            ),
            default=Greatest(
                models.F(f"{path}total") - models.F(f"{path}amount_paid") - models.F(f"{path}amount_credited"),
                models.Value(ZERO),
            ),
            output_field=models.DecimalField(max_digits=13, decimal_places=2),
        )

    def delete(self, *args, **kwargs):
        if self.is_issued:
            raise ValidationError(
                _("Una bolletta emessa non si cancella: si rettifica con una nota di credito.")
            )
        return super().delete(*args, **kwargs)


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        ENERGY = "energy", _("Energia elettrica")
        GAS = "gas", _("Gas naturale")
        FIXED_FEE = "fixed_fee", _("Quota fissa")
        COMMUNICATIONS = "communications", _("Servizi di comunicazione")
        ADDON = "addon", _("Servizi aggiuntivi")
        DEPOSIT = "deposit", _("Deposito cauzionale")
        INDEMNITY = "indemnity", _("Indennizzo automatico")
        CREDIT = "credit", _("Credito")
        LATE_INTEREST = "late_interest", _("Interessi di mora")
        CHARGE = "charge", _("Altri addebiti")
        CORRECTION = "correction", _("Rettifica")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("bolletta")
    )
    position = models.PositiveSmallIntegerField(_("posizione"), default=0)
    kind = models.CharField(_("tipo"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("descrizione"), max_length=300)
    quantity = models.DecimalField(_("quantità"), max_digits=12, decimal_places=3, default=Decimal("1"))
    unit = models.CharField(_("unità"), max_length=10, blank=True)
    unit_price = models.DecimalField(_("prezzo unitario"), max_digits=13, decimal_places=6)
    # None: outside the scope of VAT (security deposit, indemnities, interest — art. 15 DPR 633/72).
    vat_rate = models.DecimalField(_("aliquota IVA %"), max_digits=5, decimal_places=2, null=True, blank=True)
    amount = money_field(_("importo"))  # quantity × unit price, rounded once (portal.lib.money)
    # The supply a line bills (POD, PDR, line, SIM; empty for the contract as a whole): a re-bill after a
    # credit note bills again the same supplies and kinds the note took back.
    supply_identifier = models.CharField(_("fornitura"), max_length=40, blank=True)
    # On a credit note: the invoice line it takes back (an amount credit takes back no line in particular).
    corrects_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("storna la riga"),
    )

    class Meta:
        verbose_name = _("riga della bolletta")
        verbose_name_plural = _("righe della bolletta")
        ordering = ["invoice", "position", "id"]

    def __str__(self):
        return self.description


class Credit(models.Model):
    """Money the supplier owes the customer, deducted from the next invoices: an automatic indemnity
    (complaints answered late, late invoices, suspension without notice) or an overpayment."""

    class Reason(models.TextChoices):
        COMPLAINT_INDEMNITY = "complaint_indemnity", _("Indennizzo automatico (reclamo)")
        LATE_INVOICE_INDEMNITY = "late_invoice_indemnity", _("Indennizzo automatico (fattura in ritardo)")
        DEFAULT_INDEMNITY = "default_indemnity", _("Indennizzo automatico (morosità)")
        OVERPAYMENT = "overpayment", _("Pagamento in eccesso")
        MANUAL = "manual", _("Credito concesso dall'addetto")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="credits", verbose_name=_("cliente")
    )
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credits",
        verbose_name=_("contratto"),
    )
    reason = models.CharField(_("motivo"), max_length=24, choices=Reason.choices)
    description = models.CharField(_("descrizione"), max_length=300)
    amount = money_field(_("importo"))
    remaining = money_field(_("da utilizzare"))
    created_on = models.DateField(_("riconosciuto il"))
    # At the latest this day the indemnity must reach the customer (TIQV art. 21: 6 or 8 months).
    pay_by = models.DateField(_("da corrispondere entro"), null=True, blank=True)
    # One credit per cause, whoever asks twice.
    source_key = models.CharField(_("chiave della causa"), max_length=100, unique=True)
    # A manual credit: the officer who granted it and when (its reason is the description).
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("concesso da"),
    )
    granted_at = models.DateTimeField(_("concesso il"), null=True, blank=True)

    class Meta:
        verbose_name = _("credito del cliente")
        verbose_name_plural = _("crediti dei clienti")
        ordering = ["created_on", "id"]

    def __str__(self):
        return f"{self.description} ({self.amount} €)"


class CreditUse(models.Model):
    credit = models.ForeignKey(
        Credit, on_delete=models.PROTECT, related_name="uses", verbose_name=_("credito")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_uses", verbose_name=_("bolletta")
    )
    amount = money_field(_("importo"))

    class Meta:
        verbose_name = _("credito detratto")
        verbose_name_plural = _("crediti detratti")

    def __str__(self):
        return f"{self.credit} → {self.invoice}: {self.amount}"


class Charge(models.Model):
    """An amount to bill on the customer's next invoice: late-payment interest, early termination charge."""

    class Kind(models.TextChoices):
        LATE_INTEREST = "late_interest", _("Interessi di mora")
        EARLY_TERMINATION = "early_termination", _("Recupero sconti per recesso anticipato")

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="charges", verbose_name=_("contratto")
    )
    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    description = models.CharField(_("descrizione"), max_length=300)
    amount = money_field(_("importo"))
    created_on = models.DateField(_("creato il"))
    billed_on = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        verbose_name=_("fatturato nella bolletta"),
    )
    source_key = models.CharField(_("chiave della causa"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("addebito da fatturare")
        verbose_name_plural = _("addebiti da fatturare")

    def __str__(self):
        return self.description


class Payment(models.Model):
    class Method(models.TextChoices):
        SDD = "sdd", _("Addebito diretto SEPA")
        POSTAL_SLIP = "postal_slip", _("Bollettino postale")
        CARD = "card", _("Carta")
        BANK_TRANSFER = "bank_transfer", _("Bonifico")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="payments", verbose_name=_("cliente")
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="named_payments",
        verbose_name=_("bolletta"),
        help_text=_("La bolletta indicata dal cliente; vuoto: si paga il debito più vecchio (CG 6.1)."),
    )
    amount = money_field(_("importo"))
    received_on = models.DateField(_("incassato il"))
    method = models.CharField(_("modalità"), max_length=14, choices=Method.choices)
    transaction_id = models.CharField(_("identificativo"), max_length=64, unique=True, null=True, blank=True)
    note = models.CharField(_("nota"), max_length=200, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("registrato da"),
    )
    # A refund given back to the customer is a negative payment that undoes this one (services.reverse_payment).
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("storna il pagamento"),
    )
    created_at = models.DateTimeField(_("registrato il"), auto_now_add=True)

    class Meta:
        verbose_name = _("pagamento")
        verbose_name_plural = _("pagamenti")
        ordering = ["-received_on", "-id"]

    def __str__(self):
        return f"{self.amount} € · {self.received_on:%d/%m/%Y}"


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("pagamento")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("bolletta")
    )
    amount = money_field(_("importo"))

    class Meta:
        verbose_name = _("imputazione del pagamento")
        verbose_name_plural = _("imputazioni del pagamento")

    def __str__(self):
        return f"{self.payment} → {self.invoice}: {self.amount}"


# ---------------------------------------------------------------------------------------------------------
# Dunning: the default notice (costituzione in mora) and what follows it (billing/dunning/)
# ---------------------------------------------------------------------------------------------------------


class DefaultNotice(models.Model):
    """A costituzione in mora (CG 6.2): one per customer, covering all their invoices overdue at the time.

    The daily sweep prepares it and keeps adding newly overdue invoices while it is only *prepared*; the
    letter (raccomandata) or PEC freezes the invoices and amounts. Staff record the dispatch — its date starts
    the 40-day payment term — and, when known, the delivery date; the earliest day a suspension may be asked
    for follows from both (`suspension_allowed_on`, swept daily).
    """

    # The states and what may be done from each: billing/dunning/lifecycle.py.
    Status = lifecycle.Status
    OPEN_STATUSES = lifecycle.OPEN_STATUSES

    class Channel(models.TextChoices):
        PEC = "pec", _("PEC")
        RACCOMANDATA = "raccomandata", _("Raccomandata A/R")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="default_notices", verbose_name=_("cliente")
    )
    status = models.CharField(_("stato"), max_length=20, choices=Status.choices, default=Status.PREPARED)
    prepared_on = models.DateField(_("predisposta il"))
    invoices = models.ManyToManyField(
        Invoice, through="DefaultNoticeItem", related_name="default_notices", verbose_name=_("bollette")
    )
    total_due = money_field(_("importo da pagare"))
    channel = models.CharField(_("canale"), max_length=12, choices=Channel.choices)
    # CG 6.2 / TIMOE: a new notice within 90 days of the last suspension request may use shorter terms.
    # Flagged for staff; the portal always applies the ordinary terms.
    repeat_default = models.BooleanField(
        _("morosità reiterata"),
        default=False,
        help_text=_(
            "Una richiesta di sospensione negli ultimi 90 giorni: i termini potrebbero essere ridotti "
            "(art. 6.2), ma è una decisione del personale. Il portale applica i termini ordinari."
        ),
    )
    # The letter or PEC, written to the outbox when staff send the notice.
    communication = models.ForeignKey(
        "notifications.Communication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("comunicazione"),
    )

    sent_on = models.DateField(_("inviata il"), null=True, blank=True)
    tracking_number = models.CharField(_("numero di raccomandata / PEC"), max_length=255, blank=True)
    dispatch_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invio registrato da"),
    )
    dispatch_recorded_at = models.DateTimeField(_("invio registrato il"), null=True, blank=True)
    received_on = models.DateField(_("ricevuta il"), null=True, blank=True)
    receipt_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ricezione registrata da"),
    )
    receipt_recorded_at = models.DateTimeField(_("ricezione registrata il"), null=True, blank=True)

    # 40 days from sending (CG 6.2): billing.deadlines.default_notice_payment_deadline(sent_on).
    payment_due_on = models.DateField(_("termine di pagamento"), null=True, blank=True)
    # The first day a power reduction or suspension may be asked for (CG 6.2, TIMOE/TIMG), for the supply
    # that allows it first; each supply's own day is checked when a step is recorded (dunning/steps.py).
    suspension_allowed_on = models.DateField(_("sospensione consentita dal"), null=True, blank=True)

    payment_proven_on = models.DateField(_("pagamento dimostrato il"), null=True, blank=True)
    closed_on = models.DateField(_("chiusa il"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("chiusa da"),
        help_text=_("Vuoto: chiusa dal sistema (pagamento)."),
    )
    cancel_reason = models.CharField(_("motivo dell'annullamento"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("costituzione in mora")
        verbose_name_plural = _("costituzioni in mora")
        ordering = ["-prepared_on", "-id"]
        constraints = [
            # The sweep adds newly overdue invoices to the customer's notice until it is sent: one at a time.
            models.UniqueConstraint(
                fields=["customer"],
                condition=lifecycle.condition(lifecycle.Operation.SEND),
                name="one_collecting_notice_per_customer",
            ),
        ]
        indexes = [
            # The rows the billing.suspension_allowed sweep waits on.
            pending_index(
                due_field="suspension_allowed_on",
                condition=lifecycle.condition(lifecycle.Operation.ALLOW_SUSPENSION),
                name="notice_suspension_allowed_due",
            ),
            models.Index(fields=["customer", "-sent_on"], name="notice_customer_sent"),
            models.Index(
                fields=["status", "id"],
                condition=models.Q(**lifecycle.status_lookup(lifecycle.OPEN_STATUSES)),
                name="notice_open",
            ),
        ]

    def __str__(self):
        return f"{_('Costituzione in mora')} {self.reference}"

    @property
    def reference(self) -> str:
        return f"{self.prepared_on.year}/{self.pk or 0:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_collecting(self) -> bool:
        """Prepared and not yet written: the sweep may still add invoices to it, until it is sent."""
        return lifecycle.allows(self, lifecycle.Operation.SEND)


class DefaultNoticeItem(models.Model):
    """An invoice covered by a notice, with what was still due on it when the notice was written."""

    notice = models.ForeignKey(
        DefaultNotice, on_delete=models.CASCADE, related_name="items", verbose_name=_("costituzione in mora")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="default_notice_items", verbose_name=_("bolletta")
    )
    amount_due = money_field(_("importo dovuto"))

    class Meta:
        verbose_name = _("bolletta sollecitata")
        verbose_name_plural = _("bollette sollecitate")
        ordering = ["invoice__due_on", "invoice__sequence"]
        constraints = [models.UniqueConstraint(fields=["notice", "invoice"], name="one_item_per_invoice")]

    def __str__(self):
        return str(self.invoice)


class DunningBlock(models.Model):
    """A complaint holding an invoice out of default notices and suspensions (ARERA: an anomalous invoice
    under complaint, until the reasoned reply). Set by the rule (complaints.services.apply_dunning_block) or
    by staff from the case; lifted by the reply, by the rule when the case no longer protects the invoice,
    or by staff, with a reason while the complaint is open. Kept after lifting: who blocked, who lifted, why."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="dunning_blocks", verbose_name=_("bolletta")
    )
    complaint = models.ForeignKey(
        "complaints.Complaint",
        on_delete=models.PROTECT,
        related_name="dunning_blocks",
        verbose_name=_("reclamo"),
    )
    manual = models.BooleanField(_("impostato dal personale"), default=False)
    reason = models.CharField(_("motivo del blocco"), max_length=300)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bloccato da"),
    )
    set_at = models.DateTimeField(_("bloccato il"))
    lifted_at = models.DateTimeField(_("sbloccato il"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sbloccato da"),
    )
    # Staff lifted it (not the reply, nor the rule): the rule does not set it again for the same case.
    lifted_by_hand = models.BooleanField(_("sbloccato dal personale"), default=False)
    lift_reason = models.CharField(_("motivo dello sblocco"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("blocco dei solleciti")
        verbose_name_plural = _("blocchi dei solleciti")
        ordering = ["-set_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "complaint"],
                condition=models.Q(lifted_at__isnull=True),
                name="one_active_block_per_complaint_and_invoice",
            ),
        ]

    def __str__(self):
        return f"{self.invoice}: {self.reason}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class SuspensionStep(models.Model):
    """An intervention on a supply for default, as staff record it: a power reduction (low-voltage
    electricity, CG 6.3), a suspension request to the distributor, a suspension executed, a reactivation.

    Recorded only through dunning.steps.record_suspension_step, which refuses a step before it is allowed; a step
    forced with a reason, or taken without any default notice, carries the automatic indemnity (CP-LG 6.5)
    and waives the suspension and reactivation fees.
    """

    class Kind(models.TextChoices):
        POWER_REDUCTION = "power_reduction", _("Riduzione di potenza al 15%")
        SUSPENSION_REQUEST = "suspension_request", _("Richiesta di sospensione")
        SUSPENSION_EXECUTED = "suspension_executed", _("Sospensione eseguita")
        REACTIVATION = "reactivation", _("Riattivazione")

    notice = models.ForeignKey(
        DefaultNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="steps",
        verbose_name=_("costituzione in mora"),
        help_text=_("Vuoto: intervento senza costituzione in mora (indennizzo di 30 €)."),
    )
    service = models.ForeignKey(
        "contracts.Service",
        on_delete=models.PROTECT,
        related_name="suspension_steps",
        verbose_name=_("fornitura"),
    )
    kind = models.CharField(_("intervento"), max_length=20, choices=Kind.choices)
    requested_on = models.DateField(_("richiesto al distributore il"))
    executed_on = models.DateField(_("eseguito il"), null=True, blank=True)
    distributor_reference = models.CharField(_("riferimento del distributore"), max_length=100, blank=True)
    # The first day the step was allowed, as computed when it was recorded (None: no notice).
    allowed_on = models.DateField(_("consentito dal"), null=True, blank=True)
    override_reason = models.TextField(_("motivo della forzatura"), blank=True)
    indemnity = models.ForeignKey(
        Credit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("indennizzo automatico"),
    )
    fees_waived = models.BooleanField(_("senza corrispettivi di sospensione/riattivazione"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("registrato da"),
    )
    recorded_at = models.DateTimeField(_("registrato il"))
    execution_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("esecuzione registrata da"),
    )
    execution_recorded_at = models.DateTimeField(_("esecuzione registrata il"), null=True, blank=True)

    class Meta:
        verbose_name = _("intervento per morosità")
        verbose_name_plural = _("interventi per morosità")
        ordering = ["requested_on", "id"]
        indexes = [models.Index(fields=["service", "requested_on"], name="step_service_requested")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.service} · {self.requested_on:%d/%m/%Y}"


# ---------------------------------------------------------------------------------------------------------
# Electronic invoicing: each issued invoice and credit note as a FatturaPA sent to the SdI (billing/einvoice/)
# ---------------------------------------------------------------------------------------------------------


class EInvoiceFileCounter(YearCounter):
    """The last FatturaPA file progressivo given out. A single row (year 0): a file name may never repeat,
    across years too, so the count never restarts."""


class EInvoice(models.Model):
    """The transmission of one invoice or credit note to the Sistema di Interscambio, and where it stands.

    Created with the invoice (services.issue_invoice) and moved only by billing.einvoice.transmission: the send
    sweep sends what is to send; the SdI's receipts (RicevutaConsegna, NotificaMancataConsegna, NotificaScarto)
    move it on; a rejected document is resent by staff with the same number and date under a new file name.
    The SdI must accept it (delivered, or deliverable only through the Agenzia's reserved area) within 12 days
    of the invoice date (art. 21 DPR 633/72): `alert_on` and `accept_by` are the two deadlines swept.
    """

    class Status(models.TextChoices):
        TO_SEND = "to_send", _("Da inviare")
        SENT = "sent", _("Inviata, in attesa di esito")
        DELIVERED = "delivered", _("Consegnata")
        NOT_DELIVERED = "not_delivered", _("Non consegnata: nell'area riservata dell'Agenzia")
        REJECTED = "rejected", _("Scartata dallo SdI")

    # The SdI accepted the file: the invoice is issued for tax purposes.
    ACCEPTED_STATUSES = (Status.DELIVERED, Status.NOT_DELIVERED)
    NOT_ACCEPTED_STATUSES = (Status.TO_SEND, Status.SENT, Status.REJECTED)

    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, related_name="einvoice", verbose_name=_("bolletta")
    )
    status = models.CharField(_("stato SdI"), max_length=14, choices=Status.choices, default=Status.TO_SEND)
    progressivo = models.CharField(_("progressivo di invio"), max_length=5, unique=True)
    file_name = models.CharField(_("nome del file"), max_length=40, unique=True)
    xml = models.FileField(_("file inviato"), upload_to="einvoices/%Y/", blank=True)
    # The send sweep's day (the invoice date, or the day staff resent it) and its retries after a channel failure.
    queued_on = models.DateField(_("da inviare dal"))
    attempts = models.PositiveSmallIntegerField(_("tentativi di invio"), default=0)
    next_attempt_at = models.DateTimeField(_("prossimo tentativo"), null=True, blank=True)
    last_error = models.TextField(_("ultimo errore di invio"), blank=True)
    sent_at = models.DateTimeField(_("inviata il"), null=True, blank=True)
    sdi_identifier = models.CharField(_("identificativo SdI"), max_length=20, blank=True)
    outcome_at = models.DateTimeField(_("esito del"), null=True, blank=True)
    resend_by = models.DateField(
        _("reinviare entro"),
        null=True,
        blank=True,
        help_text=_("Dopo uno scarto: entro 5 giorni, con lo stesso numero e la stessa data."),
    )
    alert_on = models.DateField(_("avviso agli addetti il"))
    alerted_at = models.DateTimeField(_("addetti avvisati il"), null=True, blank=True)
    accept_by = models.DateField(_("da accettare entro"))
    overdue_since = models.DateField(_("fuori termine dal"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fattura elettronica")
        verbose_name_plural = _("fatture elettroniche")
        ordering = ["-queued_on", "-id"]
        indexes = [
            # billing.einvoice_send: the documents still to send.
            pending_index(
                due_field="queued_on", condition=models.Q(status="to_send"), name="einvoice_to_send"
            ),
            # billing.einvoice_alerts and billing.einvoice_overdue: documents the SdI has not yet accepted.
            pending_index(
                due_field="alert_on",
                condition=models.Q(status__in=["to_send", "sent", "rejected"], alerted_at__isnull=True),
                name="einvoice_alert_due",
            ),
            pending_index(
                due_field="accept_by",
                condition=models.Q(status__in=["to_send", "sent", "rejected"], overdue_since__isnull=True),
                name="einvoice_accept_due",
            ),
            models.Index(fields=["status", "id"], name="einvoice_status"),
        ]

    def __str__(self):
        return self.file_name

    @property
    def is_accepted(self) -> bool:
        return self.status in self.ACCEPTED_STATUSES


class SdiReceipt(models.Model):
    """A notification of the SdI about a file, stored exactly as received."""

    class Kind(models.TextChoices):
        DELIVERY = "RC", _("Ricevuta di consegna")
        NOT_DELIVERED = "MC", _("Notifica di mancata consegna")
        REJECTION = "NS", _("Notifica di scarto")

    einvoice = models.ForeignKey(
        EInvoice, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("fattura elettronica")
    )
    kind = models.CharField(_("tipo"), max_length=2, choices=Kind.choices)
    file_name = models.CharField(_("file della notifica"), max_length=100, unique=True)
    invoice_file_name = models.CharField(_("file della fattura"), max_length=100)
    sdi_identifier = models.CharField(_("identificativo SdI"), max_length=20)
    received_at = models.DateTimeField(_("ricevuta dallo SdI il"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("consegnata il"), null=True, blank=True)
    description = models.TextField(_("descrizione"), blank=True)
    errors = models.JSONField(
        _("errori"), default=list, blank=True
    )  # NotificaScarto: [{code, description, hint}]
    content = models.TextField(_("contenuto"))
    recorded_at = models.DateTimeField(_("registrata il"), auto_now_add=True)

    class Meta:
        verbose_name = _("notifica SdI")
        verbose_name_plural = _("notifiche SdI")
        ordering = ["recorded_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.invoice_file_name}"


# ---------------------------------------------------------------------------------------------------------
# Card payments in the Area Clienti (billing/online/)
# ---------------------------------------------------------------------------------------------------------


class OnlinePayment(BasePayment):
    """One card payment the customer started in the Area Clienti, through a provider (django-payments). It
    becomes a `Payment` per invoice only when the provider's signed notification confirms it
    (billing.online.services.apply_event); the browser coming back never records anything."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="online_payments", verbose_name=_("cliente")
    )
    # What the provider's refunds gave back: the part nothing was left to pay for, or a staff refund.
    refunded_amount = money_field(_("rimborsato"))
    refund_reason = models.CharField(_("motivo del rimborso"), max_length=300, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rimborsato da"),
    )
    refunded_at = models.DateTimeField(_("rimborsato il"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confermato il"), null=True, blank=True)
    receipt_sent_at = models.DateTimeField(_("ricevuta inviata il"), null=True, blank=True)

    class Meta:
        verbose_name = _("pagamento online")
        verbose_name_plural = _("pagamenti online")
        ordering = ["-created"]
        indexes = [
            # The catch-up sweep of confirmed payments whose receipt's task never ran.
            pending_index(
                due_field="confirmed_at",
                condition=models.Q(confirmed_at__isnull=False, receipt_sent_at__isnull=True),
                name="online_payment_receipt_pending",
            ),
        ]

    def __str__(self):
        return f"{self.total} € · {self.get_status_display()} · {self.token}"

    def get_purchased_items(self):
        for item in self.items.select_related("invoice"):
            yield PurchasedItem(
                name=str(item.invoice), sku=item.invoice.number, quantity=1, price=item.amount, currency="EUR"
            )

    def get_success_url(self) -> str:
        return absolute_url("billing:online_payment_outcome", self.token)

    def get_failure_url(self) -> str:
        return absolute_url("billing:online_payment_outcome", self.token)


# django-payments names its fields in English; each subclass has its own copies, so naming them here for the
# back office changes nothing else.
for _field, _label in {
    "variant": _("gateway"),
    "status": _("stato"),
    "total": _("importo"),
    "captured_amount": _("importo incassato"),
    "transaction_id": _("identificativo della transazione"),
    "token": _("codice del pagamento"),
    "created": _("creato il"),
}.items():
    OnlinePayment._meta.get_field(_field).verbose_name = _label


class OnlinePaymentItem(models.Model):
    """An invoice an online payment is for, with the amount asked for it (its outstanding at the start) and,
    once confirmed, the payment recorded on it."""

    online_payment = models.ForeignKey(
        OnlinePayment, on_delete=models.CASCADE, related_name="items", verbose_name=_("pagamento online")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="online_payment_items", verbose_name=_("bolletta")
    )
    amount = money_field(_("importo"))
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="online_item",
        verbose_name=_("pagamento registrato"),
    )

    class Meta:
        verbose_name = _("bolletta pagata online")
        verbose_name_plural = _("bollette pagate online")
        constraints = [
            models.UniqueConstraint(fields=["online_payment", "invoice"], name="one_online_item_per_invoice"),
        ]

    def __str__(self):
        return f"{self.invoice}: {self.amount}"


# ---------------------------------------------------------------------------------------------------------
# Instalment plans (rateizzazione): billing/instalments.py
# ---------------------------------------------------------------------------------------------------------


class InstalmentPolicy(models.Model):
    """The limits of an instalment plan, in force from a day and set by staff: neither the general
    conditions nor REGULATION.md fix them (CG 12.2 only names the plan, as a termination ground when it is
    not kept). Without a row in force, billing.instalments.DEFAULT_POLICY applies."""

    valid_from = models.DateField(_("in vigore dal"), unique=True)
    min_instalments = models.PositiveSmallIntegerField(_("numero minimo di rate"))
    max_instalments = models.PositiveSmallIntegerField(_("numero massimo di rate"))
    min_instalment = money_field(_("importo minimo di una rata"))
    first_due_days = models.PositiveSmallIntegerField(
        _("giorni dall'approvazione alla prima rata"),
        help_text=_("Le rate seguenti scadono ogni mese, nello stesso giorno della prima."),
    )
    grace_days = models.PositiveSmallIntegerField(
        _("tolleranza in giorni"),
        help_text=_("Una rata non pagata entro questi giorni dalla scadenza fa decadere il piano."),
    )
    source = models.CharField(_("fonte o motivo"), max_length=200)

    class Meta:
        verbose_name = _("limiti della rateizzazione")
        verbose_name_plural = _("limiti della rateizzazione")
        ordering = ["-valid_from"]

    def __str__(self):
        return f"{self.min_instalments}–{self.max_instalments} rate dal {self.valid_from:%d/%m/%Y}"

    @property
    def value(self):
        """As an entry of an effective-dated table (portal.lib.dates.entry_on), the row is its own value."""
        return self

    def clean(self):
        if self.min_instalments is not None and self.min_instalments < 2:
            raise ValidationError({"min_instalments": _("Una rateizzazione ha almeno 2 rate.")})
        if (
            self.min_instalments is not None
            and self.max_instalments is not None
            and self.max_instalments < self.min_instalments
        ):
            raise ValidationError({"max_instalments": _("Il massimo non può essere inferiore al minimo.")})


class InstalmentPlan(models.Model):
    """A customer's request to pay overdue bills in instalments, and, once an officer approves it, the plan:
    while approved, the bills it covers are out of the default procedure; a missed instalment ends it."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Richiesta, in attesa di approvazione")
        APPROVED = "approved", _("Approvata, in corso")
        REFUSED = "refused", _("Rifiutata")
        LAPSED = "lapsed", _("Decaduta per una rata non pagata")
        COMPLETED = "completed", _("Completata")

    OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED)

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="instalment_plans", verbose_name=_("cliente")
    )
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    invoices = models.ManyToManyField(
        Invoice, through="InstalmentPlanItem", related_name="instalment_plans", verbose_name=_("bollette")
    )
    instalment_count = models.PositiveSmallIntegerField(_("numero di rate"))
    total = money_field(_("importo rateizzato"))
    requested_at = models.DateTimeField(_("richiesta il"))
    decided_at = models.DateTimeField(_("decisa il"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decisa da"),
    )
    refusal_reason = models.TextField(_("motivo del rifiuto"), blank=True)
    ended_on = models.DateField(_("conclusa il"), null=True, blank=True)

    class Meta:
        verbose_name = _("rateizzazione")
        verbose_name_plural = _("rateizzazioni")
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One request or plan at a time: it covers all the customer's overdue bills.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status__in=["requested", "approved"]),
                name="one_open_instalment_plan_per_customer",
            ),
        ]
        indexes = [models.Index(fields=["status", "id"], name="instalment_plan_status")]

    def __str__(self):
        return f"{_('Rateizzazione')} {self.reference}"

    @property
    def reference(self) -> str:
        return f"R{self.requested_at.year}/{self.pk or 0:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class InstalmentPlanItem(models.Model):
    """A bill the plan covers, with what was still due on it when the plan was requested or approved."""

    plan = models.ForeignKey(InstalmentPlan, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="instalment_items", verbose_name=_("bolletta")
    )
    amount = money_field(_("importo rateizzato"))

    class Meta:
        verbose_name = _("bolletta rateizzata")
        verbose_name_plural = _("bollette rateizzate")
        ordering = ["invoice__due_on", "invoice__sequence"]
        constraints = [models.UniqueConstraint(fields=["plan", "invoice"], name="one_item_per_plan_invoice")]

    def __str__(self):
        return str(self.invoice)


class Instalment(models.Model):
    """One instalment of an approved plan: a due date swept like the others (billing.instalments)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Da pagare")
        PAID = "paid", _("Pagata")
        MISSED = "missed", _("Non pagata")
        CANCELLED = "cancelled", _("Annullata")

    plan = models.ForeignKey(
        InstalmentPlan, on_delete=models.CASCADE, related_name="instalments", verbose_name=_("rateizzazione")
    )
    number = models.PositiveSmallIntegerField(_("rata n."))
    amount = money_field(_("importo"))
    due_on = models.DateField(_("scadenza"))
    # The first day an instalment still unpaid counts as missed: due date + the policy's grace + 1.
    check_on = models.DateField(_("verifica il"))
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.PENDING)
    settled_on = models.DateField(_("verificata il"), null=True, blank=True)

    class Meta:
        verbose_name = _("rata")
        verbose_name_plural = _("rate")
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="one_instalment_per_number")]
        indexes = [
            # The billing.instalments sweep: pending instalments by the day they are checked.
            pending_index(due_field="check_on", condition=models.Q(status="pending"), name="instalment_due"),
        ]

    def __str__(self):
        return f"{self.plan} · {_('rata')} {self.number}"


# ---------------------------------------------------------------------------------------------------------
# Billing jobs run from admin (billing/jobs.py)
# ---------------------------------------------------------------------------------------------------------


class BillingJob(models.Model):
    """A month's invoice run that a billing officer confirmed in admin after its preview, run by a task on the
    `billing` queue: who asked, with what, how far it got and what it issued."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("In coda")
        RUNNING = "running", _("In corso")
        DONE = "done", _("Completato")
        FAILED = "failed", _("Non riuscito")

    period = models.DateField(_("mese"), help_text=_("Il primo giorno del mese i cui periodi si fatturano."))
    issued_on = models.DateField(_("data di emissione"))
    closing_only = models.BooleanField(_("solo bollette di chiusura"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("avviato da"),
    )
    created_at = models.DateTimeField(_("avviato il"), auto_now_add=True)
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(_("iniziato il"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finito il"), null=True, blank=True)
    # Written after every contract: a running job whose heartbeat stops has lost its worker.
    heartbeat_at = models.DateTimeField(_("ultimo avanzamento"), null=True, blank=True)
    contracts_done = models.PositiveIntegerField(_("contratti elaborati"), default=0)
    contracts_total = models.PositiveIntegerField(_("contratti da elaborare"), default=0)
    report = models.JSONField(_("resoconto"), default=dict, blank=True)  # generation.RunReport.as_dict()
    error = models.TextField(_("errore"), blank=True)

    class Meta:
        verbose_name = _("lavoro di fatturazione")
        verbose_name_plural = _("lavori di fatturazione")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return _("Bollette di %(month)s") % {"month": f"{self.period:%m/%Y}"}

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return 100 * self.contracts_done // self.contracts_total if self.contracts_total else 0
