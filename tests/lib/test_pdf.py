"""The PDF helper: what a customer reads on a letter, and what the renderer must never do."""

import socket
from datetime import date

import pytest
from django.conf import settings

from portal.lib import pdf
from tests.pdf_utils import (
    pdf_conformance,
    pdf_fonts,
    pdf_language,
    pdf_metadata,
    pdf_pages,
    pdf_structure,
    pdf_text,
)

SUPPLIER = settings.SUPPLIER

LONG_BODY = [
    {
        "heading": "Il suo reclamo",
        "text": "Abbiamo ricevuto il suo reclamo scritto del 3 febbraio 2026 relativo alla bolletta n. 2026/004512.",
    },
    *(
        f"Paragrafo {n}: dalle verifiche effettuate sui consumi fatturati e sulle letture trasmesse dal "
        "distributore risulta che la lettura del 31 gennaio 2026 è stata stimata. La invitiamo a comunicarci "
        "un'autolettura tramite l'Area Clienti: emetteremo una bolletta di rettifica (€ 123,45)."
        for n in range(1, 15)
    ),
    {"heading": "Indennizzo automatico", "text": "Le riconosciamo un indennizzo automatico di € 30,00."},
]


def letter_context(**overrides):
    return {
        "recipient_name": "Mario Rossi",
        "recipient_address": ["Via Toledo, 256", "80134 Napoli NA"],
        "delivery": "Raccomandata A/R",
        "customer_code": "C-0001234",
        "reference": "RC-2026-000123",
        "document_date": date(2026, 3, 14),
        "subject": "Risposta al reclamo scritto RC-2026-000123",
        "body": "Abbiamo ricevuto il suo reclamo.\n\nLe risponderemo entro 30 giorni.",
        **overrides,
    }


@pytest.fixture(scope="module")
def long_letter():
    return pdf.render_pdf("pdf/letter.html", letter_context(body=LONG_BODY))


def test_letter_shows_the_supplier_identity():
    text = pdf_text(pdf.render_pdf("pdf/letter.html", letter_context()))

    assert SUPPLIER["name"] in text
    assert SUPPLIER["address"] in text
    assert f"Partita IVA {SUPPLIER['vat_number']}" in text
    # The complaint channels: registered letter to the postal address, e-mail, PEC, Area Clienti.
    assert f"Raccomandata a.r.: {SUPPLIER['name']}, {SUPPLIER['address']}" in text
    assert f"E-mail: {SUPPLIER['email']}" in text
    assert f"PEC: {SUPPLIER['pec']}" in text
    assert "Area Clienti: sezione “Reclami e richieste”" in text
    assert f"Numero Verde Privati {SUPPLIER['phone_private']}" in text
    assert f"Business {SUPPLIER['phone_business']}" in text


def test_letter_shows_recipient_subject_and_body():
    text = pdf_text(pdf.render_pdf("pdf/letter.html", letter_context()))

    assert "RACCOMANDATA A/R Mario Rossi Via Toledo, 256 80134 Napoli NA" in text
    assert "Napoli, 14 marzo 2026" in text
    assert "Codice cliente C-0001234" in text
    assert "Riferimento RC-2026-000123" in text
    assert "Oggetto: Risposta al reclamo scritto RC-2026-000123" in text
    assert "Gentile Mario Rossi," in text
    assert "Abbiamo ricevuto il suo reclamo. Le risponderemo entro 30 giorni." in text
    assert f"Cordiali saluti. Il Servizio Clienti {SUPPLIER['brand']}" in text


def test_recipient_address_may_be_a_multiline_string():
    context = letter_context(recipient_address="Via Toledo, 256\n80134 Napoli NA")

    assert "Mario Rossi Via Toledo, 256 80134 Napoli NA" in pdf_text(
        pdf.render_pdf("pdf/letter.html", context)
    )


def test_body_is_text_never_html():
    context = letter_context(body='<img src="http://example.com/x.png"> <b>grassetto</b>')

    assert '<img src="http://example.com/x.png"> <b>grassetto</b>' in pdf_text(
        pdf.render_pdf("pdf/letter.html", context)
    )


def test_long_letter_numbers_its_pages(long_letter):
    pages = pdf_pages(long_letter)

    assert len(pages) == 2
    assert "Pagina 1 di 2" in pages[0]
    assert "Pagina 2 di 2" in pages[1]
    # Letterhead and complaint channels repeat on every page; the address window only on the first.
    assert SUPPLIER["vat_number"] in pages[1]
    assert f"PEC: {SUPPLIER['pec']}" in pages[1]
    assert "Via Toledo" not in pages[1]
    assert "Il suo reclamo Abbiamo ricevuto" in pages[0]
    assert "Indennizzo automatico Le riconosciamo un indennizzo automatico di € 30,00." in pages[1]


def test_letter_embeds_the_bundled_font_and_a_title(long_letter):
    # Every glyph comes from the bundled Source Sans 3 (regular and bold here), none from a system font.
    fonts = pdf_fonts(long_letter)
    assert len(fonts) == 2
    assert all(name.startswith("Source-Sans-3") for name in fonts)
    assert pdf_metadata(long_letter)["Title"] == "Risposta al reclamo scritto RC-2026-000123"
    assert pdf_metadata(long_letter)["Author"] == SUPPLIER["name"]


