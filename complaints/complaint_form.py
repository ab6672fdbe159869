"""The complaint form as a PDF (templates/pdf/complaint_form.html), in its two uses: the blank form of the
Modulistica page, fillable on screen (PDF form fields) and still printable to fill in by hand, and the
customer's filled-in copy attached to the acknowledgement. Both are PDF/A-3a, like the invoices: the copy is
the record of what the customer sent, and both are tagged for screen readers."""

from portal.lib.pdf import ARCHIVAL, render_pdf

TEMPLATE = "pdf/complaint_form.html"


def blank(*, language: str) -> bytes:
    return render_pdf(TEMPLATE, {"filled": False}, language=language, pdf_variant=ARCHIVAL, forms=True)


def filled(context: dict, *, language: str) -> bytes:
    return render_pdf(TEMPLATE, {**context, "filled": True}, language=language, pdf_variant=ARCHIVAL)
