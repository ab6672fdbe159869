"""How money and days are written for people — pages, PDFs, e-mails, admin screens, rule texts — in one place.

A day is always dd/mm/yyyy (the regulation's and the customers' way, in either language). An amount follows
the active language ("1.234,50 €" in Italian, "1,234.50 €" in English) unless the text around it is Italian
whatever the reader's language (bill lines, staff screens), which pass `italian=True`.
"""

from datetime import date
from decimal import Decimal

from django.utils import formats, timezone, translation

from portal.lib.money import round_money


def day(value: date | None, *, blank: str = "—") -> str:
    """31/01/2027; `blank` when there is no day."""
    return value.strftime("%d/%m/%Y") if value else blank


def moment(value, *, blank: str = "—") -> str:
    """31/01/2027 09:30, Rome time."""
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else blank


def machine_moment(value) -> str:
    """ISO 8601 to the second with the UTC offset, e.g. 2026-12-02T10:00:00+01:00 ("" for None)."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def euro(value, *, blank: str = "—", italian: bool = False) -> str:
    """1234.5 → "1.234,50 €" (a no-break space before the sign); `blank` when there is no amount."""
    if value in (None, ""):
        return blank
    amount = round_money(Decimal(value))
    if italian:
        with translation.override("it"):
            text = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    else:
        text = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    return f"{text}\N{NO-BREAK SPACE}€"
