"""Django settings, all read from the environment (see docs/configuration.md).

Production-safe by default: DEBUG off, a generated secret key kept in the data folder, secure
headers, hashed API tokens. Only this module (through config.env) reads os.environ.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from .env import ConfigError, as_bool, as_int, as_list, declare, secret_key

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(
    declare("CERTHUB_DATA_DIR", "var",
            "Folder for the SQLite database, secret key, uploads, caches (e.g. the warninglist "
            "index, safe to delete) and outgoing mail when no SMTP server is set. Relative paths "
            "are taken from the working directory.")
).resolve()
TESTING = "pytest" in sys.modules or declare("CERTHUB_TESTING", "", "Set by the test suite.") == "1"

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = as_bool("CERTHUB_DEBUG", False, "Django debug mode. Never in production.")
ALLOWED_HOSTS = as_list("CERTHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]",
                        "Host names this server answers to, comma-separated.")
CSRF_TRUSTED_ORIGINS = as_list("CERTHUB_CSRF_TRUSTED_ORIGINS", "",
                               "Origins (scheme://host) trusted for form posts behind a proxy.")
SITE_URL = declare("CERTHUB_SITE_URL", "http://127.0.0.1:8000",
                   "Public base URL, used in emails and TAXII discovery.").rstrip("/")
SITE_NAME = declare("CERTHUB_SITE_NAME", "ASEAN Regional CERT hub",
                    "Name shown in the UI and emails.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "ninja",
    "certhub.core",
    "certhub.audit",
    "certhub.sharing",
    "certhub.directory",
    "certhub.accounts",
    "certhub.notify",
    "certhub.intel",
    "certhub.feeds",
    "certhub.taxii",
    "certhub.taxii.client",
    "certhub.incidents",
    "certhub.web",
    "certhub.cli",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "certhub.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "certhub.accounts.middleware.TwoFactorRequiredMiddleware",
    "certhub.web.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "certhub.config.urls"
WSGI_APPLICATION = "certhub.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "certhub.web.context.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
_default_db = f"sqlite:///{DATA_DIR / 'certhub.sqlite3'}"
DATABASE_URL = declare("DATABASE_URL", "", "Database URL, e.g. postgres://user@host:5432/certhub. "
                       "Unset: SQLite in CERTHUB_DATA_DIR.") or _default_db
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except Exception as exc:  # dj_database_url raises bare exceptions on unknown schemes
    raise ConfigError(f"DATABASE_URL cannot be used: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets readers work while a writer commits; busy timeout instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, lookup index version) ---------------------------------------------
CACHE_URL = declare("CERTHUB_CACHE_URL", "", "redis://host:6379/1 for a shared cache. Unset: a "
                    "file cache in CERTHUB_DATA_DIR (shared by the server's worker processes).")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL}}
elif TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(DATA_DIR / "cache")}}

# --- Accounts, two-factor, lockout -----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
OTP_TOTP_ISSUER = SITE_NAME
AXES_FAILURE_LIMIT = as_int("CERTHUB_LOCKOUT_FAILURES", 5,
                            "Failed logins (per account and address) before a lockout.")
AXES_COOLOFF_TIME = as_int("CERTHUB_LOCKOUT_MINUTES", 30, "Lockout length in minutes.") / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
BEHIND_PROXY = as_bool("CERTHUB_BEHIND_PROXY", False, "Trust X-Forwarded-Proto/-For from a "
                       "reverse proxy in front of certhub.")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
# Anonymous API rate limits count per client address: trust X-Forwarded-For only from our own
# proxy (its last hop), never from the client, or one client could pose as many.
NINJA_NUM_PROXIES = 1 if BEHIND_PROXY else 0
API_TOKEN_MAX_DAYS = as_int("CERTHUB_API_TOKEN_MAX_DAYS", 365, "Longest lifetime of an API token.")
API_RATE_LIMIT = declare("CERTHUB_API_RATE_LIMIT", "1200/m",
                         "Requests per token (or per address when anonymous), e.g. 1200/m, 50/s.")

# --- Security headers --------------------------------------------------------------------------
TLS = as_bool("CERTHUB_TLS", False, "certhub is reached over HTTPS: secure cookies, HSTS, "
              "redirect of plain HTTP.")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = TLS
# Without TLS these deployment warnings restate CERTHUB_TLS=false; certhub.W001 covers a mismatch.
SILENCED_SYSTEM_CHECKS = [] if TLS else ["security.W004", "security.W008", "security.W012",
                                          "security.W016"]
SECURE_SSL_REDIRECT = TLS
SECURE_HSTS_SECONDS = 31536000 if TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = TLS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = as_int("CERTHUB_SESSION_HOURS", 12, "Session lifetime in hours.") * 3600
CSRF_FAILURE_VIEW = "certhub.web.views.errors.csrf_failure"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie for its requests

# --- Languages and time ------------------------------------------------------------------------
LANGUAGE_CODE = declare("CERTHUB_LANGUAGE", "en", "Default language (en, th, ...).")
LANGUAGES = [("en", "English"), ("th", "ไทย")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"  # storage; each user sees their own zone (web.middleware.UserTimezoneMiddleware)
DISPLAY_TIME_ZONE = declare("CERTHUB_TIME_ZONE", "Asia/Singapore",
                            "Time zone shown to visitors and users who chose none.")

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(DATA_DIR / "files")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if not (DEBUG or TESTING) else
                    "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Email ---------------------------------------------------------------------------------------
EMAIL_HOST = declare("CERTHUB_EMAIL_HOST", "", "SMTP server. Unset: mail is written to files in "
                     "CERTHUB_DATA_DIR/mail.")
EMAIL_PORT = as_int("CERTHUB_EMAIL_PORT", 587, "SMTP port.")
EMAIL_HOST_USER = declare("CERTHUB_EMAIL_USER", "", "SMTP user name.")
EMAIL_HOST_PASSWORD = declare("CERTHUB_EMAIL_PASSWORD", "", "SMTP password.")
EMAIL_USE_TLS = as_bool("CERTHUB_EMAIL_STARTTLS", True, "Use STARTTLS with the SMTP server.")
DEFAULT_FROM_EMAIL = declare("CERTHUB_EMAIL_FROM", "certhub@localhost", "Sender of outgoing mail.")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")

# --- Background work ---------------------------------------------------------------------
BROKER_URL = declare("CERTHUB_BROKER_URL", "",
                     "Celery broker: amqp://guest:guest@127.0.0.1:5672// "
                     "or redis://127.0.0.1:6379/0. Unset: tasks run in-process.")
CELERY_BROKER_URL = BROKER_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    # Feeds decide themselves which are due; the beat only asks every minute.
    "feeds-run-due": {"task": "certhub.feeds.run_due_feeds", "schedule": 60.0},
    "feeds-expire": {"task": "certhub.feeds.expire_findings",
                     "schedule": crontab(hour=3, minute=0)},
    # Remote TAXII collections decide themselves which are due (certhub.taxii.client).
    "taxii-pull-due": {"task": "certhub.taxii_client.pull_due", "schedule": 60.0},
    "incidents-escalate": {"task": "certhub.incidents.escalate_overdue", "schedule": 60.0},
    "notify-retry": {"task": "certhub.notify.retry_deliveries", "schedule": 60.0},
    "feeds-digest": {"task": "certhub.feeds.send_digests", "schedule": crontab(hour=1, minute=0)},
}
WEBHOOK_ALLOW_PRIVATE = as_bool("CERTHUB_WEBHOOK_ALLOW_PRIVATE", False,
                                "Let webhooks call loopback and private addresses (SSRF guard "
                                "off). Only for tests and closed networks.")

# --- Incidents (certhub.incidents; docs/incidents.md) ---------------------------------------------
INCIDENT_TARGETS = declare("CERTHUB_INCIDENT_TARGETS",
                           "critical=1h/1d,high=4h/3d,medium=1d/7d,low=3d/30d",
                           "Coordination request targets per severity: acknowledge/complete "
                           "within (m, h or d).")
INCIDENT_ATTACHMENT_MAX_MB = as_int("CERTHUB_INCIDENT_ATTACHMENT_MAX_MB", 25,
                                    "Largest incident attachment, in megabytes.")
PUBLIC_REPORT_RATE = declare("CERTHUB_PUBLIC_REPORT_RATE", "5/h",
                             "Public incident reports accepted per client address, e.g. 5/h.")
PUBLIC_REPORT_POW_BITS = as_int("CERTHUB_PUBLIC_REPORT_POW_BITS", 18,
                                "Proof-of-work difficulty (leading zero bits) of the public "
                                "report form's challenge.")
MAILIN_URL = declare("CERTHUB_MAILIN_URL", "",
                     "Mailbox for incidents reported by email: imaps://user@host:993/INBOX or "
                     "pop3s://user@host:995. Unset: `certhub incidents fetch-mail` does nothing.")
MAILIN_PASSWORD = declare("CERTHUB_MAILIN_PASSWORD", "", "Password of CERTHUB_MAILIN_URL's user.")

# --- Feed runs ------------------------------------------------------------------------------------
FEEDS_SPLIT_MIN_BYTES = as_int("CERTHUB_FEEDS_SPLIT_MIN_BYTES", 64 << 20,
                               "Feed inputs at least this large (bytes) are split into parts "
                               "that several workers process at once (line-based formats).")
FEEDS_PART_BYTES = as_int("CERTHUB_FEEDS_PART_BYTES", 48 << 20,
                          "Size (bytes) of a part of a split feed run.")
FEEDS_COLUMNAR = as_bool("CERTHUB_FEEDS_COLUMNAR", True,
                         "Parse clean batches of line-based feeds (URLhaus) as columns; off: "
                         "every line goes the event path (same findings, slower).")

# --- Directory lookup data ------------------------------------------------------------------------
ASN_DB = declare("CERTHUB_ASN_DB", "",
                 "IP-to-ASN data for routing addresses by ASN: an iptoasn.com "
                 "TSV (ip2asn-combined.tsv[.gz]) or a MaxMind-format ASN .mmdb. Unset: addresses "
                 "are routed by registered prefix and country only.")
COUNTRY_DB = declare("CERTHUB_COUNTRY_DB", "", "A MaxMind-format country .mmdb to use instead of "
                     "the IP-to-country data shipped with the iptocc package.")

# --- Audit ----------------------------------------------------------------------------------------
AUDIT_KEY = declare("CERTHUB_AUDIT_KEY", "", "Key for the audit log's hash chain (HMAC). Unset: "
                    "derived from the secret key. Keep it outside the database.") or SECRET_KEY

# --- Logging: never secrets; one line per record -----------------------------------------------
LOG_LEVEL = declare("CERTHUB_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR.").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "certhub.core.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 1000
