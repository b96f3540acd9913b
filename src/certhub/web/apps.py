from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "certhub.web"
    label = "web"
    verbose_name = "Web interface"
