"""The customer's "Bollette": the list by year, one bill, its PDF and its electronic invoice (XML), a ZIP of
several PDFs, the payments.

Thin views over billing/selectors.py. Every lookup starts from the customer of the logged-in user, so another
customer's id answers 404, for the PDF and inside a ZIP selection too. PDFs are rendered by a Celery worker
when the bill is issued; these views only ever serve the stored file (DESIGN.md §4).
"""

from __future__ import annotations

import shutil
import zipfile
from tempfile import SpooledTemporaryFile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from payments import RedirectNeeded

from billing import instalments, selectors
from billing.einvoice import EInvoiceError
from billing.forms import InstalmentRequestForm, PayOnlineForm, YearFilterForm, ZipSelectionForm
from billing.online import services as online_services
from contracts.selectors import customer_of
from portal.lib import dates

PAYMENTS_PAGE_SIZE = 25
# A ZIP up to this size stays in memory; a larger one spills to a temporary file.
ZIP_IN_MEMORY_BYTES = 8 * 1024 * 1024


def _customer(request):
    return customer_of(request.user)


@login_required
@require_safe
def invoice_list(request):
    customer = _customer(request)
    day = dates.today()
    years = selectors.invoice_years(customer)
    asked = YearFilterForm(request.GET, years=years).year()  # an unknown year falls back to the default
    year = selectors.shown_year(years, asked, today=day)
    form = YearFilterForm(initial={"anno": year}, years=years)
    invoices = selectors.with_badges(selectors.invoices_in_year(customer, year), today=day)
    context = {
        "customer": customer,
        "form": form,
        "year": year,
        "years": years,
        "invoices": invoices,
        "balance": selectors.balance_of(customer, today=day),
        # The bills a card payment may take: ticked in the list, they are paid together.
        "payable_ids": {invoice.pk for invoice in selectors.payable_online(customer, today=day)},
        "zip_max": selectors.ZIP_MAX_INVOICES,
        "any_pdf": any(invoice.pdf for invoice in invoices),
    }
    return render(request, "billing/invoice_list.html", context)


