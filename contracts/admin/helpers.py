"""The two halves of every action here: ask staff for what the service needs, then call the service for each
selected object and say, for each, what it did or why it refused."""

from django.contrib import messages
from django.core.exceptions import ValidationError

from portal.admin_display import action_form_page


def ask(model_admin, request, form_class, objects, *, page: dict, **form_kwargs):
    """The action's form, bound once staff submit it: (its cleaned data, None) when valid, else (None, the
    page that asks for it; `page` holds its action, title, intro and submit label)."""
    form = form_class(request.POST if "apply" in request.POST else None, **form_kwargs)
    if form.is_valid():
        return form.cleaned_data, None
    return None, action_form_page(model_admin, request, objects, form=form, **page)


def apply_each(model_admin, request, objects, act, report, *, label=str) -> None:
    """`act(obj)` (one service call) for each object; what it did (`report(result)`) is recorded in admin's
    history and shown, and so is why the service refused."""
    for obj in objects:
        try:
            result = act(obj)
        except ValidationError as error:
            model_admin.message_user(request, f"{label(obj)}: {' '.join(error.messages)}", messages.ERROR)
            continue
        message = report(result)
        model_admin.log_change(request, obj, message)
        model_admin.message_user(request, f"{label(obj)}: {message}", messages.SUCCESS)
