"""Read generated PDFs the way a customer does: the text on each page (tests only, uses pypdf)."""

import re
from io import BytesIO

from pypdf import PdfReader


def _squash(text: str) -> str:
    # Layout decides where lines break; tests compare words, not line breaks.
    return " ".join(text.split())


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, whitespace collapsed to single spaces."""
    return [_squash(page.extract_text()) for page in PdfReader(BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    """The text of the whole document, whitespace collapsed to single spaces."""
    return " ".join(pdf_pages(data))


def pdf_fonts(data: bytes) -> set[str]:
    """The names of the fonts embedded in the document, without the subset prefix ("ABCDEF+")."""
    names = set()
    for page in PdfReader(BytesIO(data)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1])
    return names


def pdf_metadata(data: bytes) -> dict[str, str]:
    return {key.lstrip("/"): str(value) for key, value in (PdfReader(BytesIO(data)).metadata or {}).items()}


def pdf_structure(data: bytes) -> list[str]:
    """The structure types of a tagged PDF's structure tree (H1, P, Table, TH…), depth first; [] if untagged."""
    root = PdfReader(BytesIO(data)).trailer["/Root"]
    if "/StructTreeRoot" not in root:
        return []
    tags = []

    def walk(node):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif hasattr(node, "get"):
            if "/S" in node:
                tags.append(str(node["/S"]).lstrip("/"))
            if "/K" in node:
                walk(node["/K"])

    walk(root["/StructTreeRoot"])
    return tags


def pdf_language(data: bytes) -> str:
    return str(PdfReader(BytesIO(data)).trailer["/Root"].get("/Lang", ""))


def pdf_conformance(data: bytes) -> tuple[str, str] | None:
    """PDF/A part and conformance level declared in the XMP metadata, e.g. ("3", "A")."""
    xmp = PdfReader(BytesIO(data)).xmp_metadata
    if xmp is None:
        return None
    xml = xmp.rdf_root.toxml()
    part = re.search(r"pdfaid:part(?:>|=\")(\d)", xml)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")([ABU])", xml)
    return (part[1], conformance[1]) if part and conformance else None


def pdf_form_fields(data: bytes) -> dict[str, tuple[str, str]]:
    """The fillable fields: name → (field type /Tx or /Btn, the label a screen reader says, /TU)."""
    fields = PdfReader(BytesIO(data)).get_fields() or {}
    return {name: (str(field.get("/FT")), str(field.get("/TU", ""))) for name, field in fields.items()}
