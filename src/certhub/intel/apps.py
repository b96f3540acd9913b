from django.apps import AppConfig


class IntelConfig(AppConfig):
    name = "certhub.intel"
    label = "intel"
    verbose_name = "Threat intelligence"
