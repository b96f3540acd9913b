from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "certhub.incidents"
    label = "incidents"
    verbose_name = "Incidents"
