from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from localflavor.it.it_province import PROVINCE_CHOICES

from accounts.fields import CodiceFiscaleModelField
from accounts.models import Customer
from contracts import deadlines
from contracts.fields import IbanModelField, PdrModelField, PodModelField
from contracts.validators import (
    validate_cap,
    validate_codice_fiscale,
    validate_iban,
    validate_pdr,
    validate_pod,
)
from portal.deadlines import pending_index


class Contract(models.Model):
    """A customer's contract for one offer: one or more services, 12-month periods renewed tacitly (CG 3.1)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposto")
        ACTIVE = "active", _("Attivo")
        TERMINATING = "terminating", _("In cessazione")
        TERMINATED = "terminated", _("Cessato")
        CANCELLED = "cancelled", _("Annullato")

    class SalesChannel(models.TextChoices):
        WEB = "web", _("Sito web")
        PHONE = "phone", _("Telefono")
        AGENCY = "agency", _("Agenzia (fuori dai locali commerciali)")
        SHOP = "shop", _("Negozio")

    class PaymentMethod(models.TextChoices):
        SDD = "sdd", _("Addebito diretto SEPA (SDD)")
        POSTAL_SLIP = "postal_slip", _("Bollettino postale")
        CARD = "card", _("Carta di pagamento")

    class BillingFrequency(models.TextChoices):
        MONTHLY = "monthly", _("Mensile")
        BIMONTHLY = "bimonthly", _("Bimestrale")

    # A customer may withdraw (recesso) only from these; services.quote_withdrawal refuses the others.
    WITHDRAWABLE_STATUSES = (Status.ACTIVE, Status.PROPOSED)
    # Over: nothing left to withdraw from or to cancel.
    ENDED_STATUSES = (Status.CANCELLED, Status.TERMINATED)

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("cliente")
    )
    number = models.CharField(_("numero contratto"), max_length=20, unique=True)
    offer_name = models.CharField(_("offerta"), max_length=200)
    sales_channel = models.CharField(_("canale di vendita"), max_length=10, choices=SalesChannel.choices)
    proposed_on = models.DateField(_("data della proposta"))
    accepted_on = models.DateField(_("data di conclusione"), null=True, blank=True)
    payment_method = models.CharField(
        _("modalità di pagamento"), max_length=12, choices=PaymentMethod.choices
    )
    # Stored in one piece (IT60X0542811101000000123456), however typed. With SDD, the active mandate's.
    iban = IbanModelField(_("IBAN"), max_length=34, blank=True, validators=[validate_iban])
    # Bolletta web (e-mail and portal only) or also on paper, by post; when the customer chose, as the
    # bills print it (contracts.mandates.choose_bill_delivery).
    paper_bills = models.BooleanField(_("bolletta cartacea"), default=False)
    bill_delivery_chosen_at = models.DateTimeField(_("invio della bolletta scelto il"), null=True, blank=True)
    billing_frequency = models.CharField(
        _("frequenza di fatturazione"),
        max_length=10,
        choices=BillingFrequency.choices,
        default=BillingFrequency.MONTHLY,
    )
    security_deposit = models.DecimalField(
        _("deposito cauzionale"), max_digits=13, decimal_places=2, default=Decimal("0")
    )
    # Discounts enjoyed so far: charged back on early withdrawal in the first 12 months (CG 3.8).
    discounts_enjoyed = models.DecimalField(
        _("sconti goduti"), max_digits=13, decimal_places=2, default=Decimal("0")
    )
    status = models.CharField(_("stato"), max_length=12, choices=Status.choices, default=Status.PROPOSED)

    # The current 12-month period and what happens at its end (CG 3.1).
    period_start = models.DateField(_("inizio periodo contrattuale"), null=True, blank=True)
    expires_on = models.DateField(_("scadenza"), null=True, blank=True)
    renewal_count = models.PositiveIntegerField(_("rinnovi"), default=0)
    renewal_notice_due_on = models.DateField(_("comunicazione di rinnovo entro"), null=True, blank=True)
    renewal_notice_sent_on = models.DateField(_("comunicazione di rinnovo inviata il"), null=True, blank=True)
    renewal_notice_late = models.BooleanField(_("comunicazione di rinnovo in ritardo"), default=False)
    # What the renewal notice announces; set by staff before it goes. Empty = same conditions.
    renewal_offer_name = models.CharField(_("offerta al rinnovo"), max_length=200, blank=True)
    renewal_conditions = models.TextField(_("nuove condizioni al rinnovo"), blank=True)
    ends_at_expiry = models.BooleanField(
        _("disdetta del fornitore alla scadenza"),
        default=False,
        help_text=_("La comunicazione annuncia la cessazione."),
    )
    announced_offer_name = models.CharField(max_length=200, blank=True, editable=False)
    announced_conditions = models.TextField(blank=True, editable=False)
    announced_termination = models.BooleanField(default=False, editable=False)

    terminates_on = models.DateField(_("data di cessazione"), null=True, blank=True)
    terminated_on = models.DateField(_("cessato il"), null=True, blank=True)
    # Express termination grounds (CG 12.2), flagged by billing.
    termination_grounds_since = models.DateField(_("clausola risolutiva dal"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contratto")
        verbose_name_plural = _("contratti")
        ordering = ["-proposed_on", "number"]
        indexes = [
            pending_index(
                due_field="renewal_notice_due_on",
                condition=models.Q(status="active", renewal_notice_sent_on__isnull=True),
                name="contract_renewal_notice_due",
            ),
            pending_index(
                due_field="expires_on", condition=models.Q(status="active"), name="contract_expiry_due"
            ),
            pending_index(
                due_field="terminates_on",
                condition=models.Q(status="terminating"),
                name="contract_termination_due",
            ),
        ]

    def __str__(self):
        return f"{self.number} · {self.offer_name}"

    @property
    def is_distance_or_off_premises(self):
        """Web, phone and agency (door-to-door) sales carry the 14-day cooling-off right (Cod. Consumo art. 52)."""
        return self.sales_channel != self.SalesChannel.SHOP

    @property
    def renewal_terms_editable(self) -> bool:
        """What the renewal notice will announce (offer, conditions, termination) is set by staff until the
        notice goes; then it is what the customer was told (CG 3.1)."""
        return self.renewal_notice_sent_on is None and self.status in (
            self.Status.PROPOSED,
            self.Status.ACTIVE,
        )

    @property
    def is_withdrawable(self) -> bool:
        return self.status in self.WITHDRAWABLE_STATUSES

    @property
    def cooling_off_last_day(self) -> date | None:
        """The last day of the 14-day cooling-off right (Cod. Consumo art. 52), counted from conclusion; None
        for a contract that has no such right (concluded in a shop, not concluded yet) or is already over.

        A contract being terminated keeps it: notice of a withdrawal does not take away the statutory right
        to cancel without charges within the 14 days."""
        if (
            not self.is_distance_or_off_premises
            or self.accepted_on is None
            or self.status in self.ENDED_STATUSES
        ):
            return None
        return deadlines.cooling_off_last_day(self.accepted_on)

    def cooling_off_open_until(self, today: date) -> date | None:
        """The last day of the cooling-off right when it can still be used today, else None."""
        last_day = self.cooling_off_last_day
        return last_day if last_day is not None and today <= last_day else None

    @property
    def has_active_energy(self):
        return self.services.filter(kind__in=Service.ENERGY_KINDS, status=Service.Status.ACTIVE).exists()


class Service(models.Model):
    """One service of a contract: a supply (electricity, gas), a line (fibre, mobile) or an add-on."""

    class Kind(models.TextChoices):
        ELECTRICITY = "electricity", _("Luce")
        GAS = "gas", _("Gas")
        FIBRE = "fibre", _("Internet fibra")
        MOBILE = "mobile", _("Mobile")
        TELECONSULTO = "teleconsulto", _("Teleconsulto Medico")
        ASSISTENZA_H24 = "assistenza_h24", _("Assistenza H24")

    class Status(models.TextChoices):
        PENDING = "pending", _("In attivazione")
        ACTIVE = "active", _("Attivo")
        DEACTIVATING = "deactivating", _("In disattivazione")
        DEACTIVATED = "deactivated", _("Disattivato")
        CANCELLED = "cancelled", _("Annullato")

    class FibreTechnology(models.TextChoices):
        FTTH = "FTTH", "FTTH"
        FTTC = "FTTC", "FTTC"
        ADSL = "ADSL", "ADSL"

    ENERGY_KINDS = (Kind.ELECTRICITY, Kind.GAS)
    COMMUNICATION_KINDS = (Kind.FIBRE, Kind.MOBILE)
    METERED_KINDS = ENERGY_KINDS

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="services", verbose_name=_("contratto")
    )
    kind = models.CharField(_("servizio"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("stato"), max_length=12, choices=Status.choices, default=Status.PENDING)
    activated_on = models.DateField(_("attivato il"), null=True, blank=True)
    deactivates_on = models.DateField(_("si disattiva il"), null=True, blank=True)
    deactivated_on = models.DateField(_("disattivato il"), null=True, blank=True)

    supply_street = models.CharField(_("indirizzo di fornitura"), max_length=200, blank=True)
    supply_postcode = models.CharField(_("CAP"), max_length=5, blank=True, validators=[validate_cap])
    supply_city = models.CharField(_("comune"), max_length=100, blank=True)
    supply_province = models.CharField(_("provincia"), max_length=2, blank=True, choices=PROVINCE_CHOICES)

    # POD and PDR are stored compact and upper-case, however typed: IT001E12345678, 00881234567890.
    pod = PodModelField(_("POD"), max_length=15, blank=True, db_index=True, validators=[validate_pod])
    power_kw = models.DecimalField(
        _("potenza impegnata (kW)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    domestic_resident = models.BooleanField(_("domestico residente"), default=True)
    pdr = PdrModelField(_("PDR"), max_length=14, blank=True, db_index=True, validators=[validate_pdr])
    meter_class = models.CharField(
        _("classe del contatore"), max_length=5, blank=True, help_text="G4, G6, G10…"
    )
    fibre_technology = models.CharField(
        _("tecnologia"), max_length=4, blank=True, choices=FibreTechnology.choices
    )
    line_number = models.CharField(_("numero di linea"), max_length=20, blank=True)
    sim_number = models.CharField(_("numero SIM"), max_length=20, blank=True, db_index=True)
    iccid = models.CharField(_("ICCID"), max_length=22, blank=True)
    # Assistenza H24: 3 interventions per contract period, up to 300 € each (CP H24 1.2).
    interventions_used = models.PositiveSmallIntegerField(_("interventi usati nel periodo"), default=0)

    class Meta:
        verbose_name = _("servizio")
        verbose_name_plural = _("servizi")
        ordering = ["contract", "id"]
        indexes = [
            pending_index(
                due_field="deactivates_on",
                condition=models.Q(status="deactivating"),
                name="service_deactivation_due",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.identifier}".strip()

    @property
    def identifier(self):
        return self.pod or self.pdr or self.line_number or self.sim_number or ""

    @property
    def supply_address(self):
        if not self.supply_street:
            return ""
        return f"{self.supply_street}, {self.supply_postcode} {self.supply_city} ({self.supply_province})"

    @property
    def is_energy(self) -> bool:
        """Electricity or gas (ARERA's rules); fibre and mobile are communications (AGCOM's), the add-ons
        neither."""
        return self.kind in self.ENERGY_KINDS

    @property
    def is_communications(self) -> bool:
        return self.kind in self.COMMUNICATION_KINDS

    @property
    def is_metered(self):
        return self.kind in self.METERED_KINDS

    @property
    def meter_unit(self) -> str:
        """Electricity meters count kWh, gas meters standard cubic metres (Smc)."""
        return "kWh" if self.kind == self.Kind.ELECTRICITY else "Smc"

    def clean(self):
        required = {
            self.Kind.ELECTRICITY: ["pod", "power_kw", "supply_street"],
            self.Kind.GAS: ["pdr", "meter_class", "supply_street"],
            self.Kind.FIBRE: ["fibre_technology", "line_number", "supply_street"],
            self.Kind.MOBILE: ["sim_number", "iccid"],
        }.get(self.kind, [])
        missing = {
            name: _("Obbligatorio per questo servizio.") for name in required if not getattr(self, name)
        }
        if missing:
            raise ValidationError(missing)


class Device(models.Model):
    """A device on loan (modem, router): to be returned within 10 days of termination (CG 14.8)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="devices")
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("fornitura"),
    )
    description = models.CharField(_("dispositivo"), max_length=100, default="Modem")
    serial_number = models.CharField(_("numero di serie"), max_length=50)
    return_by = models.DateField(_("da restituire entro"), null=True, blank=True)
    returned_on = models.DateField(_("restituito il"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispositivo in comodato")
        verbose_name_plural = _("dispositivi in comodato")

    def __str__(self):
        return f"{self.description} {self.serial_number}"


class MeterReading(models.Model):
    """A meter reading of an electricity (kWh) or gas (Smc) supply: self-reading, distributor's, or estimate."""

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("Autolettura")
        DISTRIBUTOR = "distributor", _("Lettura del distributore")
        ESTIMATE = "estimate", _("Stima")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="readings")
    read_on = models.DateField(_("data della lettura"))
    value = models.PositiveIntegerField(_("lettura"))
    source = models.CharField(_("origine"), max_length=12, choices=Source.choices)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inserita da"),
    )
    submitted_at = models.DateTimeField(_("inserita il"), auto_now_add=True)

    class Meta:
        verbose_name = _("lettura")
        verbose_name_plural = _("letture")
        ordering = ["service", "-read_on", "-id"]

    def __str__(self):
        return f"{self.service} {self.read_on}: {self.value}"


