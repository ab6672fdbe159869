"""Back office for customers, contracts and their services: screens over contracts.services and
contracts.selectors, one module a model.

Each admin collects a form, calls one service or selector, and reports with `message_user`; records the
services write (withdrawals, readings, announced changes, direct debit mandates) are read-only (`ReadOnlyAdminMixin`).
"""

from contracts.admin import (  # noqa: F401  (registers the admins)
    condition_changes,
    contracts,
    customers,
    mandates,
    supplies,
    withdrawals,
)
