"""Django settings. Every value comes from the environment: see .env.example."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF

from townsquare.lib.config import (
    ConfigError,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_path,
    env_str,
)

# Lets classes such as ModelAdmin[Member] be subscripted at run time, as the type stubs allow.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("TOWNSQUARE_DATA_DIR", "./var")

DEBUG = env_bool("TOWNSQUARE_DEBUG", False)
SECRET_KEY = env_str("TOWNSQUARE_SECRET_KEY")
if not SECRET_KEY:
    # An embedded install keeps a generated key in its data directory, so sessions survive
    # restarts without the operator having to invent one.
    from townsquare.lib.secret import data_dir_secret_key

    SECRET_KEY = data_dir_secret_key(DATA_DIR)

ALLOWED_HOSTS = env_list("TOWNSQUARE_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("TOWNSQUARE_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("TOWNSQUARE_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "townsquare.community",
    "townsquare.connectors",
    "townsquare.front",
    "townsquare.demo",
    "townsquare.listening",
    "townsquare.moderation",
    "townsquare.segments",
    "townsquare.api",
    # For the API docs' own Swagger UI files, served here rather than from a CDN.
    "ninja",
    "townsquare.people",
    "townsquare.staff",
    "townsquare.inbox",
    "townsquare.care",
    "townsquare.metrics",
    "townsquare.reports",
    "townsquare.webhooks",
    "townsquare.digest",
    # Background tasks: Django's Tasks API (backport) with its database and RQ backends.
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "django_tasks_rq",
    # Failed logins per username and address, and the lockout after too many.
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as axes asks: it turns a lockout noticed during the login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "townsquare.urls"
WSGI_APPLICATION = "townsquare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "townsquare.staff.context_processors.user_role",
            ],
        },
    }
]


def _database() -> dict[str, Any]:
    url = env_str("DATABASE_URL")
    if url:
        try:
            config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        except Exception as e:  # the parser raises several types for a malformed URL
            raise ConfigError(f"DATABASE_URL: cannot read it as a database URL ({e})") from None
        if "postgres" not in config.get("ENGINE", "") and "sqlite" not in config.get("ENGINE", ""):
            raise ConfigError("DATABASE_URL: expected a postgres:// or sqlite:// URL")
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "townsquare.sqlite3",
        "OPTIONS": {
            # WAL lets the web server read while an import writes; IMMEDIATE avoids
            # "database is locked" on lock upgrades inside write transactions.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; PRAGMA secure_delete=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
        },
        "TEST": {"NAME": env_str("TOWNSQUARE_TEST_SQLITE", "") or None},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Axes first: it refuses a locked-out username and address before any password is checked;
# it logs no one in, so the model backend still does that (and API tokens, which never go
# through authenticate(), are not counted).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("TOWNSQUARE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TOWNSQUARE_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
# One username from one address: a typo-prone colleague does not lock out the whole office,
# and someone guessing from elsewhere does not lock out the real user.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "townsquare.staff.lockout.locked_out"
# Successful logins are already in each user's last_login; failures are still recorded.
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# UTC everywhere: anything else silently shifts PostgreSQL timestamps.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
COMMUNITY_TIME_ZONE = env_str("TOWNSQUARE_TIME_ZONE", "UTC")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves from here as well as from the finders, and warns when it is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "uploads"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("TOWNSQUARE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Every script, style, image and font comes from the app itself, and no inline script or style
# runs. The API docs page adds only what Swagger UI needs (townsquare/api/api.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

IMPORT_BATCH_SIZE = env_int("TOWNSQUARE_IMPORT_BATCH_SIZE", 10000, minimum=1)

# Exports uploaded through the web UI (kept in MEDIA_ROOT, never served): the largest file,
# and what a .zip that must be unpacked may unpack to (connectors/uploads.py).
TOWNSQUARE_UPLOAD_MAX_MB = env_int("TOWNSQUARE_UPLOAD_MAX_MB", 2048, minimum=1)
TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB = env_int("TOWNSQUARE_UPLOAD_MAX_UNZIPPED_MB", 20480, minimum=1)
TOWNSQUARE_UPLOAD_MAX_FILES = env_int("TOWNSQUARE_UPLOAD_MAX_FILES", 200000, minimum=1)

# Background work (enrichment after each import, matching a new tracked term) runs through
# Django's Tasks API: "db" keeps the queue in the database (nothing more to run than
# `townsquare worker`), "rq" in Redis, "immediate" runs each task at once in the caller.
TASK_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASK_BACKEND = env_str("TOWNSQUARE_TASK_BACKEND", "db").strip().lower() or "db"
if TASK_BACKEND not in TASK_BACKENDS:
    raise ConfigError(
        f"TOWNSQUARE_TASK_BACKEND={TASK_BACKEND!r}: expected one of {', '.join(TASK_BACKENDS)}"
    )
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASK_BACKEND], "QUEUES": ["default"]}}
REDIS_URL = env_str("TOWNSQUARE_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 24 * 3600}}

# The community's main languages (ISO 639-1), for language identification; empty: the
# language analyzer's default 20.
TOWNSQUARE_LANGUAGES = [lang.lower() for lang in env_list("TOWNSQUARE_LANGUAGES", [])]
ENRICH_BATCH_SIZE = env_int("TOWNSQUARE_ENRICH_BATCH_SIZE", 2000, minimum=1)

# Time to first response (docs/metrics.md): whether a reaction by someone else counts as the
# first response to a conversation (by default only a written reply does).
TOWNSQUARE_TTFR_COUNTS_REACTIONS = env_bool("TOWNSQUARE_TTFR_COUNTS_REACTIONS", False)

# Webhooks (docs/webhooks.md): days a finished delivery (delivered or failed) stays in the log.
TOWNSQUARE_WEBHOOK_LOG_DAYS = env_int("TOWNSQUARE_WEBHOOK_LOG_DAYS", 30, minimum=1)

# Spike alerts (docs/metrics.md): a day above mean + k·σ of the trailing 7 days.
TOWNSQUARE_SPIKE_K = env_float("TOWNSQUARE_SPIKE_K", 2.0, minimum=0.0)
TOWNSQUARE_SPIKE_MIN_MESSAGES = env_int("TOWNSQUARE_SPIKE_MIN_MESSAGES", 10, minimum=1)

# Email: printed on the console until an SMTP server is configured.
EMAIL_HOST = env_str("TOWNSQUARE_EMAIL_HOST")
EMAIL_PORT = env_int("TOWNSQUARE_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("TOWNSQUARE_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("TOWNSQUARE_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("TOWNSQUARE_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = env_str("TOWNSQUARE_EMAIL_FROM", "townsquare@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
# Alerts are mailed to staff once email really leaves the machine, unless turned off.
TOWNSQUARE_ALERT_EMAILS = env_bool("TOWNSQUARE_ALERT_EMAILS", bool(EMAIL_HOST))

# The weekly digest (docs/digest.md) of the week before is mailed to staff on this weekday,
# from this hour on, in the community's time zone.
TOWNSQUARE_DIGEST_DAY = env_str("TOWNSQUARE_DIGEST_DAY", "monday").strip().lower()
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
if TOWNSQUARE_DIGEST_DAY not in _WEEKDAYS:
    raise ConfigError(
        f"TOWNSQUARE_DIGEST_DAY={TOWNSQUARE_DIGEST_DAY!r}: expected a weekday, monday to sunday"
    )
TOWNSQUARE_DIGEST_HOUR = env_int("TOWNSQUARE_DIGEST_HOUR", 8, minimum=0)
if TOWNSQUARE_DIGEST_HOUR > 23:
    raise ConfigError(
        f"TOWNSQUARE_DIGEST_HOUR={TOWNSQUARE_DIGEST_HOUR}: expected an hour from 0 to 23"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("TOWNSQUARE_LOG_LEVEL", "WARNING")},
}
