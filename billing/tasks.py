"""Celery entry points of billing: thin tasks that take ids and call services.

The billing deadline sweeps live in billing/sweeps.py; importing it here registers them, because Celery
and portal.deadlines discover `tasks` modules only.
"""

from billing import sweeps  # noqa: F401