class WithdrawalRequest(models.Model):
    """A customer's withdrawal (recesso), partial or full, or cooling-off (ripensamento); or the supplier's."""

    class Kind(models.TextChoices):
        SWITCH = "switch", _("Cambio fornitore")
        DEACTIVATION = "deactivation", _("Disattivazione")
        COOLING_OFF = "cooling_off", _("Ripensamento")
        PRICE_CHANGE = "price_change", _("Recesso per variazione delle condizioni")
        SUPPLIER = "supplier", _("Recesso del fornitore")

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="withdrawals", verbose_name=_("contratto")
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawals",
        verbose_name=_("fornitura"),
        help_text=_("Vuoto: tutto il contratto."),
    )
    kind = models.CharField(_("tipo"), max_length=14, choices=Kind.choices)
    received_on = models.DateField(_("ricevuto il"))
    effective_on = models.DateField(_("efficace dal"))
    early_termination_charge = models.DecimalField(
        _("costo di recesso anticipato"), max_digits=13, decimal_places=2, default=Decimal("0")
    )
    channel = models.CharField(_("canale"), max_length=20, default="portal")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("richiesto da"),
    )
    # When the receipt went out. It is sent by a task after the withdrawal commits; one still without a
    # receipt is caught up by the contracts.withdrawal_receipts sweep.
    receipt_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("registrato il"), auto_now_add=True)

    class Meta:
        verbose_name = _("recesso")
        verbose_name_plural = _("recessi")
        ordering = ["-created_at"]
        indexes = [
            pending_index(
                due_field="received_on",
                condition=models.Q(receipt_sent_at__isnull=True),
                name="withdrawal_receipt_pending",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.contract.number} dal {self.effective_on:%d/%m/%Y}"


class ConditionChange(models.Model):
    """A unilateral change of conditions announced to a set of contracts (CG 9.3)."""

    title = models.CharField(_("titolo"), max_length=200)
    description = models.TextField(_("descrizione per il cliente"))
    effective_on = models.DateField(_("in vigore dal"))
    # Declared by staff: the change brings the customers other charges than the prices below (CG 9.3 "altri
    # oneri"), so every notice gives the 60-day withdrawal right. A rise of a price needs no declaration: it
    # is found by comparing `new_prices` with each contract's offer (ConditionChangeNotice.price_rises).
    raises_prices = models.BooleanField(_("comporta altri oneri"), default=False)
    # The new prices of the change, by billing.Tariff field ("energy_price_kwh": "0.150000"); none: unchanged.
    new_prices = models.JSONField(_("nuovi prezzi"), default=dict, blank=True)
    sent_on = models.DateField(_("inviata il"), null=True, blank=True)
    notices_total = models.PositiveIntegerField(default=0)
    notices_sent = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("variazione unilaterale")
        verbose_name_plural = _("variazioni unilaterali")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class ConditionChangeNotice(models.Model):
    """One contract's notice of a change: created pending when staff announce the change, sent by the sweep
    `contracts.condition_change_notices` (so a lost message or a crash never leaves a contract unnotified)."""

    change = models.ForeignKey(ConditionChange, on_delete=models.CASCADE, related_name="notices")
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="condition_notices", verbose_name=_("contratto")
    )
    due_on = models.DateField(_("da inviare il"))
    sent_on = models.DateField(_("inviata il"), null=True, blank=True)
    withdrawal_until = models.DateField(_("recesso possibile fino al"), null=True, blank=True)
    # The prices of this contract's own supplies that the change raises, against its offer's prices when the
    # change was announced: [{"label", "old", "new"}] (contracts.services.price_rises).
    price_rises = models.JSONField(_("aumenti di prezzo"), default=list, blank=True)

    class Meta:
        verbose_name = _("avviso di variazione")
        verbose_name_plural = _("avvisi di variazione")
        constraints = [models.UniqueConstraint(fields=["change", "contract"], name="one_notice_per_contract")]
        indexes = [
            pending_index(
                due_field="due_on", condition=models.Q(sent_on__isnull=True), name="conditionnotice_due"
            )
        ]

    def __str__(self):
        return f"{self.change} → {self.contract.number}"


