"""What the contract admin tests (and the parity tests) do as staff: log in with a role, run an action, post
a change page back."""

from django.urls import reverse

from portal import roles
from tests.factories import UserFactory

CHANGELIST = "admin:contracts_contract_changelist"


def staff_client(client, role):
    user = UserFactory(email=f"{role.split()[0].lower()}@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[role])
    client.force_login(user)
    return client, user


def run_action(client, action, contracts, **data):
    return client.post(
        reverse(CHANGELIST),
        {
            "action": action,
            "_selected_action": [contract.pk for contract in contracts],
            "index": 0,
            "select_across": 0,
            **data,
        },
    )


def form_data(response):
    """The change form's current values, as a browser would post them back."""
    form = response.context_data["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = value
    for formset in response.context_data["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None and value is not False:
                    data[inline_form.add_prefix(name)] = value
    return data
