"""What other apps want to hear about registered letters, by template key.

Legal deadlines count from the day a letter is posted (or, for some, from the day it is received). The app
that owns the notice registers a handler for its template key — usually in its `AppConfig.ready()` — and
starts its clock from the date staff record:

    @on_letter_dispatched("billing/default_notice")
    def start_payment_term(*, delivery, dispatched_on):
        ...

Handlers run inside the transaction that records the date: if one raises, nothing is recorded.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

DispatchHandler = Callable[..., Any]  # handler(*, delivery: Delivery, dispatched_on: date)
ReceiptHandler = Callable[..., Any]  # handler(*, delivery: Delivery, delivered_on: date)

_dispatch_handlers: dict[str, list[DispatchHandler]] = defaultdict(list)
_receipt_handlers: dict[str, list[ReceiptHandler]] = defaultdict(list)


def register_dispatch_handler(template_key: str, func: DispatchHandler) -> DispatchHandler:
    """Call `func(delivery=..., dispatched_on=...)` when a letter of this template is recorded as posted."""
    # Registering twice (a module imported twice, `ready()` run again in tests) must not call it twice.
    if func not in _dispatch_handlers[template_key]:
        _dispatch_handlers[template_key].append(func)
    return func


def register_receipt_handler(template_key: str, func: ReceiptHandler) -> ReceiptHandler:
    """Call `func(delivery=..., delivered_on=...)` when the return receipt of such a letter is recorded."""
    if func not in _receipt_handlers[template_key]:
        _receipt_handlers[template_key].append(func)
    return func


def on_letter_dispatched(template_key: str) -> Callable[[DispatchHandler], DispatchHandler]:
    def decorator(func: DispatchHandler) -> DispatchHandler:
        return register_dispatch_handler(template_key, func)

    return decorator


def on_letter_delivered(template_key: str) -> Callable[[ReceiptHandler], ReceiptHandler]:
    def decorator(func: ReceiptHandler) -> ReceiptHandler:
        return register_receipt_handler(template_key, func)

    return decorator


def unregister_handler(template_key: str, func: Callable[..., Any]) -> None:
    """Remove `func` from both registries (for tests)."""
    for registry in (_dispatch_handlers, _receipt_handlers):
        if func in registry.get(template_key, []):
            registry[template_key].remove(func)


def run_dispatch_handlers(template_key: str, *, delivery, dispatched_on: date) -> None:
    for handler in list(_dispatch_handlers.get(template_key, [])):
        handler(delivery=delivery, dispatched_on=dispatched_on)


def run_receipt_handlers(template_key: str, *, delivery, delivered_on: date) -> None:
    for handler in list(_receipt_handlers.get(template_key, [])):
        handler(delivery=delivery, delivered_on=delivered_on)
