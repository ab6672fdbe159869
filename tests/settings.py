"""Test settings: the project's settings plus a fixture app for the sweep framework's own tests."""

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.sweepapp"]

# Tests create many users: a fast hasher (never used outside tests).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Behind the portal's backend (portal.lib.emails.EmailBackend), when a test puts it back: mail stays in memory.
EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The real clock, whatever database the suite runs on; the demo clock's own tests turn it on.
DEMO_CLOCK = False
