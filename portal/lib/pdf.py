"""The one PDF renderer: a Django template under ``templates/pdf/`` in, PDF bytes out.

Every printable document (invoice, complaint form, reply letter, default notice, renewal notice) is a
template extending ``pdf/base.html`` and goes through :func:`render_pdf`. The renderer knows nothing
about models: each app's ``pdf.py`` builds the context, a task renders it in the customer's language
and stores the bytes.

Per-process state, on purpose:

- ONE ``FontConfiguration`` for the life of the process. WeasyPrint's default is a new one per document,
  which leaks ~0.3 MB each (Fontconfig/Pango objects and a temporary folder) and reloads every font.
- The base stylesheet is parsed once, with that font configuration, so the bundled fonts are registered
  once too. Call :func:`warm_up` when a worker process starts so the first document does not pay for it.
- Pango and Fontconfig objects are not thread-safe and are now shared, so renders are serialised by a
  lock. Workers are processes (Celery prefork): the lock is only ever contended in threaded servers.

Templates can never make the worker fetch from the network: every URL in a template or stylesheet goes
through :class:`StaticFilesFetcher`, which serves the project's static files and ``data:`` URIs (decoded
in memory, e.g. a payment QR code) and refuses anything else. A refused image or stylesheet is left
out of the document (WeasyPrint logs it as an error); the rendering itself succeeds.
"""

from __future__ import annotations

import mimetypes
import re
import threading
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import DataHandler, Request, url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal.lib import dates

BASE_STYLESHEET = "pdf/base.css"
# Documents kept long-term (invoices, the complaint form): PDF/A-3, level A — archival and tagged.
ARCHIVAL = "pdf/a-3a"

_render_lock = threading.Lock()


class FetchRefused(ValueError):
    """A document asked for something other than a local static file."""


def static_roots() -> list[Path]:
    """The folders a document may read files from: the static sources and the collected static files."""
    roots = []
    for entry in settings.STATICFILES_DIRS:
        # An entry is a path or a (prefix, path) pair.
        roots.append(Path(entry[1] if isinstance(entry, tuple | list) else entry).resolve())
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


class StaticFilesFetcher(URLFetcher):
    """Serve ``file:`` URLs inside the static folders and ``data:`` URIs; refuse everything else.

    Relative URLs resolve against the static folder (see :func:`base_url`), and ``/static/...`` (what
    ``{% static %}`` produces) is looked up under the static folders too.
    """

    def __init__(self) -> None:
        # fail_on_errors=False: a refused resource is skipped and logged, the document still renders.
        super().__init__(allowed_protocols=("file", "data"), fail_on_errors=False)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            # Decoded in memory by urllib; no handler that could reach the network is involved.
            response = DataHandler().data_open(Request(url))
            return URLFetcherResponse(
                url, response.read(), {"Content-Type": response.headers["Content-Type"]}
            )
        if scheme != "file":
            raise FetchRefused(f"PDF documents may only use local static files, not {url!r}")
        path = self.local_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})

    @staticmethod
    def local_path(url: str) -> Path:
        """The static file a ``file:`` URL names, or :class:`FetchRefused`."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"Not a local file: {url!r}")
        path = url2pathname(parts.path)
        candidates = [Path(path)]
        static_prefix = urlsplit(settings.STATIC_URL).path
        if path.startswith(static_prefix):
            # "/static/img/x.png" resolved against the file: base URL.
            candidates += [root / path.removeprefix(static_prefix) for root in static_roots()]
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved.is_file() and any(resolved.is_relative_to(root) for root in static_roots()):
                return resolved
        raise FetchRefused(f"No such file in the static folders: {url!r}")


url_fetcher = StaticFilesFetcher()


def base_url() -> str:
    """Relative URLs in a template (``img/logo.png``) resolve inside the static folder."""
    return static_roots()[0].as_uri() + "/"


@cache
def font_config() -> FontConfiguration:
    """The process's only ``FontConfiguration``, shared by every stylesheet and every document."""
    return FontConfiguration()


@cache
def stylesheet(name: str) -> CSS:
    """A stylesheet under ``static/``, parsed once per process; its @font-face fonts are loaded then."""
    for root in static_roots():
        path = root / name
        if path.is_file():
            return CSS(filename=path, url_fetcher=url_fetcher, font_config=font_config())
    raise FileNotFoundError(f"No stylesheet {name!r} in the static folders")


def warm_up() -> None:
    """Load the fonts and the stylesheet and lay out a first page: call once when a worker starts."""
    html_to_pdf(
        f'<p lang="{settings.LANGUAGE_CODE}">Optima <b>Optima</b> <i>Optima</i> <b><i>Optima</i></b></p>'
    )


def supplier_context() -> dict[str, Any]:
    """``settings.SUPPLIER`` plus ``city``, the place printed next to a document's date."""
    supplier = dict(settings.SUPPLIER)
    if "city" not in supplier:
        # "Corso Umberto I, 174, 80138 Napoli" -> "Napoli": the words after the postcode.
        match = re.search(r"\b\d{5}\s+(.+?)\s*$", supplier["address"])
        supplier["city"] = match[1] if match else ""
    return supplier


def complaint_channels(supplier: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ways to file a written complaint, as printed on every document (label and value)."""
    return [
        {
            "kind": "post",
            "label": _("Raccomandata a.r."),
            "value": f"{supplier['name']}, {supplier['address']}",
        },
        {"kind": "email", "label": _("E-mail"), "value": supplier["email"]},
        {"kind": "pec", "label": _("PEC"), "value": supplier["pec"]},
        {"kind": "online", "label": _("Area Clienti"), "value": _("sezione “Reclami e richieste”")},
    ]


def document_context() -> dict[str, Any]:
    """What every document template can use; the caller's context takes precedence."""
    supplier = supplier_context()
    return {
        "supplier": supplier,
        "complaint_channels": complaint_channels(supplier),
        "document_date": dates.today(),
        "place": supplier["city"],
    }


def render_pdf(
    template_name: str,
    context: Mapping[str, Any] | None = None,
    *,
    language: str | None = None,
    pdf_variant: str | None = None,
    forms: bool = False,
) -> bytes:
    """Render ``template_name`` (e.g. ``"pdf/letter.html"``) with ``context`` to PDF bytes.

    ``language`` is the customer's language; ``None`` means the portal's default (Italian). The
    template sees the supplier, the complaint channels, today's date and ``LANGUAGE_CODE`` too.
    ``pdf_variant`` e.g. :data:`ARCHIVAL` for documents kept long-term; ``forms`` turns the template's
    ``<input>`` and ``<textarea>`` elements into fillable PDF form fields.
    """
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        html = render_to_string(
            template_name, {**document_context(), **(context or {}), "LANGUAGE_CODE": language}
        )
    return html_to_pdf(html, pdf_variant=pdf_variant, forms=forms)


def html_to_pdf(html: str, *, pdf_variant: str | None = None, forms: bool = False) -> bytes:
    """Lay out an HTML string with the shared fonts, stylesheet and fetcher. Prefer :func:`render_pdf`.

    Every document is tagged (its headings, paragraphs, lists and tables in the PDF structure tree, in the
    document's language), so that a screen reader reads it as the HTML it came from."""
    with _render_lock:
        document = HTML(string=html, base_url=base_url(), url_fetcher=url_fetcher)
        return document.write_pdf(
            stylesheets=[stylesheet(BASE_STYLESHEET)],
            font_config=font_config(),
            pdf_variant=pdf_variant,
            pdf_tags=True,
            pdf_forms=forms or None,
        )
