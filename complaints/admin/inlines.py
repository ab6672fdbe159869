"""The case's history and attachments under its page: read-only, written only by the services."""

from django.contrib import admin
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from complaints.admin.common import person
from complaints.models import ComplaintAttachment, ComplaintEvent
from portal.admin_display import ReadOnlyAdminMixin
from portal.lib.formatting import moment


class ComplaintEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ComplaintEvent
    verbose_name = _("evento")
    verbose_name_plural = _("cronologia del caso (incluse le note interne)")
    fields = ["when", "what", "who", "visibility", "text_lines"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("quando"))
    def when(self, event):
        return moment(event.at)

    @admin.display(description=_("evento"))
    def what(self, event):
        return event.get_kind_display()

    @admin.display(description=_("chi"))
    def who(self, event):
        return person(event.actor) if event.actor else _("sistema o cliente")

    @admin.display(description=_("testo"))
    def text_lines(self, event):
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in event.text.splitlines())) or "—"

    @admin.display(description=_("visibilità"))
    def visibility(self, event):
        return _("solo interno") if event.internal else _("visibile al cliente")


class ComplaintAttachmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ComplaintAttachment
    verbose_name = _("allegato")
    verbose_name_plural = _("allegati")
    fields = ["document", "file_type", "size_kb", "visibility", "who", "when"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("tipo"))
    def file_type(self, attachment):
        return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(
            attachment.content_type, attachment.content_type
        )

    @admin.display(description=_("caricato da"))
    def who(self, attachment):
        return person(attachment.uploaded_by) if attachment.uploaded_by else _("cliente")

    @admin.display(description=_("caricato il"))
    def when(self, attachment):
        return moment(attachment.uploaded_at)

    @admin.display(description=_("documento"))
    def document(self, attachment):
        url = reverse("admin:complaints_complaint_attachment", args=[attachment.complaint_id, attachment.pk])
        return format_html('<a href="{}">{}</a>', url, attachment.original_name)

    @admin.display(description=_("dimensione"))
    def size_kb(self, attachment):
        return f"{number_format(attachment.size / 1024, 0, force_grouping=True)} KB"

    @admin.display(description=_("visibilità"))
    def visibility(self, attachment):
        return _("solo interno") if attachment.internal else _("visibile al cliente")
