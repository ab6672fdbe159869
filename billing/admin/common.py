"""What the billing screens share: money as staff read it, the status badge, the pages that collect what a
service needs, and how a service's refusal lands on the form."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin_display import ReadOnlyAdminMixin
from portal.lib import formatting

_BADGE = (
    '<span style="background:{};color:#fff;padding:1px 6px;border-radius:8px;white-space:nowrap">{}</span>'
)


def euro(value) -> str:
    """1234.5 → "1.234,50 €": Italian format whatever the staff member's language."""
    return formatting.euro(value, italian=True)


def status_badge(colour: str, label) -> str:
    return format_html(_BADGE, colour, label)


def add_errors(form, error: ValidationError) -> None:
    """A service's refusal on the form: on the field it names when the form has it, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def rename_fields(error: ValidationError, **names) -> ValidationError:
    """The notifications service names its fields after the letter; the forms here after the notice."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(field, field): errors for field, errors in error.error_dict.items()})


def flatten(row):
    """A fieldset row as the names it shows."""
    return row if isinstance(row, tuple | list) else (row,)


def fieldset_names(fieldsets) -> list[str]:
    return [name for fieldset in fieldsets for row in fieldset[1]["fields"] for name in flatten(row)]


class RecordViews:
    """Intermediate pages that collect what a service needs and call it (admin/billing/record.html)."""

    def _record_page(self, request, *, form, title, intro="", obj=None, details=(), submit=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "intro": intro,
            "form": form,
            "object": obj,
            "details": details,
            "submit_label": submit or _("Registra"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/billing/record.html", context)

    def _submit(self, request, form, act, **renamed):
        """On a valid POST, `act(form.cleaned_data)` — the one service call of the page — and its result;
        otherwise None, with the service's refusal on the form (`renamed`: the service's field names that the
        form calls otherwise)."""
        if request.method != "POST" or not form.is_valid():
            return None
        try:
            return act(form.cleaned_data)
        except ValidationError as error:
            add_errors(form, rename_fields(error, **renamed))
            return None

    def _require_change(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied


class AddedThroughServiceMixin(ReadOnlyAdminMixin):
    """A record staff never edit or delete, but add through a page that calls a service (a payment, a step
    without a notice): read-only, except that "add" is as the staff member's permissions say."""

    def has_add_permission(self, request, obj=None):
        return super(ReadOnlyAdminMixin, self).has_add_permission(request)
