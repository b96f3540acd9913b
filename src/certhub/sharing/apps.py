from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "certhub.sharing"
    label = "sharing"
    verbose_name = "Sharing"
