"""The outbox: every communication to a customer, and one delivery row per channel it goes out on.

A `Communication` is what the customer reads in the portal's inbox; it is rendered once, in the customer's
language, when it is created, so the inbox shows exactly what was sent. A `Delivery` is one attempt to get it
to the customer outside the portal: an e-mail, a PEC, or a letter that staff post by hand (registered, or by
ordinary post). The delivery's status is what stops a message from going out twice (STYLE.md item 6).
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.lib import dates


def _document_path(instance, filename):
    # A random name: the customer-facing name is `document_name`, and a guessable path would be one
    # misconfigured web server away from a leak (media is private, served only by authorising views).
    suffix = PurePath(filename).suffix.lower() or ".pdf"
    return f"communications/{uuid.uuid4().hex}{suffix}"


class CommunicationQuerySet(models.QuerySet):
    def for_customer(self, customer):
        return self.filter(customer=customer)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Communication(models.Model):
    """One message to one customer: a notice, a letter, a reply. Every communication is in the inbox."""

    customer = models.ForeignKey(
        "accounts.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="communications",
        verbose_name=_("cliente"),
    )
    # Who it is for when the sender is not (yet) identified as a customer, e.g. the public complaint form.
    recipient_name = models.CharField(_("destinatario"), max_length=200, blank=True)
    recipient_email = models.EmailField(_("e-mail del destinatario"), blank=True)
    template_key = models.CharField(_("modello"), max_length=64)
    language = models.CharField(_("lingua"), max_length=8)
    subject = models.CharField(_("oggetto"), max_length=255)
    body_text = models.TextField(_("testo"))
    # Rendered by our own templates with autoescape on: safe to show as HTML (see the detail view).
    body_html = models.TextField(_("testo HTML"))
    document = models.FileField(_("documento"), upload_to=_document_path, blank=True, max_length=255)
    document_name = models.CharField(_("nome del documento"), max_length=255, blank=True)
    # The unique constraint is what makes "the same legal notice is never created twice" hold under
    # concurrency: see services.notify.
    dedupe_key = models.CharField(_("chiave di unicità"), max_length=200, unique=True)
    about_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("riguarda (tipo)")
    )
    about_id = models.PositiveBigIntegerField(_("riguarda (id)"), null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    # The portal's clock (the demo's after time travel in development), so the inbox dates it as its letter.
    created_at = models.DateTimeField(_("creata il"), default=dates.now, editable=False)
    read_at = models.DateTimeField(_("letta il"), null=True, blank=True)

    objects = CommunicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("comunicazione")
        verbose_name_plural = _("comunicazioni")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="communication_inbox_idx"),
            models.Index(
                fields=["customer"], condition=models.Q(read_at__isnull=True), name="communication_unread_idx"
            ),
            models.Index(fields=["about_type", "about_id"], name="communication_about_idx"),
        ]

    def __str__(self):
        return self.subject

    @property
    def is_read(self):
        return self.read_at is not None


class DeliveryQuerySet(models.QuerySet):
    def due_emails(self, now):
        """E-mail and PEC deliveries waiting to be sent at `now` (served by `delivery_email_due_idx`)."""
        return self.filter(
            status=Delivery.Status.PENDING, channel__in=Delivery.ELECTRONIC, next_attempt_at__lte=now
        )

    def stale_claims(self, claimed_before):
        """Deliveries claimed for sending before `claimed_before` and never finished: the worker died."""
        return self.filter(status=Delivery.Status.SENDING, claimed_at__lt=claimed_before)

    def letters_to_post(self):
        return self.filter(channel__in=Delivery.POSTAL, status=Delivery.Status.PENDING)


class Delivery(models.Model):
    """One channel of a communication. The portal inbox needs no row: every communication is in it."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PEC = "pec", _("PEC")
        LETTER = "letter", _("Raccomandata A/R")
        # A letter whose posting date is all there is to record: no tracking number, no return receipt.
        POST = "post", _("Posta ordinaria")

    class Status(models.TextChoices):
        PENDING = "pending", _("Da inviare")
        SENDING = "sending", _("In invio")
        SENT = "sent", _("Inviata")
        FAILED = "failed", _("Non riuscita")

    # Channels sent by the delivery task; letters are posted by staff.
    ELECTRONIC = (Channel.EMAIL, Channel.PEC)
    POSTAL = (Channel.LETTER, Channel.POST)

    communication = models.ForeignKey(
        Communication, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("comunicazione")
    )
    channel = models.CharField(_("canale"), max_length=10, choices=Channel.choices)
    # Copied when the communication is created: the address it was actually sent to, whatever changes later.
    address = models.TextField(_("indirizzo"))
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentativi"), default=0)
    next_attempt_at = models.DateTimeField(_("prossimo tentativo"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("preso in carico il"), null=True, blank=True)
    sent_at = models.DateTimeField(_("inviata il"), null=True, blank=True)
    last_error = models.TextField(_("ultimo errore"), blank=True)
    # The e-mail's Message-ID header, fixed at creation: a resend after a crash is the same message, so the
    # receiving side can recognise the duplicate.
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    # Letters: the posting date is what legal deadlines count from; registered ones add their number.
    dispatched_on = models.DateField(_("spedita il"), null=True, blank=True)
    tracking_number = models.CharField(_("numero di raccomandata"), max_length=40, blank=True)
    dispatch_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("spedizione registrata da"),
    )
    dispatch_recorded_at = models.DateTimeField(_("spedizione registrata il"), null=True, blank=True)
    delivered_on = models.DateField(_("consegnata il"), null=True, blank=True)
    receipt_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ricevuta registrata da"),
    )
    receipt_recorded_at = models.DateTimeField(_("ricevuta registrata il"), null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("invio")
        verbose_name_plural = _("invii")
        ordering = ["-pk"]
        indexes = [
            # The delivery sweep reads only what is waiting: its cost follows the queue, not the table.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending", channel__in=["email", "pec"]),
                name="delivery_email_due_idx",
            ),
            models.Index(
                fields=["claimed_at"], condition=models.Q(status="sending"), name="delivery_sending_idx"
            ),
            models.Index(
                fields=["communication"],
                condition=models.Q(status="pending", channel__in=["letter", "post"]),
                name="delivery_letters_to_post_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} · {self.communication}"


class LetterToPost(Delivery):
    """Admin's "Lettere da spedire": the letters (registered or ordinary) that staff still have to post."""

    class Meta:
        proxy = True
        verbose_name = _("lettera da spedire")
        verbose_name_plural = _("lettere da spedire")
