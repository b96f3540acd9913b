from django.apps import AppConfig


class TaxiiConfig(AppConfig):
    name = "certhub.taxii"
    label = "taxii"
    verbose_name = "TAXII server"
