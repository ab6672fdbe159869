"""Display helpers shared by every admin that shows a legal deadline."""

from datetime import date

from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.lib.dates import rome_date
from portal.lib.formatting import day

# Inline styles: Django admin has no Bootstrap; colours keep a 4.5:1 contrast with white text.
_COLOURS = {"overdue": "#b42318", "today": "#b42318", "soon": "#8a5300", "ok": "#1e6b34"}


def days_left(due_on: date, today: date | None = None) -> int:
    return (due_on - (today or rome_date(timezone.now()))).days


def days_left_badge(due_on: date | None, today: date | None = None, *, soon: int = 5) -> str:
    """'12 giorni' in green, '3 giorni' in amber (within `soon` days), 'oggi' / 'scaduto da 2 giorni' in red."""
    if due_on is None:
        return "—"
    left = days_left(due_on, today)
    if left < 0:
        tone = "overdue"
        text = ngettext("scaduto da %(n)d giorno", "scaduto da %(n)d giorni", -left) % {"n": -left}
    elif left == 0:
        tone, text = "today", _("scade oggi")
    else:
        tone = "soon" if left <= soon else "ok"
        text = ngettext("%(n)d giorno", "%(n)d giorni", left) % {"n": left}
    return format_html(
        '<span style="background:{};color:#fff;padding:1px 6px;border-radius:8px;white-space:nowrap">{}</span>',
        _COLOURS[tone],
        text,
    )


def day_with_badge(value, *, pending, today=None):
    """The date, followed by its days-left badge while the deadline is still pending."""
    if value is None:
        return "—"
    if not pending:
        return day(value)
    return format_html("{} {}", day(value), days_left_badge(value, today))


# How many selected objects an action's confirmation page lists by name.
LISTED_ON_CONFIRMATION = 50


def action_form_page(model_admin, request, objects, *, form, action, title, intro, submit, count=None):
    """An action's intermediate page: what is selected, the form, and the hidden fields that bring the
    selection back to the same action when the form is submitted."""
    count = len(objects) if count is None else count
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "intro": intro,
        "form": form,
        "action": action,
        "submit_label": submit,
        "objects": objects[:LISTED_ON_CONFIRMATION],
        "count": count,
        "more": max(count - LISTED_ON_CONFIRMATION, 0),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/action_form.html", context)


class ReadOnlyAdminMixin:
    """For a ModelAdmin or inline that shows records written only by services (history, ledgers, frozen
    copies): staff may look, never add, change or delete. Put it first among the bases."""

    can_delete = False  # inlines: no delete checkbox
    extra = 0  # inlines: no blank forms

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