class SddMandate(models.Model):
    """A SEPA direct debit mandate (domiciliazione bancaria) the customer signed online for a contract.

    Never edited once signed: a change of account revokes it and signs a new one (contracts.mandates)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Attivo")
        REVOKED = "revoked", _("Revocato")

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="mandates", verbose_name=_("contratto")
    )
    # The creditor's unique mandate reference (SEPA: at most 35 characters), quoted on every debit.
    reference = models.CharField(_("riferimento del mandato"), max_length=35, unique=True)
    holder_name = models.CharField(_("intestatario del conto"), max_length=70)
    # Empty when the account holder is the customer.
    holder_tax_code = CodiceFiscaleModelField(
        _("codice fiscale dell'intestatario"), max_length=16, blank=True, validators=[validate_codice_fiscale]
    )
    iban = IbanModelField(_("IBAN"), max_length=34, validators=[validate_iban])
    status = models.CharField(_("stato"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    # The signature is the customer's click: when, by whom, from where.
    signed_at = models.DateTimeField(_("firmato il"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("firmato da"),
    )
    signed_from_ip = models.GenericIPAddressField(_("indirizzo IP"), null=True, blank=True)
    # The method the contract goes back to when the mandate is revoked (carried over by a change of account).
    previous_payment_method = models.CharField(
        _("modalità di pagamento precedente"),
        max_length=12,
        choices=Contract.PaymentMethod.choices,
        default=Contract.PaymentMethod.POSTAL_SLIP,
    )
    revoked_at = models.DateTimeField(_("revocato il"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revocato da"),
    )
    # When its PDF went to the customer's Comunicazioni; sent by a task after the signature commits.
    document_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("mandato SDD")
        verbose_name_plural = _("mandati SDD")
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=models.Q(status="active"),
                name="one_active_mandate_per_contract",
            )
        ]
        indexes = [
            # The catch-up sweep of signed mandates whose PDF's task never ran (contracts.mandate_documents).
            pending_index(
                due_field="signed_at",
                condition=models.Q(document_sent_at__isnull=True),
                name="mandate_document_pending",
            ),
        ]

    def __str__(self):
        return self.reference
