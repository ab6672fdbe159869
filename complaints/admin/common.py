"""What the complaint admin screens share: how they name people, report refusals, and their URLs."""

from django.core.exceptions import ValidationError
from django.urls import path, reverse


def person(user) -> str:
    return user.get_full_name() or user.email


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def change_url(complaint) -> str:
    return reverse("admin:complaints_complaint_change", args=[complaint.pk])


def route(model_admin, view, name: str, pattern: str):
    """A page of the complaint admin, behind the admin's login and named `complaints_complaint_<name>`."""
    return path(pattern, model_admin.admin_site.admin_view(view), name=f"complaints_complaint_{name}")


def case_route(model_admin, view, name: str, pattern: str):
    """A page of one case: its URL starts with the case's key, like the change page's."""
    return route(model_admin, view, name, f"<path:object_id>/{pattern}")
