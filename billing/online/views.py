"""The provider's side of a card payment: the URL its signed notifications reach, and the hosted page of the
portal's test gateway. The customer's side (start, outcome) is in billing/views.py."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from payments.core import provider_factory

from billing import selectors
from billing.online import services, signatures
from billing.online.providers import SignedDummyProvider
from contracts.selectors import customer_of

logger = logging.getLogger(__name__)


@csrf_exempt  # the provider calls it: it proves itself with the signature, not with a cookie
@require_POST
def webhook(request, variant):
    try:
        online = services.receive_notification(
            variant=variant,
            body=request.body,
            # Stripe names its header after itself; the scheme is the same.
            signature=request.headers.get(signatures.HEADER) or request.headers.get("Stripe-Signature", ""),
        )
    except services.InvalidNotification as error:
        logger.warning("payment notification refused (variant %s): %s", variant, error)
        return HttpResponseBadRequest("invalid notification")
    return JsonResponse({"received": True, "status": online.status if online else "ignored"})


@login_required
@require_http_methods(["GET", "POST"])
def test_gateway(request, token):
    """The test gateway's hosted page: a real provider's is on its own site."""
    online = get_object_or_404(selectors.online_payments_of(customer_of(request.user)), token=str(token))
    provider = provider_factory(online.variant)
    if not isinstance(provider, SignedDummyProvider):
        raise Http404("not a test gateway payment")
    if request.method == "POST" and online.status in services.OPEN_STATUSES:
        provider.charge(online, approved=request.POST.get("esito") == "paga")
        return redirect("billing:online_payment_outcome", online.token)
    return render(request, "billing/online_payment_test_gateway.html", {"online_payment": online})
