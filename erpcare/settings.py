"""ERPCare settings: every deployment-specific value comes from the environment.

The defaults give a runnable local setup (SQLite under var/, DEBUG off unless asked);
production values that have no safe default fail fast with ImproperlyConfigured.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from erpcare.env import (
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    parse_database_url,
    sqlite_database,
)

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(env_str("ERPCARE_HOME", str(PACKAGE_DIR.parent))).resolve()
VAR_DIR = Path(env_str("ERPCARE_VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("ERPCARE_DEBUG", False)
_secret = env_secret("SECRET_KEY")
if not _secret:
    if not DEBUG and env_bool("ERPCARE_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set")
    # A local, per-installation key: stable across restarts, never committed.
    _key_file = VAR_DIR / "secret_key"
    if _key_file.exists():
        _secret = _key_file.read_text(encoding="utf-8").strip()
    else:
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _secret = secrets.token_urlsafe(50)
        _key_file.write_text(_secret, encoding="utf-8")
        _key_file.chmod(0o600)
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("ERPCARE_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ERPCARE_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("ERPCARE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# /metrics answers loopback scrapes, and others with "Authorization: Bearer <this>".
ERPCARE_METRICS_TOKEN = env_secret("ERPCARE_METRICS_TOKEN") or ""
# How long a web process trusts an alert integration it has looked up (key, secret, state).
ERPCARE_ALERT_KEY_CACHE_SECONDS = env_int("ERPCARE_ALERT_KEY_CACHE_SECONDS", 5, minimum=0)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "erpcare.core",
    "erpcare.audit",
    "erpcare.accounts",
    "erpcare.customers",
    "erpcare.tickets",
    "erpcare.sla",
    "erpcare.channels",
    "erpcare.search",
    "erpcare.kb",
    "erpcare.monitoring",
    "erpcare.inspections",
    "erpcare.backups",
    "erpcare.reports",
    "erpcare.changes",
    "erpcare.problems",
    "erpcare.surveys",
]

MIDDLEWARE = [
    # First: an accepted alert post is stored and answered here (see its docstring).
    "erpcare.monitoring.middleware.AlertIntakeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "erpcare.core.middleware.BodySizeLimitMiddleware",
    "erpcare.core.api_errors.ApiJsonErrorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "erpcare.core.middleware.RequestContextMiddleware",
    "erpcare.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "erpcare.urls"
WSGI_APPLICATION = "erpcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": parse_database_url(_database_url, base_dir=BASE_DIR)}
else:
    DATABASES = {"default": sqlite_database(VAR_DIR / "erpcare.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["erpcare.accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("ERPCARE_FAST_PASSWORD_HASHER", False):
    # Only for the test suite and benchmarks: PBKDF2 dominates every sign-in otherwise.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("ERPCARE_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("ERPCARE_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
with contextlib.suppress(OSError):  # WhiteNoise warns on every start while it is missing
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env_str("ERPCARE_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Hashed file names (cache forever) need `collectstatic` first; tests and --dev run without.
if DEBUG or not env_bool("ERPCARE_STATIC_MANIFEST", True):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("ERPCARE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("ERPCARE_SESSION_AGE_SECONDS", 8 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Request bodies: the API and forms refuse anything larger (413) before parsing it.
ERPCARE_MAX_REQUEST_BYTES = env_int("ERPCARE_MAX_REQUEST_BYTES", 1_000_000, minimum=10_000)
ERPCARE_MAX_ATTACHMENT_BYTES = env_int(
    "ERPCARE_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024, minimum=1024
)
DATA_UPLOAD_MAX_MEMORY_SIZE = ERPCARE_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
ERPCARE_ATTACHMENT_TYPES = env_list(
    "ERPCARE_ATTACHMENT_TYPES",
    [
        "text/plain",
        "text/csv",
        "application/pdf",
        "application/json",
        "application/xml",
        "application/zip",
        "image/png",
        "image/jpeg",
        "image/gif",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/msword",
    ],
)

# Ticket workflow.
ERPCARE_REOPEN_WINDOW_DAYS = env_int("ERPCARE_REOPEN_WINDOW_DAYS", 14, minimum=0)
# Survey links (CSAT, NPS) work this many days after the invitation.
ERPCARE_SURVEY_LINK_DAYS = env_int("ERPCARE_SURVEY_LINK_DAYS", 14, minimum=1)
ERPCARE_AUTO_CLOSE_DAYS = env_int("ERPCARE_AUTO_CLOSE_DAYS", 7, minimum=1)
# Incidents of these priorities need a completed post-incident review before they close
# ("0,1" = P0 and P1; "" = never). Checked by erpcare.problems.services.reviews.
ERPCARE_PIR_REQUIRED_PRIORITIES = env_str("ERPCARE_PIR_REQUIRED_PRIORITIES", "0,1")
ERPCARE_API_TOKEN_DAYS = env_int("ERPCARE_API_TOKEN_DAYS", 365, minimum=1)
# How long a web process may trust a bearer token it has checked (0: check every request).
ERPCARE_API_AUTH_CACHE_SECONDS = env_int("ERPCARE_API_AUTH_CACHE_SECONDS", 10, minimum=0)
# Knowledge base: a published article is stale when not reviewed for this many months.
ERPCARE_KB_REVIEW_MONTHS = env_int("ERPCARE_KB_REVIEW_MONTHS", 12, minimum=1)
# Outbox housekeeping: sent/failed deliveries and their events are kept this many days.
ERPCARE_OUTBOX_RETENTION_DAYS = env_int("ERPCARE_OUTBOX_RETENTION_DAYS", 90, minimum=1)

TASKS = {
    "default": {
        "BACKEND": env_str("ERPCARE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
ERPCARE_WORKER_HEARTBEAT_SECONDS = env_int("ERPCARE_WORKER_HEARTBEAT_SECONDS", 15, minimum=1)

EMAIL_BACKEND = env_str("ERPCARE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("ERPCARE_FROM_EMAIL", "ERPCare <support@localhost>")
# Outgoing mail. A host switches the backend to SMTP (unless a backend is named); a
# mailbox's own SMTP fields win over these for mail sent from that mailbox.
_smtp_host = env_str("ERPCARE_SMTP_HOST", "")
if _smtp_host and not env_str("ERPCARE_EMAIL_BACKEND"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = _smtp_host or "localhost"
EMAIL_PORT = env_int("ERPCARE_SMTP_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("ERPCARE_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_secret("ERPCARE_SMTP_PASSWORD") or ""
_smtp_security = env_str("ERPCARE_SMTP_SECURITY", "starttls").strip().lower()
if _smtp_security not in {"tls", "starttls", "none"}:
    raise ImproperlyConfigured("ERPCARE_SMTP_SECURITY must be tls, starttls or none")
EMAIL_USE_SSL = _smtp_security == "tls"
EMAIL_USE_TLS = _smtp_security == "starttls"
EMAIL_TIMEOUT = 30
# The domain of our Message-IDs and loop header; a dot-less domain ("localhost") is not one.
_from_domain = DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >").lower()
ERPCARE_MAIL_DOMAIN = env_str("ERPCARE_MAIL_DOMAIN", "") or (
    _from_domain if "." in _from_domain else "erpcare.localhost"
)
# Incoming mail: larger messages are stored but not turned into tickets; more than this many
# messages from one sender within an hour are held for review (0: no limit).
ERPCARE_MAIL_MAX_BYTES = env_int("ERPCARE_MAIL_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
ERPCARE_MAIL_FLOOD_PER_HOUR = env_int("ERPCARE_MAIL_FLOOD_PER_HOUR", 20, minimum=0)
# Deliveries (mail, robots, webhooks): tries before giving up, back-off base and cap.
ERPCARE_DELIVERY_MAX_ATTEMPTS = env_int("ERPCARE_DELIVERY_MAX_ATTEMPTS", 8, minimum=1)
ERPCARE_DELIVERY_BACKOFF_SECONDS = env_int("ERPCARE_DELIVERY_BACKOFF_SECONDS", 30, minimum=1)
ERPCARE_DELIVERY_BACKOFF_MAX_SECONDS = env_int(
    "ERPCARE_DELIVERY_BACKOFF_MAX_SECONDS", 3600, minimum=1
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("ERPCARE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # httpx logs every request URL at INFO; a robot's URL carries its key in the query
        # string, so request lines must never reach the log.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
