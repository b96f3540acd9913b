from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "certhub.audit"
    label = "audit"
    verbose_name = "Audit log"
