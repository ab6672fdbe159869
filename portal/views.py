from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static

from billing.selectors import balance_of
from portal import forms
from portal.lib import dates
from portal.notifications.selectors import unread_communications_count
from portal.sections import SECTIONS


def root(request):
    """`/` is the login page for visitors and the Area Clienti home for customers."""
    if not request.user.is_authenticated:
        return auth_views.LoginView.as_view(authentication_form=forms.LoginForm)(request)
    customer = getattr(request.user, "customer", None)
    context = {
        "customer": customer,
        "sections": SECTIONS,
        "unread_communications": unread_communications_count(customer),
        "balance": balance_of(customer, today=dates.today()),
    }
    return render(request, "portal/home.html", context)


@login_required
def profile(request):
    return render(request, "portal/profile.html", {"customer": getattr(request.user, "customer", None)})


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links to. Resolved per request: with the manifest
    storage of production, the hashed name exists only once collectstatic has run."""
    return HttpResponsePermanentRedirect(static("img/favicon.ico"))
