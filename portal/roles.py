"""Staff roles: one Django group each, with the permissions that role needs in admin.

Each app adds its models' permissions here as it grows; `sync_roles()` makes the groups match this table
(it is what `seed_demo` and deployments run), so permissions are reviewed in one place.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

COMPLAINTS_OFFICER = "Addetto reclami"
BILLING_OFFICER = "Addetto fatturazione"
SUPERVISOR = "Supervisore"

# Contracts: the complaints officer reads them (to answer about a supply); billing officers and supervisors
# change them and run the contract actions (withdrawals, changes of conditions), which need change_contract.
_CONTRACTS_VIEW = [
    "contracts.view_contract",
    "contracts.view_service",
    "contracts.view_device",
    "contracts.view_meterreading",
    "contracts.view_withdrawalrequest",
    "contracts.view_conditionchange",
    "contracts.view_conditionchangenotice",
]
_CONTRACTS_CHANGE = [
    *_CONTRACTS_VIEW,
    "contracts.add_contract",
    "contracts.change_contract",
    "contracts.add_service",
    "contracts.change_service",
    "contracts.add_device",
    "contracts.change_device",
]

# Complaints: officers and supervisors register and work the cases (every action adds a ComplaintEvent and
# may add an attachment); billing officers only read them, e.g. to see why an invoice's dunning is blocked.
_COMPLAINTS_VIEW = [
    "complaints.view_complaint",
    "complaints.view_complaintevent",
    "complaints.view_complaintattachment",
]
_COMPLAINTS_WORK = [
    *_COMPLAINTS_VIEW,
    "complaints.add_complaint",
    "complaints.change_complaint",
    "complaints.add_complaintevent",
    "complaints.add_complaintattachment",
    "complaints.view_replytemplate",
    "complaints.view_replysnippet",
]
# Reply templates and snippets: officers use them from the case page and may read them; supervisors keep
# them, switching one off instead of deleting it (no delete: an emptied table would be seeded again).
_REPLY_TEXTS_MANAGE = [
    "complaints.add_replytemplate",
    "complaints.change_replytemplate",
    "complaints.add_replysnippet",
    "complaints.change_replysnippet",
]

# Billing: the complaints officer reads invoices, their electronic invoices, payments and default notices (to
# answer about a bill or a suspension); billing officers and supervisors register payments, issue credit notes,
# re-bill the periods they took back, grant manual credits, block dunning, edit the dated rate tables and tariffs, work default notices and resend an electronic invoice
# the SdI rejected, which needs change_invoice (every change goes through billing services).
_BILLING_VIEW = [
    "billing.view_invoice",
    "billing.view_invoiceline",
    "billing.view_payment",
    "billing.view_paymentallocation",
    "billing.view_credit",
    "billing.view_credituse",
    "billing.view_defaultnotice",
    "billing.view_defaultnoticeitem",
    "billing.view_suspensionstep",
    "billing.view_einvoice",
    "billing.view_sdireceipt",
    "billing.view_instalmentplan",
    "billing.view_instalmentplanitem",
    "billing.view_instalment",
]
_BILLING_WORK = [
    *_BILLING_VIEW,
    "billing.change_invoice",
    "billing.add_invoiceline",
    "billing.change_invoiceline",
    "billing.delete_invoiceline",
    "billing.add_payment",
    "billing.add_credit",  # a manual credit, through services.grant_manual_credit
    "billing.view_charge",
    "billing.view_interestrate",
    "billing.add_interestrate",
    "billing.change_interestrate",
    "billing.view_tariff",
    "billing.add_tariff",
    "billing.change_tariff",
    "billing.change_defaultnotice",
    "billing.add_suspensionstep",
    # Billing jobs: the month's invoice run from admin (preview, then a job), statements, matching payments.
    "billing.view_billingjob",
    "billing.add_billingjob",
    # Instalment plans: approving or refusing a request (through billing.instalments), and the limits in force.
    "billing.change_instalmentplan",
    "billing.view_instalmentpolicy",
    "billing.add_instalmentpolicy",
    "billing.change_instalmentpolicy",
]

ROLE_PERMISSIONS = {
    COMPLAINTS_OFFICER: [
        *_BILLING_VIEW,
        *_CONTRACTS_VIEW,
        *_COMPLAINTS_WORK,
        "accounts.view_customer",
        "notifications.view_communication",
        "notifications.view_delivery",
    ],
    BILLING_OFFICER: [
        *_BILLING_WORK,
        *_CONTRACTS_CHANGE,
        *_COMPLAINTS_VIEW,
        "accounts.view_customer",
        "accounts.change_customer",
        "notifications.view_communication",
        "notifications.view_delivery",
        "notifications.change_delivery",
    ],
    SUPERVISOR: [
        *_BILLING_WORK,
        *_CONTRACTS_CHANGE,
        *_COMPLAINTS_WORK,
        *_REPLY_TEXTS_MANAGE,
        "accounts.view_customer",
        "accounts.change_customer",
        "portal.view_workerheartbeat",
        # The deadline clocks: every sweep run and the rows a sweep could not act on (read-only; marking a
        # failure resolved stays with operators, who fix its cause).
        "portal.view_sweeprun",
        "portal.view_sweepfailure",
        "notifications.view_communication",
        "notifications.view_delivery",
        "notifications.change_delivery",
    ],
}


def emails_of(role: str) -> list[str]:
    """The e-mail addresses of the active staff in `role`, each once, sorted."""
    users = get_user_model().objects.filter(is_active=True, groups__name=role).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def billing_officer_emails() -> list[str]:
    """Whom a billing alert goes to: the billing officers, else the supervisors — someone must read it."""
    return emails_of(BILLING_OFFICER) or emails_of(SUPERVISOR)


def is_supervisor(user) -> bool:
    """A supervisor (or a superuser): sees the whole team's work rather than their own."""
    return user.is_superuser or user.groups.filter(name=SUPERVISOR).exists()


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