@login_required
@require_safe
def invoice_detail(request, pk):
    invoice = get_object_or_404(
        selectors.invoices_of(_customer(request)).select_related("corrects", "contract", "einvoice"), pk=pk
    )
    day = dates.today()
    context = {
        "invoice": invoice,
        "today": day,
        **selectors.invoice_page_data(invoice, today=day),
        "instalment_plan": instalments.bill_page_data(invoice, today=day),
    }
    if context["instalment_plan"].suspends_dunning:
        context["next_steps"] = None  # no notice or suspension while the plan runs: the plan says what is due
    return render(request, "billing/invoice_detail.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def instalment_request(request, pk):
    """"Richiedi rateizzazione" from an overdue bill: choose the number of instalments, see the schedule
    ("Vedi le rate"), then confirm. A bill a plan cannot cover now gets the reason, and no form."""
    customer = _customer(request)
    invoice = get_object_or_404(selectors.invoices_of(customer), pk=pk)
    day = dates.today()
    offer = instalments.offer(customer, today=day)
    unavailable = offer.unavailable or (
        "" if invoice in offer.invoices else _("Questa bolletta non è scaduta: non si può rateizzare.")
    )
    form = InstalmentRequestForm(request.POST or None, counts=offer.counts)
    rows = None
    if request.method == "POST" and not unavailable and form.is_valid():
        count = form.cleaned_data["instalment_count"]
        if "conferma" not in request.POST:
            rows = offer.schedule(count)
        else:
            try:
                instalments.request_plan(customer=customer, instalment_count=count, today=day)
            except ValidationError as error:
                form.add_error(None, error)  # on the count when the service names it, else on top
            else:
                messages.success(
                    request,
                    _("Richiesta di rateizzazione inviata: ti scriviamo appena l'abbiamo valutata."),
                )
                return redirect("billing:invoice", invoice.pk)
    context = {"invoice": invoice, "offer": offer, "unavailable": unavailable, "form": form, "rows": rows}
    return render(request, "billing/instalment_request.html", context)


@login_required
@require_safe
def invoice_pdf(request, pk):
    invoice = get_object_or_404(selectors.downloadable_of_user(request.user), pk=pk)
    try:
        handle = invoice.pdf.open("rb")
    except FileNotFoundError:
        raise Http404("invoice PDF missing from storage") from None
    return FileResponse(
        handle, as_attachment=True, filename=selectors.pdf_filename(invoice), content_type="application/pdf"
    )


@login_required
@require_safe
def invoice_xml(request, pk):
    """The electronic invoice (FatturaPA XML), the original the PDF is a copy of: the file sent to the SdI,
    or the document as it will be sent. One that cannot be built is not there for the customer (404): the
    error is the staff's to fix (billing/einvoice/transmission.py alerts them)."""
    invoice = get_object_or_404(selectors.invoices_of(_customer(request)).select_related("einvoice"), pk=pk)
    try:
        name, content = selectors.einvoice_file(invoice)
    except EInvoiceError:
        raise Http404("no electronic invoice for this invoice") from None
    response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def invoices_zip(request):
    """Several of the customer's PDFs in one ZIP. An id that is not one of the customer's bills answers 404,
    like the single download: a selection is never silently trimmed. The list posts its selection (the same
    form also pays the selected bills online, which needs the CSRF token); a plain link may still GET it."""
    form = ZipSelectionForm(request.POST if request.method == "POST" else request.GET)
    form.is_valid()  # only the selection matters; a malformed year just loses the way back to that year
    if form.has_error("bolletta", "invalid"):
        raise Http404("not an invoice id")
    if form.has_error("bolletta"):
        for error in form.errors["bolletta"]:
            messages.error(request, error)
        return _back_to_list(form)
    ids = form.cleaned_data["bolletta"]
    invoices = list(selectors.invoices_of(_customer(request)).filter(pk__in=ids))
    if len(invoices) != len(ids):
        raise Http404("not one of the customer's invoices")
    waiting = [invoice.number for invoice in invoices if not invoice.pdf]
    if waiting:
        messages.warning(
            request,
            _("Il PDF di queste bollette è ancora in preparazione: %(numbers)s. Riprova tra qualche minuto.")
            % {"numbers": ", ".join(waiting)},
        )
        return _back_to_list(form)
    archive = SpooledTemporaryFile(max_size=ZIP_IN_MEMORY_BYTES)
    try:
        # PDFs are compressed already: storing them is as small as deflating them, and faster.
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zip_file:
            for invoice in invoices:
                with (
                    invoice.pdf.open("rb") as source,
                    zip_file.open(selectors.pdf_filename(invoice), "w") as target,
                ):
                    shutil.copyfileobj(source, target)
    except FileNotFoundError:
        archive.close()
        raise Http404("invoice PDF missing from storage") from None
    archive.seek(0)
    return FileResponse(
        archive, as_attachment=True, filename=_zip_filename(invoices), content_type="application/zip"
    )


def _zip_filename(invoices) -> str:
    years = sorted({invoice.year for invoice in invoices})
    span = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    return f"bollette-{span}.zip"


def _back_to_list(form):
    url = reverse("billing:invoices")
    year = form.cleaned_data.get("anno")
    return redirect(f"{url}?anno={year}" if year else url)


@login_required
@require_safe
def payment_list(request):
    customer = _customer(request)
    page = Paginator(selectors.payments_of(customer), PAYMENTS_PAGE_SIZE).get_page(request.GET.get("pagina"))
    credits = selectors.available_credits(customer)
    context = {
        "customer": customer,
        "page": page,
        "payments": selectors.with_unallocated(page.object_list),
        "credits": credits,
        "credits_total": selectors.credits_total(credits),
        "balance": selectors.balance_of(customer, today=dates.today()),
    }
    return render(request, "billing/payment_list.html", context)


@login_required
@require_POST
def pay_online(request):
    """Start a card payment and send the customer to the provider's page. Another customer's invoice is not
    found (404); one with nothing left to pay online is refused here, before any charge."""
    customer = _customer(request)
    form = PayOnlineForm(request.POST)
    if not form.is_valid():
        raise Http404("not an invoice id")
    ids = form.cleaned_data["bolletta"]
    day = dates.today()
    if ids:
        invoices = list(selectors.invoices_of(customer).select_related("contract").filter(pk__in=ids))
        if len(invoices) != len(ids):
            raise Http404("not one of the customer's invoices")
    elif form.cleaned_data["tutto"]:
        invoices = selectors.payable_online(customer, today=day)
    else:  # "pay the selected" with nothing selected: never the whole balance by surprise
        messages.error(request, _("Seleziona le bollette da pagare."))
        return redirect("billing:invoices")
    try:
        online = online_services.start_online_payment(customer=customer, invoices=invoices, today=day)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return (
            redirect("billing:invoice", invoices[0].pk)
            if len(invoices) == 1
            else redirect("billing:invoices")
        )
    try:
        online.get_form()
    except RedirectNeeded as to_provider:
        return redirect(str(to_provider))
    raise ImproperlyConfigured("PAYMENT_VARIANTS: the portal supports providers with a hosted payment page")


@login_required
@require_safe
def online_payment_outcome(request, token):
    """Where the provider sends the customer back. It only reads: the payment is recorded by the provider's
    signed notification, which may arrive a moment later (the page says so)."""
    online = get_object_or_404(selectors.online_payments_of(_customer(request)), token=str(token))
    items = list(online.items.select_related("invoice", "payment").order_by("id"))
    return render(request, "billing/online_payment_outcome.html", {"online_payment": online, "items": items})
