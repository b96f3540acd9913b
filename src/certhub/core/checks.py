"""`certhub check`: misconfiguration that would bite in operation, reported before it does.

Registered with Django's system checks (tag "certhub"). Checks that open connections (database,
broker) are deployment checks, so they run under `certhub check` (which always includes them, see
cli/management/commands/check.py) and not before every other command. Values that cannot even be
parsed already fail at start-up (config.env.ConfigError).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Info, Tags, Warning, register
from django.db import connections

CERTHUB = "certhub"


@register(CERTHUB, Tags.database, deploy=True)
def check_database(app_configs=None, **kwargs):
    messages = []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means the same to the operator
        messages.append(Error(f"cannot connect to the database: {exc}".strip(),
                              hint="Check DATABASE_URL and that the server is running.",
                              id="certhub.E001"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and not settings.DEBUG:
        messages.append(Info("SQLite is the embedded default; use PostgreSQL (DATABASE_URL) "
                             "for a production hub.", id="certhub.I001"))
    return messages


@register(CERTHUB)
def check_data_dir(app_configs=None, **kwargs):
    data_dir = Path(settings.DATA_DIR)
    if not data_dir.is_dir() or not os.access(data_dir, os.W_OK):
        return [Error(f"the data folder {data_dir} is not a writable folder",
                      hint="Set CERTHUB_DATA_DIR to a folder certhub may write to.",
                      id="certhub.E002")]
    return []


@register(CERTHUB)
def check_data_files(app_configs=None, **kwargs):
    messages = []
    for name, value in (("CERTHUB_ASN_DB", settings.ASN_DB),
                        ("CERTHUB_COUNTRY_DB", settings.COUNTRY_DB)):
        if value and not (Path(value).is_file() and os.access(value, os.R_OK)):
            messages.append(Error(f"{name} names {value}, which is not a readable file",
                                  id="certhub.E003"))
    return messages


@register(CERTHUB, Tags.security, deploy=True)
def check_web_security(app_configs=None, **kwargs):
    messages = []
    if settings.SITE_URL.startswith("https://") and not settings.TLS:
        messages.append(Warning("CERTHUB_SITE_URL is https but CERTHUB_TLS is off: cookies are "
                                "not marked secure and HSTS is not sent.", id="certhub.W001"))
    if settings.DEBUG:
        messages.append(Warning("CERTHUB_DEBUG is on: error pages show internals. Never in "
                                "production.", id="certhub.W002"))
    if "*" in settings.ALLOWED_HOSTS:
        messages.append(Warning("CERTHUB_ALLOWED_HOSTS contains '*': any Host header is accepted.",
                                id="certhub.W003"))
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        messages.append(Info(f"no SMTP server set (CERTHUB_EMAIL_HOST): mail is written to "
                             f"{settings.EMAIL_FILE_PATH}", id="certhub.I002"))
    return messages


@register(CERTHUB, deploy=True)
def check_broker(app_configs=None, **kwargs):
    if not settings.BROKER_URL:
        return [Info("no CERTHUB_BROKER_URL: background tasks run in-process.",
                     id="certhub.I003")]
    from kombu import Connection

    try:
        with Connection(settings.BROKER_URL, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # kombu raises transport-specific errors
        return [Error(f"cannot reach the broker at CERTHUB_BROKER_URL: {exc}",
                      hint="Start RabbitMQ/Redis or unset CERTHUB_BROKER_URL.", id="certhub.E004")]
    return []
