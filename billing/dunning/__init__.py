"""Dunning: the default notice (costituzione in mora, CG 6.2), its 40-day payment term, and the power
reduction, suspension and reactivation that may follow — never before the regulation allows them.

    lifecycle.py   the states of a notice and the operations allowed from each (declared once)
    notices.py     invoices due for a notice, preparing, sending, dispatch, receipt, cancelling, closing
    letters.py     the document: its context, writing it, the letter handlers that start its clocks
    steps.py       steps with the distributor, execution, reactivation, indemnities, termination grounds
    selectors.py   what is still due on a notice; the staff's worklist of the day
    billing/deadlines.py holds the pure date rules (supply_rule, step_allowed_on).

Inside billing, import the module you need. Other apps use the few operations below, as `dunning.<name>`;
they are loaded on first use, because billing/models.py imports `lifecycle` from this package and the
modules above import billing/models.py.
"""

from importlib import import_module

# name → the module that defines it, for code outside billing.
_PUBLIC = {
    "is_anomalous_for_complaint": "billing.dunning.notices",  # complaints
    "block_dunning": "billing.dunning.notices",  # complaints
    "lift_dunning_block": "billing.dunning.notices",  # complaints
    "active_blocks": "billing.dunning.notices",  # complaints
    "lifted_by_hand": "billing.dunning.notices",  # complaints
    "issue_notice_letter": "billing.dunning.notices",  # tests/stack
    "record_dispatch": "billing.dunning.notices",  # tests/stack
    "supply_rule": "billing.deadlines",  # tests/e2e
    "supplies_of": "billing.dunning.steps",  # tests/e2e
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_PUBLIC[name]), name)


def __dir__():
    return sorted([*globals(), *_PUBLIC])
