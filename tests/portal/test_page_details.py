"""The small things browsers, search engines and assistive technology read on every page."""

import re
from datetime import date

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from billing.generation import generate_invoices
from billing.models import Tariff
from portal.notifications.services import notify
from tests.factories import active_contract

pytestmark = pytest.mark.django_db


def test_time_elements_carry_a_valid_datetime_to_the_second(alice_client, alice):
    notify(
        customer=alice,
        template_key="generic",
        context={"title": "Aggiornamento", "message": "Il tuo contratto è stato aggiornato."},
        channels=["email"],
        dedupe_key="time-1",
    )
    html = alice_client.get(reverse("notifications:inbox")).content.decode()
    values = re.findall(r'<time datetime="([^"]+)"', html)
    assert values
    for value in values:
        # e.g. 2026-12-03T10:15:42+01:00: HTML's global date and time, no microseconds.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", value), value


@pytest.mark.parametrize(
    "name",
    [
        "complaints:help",
        "complaints:public_new",
        "complaints:track_request",
        "home",
        "complaints_quality:public",
    ],
)
def test_public_pages_have_a_description_and_a_favicon(client, name):
    html = client.get(reverse(name)).content.decode()
    description = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert description and len(description[1]) > 40
    icons = re.findall(r'<link rel="icon" href="/static/([^"]+)"', html)
    assert icons and all(finders.find(icon) for icon in icons)


def test_the_help_page_describes_itself_not_the_whole_portal(client):
    help_page = client.get(reverse("complaints:help")).content.decode()
    home = client.get(reverse("home")).content.decode()
    pattern = r'<meta name="description" content="([^"]+)">'
    assert re.search(pattern, help_page)[1] != re.search(pattern, home)[1]
    assert "reclamo" in re.search(pattern, help_page)[1]


def test_favicon_ico_leads_to_the_bundled_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert finders.find(response["Location"].removeprefix("/static/"))


def test_a_street_input_asks_for_an_address_line_not_a_multiline_address(client):
    html = client.get(reverse("complaints:public_new")).content.decode()
    assert 'autocomplete="street-address"' not in html  # only valid on a textarea
    assert 'autocomplete="address-line1"' in html


def test_the_quality_tables_scroll_regions_are_reachable_by_keyboard_and_named(client):
    html = client.get(reverse("complaints_quality:public")).content.decode()
    regions = re.findall(r'<div class="table-responsive"([^>]*)>', html)
    assert regions
    for attributes in regions:
        assert 'tabindex="0"' in attributes and 'role="region"' in attributes
        assert re.search(r'aria-label="[^"]+\d{4}"', attributes), attributes


def test_an_english_customers_invoice_lines_are_in_english(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    Tariff.objects.create(
        offer_name="Optima Super Casa Smart con Teleconsulto Medico",
        energy_price_kwh="0.120000",
        gas_price_smc="0.900000",
        electricity_monthly_fee="8.00",
    )
    contract = active_contract()
    contract.customer.language = "en"
    contract.customer.save(update_fields=["language"])
    generate_invoices(period="2026-10", issued_on=date(2026, 11, 2))
    descriptions = [line.description for line in contract.invoices.get().lines.all()]
    assert any(
        text.startswith("Electricity POD") and "estimated consumption" in text for text in descriptions
    )
    assert any(text.startswith("Fixed electricity fee POD") for text in descriptions)
    assert {line.unit for line in contract.invoices.get().lines.all()} >= {"kWh", "month"}
