"""`certhub check`: Django's checks plus certhub's, including those that open connections."""

from django.core.management.commands.check import Command as DjangoCheck


class Command(DjangoCheck):
    help = "Report misconfiguration: settings, database and broker reachability, data files."

    def handle(self, *app_labels, **options):
        options["deploy"] = True
        return super().handle(*app_labels, **options)
