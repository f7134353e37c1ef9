"""Settings for the EDGAR search app, read from the environment with laptop defaults.

DATA_DIR (default ./var) holds the SQLite database, the Whoosh index and stored files.
"""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var")).resolve()

DEBUG = env_bool("DEBUG", True)
# The default key is only for a laptop; a deployment (DEBUG off) must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("Set SECRET_KEY in the environment when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "filings",
    "search",
    # After filings, whose `db_worker` (requeueing jobs a stopped worker left) wins.
    "django_tasks",
    "django_tasks_db",
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
    "config.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite creates the file but not its folder: make DATA_DIR on first use.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets web readers work while an ingest writes; the timeout makes a second
    # writer (an upload during an ingest run) wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 60,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"

MEDIA_ROOT = DATA_DIR / "files"
# Stored files are never served directly: views serve them with safe headers.
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The search engine: "whoosh" (the default: an index directory beside the database) or
# "postgres" (the index in the PostgreSQL database itself, written in the transaction
# that stores a filing). After switching, run `manage.py rebuild_index`.
SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "whoosh").strip().lower() or "whoosh"
# The Whoosh index directory. Web processes only read it.
SEARCH_INDEX_DIR = Path(os.environ.get("SEARCH_INDEX_DIR", DATA_DIR / "index")).resolve()
# A search's documents as one zip (search.download): at most this many documents and
# this many MB of them (before compression); past either the zip stops, and says so in
# its manifest. It is streamed by a web process, so these bound a request's time too.
ZIP_MAX_DOCUMENTS = int(os.environ.get("ZIP_MAX_DOCUMENTS", "1000"))
ZIP_MAX_BYTES = int(os.environ.get("ZIP_MAX_MB", "200")) * 1024 * 1024

# Admin uploads: largest accepted request, and the ceiling on bytes any archive may
# expand to (zip and gzip bombs are refused past it).
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_MB", "200")) * 1024 * 1024
MAX_EXPANDED_BYTES = int(os.environ.get("MAX_EXPANDED_MB", "2048")) * 1024 * 1024
# The largest submission stored: a file, or one file inside an archive, larger than this
# is refused before it is read whole (SQLite cannot store a 400 MB document at all).
MAX_SUBMISSION_BYTES = int(os.environ.get("MAX_SUBMISSION_MB", "256")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

# Uploads, re-derive and deletes run as tasks (filings.tasks) in `manage.py db_worker`,
# queued in the database: no other service to run.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A running job's worker writes a heartbeat this often; a job not heard from for
# JOB_STALE_SECONDS (or whose worker process on this host is gone) is run again, at most
# JOB_MAX_ATTEMPTS times in all.
JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", "10"))
JOB_STALE_SECONDS = float(os.environ.get("JOB_STALE_SECONDS", "120"))
JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", "5"))

# Saved searches and their alerts (search.alerts). Users sign in with Django's auth views;
# staff create the accounts in the admin. Digests go through Django's e-mail backend:
# printed to the console unless EMAIL_BACKEND says otherwise (for SMTP, set it to
# django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "search:saved"
LOGOUT_REDIRECT_URL = "filings:home"
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "edgar-search@localhost")
# The address links in e-mails start with (e-mails are sent outside any request).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# New matches are counted up to this many seconds ago (see search.alerts.watermark), and
# `send_alerts --schedule` sends digests this often from the worker.
ALERTS_SETTLE_SECONDS = float(os.environ.get("ALERTS_SETTLE_SECONDS", "60"))
ALERTS_EVERY_SECONDS = float(os.environ.get("ALERTS_EVERY_SECONDS", "3600"))

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
# HTTPS is usually ended by a proxy in front of gunicorn: these follow the deployment.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
