"""Registration of an existing customer: the form, the "check your e-mail" page, the activation link."""

import logging

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from portal import registration
from portal.forms import ActivationForm, RegistrationForm

logger = logging.getLogger(__name__)


@never_cache
@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not registration.register_attempt(
            client_address=request.META.get("REMOTE_ADDR", ""), tax_id=form.cleaned_data["tax_id"]
        ):
            context = {"form": form, "too_many_attempts": True}
            return render(request, "registration/register.html", context, status=429)
        if not form.is_bot:
            _start(request, form.cleaned_data)
        # The same answer whatever happened: the e-mail alone tells the mailbox owner the outcome.
        return redirect("register_sent")
    return render(request, "registration/register.html", {"form": form})


def _start(request, data):
    customer = registration.find_customer_for_registration(
        tax_id=data["tax_id"], customer_code=data["customer_code"]
    )
    if customer is None:
        return
    try:
        registration.start_registration(
            customer=customer,
            email=data["email"],
            request_site_domain=request.get_host(),
            use_https=request.is_secure(),
        )
    except Exception:
        # A mail server failure must not show on the page: that would tell a match from a mismatch.
        logger.exception("Registration e-mail for customer %s could not be sent", customer.pk)


def register_sent(request):
    return render(request, "registration/register_sent.html")


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def activate(request, token):
    # GET only shows the form: mail scanners that open links must not use them up.
    try:
        customer, email = registration.read_activation_token(token)
    except registration.InvalidActivationLink:
        return render(request, "registration/register_link_invalid.html")
    form = ActivationForm(request.POST or None, customer=customer, email=email)
    if request.method == "POST" and form.is_valid():
        try:
            user = registration.activate_registration(
                token=token, password=form.cleaned_data["new_password1"]
            )
        except registration.InvalidActivationLink:
            return render(request, "registration/register_link_invalid.html")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            login(request, user, backend="portal.auth.EmailBackend")
            messages.success(request, _("Account attivato: benvenuto nella tua Area Clienti."))
            return redirect("home")
    return render(request, "registration/register_activate.html", {"form": form, "email": email})
