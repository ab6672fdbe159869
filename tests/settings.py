"""Test settings: the project's settings plus a fixture app for the sweep framework's own tests."""

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.sweepapp"]
