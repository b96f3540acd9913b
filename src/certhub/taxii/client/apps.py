from django.apps import AppConfig


class TaxiiClientConfig(AppConfig):
    name = "certhub.taxii.client"
    label = "taxii_client"
    verbose_name = "TAXII client"
