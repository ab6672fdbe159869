from django.apps import AppConfig


class SweepAppConfig(AppConfig):
    name = "tests.sweepapp"
    label = "sweepapp"
