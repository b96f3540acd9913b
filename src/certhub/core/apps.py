from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "certhub.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from . import checks  # noqa: F401  (registers certhub's system checks)
