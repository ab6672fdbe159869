"""Registration of an existing customer: tax id + customer code + e-mail, confirmed by an activation link.

Nothing here tells a visitor whether a customer exists: the page after the form is the same whatever the
outcome, and only the mailbox owner learns what happened (an activation link, or "you already have an
account"). The activation link is a signed, timestamped token: it carries the customer and the e-mail, and
the customer's state when it was issued (no account yet), so it works once and for 3 days.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from accounts.validators import compact_codice_fiscale
from contracts.models import Contract
from portal.lib import emails
from portal.notifications.rendering import supported_language

logger = logging.getLogger(__name__)

ACTIVATION_MAX_AGE = timedelta(days=3)
_TOKEN_SALT = "portal.registration.activation"

# At most this many registration attempts per window, per client address and per tax id.
MAX_ATTEMPTS = 5
ATTEMPT_WINDOW = timedelta(minutes=15)


class InvalidActivationLink(Exception):
    """The link is forged, expired, or already used."""


# ---------------------------------------------------------------------------------------------------------
# Matching the customer
# ---------------------------------------------------------------------------------------------------------


def normalise_customer_code(value: str) -> str:
    return "".join(value.split()).upper()


def find_customer_for_registration(*, tax_id: str, customer_code: str) -> Customer | None:
    """The customer with this codice fiscale or partita IVA *and* this customer code, holding a contract."""
    # A partita IVA compacts to its 11 digits, a codice fiscale to its 16 characters: either column matches.
    tax_id = compact_codice_fiscale(tax_id)
    customer_code = normalise_customer_code(customer_code)
    if not tax_id or not customer_code:
        return None
    return (
        Customer.objects.filter(Q(codice_fiscale=tax_id) | Q(partita_iva=tax_id), code__iexact=customer_code)
        .filter(Exists(Contract.objects.filter(customer=OuterRef("pk"))))
        .select_related("user")
        .first()
    )


# ---------------------------------------------------------------------------------------------------------
# Rate limit
# ---------------------------------------------------------------------------------------------------------


def register_attempt(*, client_address: str, tax_id: str) -> bool:
    """Count one attempt against the client's address and the tax id; False once either is over the limit.

    A fixed window in Django's cache: the first attempt opens it, later ones only count. Every attempt counts,
    successful or not, so the limit itself never tells a right combination from a wrong one.
    """
    allowed = True
    for key in (_attempt_key("ip", client_address), _attempt_key("tax", compact_codice_fiscale(tax_id))):
        cache.add(key, 0, timeout=int(ATTEMPT_WINDOW.total_seconds()))
        try:
            attempts = cache.incr(key)
        except ValueError:  # expired between add and incr: this attempt opens a new window
            cache.set(key, 1, timeout=int(ATTEMPT_WINDOW.total_seconds()))
            attempts = 1
        if attempts > MAX_ATTEMPTS:
            allowed = False
    return allowed


def _attempt_key(kind: str, value: str) -> str:
    # Hashed: tax ids are personal data and have no business in a cache's key space in clear.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()[:32]
    return f"registration:{kind}:{digest}"


# ---------------------------------------------------------------------------------------------------------
# The e-mail
# ---------------------------------------------------------------------------------------------------------


def start_registration(*, customer: Customer, email: str, request_site_domain: str, use_https: bool) -> None:
    """Send `email` the activation link, or, when the customer already has an account, a reminder to log in.

    The e-mail goes to the address typed in the form: following the link proves the customer reads it.
    """
    email = User.objects.normalize_email(email).strip().lower()
    base_url = f"{'https' if use_https else 'http'}://{request_site_domain}"
    context = {"customer": customer, "supplier": settings.SUPPLIER, "base_url": base_url}
    if customer.user_id is not None:
        context["login_url"] = base_url + reverse("login")
        context["password_reset_url"] = base_url + reverse("password_reset")
        template = "registration/already_registered_email"
    else:
        token = make_activation_token(customer=customer, email=email)
        context["activation_url"] = base_url + reverse("register_activate", args=[token])
        context["valid_days"] = ACTIVATION_MAX_AGE.days
        template = "registration/activation_email"
    # In the customer's language, whatever the page's: like every other e-mail we send them.
    emails.templated_customer_email(
        subject_template=f"{template}_subject.txt",
        text_template=f"{template}.txt",
        html_template=f"{template}.html",
        context=context,
        to=[email],
        language=supported_language(customer.language or get_language()),
    ).send()


def make_activation_token(*, customer: Customer, email: str) -> str:
    # "a": the account the customer had when the link was issued (none). Once an account is linked, the
    # link no longer matches: that is what makes it single-use.
    payload = {"c": customer.pk, "e": email, "a": customer.user_id}
    return signing.dumps(payload, salt=_TOKEN_SALT, compress=True)


def read_activation_token(token: str) -> tuple[Customer, str]:
    """The customer and e-mail of a valid, unused, unexpired link; InvalidActivationLink otherwise."""
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT, max_age=ACTIVATION_MAX_AGE)
        customer_id, email, account = int(payload["c"]), str(payload["e"]), payload["a"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidActivationLink from None
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or account is not None or customer.user_id is not None:
        raise InvalidActivationLink
    return customer, email


# ---------------------------------------------------------------------------------------------------------
# Activation
# ---------------------------------------------------------------------------------------------------------


def validate_activation_password(*, password: str, customer: Customer, email: str) -> None:
    """The project's password validators, against the account about to be created."""
    candidate = User(
        email=email, first_name=customer.first_name, last_name=customer.last_name or customer.company_name
    )
    password_validation.validate_password(password, candidate)


@transaction.atomic
def activate_registration(*, token: str, password: str) -> User:
    """Create (or adopt) the account for the link's e-mail, set its password and link it to the customer."""
    customer, email = read_activation_token(token)
    # Lock the customer: two clicks on the same link at once create one account.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.user_id is not None:
        raise InvalidActivationLink
    validate_activation_password(password=password, customer=customer, email=email)

    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(
            email=email,
            first_name=customer.first_name,
            last_name=customer.last_name or customer.company_name,
            language=customer.language or get_language() or "it",
        )
    elif user.is_staff or Customer.objects.filter(user=user).exists():
        raise ValidationError(
            _(
                "Questo indirizzo e-mail è già usato da un altro account dell'Area Clienti. "
                "Registrati di nuovo indicando un altro indirizzo."
            ),
            code="email_in_use",
        )
    # An existing account with no customer (e.g. unlinked by staff) is adopted: following the link proves
    # its owner reads this mailbox, exactly as a password reset would.
    user.is_active = True
    user.set_password(password)
    user.save()
    customer.user = user
    customer.save(update_fields=["user"])
    logger.info("Customer %s registered account %s", customer.code, user.pk)
    return user
