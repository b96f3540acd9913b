from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "certhub.accounts"
    label = "accounts"
    verbose_name = "Accounts"
