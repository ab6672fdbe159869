"""Staff roles: one Django group each, with the permissions that role needs in admin.

Each app adds its models' permissions here as it grows; `sync_roles()` makes the groups match this table
(it is what `seed_demo` and deployments run), so permissions are reviewed in one place.
"""

from django.contrib.auth.models import Group, Permission

COMPLAINTS_OFFICER = "Addetto reclami"
BILLING_OFFICER = "Addetto fatturazione"
SUPERVISOR = "Supervisore"

ROLE_PERMISSIONS = {
    COMPLAINTS_OFFICER: [
        "contracts.view_customer",
        "notifications.view_communication",
        "notifications.view_delivery",
    ],
    BILLING_OFFICER: [
        "contracts.view_customer",
        "contracts.change_customer",
        "notifications.view_communication",
        "notifications.view_delivery",
        "notifications.change_delivery",
    ],
    SUPERVISOR: [
        "contracts.view_customer",
        "contracts.change_customer",
        "portal.view_workerheartbeat",
        "notifications.view_communication",
        "notifications.view_delivery",
        "notifications.change_delivery",
    ],
}


def sync_roles():
    """Create the role groups and set their permissions to exactly those in ROLE_PERMISSIONS."""
    groups = {}
    for name, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [_permission(code) for code in codes]
        group.permissions.set(permissions)
        groups[name] = group
    return groups


def _permission(code):
    app_label, codename = code.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)
