from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "certhub.directory"
    label = "directory"
    verbose_name = "Directory"
