from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "certhub.notify"
    label = "notify"
    verbose_name = "Notifications"
