"""Settings shared by every profile; anything that differs between machines comes from the environment."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_HASHES, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# The key of development machines: published in this repository, so production.py refuses it.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop"  # noqa: S105 (public by design)
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "backoffice.apps.ParcelControlAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "fulfillment",
    "pickups",
    "monitoring",
    "api",
    "notifications",
    "live",
    "backoffice",
]

# The API for ERPs (`api`): a client's key, its scopes, its rate; refusals as JSON.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiClientAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.authentication.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.authentication.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_client": env("API_RATE", default="600/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.views.base.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=5 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Parcel Control API",
    "DESCRIPTION": "Orders in, parcel status and alerts out, bags and handover sheets through the same services "
    "as the admin. Authenticate with `Authorization: Token <key>` (API clients in the admin).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 response.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out user+address before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dashboards read while an import writes; a busy timeout instead of "database is locked".
    # IMMEDIATE: a transaction takes the write lock when it begins, so a second writer waits (up to `timeout`
    # seconds) at BEGIN; a deferred transaction that has read and then writes fails at once instead.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# A streaming replica for the dashboards, exports and API reads (core.db.replica); tests mirror default.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["core.db.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "admin:login"

# A session ends 8 hours after the login (a working shift) instead of Django's two weeks.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is refused (HTTP 429) for the cool-off time; a successful login before that clears the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on every manage.py command; failures and lockouts are still logged
# Lockouts are lifted by `manage.py axes_reset_username USERNAME` (or the cool-off), not in the admin.
AXES_ENABLE_ADMIN = False
# Without a proxy the address is the TCP peer's: X-Forwarded-For is anyone's to write. production.py trusts it.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]


def _inline_handler_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


# Content-Security-Policy (django-csp). Scripts: our own files, inline <script> carrying the request's nonce
# (`nonce="{{ request.csp_nonce }}"`), and the print pages' onclick="window.print()" by its hash only.
# Styles allow inline CSS: the admin's own change list and our templates use <style> blocks and style
# attributes, and CSS cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, UNSAFE_HASHES, _inline_handler_hash("window.print()")],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Celery: an empty broker URL means "no broker": tasks run eagerly in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# An unacknowledged task (its worker died) goes back to the queue after this many seconds (Redis broker).
# Redelivery is safe: two scans never overlap and a scan repeated at the same instant writes nothing.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "scan-parcels": {
        "task": "monitoring.tasks.scan_parcels",
        "schedule": env.float("SCAN_INTERVAL_SECONDS", default=300.0),
    },
    # Digests whose send failed (or whose worker died mid-send) are tried again when due.
    "send-due-digests": {"task": "notifications.tasks.send_due_digests", "schedule": 60.0},
    # Likewise the lists of parcels sent to courier outlets from the scorecard.
    "send-due-outlet-dispatches": {"task": "notifications.tasks.send_due_outlet_dispatches", "schedule": 60.0},
    # Monthly partitions of the tracking events, created ahead (PostgreSQL; nothing on SQLite).
    "event-partitions": {"task": "fulfillment.tasks.event_partitions", "schedule": 24 * 3600.0},
    # Pushes whose processing failed are processed again from their stored bodies.
    "process-pushes": {"task": "live.tasks.process_pushes", "schedule": 300.0},
}
# What keeps a month of events from being archived (fulfillment.retention), by dotted path.
EVENT_ARCHIVE_GUARDS = ["monitoring.retention.open_claims"]
# After each scan (the Celery task and `scan_parcels`): the apps above monitoring, by dotted path.
SCAN_FOLLOW_UPS = ["notifications.tasks.notify_after_scan"]
# Pages of the apps above backoffice's dashboards, mounted in the admin site's get_urls (callables
# taking the site and returning URL patterns), by dotted path.
ADMIN_SITE_PAGES = ["notifications.views.admin_pages"]

# Email of the notification digests: e.g. smtp+tls://user:password@smtp.example.com:587
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# How long a worker holds a digest it is sending: one that died mid-send lets it go after this.
NOTIFICATION_CLAIM_SECONDS = env.int("NOTIFICATION_CLAIM_SECONDS", default=120)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Parcel Control <parcel-control@localhost>")

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Import uploads (admin) are refused above this size.
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The parcel derivation pipeline (fulfillment.derivations): after every change of a parcel's state,
# these steps run on its draft, in this order, before the one write. Back-dating first: the
# deadlines count from the back-dated pickup.
PARCEL_DERIVATION_STEPS = [
    "pickups.derivations.backdate_bag_pickups",
    "pickups.derivations.mark_bags_received",
    "monitoring.deadlines.derive_deadlines",
]
# What the parcel's admin page says about where the parcel is, beyond fulfillment (fulfillment.whereabouts).
PARCEL_WHEREABOUTS = ["pickups.admin.whereabouts.parcel_whereabouts_html"]

# Error reports of uploads, kept privately for a day for the user who ran the import.
IMPORT_REPORTS_DIR = env.str("IMPORT_REPORTS_DIR", default=str(BASE_DIR / "import-errors"))
