from django.conf import settings
from django.shortcuts import render
from django.utils import translation


class PortalLanguageMiddleware:
    """Italian unless the customer chose otherwise: the language switch (cookie), then the account's
    preferred language. The browser's Accept-Language is deliberately ignored: the portal is Italian
    first, and English is an explicit choice."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            user = getattr(request, "user", None)
            language = getattr(user, "language", None) if user and user.is_authenticated else None
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # override, not activate: the language must not outlive the request in a reused thread.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class ProxyClientAddressMiddleware:
    """Behind the proxy every request comes from nginx: without this, the per-address rate limits (public
    complaint form, registration) would count every client in one bucket. nginx appends the address it
    was reached from to X-Forwarded-For, so its last entry is the one a client cannot forge. Trusted only
    where the proxy's X-Forwarded-Proto is trusted (SECURE_PROXY_SSL_HEADER, production): without the
    proxy in front, the header is the client's own word."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if settings.SECURE_PROXY_SSL_HEADER and forwarded:
            address = forwarded.rsplit(",", 1)[-1].strip()
            if address:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """413 for a request whose declared Content-Length exceeds MAX_REQUEST_BYTES, before anything reads
    its body. Django would otherwise stream a multipart upload to temporary files in full (holding a sync
    worker for as long as the client takes) before the form refuses it. nginx refuses such bodies first
    (the same cap in deploy/nginx/portal.conf); this guards gunicorn when it is reached directly.

    Only the declared length is checked: a body without one (chunked) is never read by Django at all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body with an invalid length either
        if length > settings.MAX_REQUEST_BYTES:
            context = {"max_megabytes": settings.MAX_REQUEST_BYTES // (1024 * 1024)}
            return render(request, "413.html", context, status=413)
        return self.get_response(request)
