from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _


def supplier(request):
    return {"supplier": settings.SUPPLIER}


# The customer's main menu: label, URL name, and the app whose pages count as "inside" that item.
NAVIGATION = [
    (_("Home"), "home", None),
    (_("Contratti"), "contracts:list", "contracts"),
    (_("Bollette"), "billing:invoices", "billing"),
    (_("Reclami"), "complaints:list", "complaints"),
    (_("Comunicazioni"), "notifications:inbox", "notifications"),
    (_("Profilo"), "profile", None),
]


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    match = request.resolver_match
    items = []
    for label, url_name, app_name in NAVIGATION:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        current = match is not None and (
            (app_name and match.app_name == app_name) or (not app_name and match.view_name == url_name)
        )
        # aria-current="page" on the item's own page, "true" on the pages inside it.
        aria = ("page" if match.view_name == url_name else "true") if current else ""
        items.append({"label": label, "url": url, "current": current, "aria": aria})
    return {"navigation": items}
