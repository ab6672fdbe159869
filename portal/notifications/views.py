"""The customer's "Comunicazioni": every communication we sent, with its document. Own rows only."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import mark_safe

from portal.notifications import services
from portal.notifications.models import Communication

PAGE_SIZE = 20


def _own_communications(request):
    # Staff without a customer record see an empty inbox; another customer's id is a 404, never a 403.
    customer = getattr(request.user, "customer", None)
    if customer is None:
        return Communication.objects.none()
    return Communication.objects.for_customer(customer)


@login_required
def inbox(request):
    communications = _own_communications(request).only(
        "pk", "subject", "created_at", "read_at", "document", "document_name"
    )
    page = Paginator(communications, PAGE_SIZE).get_page(request.GET.get("pagina"))
    return render(request, "notifications/inbox.html", {"page": page, "communications": page.object_list})


@login_required
def detail(request, pk):
    communication = get_object_or_404(_own_communications(request), pk=pk)
    services.mark_communication_read(communication=communication, now=timezone.now())
    # Safe because it was rendered by our own templates, with autoescape on, when it was created.
    body_html = mark_safe(communication.body_html)
    return render(
        request, "notifications/detail.html", {"communication": communication, "body_html": body_html}
    )


@login_required
def document(request, pk):
    communication = get_object_or_404(_own_communications(request).exclude(document=""), pk=pk)
    try:
        handle = communication.document.open("rb")
    except FileNotFoundError:
        raise Http404("document missing from storage") from None
    return FileResponse(handle, as_attachment=True, filename=communication.document_name or None)
