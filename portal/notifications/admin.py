"""Back office: communications (read-only), deliveries, and the letters staff still have to post.

Nothing here changes a delivery directly: the forms and actions call the services and report with
`message_user`; who did what is on the row (letters) or in admin's history (retries).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.admin_display import ReadOnlyAdminMixin
from portal.lib import dates, formatting
from portal.lib.dates import rome_date
from portal.notifications import services
from portal.notifications.forms import LetterDispatchForm, LetterReceiptForm, PostingForm
from portal.notifications.models import Communication, Delivery, LetterToPost


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "channel",
        "address",
        "status",
        "attempts",
        "sent_at",
        "dispatched_on",
        "tracking_number",
        "last_error",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Communication)
class CommunicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A communication is a record of what the customer was told: nobody adds, edits or deletes it."""

    list_display = [
        "created_at",
        "customer",
        "subject",
        "template_key",
        "language",
        "read_at",
        "has_document",
    ]
    list_filter = ["template_key", "language", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["customer"]
    search_fields = [
        "subject",
        "dedupe_key",
        "customer__code",
        "customer__last_name",
        "customer__company_name",
    ]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]
    fields = [
        "customer",
        "template_key",
        "language",
        "subject",
        "created_at",
        "read_at",
        "document_link",
        "about_link",
        "dedupe_key",
        "body_text",
    ]
    readonly_fields = fields

    @admin.display(boolean=True, description=_("PDF"))
    def has_document(self, obj):
        return bool(obj.document)

    @admin.display(description=_("documento"))
    def document_link(self, obj):
        if not obj.document:
            return "—"
        url = reverse("admin:notifications_communication_document", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.document_name or _("Scarica"))

    @admin.display(description=_("riguarda"))
    def about_link(self, obj):
        if obj.about_type_id is None:
            return "—"
        about = obj.about
        if about is None:
            return f"{obj.about_type} #{obj.about_id}"
        try:
            url = reverse(
                f"admin:{obj.about_type.app_label}_{obj.about_type.model}_change", args=[obj.about_id]
            )
        except NoReverseMatch:  # the model has no admin page
            return str(about)
        return format_html('<a href="{}">{}</a>', url, about)

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/documento/",
                self.admin_site.admin_view(self.document_view),
                name="notifications_communication_document",
            )
        ]
        return urls + super().get_urls()

    def document_view(self, request, pk):
        """Staff download the PDF (e.g. to print a registered letter). Media is never served by URL."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        communication = get_object_or_404(Communication.objects.exclude(document=""), pk=pk)
        try:
            handle = communication.document.open("rb")
        except FileNotFoundError:
            raise Http404("document missing from storage") from None
        return FileResponse(handle, as_attachment=True, filename=communication.document_name or None)


class _DeliveryPermissions:
    """Deliveries change only through services (forms and actions below): the change page is read-only."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Without an object Django asks whether actions and our forms are allowed; with one, whether the
        # change form is editable — it never is.
        if obj is not None:
            return False
        return request.user.has_perm("notifications.change_delivery")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("notifications.view_delivery") or request.user.has_perm(
            "notifications.change_delivery"
        )

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(Delivery)
class DeliveryAdmin(_DeliveryPermissions, admin.ModelAdmin):
    list_display = [
        "pk",
        "communication_link",
        "customer",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_filter = ["channel", "status"]
    list_select_related = ["communication__customer"]
    search_fields = ["address", "message_id", "tracking_number", "communication__customer__code"]
    actions = ["retry_now"]
    readonly_fields = [
        "communication",
        "channel",
        "address",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "message_id",
        "dispatched_on",
        "tracking_number",
        "dispatch_recorded_by",
        "dispatch_recorded_at",
        "delivered_on",
        "receipt_recorded_by",
        "receipt_recorded_at",
    ]
    fields = readonly_fields

    @admin.display(description=_("comunicazione"), ordering="communication__created_at")
    def communication_link(self, obj):
        url = reverse("admin:notifications_communication_change", args=[obj.communication_id])
        return format_html('<a href="{}">{}</a>', url, Truncator(obj.communication.subject).chars(60))

    @admin.display(description=_("cliente"))
    def customer(self, obj):
        return obj.communication.customer

    @admin.display(description=_("ultimo errore"))
    def short_error(self, obj):
        return Truncator(obj.last_error).chars(80)

    @admin.action(description=_("Riprova ora l'invio delle e-mail selezionate"), permissions=["change"])
    def retry_now(self, request, queryset):
        now = timezone.now()
        retried = 0
        for delivery in queryset:
            if services.retry_delivery(delivery=delivery, now=now):
                self.log_change(request, delivery, "Nuovo tentativo di invio richiesto.")
                retried += 1
        skipped = queryset.count() - retried
        if retried:
            message = ngettext(
                "%(count)d invio rimesso in coda.", "%(count)d invii rimessi in coda.", retried
            )
            self.message_user(request, message % {"count": retried}, messages.SUCCESS)
        if skipped:
            message = ngettext(
                "%(count)d invio ignorato: solo le e-mail e le PEC non ancora inviate si possono riprovare.",
                "%(count)d invii ignorati: solo le e-mail e le PEC non ancora inviate si possono riprovare.",
                skipped,
            )
            self.message_user(request, message % {"count": skipped}, messages.WARNING)


class LetterStageFilter(admin.SimpleListFilter):
    """Letters to post by default; then those posted and waiting for their return receipt; then all."""

    title = _("fase")
    parameter_name = "fase"
    TO_POST, AWAITING_RECEIPT, DELIVERED, ALL = "da-spedire", "in-attesa-di-ricevuta", "consegnate", "tutte"

    def lookups(self, request, model_admin):
        return [
            (self.TO_POST, _("Da spedire")),
            (self.AWAITING_RECEIPT, _("Spedite, senza ricevuta di ritorno")),
            (self.DELIVERED, _("Consegnate")),
            (self.ALL, _("Tutte")),
        ]

    def value(self):
        return super().value() or self.TO_POST

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.TO_POST:
            return queryset.filter(status=Delivery.Status.PENDING)
        if value == self.AWAITING_RECEIPT:
            # Ordinary post has no return receipt: once posted, nothing is left to record.
            return queryset.filter(
                channel=Delivery.Channel.LETTER, dispatched_on__isnull=False, delivered_on__isnull=True
            )
        if value == self.DELIVERED:
            return queryset.filter(delivered_on__isnull=False)
        return queryset


class PostalChannelFilter(admin.SimpleListFilter):
    """Registered letters or ordinary post: the only channels in this list."""

    title = _("canale")
    parameter_name = "canale"

    def lookups(self, request, model_admin):
        return [(channel.value, channel.label) for channel in Delivery.POSTAL]

    def queryset(self, request, queryset):
        if self.value() in Delivery.POSTAL:
            return queryset.filter(channel=self.value())
        return queryset


@admin.register(LetterToPost)
class LetterToPostAdmin(_DeliveryPermissions, admin.ModelAdmin):
    """The "Lettere da spedire" list: print the PDF, post it, record the date (and a registered letter's
    number) here.

    Letters already posted stay reachable through the "fase" filter, to record their return receipt.
    """

    # The address's first line is the recipient's name: no column of its own, so the list fits 1280 px.
    list_display = ["created_at", "channel", "subject", "address_lines", "document", "record"]
    list_display_links = ["created_at"]
    list_filter = [LetterStageFilter, PostalChannelFilter]
    list_select_related = ["communication__customer"]
    search_fields = [
        "address",
        "tracking_number",
        "communication__customer__code",
        "communication__recipient_name",
        "communication__subject",
    ]
    ordering = ["communication__created_at", "pk"]
    readonly_fields = DeliveryAdmin.readonly_fields
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(channel__in=Delivery.POSTAL)

    @admin.display(description=_("creata il"), ordering="communication__created_at")
    def created_at(self, obj):
        return formatting.day(rome_date(obj.communication.created_at))

    @admin.display(description=_("oggetto"))
    def subject(self, obj):
        return Truncator(obj.communication.subject).chars(60)

    @admin.display(description=_("indirizzo"))
    def address_lines(self, obj):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in obj.address.splitlines()))

    @admin.display(description=_("documento"))
    def document(self, obj):
        if not obj.communication.document:
            return "—"
        url = reverse("admin:notifications_communication_document", args=[obj.communication_id])
        return format_html('<a href="{}">{}</a>', url, _("Scarica il PDF"))

    @admin.display(description=_("registra"))
    def record(self, obj):
        if obj.dispatched_on is None:
            url = reverse("admin:notifications_lettertopost_dispatch", args=[obj.pk])
            return format_html('<a class="button" href="{}">{}</a>', url, _("Registra spedizione"))
        if obj.channel == Delivery.Channel.POST:
            return _("Spedita il %(date)s") % {"date": formatting.day(obj.dispatched_on)}
        if obj.delivered_on is None:
            url = reverse("admin:notifications_lettertopost_receipt", args=[obj.pk])
            label = _("Spedita il %(date)s · registra ricevuta") % {"date": formatting.day(obj.dispatched_on)}
            return format_html('<a class="button" href="{}">{}</a>', url, label)
        return _("Consegnata il %(date)s") % {"date": formatting.day(obj.delivered_on)}

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/spedizione/",
                self.admin_site.admin_view(self.dispatch_view),
                name="notifications_lettertopost_dispatch",
            ),
            path(
                "<int:pk>/ricevuta/",
                self.admin_site.admin_view(self.receipt_view),
                name="notifications_lettertopost_receipt",
            ),
        ]
        return urls + super().get_urls()

    def dispatch_view(self, request, pk):
        letter = get_object_or_404(self.get_queryset(request).only("channel"), pk=pk)
        if letter.channel == Delivery.Channel.POST:
            form_class, title = PostingForm, _("Registra la spedizione della lettera")
            done = _("Spedizione registrata: lettera in posta ordinaria del %(date)s.")
        else:
            form_class, title = LetterDispatchForm, _("Registra la spedizione della raccomandata")
            done = _("Spedizione registrata: raccomandata %(number)s del %(date)s.")
        return self._record_view(
            request,
            pk,
            form_class=form_class,
            title=title,
            record=lambda letter, data, now: services.record_letter_dispatch(
                delivery=letter, by=request.user, now=now, **data
            ),
            done=done,
            done_params=lambda letter: {
                "number": letter.tracking_number,
                "date": formatting.day(letter.dispatched_on),
            },
            initial={"dispatched_on": dates.today()},
        )

    def receipt_view(self, request, pk):
        return self._record_view(
            request,
            pk,
            # Only registered letters come back with a receipt.
            queryset=self.get_queryset(request).filter(channel=Delivery.Channel.LETTER),
            form_class=LetterReceiptForm,
            title=_("Registra la ricevuta di ritorno"),
            record=lambda letter, data, now: services.record_letter_delivery(
                delivery=letter, by=request.user, now=now, **data
            ),
            done=_("Consegna registrata: %(date)s."),
            done_params=lambda letter: {"date": formatting.day(letter.delivered_on)},
            initial={},
        )

    def _record_view(
        self, request, pk, *, form_class, title, record, done, done_params, initial, queryset=None
    ):
        if not self.has_change_permission(request):
            raise PermissionDenied
        queryset = self.get_queryset(request) if queryset is None else queryset
        letter = get_object_or_404(queryset.select_related("communication__customer"), pk=pk)
        form = form_class(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                letter = record(letter, form.cleaned_data, timezone.now())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.log_change(request, letter, str(done % done_params(letter)))
                self.message_user(request, done % done_params(letter), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:notifications_lettertopost_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "letter": letter,
            "form": form,
        }
        return TemplateResponse(request, "admin/notifications/lettertopost/record.html", context)
