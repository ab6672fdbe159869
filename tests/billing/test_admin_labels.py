"""Staff read the back office in Italian: no field, column or inline title falls back to the English name
Django derives from the code (the invoice page said "Contract", "Customer", "Pdf rendered at", "Invoice
lines"; the payments list "REGISTERED BY")."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, label_for_field
from django.test import RequestFactory
from django.urls import reverse

from billing import services
from billing.models import Payment
from portal import roles
from tests.factories import UserFactory, active_contract

pytestmark = pytest.mark.django_db

ENGLISH = ["Contract", "Customer", "Pdf rendered at", "Invoice lines", "Registered by", "Created at"]
# Labels that read the same in Italian as the field's name.
SAME_IN_ITALIAN = {"codice fiscale", "partita iva", "pec", "iban", "pod", "pdr", "iccid", "id", "pk"}


@pytest.fixture
def supervisor(client):
    user = UserFactory(email="supervisore@optima.example", is_staff=True)
    user.groups.add(roles.sync_roles()[roles.SUPERVISOR])
    client.force_login(user)
    return client


def test_the_invoice_page_and_the_payments_list_are_in_italian(supervisor):
    contract = active_contract()
    draft = services.create_draft(
        contract=contract,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
        lines=[services.LineSpec(kind="charge", description="Consumi", unit_price=D("10"), vat_rate=D("10"))],
    )
    invoice = services.issue_invoice(invoice=draft, issued_on=date(2026, 4, 2))
    services.record_payment(
        customer=contract.customer,
        amount=D("11"),
        received_on=date(2026, 4, 10),
        method=Payment.Method.BANK_TRANSFER,
        invoice=invoice,
    )
    page = supervisor.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    payments = supervisor.get(reverse("admin:billing_payment_changelist")).content.decode()
    for html in (page, payments):
        for english in ENGLISH:
            assert f">{english}" not in html and f">{english.upper()}" not in html
        assert "Customer:" not in html and "Contract:" not in html
    assert "Righe della bolletta" in page and "PDF generato il" in page
    assert "Registrato da" in payments or "registrato da" in payments


def _derived(label, name):
    label = str(label).strip().lower()
    return label == name.replace("_", " ").lower() and label not in SAME_IN_ITALIAN


def test_no_admin_label_is_the_name_from_the_code():
    """Every registered screen of the project: list columns, form fields and inline columns and titles."""
    request = RequestFactory().get("/")
    request.user = UserFactory.build(is_superuser=True, is_staff=True)
    leaks = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in (
            "accounts",
            "portal",
            "notifications",
            "contracts",
            "billing",
            "complaints",
        ):
            continue
        names = [n for n in model_admin.get_list_display(request) if isinstance(n, str)]
        names += flatten_fieldsets(model_admin.get_fieldsets(request))
        for name in names:
            try:
                label = label_for_field(name, model, model_admin)
            except AttributeError:  # a field of the form only (the add form's passwords): labelled there
                continue
            if _derived(label, name):
                leaks.append(f"{model._meta.label}.{name}")
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            title = str(inline.verbose_name_plural)
            if title == f"{inline.model._meta.verbose_name}s" and " " in title:
                leaks.append(f"{model._meta.label} inline {inline_class.__name__}")
            for name in inline.get_fields(request):
                if isinstance(name, str) and _derived(label_for_field(name, inline.model, inline), name):
                    leaks.append(f"{model._meta.label} inline {inline_class.__name__}.{name}")
    assert leaks == [], "\n".join(leaks)
