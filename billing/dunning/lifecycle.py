"""The life of a default notice, declared once: its states, and the operations allowed from each.

- prepared: the sweep adds overdue invoices until staff send it. By PEC it is dispatched at once; as a
  raccomandata it is written first and dispatched when its posting is recorded.
- dispatched: the 40-day payment term runs; the sweep makes it suspension_allowed on the first step day (a
  receipt recorded later may move that day, and the notice, back to dispatched) — unless complaints (ARERA)
  or an approved instalment plan hold every bill still due: then it stays dispatched, off the sweep, until
  a bill is free again; holding the last free bill takes a suspension_allowed notice back to dispatched.
- dispatched, suspension_allowed → power_reduced, suspension_requested, suspended: as steps are recorded.
- power_reduced, suspension_requested, suspended → reactivated: full payment proven.
- prepared, dispatched, suspension_allowed → closed_paid (nothing left to pay) or cancelled (by staff).

Why a plain table and not a state-machine library (django-fsm-2): such a library declares each transition
on a model method, with its source states and one target, and guards the field against other writes. Here
the target is often computed (after a step, the furthest step taken on any supply:
`steps._update_status_from_steps`), the transitions lock several rows in a set order (invoices before
notices) and some are bulk or sweep updates, and most readers of the lifecycle are not transitions at all:
querysets, the partial indexes and the unique constraint in billing/models.py, the admin's buttons, the
worklist. A table of state → allowed operations is what all of them can read — `statuses(operation)`,
`condition(operation)` (a Q, also for index conditions) and `allows(notice, operation)` — and it adds no
dependency. The services still decide the target state; they ask this module whether they may start.

No database access and no model import here: billing/models.py builds the model's choices and its index
conditions from this module.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    """DefaultNotice.Status."""

    PREPARED = "prepared", _("Da inviare")
    DISPATCHED = "dispatched", _("Inviata")
    CLOSED_PAID = "closed_paid", _("Chiusa: pagata")
    SUSPENSION_ALLOWED = "suspension_allowed", _("Sospensione consentita")
    POWER_REDUCED = "power_reduced", _("Potenza ridotta al 15%")
    SUSPENSION_REQUESTED = "suspension_requested", _("Intervento richiesto al distributore")
    SUSPENDED = "suspended", _("Fornitura sospesa")
    REACTIVATED = "reactivated", _("Riattivata")
    CANCELLED = "cancelled", _("Annullata")


class Operation(models.TextChoices):
    """What may be done to a notice. Staff's operations are labelled as admin's buttons."""

    SEND = "send", _("Invia…")  # by PEC, or as a raccomandata written for printing
    RECORD_POSTING = "dispatch", _("Registra spedizione")  # the raccomandata was posted
    RECORD_RECEIPT = "receipt", _("Registra ricevuta")
    RECORD_STEP = "step", _("Registra intervento")  # power reduction, suspension; and their execution
    REACTIVATE = "reactivate", _("Riattiva")
    CANCEL = "cancel", _("Annulla")
    # Done by the system: the daily sweep, and a payment that leaves nothing due.
    ALLOW_SUSPENSION = "allow_suspension", _("Sospensione consentita dal controllo giornaliero")
    CLOSE_PAID = "close_paid", _("Chiusura per pagamento")


STAFF_OPERATIONS = (
    Operation.SEND,
    Operation.RECORD_POSTING,
    Operation.RECORD_RECEIPT,
    Operation.RECORD_STEP,
    Operation.REACTIVATE,
    Operation.CANCEL,
)

# State → the operations allowed from it, the one staff most likely want first (admin offers them in this
# order). A state with none is final.
ALLOWED: dict[Status, tuple[Operation, ...]] = {
    Status.PREPARED: (Operation.SEND, Operation.RECORD_POSTING, Operation.CANCEL, Operation.CLOSE_PAID),
    Status.DISPATCHED: (
        Operation.RECORD_RECEIPT,
        Operation.RECORD_STEP,  # allowed, but refused before its day (or forced, with the indemnity)
        Operation.CANCEL,
        Operation.ALLOW_SUSPENSION,
        Operation.CLOSE_PAID,
    ),
    Status.SUSPENSION_ALLOWED: (
        Operation.RECORD_STEP,
        Operation.RECORD_RECEIPT,
        Operation.CANCEL,
        Operation.CLOSE_PAID,
    ),
    # Once the distributor was asked to act, payment no longer closes the notice: the supply is restored.
    Status.POWER_REDUCED: (Operation.RECORD_STEP, Operation.REACTIVATE),
    Status.SUSPENSION_REQUESTED: (Operation.RECORD_STEP, Operation.REACTIVATE),
    Status.SUSPENDED: (Operation.RECORD_STEP, Operation.REACTIVATE),
    Status.CLOSED_PAID: (),
    Status.REACTIVATED: (),
    Status.CANCELLED: (),
}

# Within its states, an operation may also need something recorded, or not yet: lookups on the notice that
# querysets (`condition`) and single notices (`allows`) both read.
REQUIRES: dict[Operation, dict[str, bool]] = {
    # Nothing written yet: the notice is still "collecting" — the sweep adds newly overdue invoices to it.
    Operation.SEND: {"communication__isnull": True},
    # The raccomandata is written (a PEC is dispatched as it is written): it waits to be posted.
    Operation.RECORD_POSTING: {"communication__isnull": False},
    Operation.RECORD_RECEIPT: {"received_on__isnull": True},
}

# The notice still counts against the customer (its invoices are not taken by a new notice): not final.
OPEN_STATUSES: tuple[Status, ...] = tuple(status for status in Status if ALLOWED[status])


def statuses(operation: Operation) -> tuple[Status, ...]:
    """The states from which `operation` is allowed, in the order of `Status`."""
    return tuple(status for status in Status if operation in ALLOWED[status])


def status_lookup(states, *, prefix: str = "") -> dict:
    """`status=` for one state, `status__in=` for several: the index conditions stay as migrated."""
    values = [Status(state).value for state in states]
    if len(values) == 1:
        return {f"{prefix}status": values[0]}
    return {f"{prefix}status__in": values}


def condition(operation: Operation, *, prefix: str = "") -> Q:
    """The notices `operation` is allowed on, as a filter (`prefix` "notice__" from a related model)."""
    requires = {f"{prefix}{lookup}": value for lookup, value in REQUIRES.get(operation, {}).items()}
    return Q(**status_lookup(statuses(operation), prefix=prefix), **requires)


def allows(notice, operation: Operation) -> bool:
    """Whether `operation` may start on this notice now (the service still checks its own rules)."""
    return operation in ALLOWED[Status(notice.status)] and _meets(notice, REQUIRES.get(operation, {}))


def available_operations(notice) -> list[Operation]:
    """What staff can do next with the notice, the most likely first."""
    return [
        operation
        for operation in ALLOWED[Status(notice.status)]
        if operation in STAFF_OPERATIONS and _meets(notice, REQUIRES.get(operation, {}))
    ]


def _meets(notice, requires: dict[str, bool]) -> bool:
    for lookup, is_null in requires.items():
        name = lookup.removesuffix("__isnull")
        if (getattr(notice, notice._meta.get_field(name).attname) is None) != is_null:
            return False
    return True
