"""The portal's URLs plus `/bench/bare.pdf`, the bare download the HTTP half of invoice_download.py compares
the portal's against: the same stored file returned with FileResponse, and nothing else (no login, no query).
"""

from django.conf import settings
from django.http import FileResponse
from django.urls import include, path


def bare_view(request):
    return FileResponse(
        open(settings.BENCH_BARE_FILE, "rb"),  # FileResponse closes it
        as_attachment=True,
        filename="bolletta.pdf",
        content_type="application/pdf",
    )


urlpatterns = [path("bench/bare.pdf", bare_view, name="bench_bare"), path("", include("portal.urls"))]
