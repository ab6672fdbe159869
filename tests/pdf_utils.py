"""Read generated PDFs the way a customer does: the text on each page (tests only, uses pypdf)."""

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
