from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "certhub.cli"
    label = "cli"
    verbose_name = "Command line"
