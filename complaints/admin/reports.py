"""The register of complaints (CSV, for the annual report to ARERA) and the quality indicators."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from complaints import reporting
from complaints.admin.common import route
from complaints.admin.forms import RegisterExportForm
from complaints.reporting_views import parse_year
from portal.lib import dates


class Reports:
    """Mixed into ComplaintAdmin: the two report pages of the list, and the list's CSV export."""

    def get_urls(self):
        return [
            route(self, self.quality_view, "quality", "indicatori/"),
            route(self, self.register_view, "register", "registro/"),
            *super().get_urls(),
        ]

    def quality_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = dates.today()
        years = reporting.available_years(today=today)
        year = parse_year(request.GET.get("anno"), years, default=today.year)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Indicatori di qualità dei reclami e delle richieste"),
            "indicators": reporting.quality_indicators(year),
            "years": years,
            "year": year,
            "public_url": reverse("complaints_quality:public"),
        }
        return TemplateResponse(request, "admin/complaints/complaint/quality.html", context)

    def register_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        date_from, date_to = reporting.default_register_period(today=dates.today())
        form = RegisterExportForm(
            request.GET if "date_from" in request.GET else None,
            initial={"date_from": date_from, "date_to": date_to},
        )
        if form.is_valid():
            date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
            return _register_response(
                reporting.register_queryset(date_from=date_from, date_to=date_to),
                filename=f"registro-reclami-{date_from:%Y%m%d}-{date_to:%Y%m%d}.csv",
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Registro dei reclami: esporta in CSV"),
            "form": form,
            "columns": reporting.REGISTER_COLUMNS,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/complaints/complaint/register.html", context)

    @admin.action(description=_("Esporta nel registro (CSV)"), permissions=["view"])
    def export_register(self, request, queryset):
        complaints = queryset.select_related("customer", "service").order_by("received_on", "code")
        return _register_response(complaints, filename=f"registro-reclami-{dates.today():%Y%m%d}.csv")


def _register_response(complaints, *, filename: str) -> StreamingHttpResponse:
    lines = reporting.register_csv_lines(complaints.iterator(chunk_size=2000), today=dates.today())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
