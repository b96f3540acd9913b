from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "certhub.feeds"
    label = "feeds"
    verbose_name = "Feeds"
