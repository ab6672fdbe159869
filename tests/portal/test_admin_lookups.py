"""Admin add forms and the autocomplete endpoint answer field errors or no match, never 500, on odd ids."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOT_KEYS = ["abc", "1.5", "1e3", "\x00", "-", "99999999999999999999"]
ODD_TERMS = ["abc", "\x00", "a\x00b", "%", "'", "é😀"]

LOOKUP_ADMINS = [
    (model, model_admin, name)
    for model, model_admin in admin.site._registry.items()
    for name in [*model_admin.autocomplete_fields, *model_admin.raw_id_fields]
]


def _id(case):
    model, _, name = case
    return f"{model._meta.label}.{name}"


@pytest.fixture
def superuser_client(client, staff_user):
    client.force_login(staff_user)
    client.raise_request_exception = False  # a crash must show as the 500 it is, to be asserted on
    return client


def test_every_admin_with_lookups_is_covered():
    # The fuzzed screens: if one disappears, this test no longer tests what it says.
    assert {_id(case) for case in LOOKUP_ADMINS} >= {
        "accounts.Customer.user",
        "contracts.Contract.customer",
        "contracts.Service.contract",
        "billing.Payment.customer",
        "billing.Payment.invoice",
        "billing.SuspensionStep.service",
        "complaints.Complaint.customer",
        "complaints.Complaint.contract",
        "complaints.Complaint.service",
        "complaints.Complaint.invoice",
    }


@pytest.mark.parametrize("case", LOOKUP_ADMINS, ids=_id)
def test_add_form_with_a_non_numeric_id_shows_a_field_error(superuser_client, case):
    model, _, name = case
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    for value in NOT_KEYS:
        response = superuser_client.post(url, {name: value})
        assert response.status_code == 200, value
        context = response.context
        form = context["adminform"].form if "adminform" in context else context["form"]
        assert name in form.errors, value


@pytest.mark.parametrize(
    "case", [case for case in LOOKUP_ADMINS if case[2] in case[1].autocomplete_fields], ids=_id
)
def test_autocomplete_endpoint_with_odd_terms(superuser_client, case):
    model, _, name = case
    for term in ODD_TERMS:
        response = superuser_client.get(
            reverse("admin:autocomplete"),
            {
                "term": term,
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": name,
            },
        )
        assert response.status_code == 200, repr(term)
        assert response.json()["results"] == [], repr(term)


def test_a_valid_choice_stays_selected_when_the_form_comes_back(superuser_client):
    customer = CustomerFactory()
    response = superuser_client.post(reverse("admin:contracts_contract_add"), {"customer": customer.pk})
    assert response.status_code == 200
    assert "customer" not in response.context["adminform"].form.errors
    assert f'<option value="{customer.pk}" selected>' in response.content.decode()
