"""The public page of the complaint quality indicators ("Indicatori di qualità dei servizi di assistenza
clienti", published by the supplier): no login, one year at a time."""

from django.shortcuts import render

from complaints import reporting
from portal.lib import dates


def parse_year(value, years: list[int], *, default: int) -> int:
    """The year asked for when it is one of `years`; otherwise the default (a bad value is no error)."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if year in years else default


def public(request):
    today = dates.today()
    years = reporting.available_years(today=today)
    year = parse_year(request.GET.get("anno"), years, default=today.year)
    return render(
        request,
        "complaints_quality/public.html",
        {
            "indicators": reporting.quality_indicators(year),
            "years": years,
            "year": year,
            "partial_year": year == today.year,
            "today": today,
        },
    )
