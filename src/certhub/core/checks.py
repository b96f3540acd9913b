"""`certhub check`: misconfiguration that would bite in operation, reported before it does.

Registered with Django's system checks (tag "certhub"). Checks that open connections (database,
broker) are deployment checks, so they run under `certhub check` (which always includes them, see
cli/management/commands/check.py) and not before every other command. Values that cannot even be
parsed already fail at start-up (config.env.ConfigError).

Ids: E = stops a sound operation, W = unsafe or surprising, I = worth knowing.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Info, Tags, Warning, register
from django.db import connections

CERTHUB = "certhub"


def _is_local_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _looks_like_production() -> bool:
    """Reached by others: TLS on, or a public address that is not this machine's loopback."""
    return settings.TLS or not _is_local_host(urlsplit(settings.SITE_URL).hostname or "")


@register(CERTHUB, Tags.database, deploy=True)
def check_database(app_configs=None, **kwargs):
    messages = []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means the same to the operator
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        messages.append(Error(f"cannot connect to the database: {first_line}",
                              hint="Check DATABASE_URL and that the server is running.",
                              id="certhub.E001"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        text = "SQLite is the embedded default; use PostgreSQL (DATABASE_URL) for a production hub."
        if _looks_like_production():
            messages.append(Warning(text, id="certhub.W004"))
        else:
            messages.append(Info(text, id="certhub.I001"))
    return messages


@register(CERTHUB)
def check_data_dir(app_configs=None, **kwargs):
    data_dir = Path(settings.DATA_DIR)
    if not data_dir.is_dir() or not os.access(data_dir, os.W_OK):
        return [Error(f"the data folder {data_dir} is not a writable folder",
                      hint="Set CERTHUB_DATA_DIR to a folder certhub may write to.",
                      id="certhub.E002")]
    return []


@register(CERTHUB, Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs):
    key_file = Path(settings.DATA_DIR) / "secret_key"
    try:
        generated = key_file.read_text().strip() == settings.SECRET_KEY
    except OSError:
        generated = False
    if not generated:
        return [Info("the secret key comes from CERTHUB_SECRET_KEY.", id="certhub.I004")]
    messages = [Info(f"the secret key was generated once and is kept in {key_file}; back it up "
                     "with the database (sessions, reset links and the audit chain depend on it).",
                     id="certhub.I005")]
    if stat.S_IMODE(key_file.stat().st_mode) & 0o077:
        messages.append(Warning(f"{key_file} is readable by other users of this machine.",
                                hint=f"chmod 600 {key_file}", id="certhub.W005"))
    return messages


@register(CERTHUB)
def check_data_files(app_configs=None, **kwargs):
    messages = []
    for name, value in (("CERTHUB_ASN_DB", settings.ASN_DB),
                        ("CERTHUB_COUNTRY_DB", settings.COUNTRY_DB)):
        if value and not (Path(value).is_file() and os.access(value, os.R_OK)):
            messages.append(Error(f"{name} names {value}, which is not a readable file",
                                  id="certhub.E003"))
    return messages


@register(CERTHUB, Tags.security)
def check_allowed_hosts(app_configs=None, **kwargs):
    hosts = settings.ALLOWED_HOSTS
    if not hosts and not settings.DEBUG:
        return [Error("CERTHUB_ALLOWED_HOSTS is empty: every request would be refused (400).",
                      hint="List the host names certhub is reached by.", id="certhub.E005")]
    messages = []
    if "*" in hosts:
        messages.append(Warning("CERTHUB_ALLOWED_HOSTS contains '*': any Host header is accepted.",
                                id="certhub.W003"))
    site_host = (urlsplit(settings.SITE_URL).hostname or "").lower()
    if site_host and not _host_allowed(site_host, hosts):
        messages.append(Warning(f"CERTHUB_SITE_URL's host {site_host} is not in "
                                "CERTHUB_ALLOWED_HOSTS: links in emails would be refused.",
                                id="certhub.W006"))
    return messages


def _host_allowed(host: str, patterns: list[str]) -> bool:
    for pattern in (p.lower().strip("[]") for p in patterns):
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith(".") and (host == pattern[1:] or host.endswith(pattern)):
            return True
    return False


@register(CERTHUB, Tags.security, deploy=True)
def check_web_security(app_configs=None, **kwargs):
    messages = []
    if settings.SITE_URL.startswith("https://") and not settings.TLS:
        messages.append(Warning("CERTHUB_SITE_URL is https but CERTHUB_TLS is off: cookies are "
                                "not marked secure and HSTS is not sent.", id="certhub.W001"))
    if settings.DEBUG:
        messages.append(Warning("CERTHUB_DEBUG is on: error pages show internals. Never in "
                                "production.", id="certhub.W002"))
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        text = (f"no SMTP server set (CERTHUB_EMAIL_HOST): mail (password resets, invitations) "
                f"is written to files in {settings.EMAIL_FILE_PATH}")
        if _looks_like_production():
            messages.append(Warning(text, id="certhub.W007"))
        else:
            messages.append(Info(text, id="certhub.I002"))
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
