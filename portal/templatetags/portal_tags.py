"""Template filters shared by every app's pages."""

from django import template

from portal.lib import formatting

register = template.Library()


@register.filter
def machine_time(value) -> str:
    """For `<time datetime="…">`: the moment in Rome time, to the second (HTML wants no microseconds)."""
    return formatting.machine_moment(value)