def test_letter_is_rendered_in_the_requested_language():
    context = letter_context(recipient_name="")
    italian = pdf_text(pdf.render_pdf("pdf/letter.html", context, language="it"))
    english = pdf_text(pdf.render_pdf("pdf/letter.html", context, language="en"))

    assert "Gentile cliente," in italian
    assert f"Partita IVA {SUPPLIER['vat_number']}" in italian
    assert "Codice cliente C-0001234" in italian
    assert "14 marzo 2026" in italian

    assert "Dear customer," in english
    assert f"VAT number {SUPPLIER['vat_number']}" in english
    assert "Customer code C-0001234" in english
    assert "14 March 2026" in english
    assert "Partita IVA" not in english
    assert "Codice cliente" not in english


def test_default_language_is_italian_whatever_is_active():
    from django.utils import translation

    with translation.override("en"):
        text = pdf_text(pdf.render_pdf("pdf/letter.html", letter_context()))

    assert "Codice cliente" in text


# --- no network, ever ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "file:///etc/passwd",
        f"file://{settings.BASE_DIR}/portal/settings.py",
        f"file://{settings.BASE_DIR}/static/../portal/settings.py",
        "file:///static/../portal/settings.py",
        f"file://example.com{settings.BASE_DIR}/static/pdf/base.css",
    ],
)
def test_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(pdf.FetchRefused):
        pdf.url_fetcher(url)


@pytest.mark.parametrize(
    "url",
    [
        f"file://{settings.BASE_DIR}/static/pdf/base.css",
        "file:///static/pdf/base.css",  # "/static/pdf/base.css" resolved against the base URL
        pdf.base_url() + "pdf/base.css",
    ],
)
def test_fetcher_serves_static_files(url):
    response = pdf.url_fetcher(url)

    assert response.read() == (settings.BASE_DIR / "static/pdf/base.css").read_bytes()
    assert response.content_type == "text/css"


def test_fetcher_decodes_data_uris_in_memory():
    response = pdf.url_fetcher("data:text/plain;base64,T3B0aW1h")

    assert response.read() == b"Optima"


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly if anything opens a socket (WeasyPrint would otherwise swallow the error)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during a PDF render")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the PDF fetcher is asked for, with what it answered."""
    calls = []
    fetch = pdf.StaticFilesFetcher.fetch

    def spy(self, url, headers=None):
        try:
            response = fetch(self, url, headers)
        except Exception as exc:
            calls.append((url, type(exc)))
            raise
        calls.append((url, "served"))
        return response

    monkeypatch.setattr(pdf.StaticFilesFetcher, "fetch", spy)
    return calls


@pytest.fixture
def remote_resources_template(settings):
    """A document extending pdf/base.html that asks for remote images and a remote stylesheet."""
    source = """{% extends "pdf/base.html" %}
{% block head %}<link rel="stylesheet" href="https://example.com/evil.css">{% endblock %}
{% block body %}
<p>Prima dell'immagine.</p>
<img src="http://example.com/x.png" alt="">
<img src="https://example.com/y.png" alt="">
<div style="background-image: url(https://example.com/bg.png); height: 5mm"></div>
<p>Dopo l'immagine.</p>
{% endblock %}"""
    engine = {**settings.TEMPLATES[0], "APP_DIRS": False}
    engine["OPTIONS"] = {
        **engine["OPTIONS"],
        "loaders": [
            ("django.template.loaders.locmem.Loader", {"pdf/remote.html": source}),
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    }
    settings.TEMPLATES = [engine]
    return "pdf/remote.html"


def test_remote_resources_are_refused_and_the_document_still_renders(
    remote_resources_template, fetched, no_network
):
    data = pdf.render_pdf(remote_resources_template, {"recipient_name": "Mario Rossi"})

    assert "Prima dell'immagine. Dopo l'immagine." in pdf_text(data)
    refused = {url for url, outcome in fetched if outcome is pdf.FetchRefused}
    assert refused == {
        "https://example.com/evil.css",
        "http://example.com/x.png",
        "https://example.com/y.png",
        "https://example.com/bg.png",
    }
    assert no_network == []


def test_html_with_a_remote_image_goes_through_the_same_fetcher(fetched, no_network):
    data = pdf.html_to_pdf('<p>Testo</p><img src="https://example.com/x.png">')

    assert "Testo" in pdf_text(data)
    assert fetched == [("https://example.com/x.png", pdf.FetchRefused)]
    assert no_network == []


# --- one font configuration, one parsed stylesheet per process ------------------------------------------


def test_renders_reuse_one_font_configuration_and_stylesheet(monkeypatch):
    pdf.warm_up()
    created = []
    monkeypatch.setattr(pdf, "FontConfiguration", lambda: created.append(1))
    seen = []
    write_pdf = pdf.HTML.write_pdf

    def spy(self, *args, **kwargs):
        seen.append((kwargs["font_config"], kwargs["stylesheets"]))
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(pdf.HTML, "write_pdf", spy)

    pdf.render_pdf("pdf/letter.html", letter_context())
    pdf.render_pdf("pdf/letter.html", letter_context(), language="en")

    (first_fonts, first_css), (second_fonts, second_css) = seen
    assert first_fonts is second_fonts is pdf.font_config()
    assert first_css[0] is second_css[0] is pdf.stylesheet(pdf.BASE_STYLESHEET)
    assert created == []


def test_every_letter_is_tagged_in_the_language_it_is_written_in():
    for language in ("it", "en"):
        document = pdf.render_pdf("pdf/letter.html", letter_context(), language=language)
        assert pdf_language(document) == language
        tags = pdf_structure(document)
        assert "P" in tags and any(tag.startswith("H") for tag in tags), tags
        assert pdf_conformance(document) is None  # a letter is tagged, not archival: only invoices and forms
